/*
 * run.c: runs the selected nodes in dependency order on a pool of worker
 * threads, one warehouse connection each (see weir_transform_run).
 *
 * The graph run is the selected nodes of the requested kinds; a node waits
 * for the nearest runnable nodes upstream of it, looking through ephemeral
 * models and unselected nodes. In a build a model's dependants also wait
 * for its single-parent tests, so a failing test skips them, as in dbt.
 * A worker that takes a model's built-in generic test also takes the
 * model's other such tests already waiting in the queue and computes them
 * together through quality/ (tf_exec_tests); each still finishes as its
 * own node.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/date.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "engine/engine.h"
#include "transform/tf_int.h"

typedef WEIR_VEC(size_t) idxvec;

typedef struct runner {
    weir_transform *tf;
    weir_engine *engine;
    const weir_run_options *o;
    size_t n;
    unsigned char *runnable;
    unsigned char *skip;
    idxvec *up;       /* effective dependencies */
    idxvec *down;     /* effective dependants */
    size_t *pending;
    size_t *queue, qhead, qtail;
    size_t done, total, seq;
    tf_exec_result *res;
    size_t *batch_key; /* tf_test_batch_key per node, or NULL when tests run one by one */
    double *secs;
    int *thread_of;
    int stop;
    int failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    weir_run_summary sum;
    idxvec touched; /* seen[] entries to clear between effective_up calls */
} runner;

static int is_ephemeral(const weir_tnode *n)
{
    const char *m = tf_cfg_str(n, "materialized");
    return n->kind == WEIR_NODE_MODEL && m && !strcmp(m, "ephemeral");
}

static int kind_wanted(const weir_tnode *n, unsigned what)
{
    switch (n->kind) {
    case WEIR_NODE_MODEL: return (what & WEIR_RUN_MODELS) && !is_ephemeral(n);
    case WEIR_NODE_TEST: return (what & WEIR_RUN_TESTS) != 0;
    case WEIR_NODE_SEED: return (what & WEIR_RUN_SEEDS) != 0;
    case WEIR_NODE_SNAPSHOT: return (what & WEIR_RUN_SNAPSHOTS) != 0;
    case WEIR_NODE_SOURCE: return 0;
    }
    return 0;
}

static void push_unique(idxvec *v, size_t x)
{
    for (size_t i = 0; i < v->len; i++)
        if (v->items[i] == x)
            return;
    weir_vec_push(v, x);
}

/* The runnable nodes upstream of v, looking through the others (an
 * explicit stack: chains of unselected models can be long). */
static void effective_up(runner *r, size_t v, unsigned char *seen, idxvec *out, idxvec *stack)
{
    stack->len = 0;
    weir_vec_push(stack, v);
    while (stack->len) {
        weir_tnode *n = r->tf->nodes.items[weir_vec_pop(stack)];
        for (size_t i = 0; i < n->deps.len; i++) {
            size_t d = n->deps.items[i];
            if (seen[d])
                continue;
            seen[d] = 1;
            weir_vec_push(&r->touched, d);
            if (r->runnable[d])
                push_unique(out, d);
            else
                weir_vec_push(stack, d);
        }
    }
}

static const char *status_word(const weir_tnode *n, int st)
{
    switch (st) {
    case TF_ST_SUCCESS: return "success";
    case TF_ST_ERROR: return n->kind == WEIR_NODE_TEST ? "error" : "error";
    case TF_ST_SKIPPED: return "skipped";
    case TF_ST_PASS: return "pass";
    case TF_ST_FAIL: return "fail";
    case TF_ST_WARN: return "warn";
    }
    return "error";
}

static const char *status_label(int st)
{
    switch (st) {
    case TF_ST_SUCCESS: return "OK";
    case TF_ST_ERROR: return "ERROR";
    case TF_ST_SKIPPED: return "SKIP";
    case TF_ST_PASS: return "PASS";
    case TF_ST_FAIL: return "FAIL";
    case TF_ST_WARN: return "WARN";
    }
    return "?";
}

static void clock_now(char *out)
{
    weir_ts now = weir_ts_now();
    char buf[40];
    weir_ts_format(now, buf);
    /* "YYYY-MM-DD HH:MM:SS..." -> "HH:MM:SS" */
    memcpy(out, buf + 11, 8);
    out[8] = 0;
}

static void print_line(runner *r, size_t v, size_t seq)
{
    weir_tnode *n = r->tf->nodes.items[v];
    tf_exec_result *res = &r->res[v];
    FILE *f = r->o->out;
    char clock[16];
    weir_buf what = WEIR_BUF_INIT;
    if (!f)
        return;
    clock_now(clock);
    if (n->kind == WEIR_NODE_TEST)
        weir_buf_addf(&what, "test %s", n->name);
    else if (n->kind == WEIR_NODE_MODEL)
        weir_buf_addf(&what, "%s model %s.%s", tf_cfg_str(n, "materialized"), n->schema, n->alias);
    else
        weir_buf_addf(&what, "%s %s.%s", weir_node_kind_name(n->kind), n->schema, n->alias);
    size_t pad = what.len < 60 ? 60 - what.len : 2;
    weir_buf_addch(&what, ' ');
    weir_buf_addchars(&what, '.', pad);
    /* "N of T" right-aligned to T's width, so the columns line up */
    int w = snprintf(NULL, 0, "%zu", r->total);
    if (res->status == TF_ST_SKIPPED)
        fprintf(f, "%s  %*zu of %zu SKIP  %s [SKIP]\n", clock, w, seq, r->total, what.ptr);
    else if (res->status == TF_ST_ERROR)
        fprintf(f, "%s  %*zu of %zu ERROR %s [ERROR in %.2fs]\n", clock, w, seq, r->total, what.ptr,
                r->secs[v]);
    else if (n->kind == WEIR_NODE_TEST)
        fprintf(f, "%s  %*zu of %zu %-5s %s [%s in %.2fs]\n", clock, w, seq, r->total,
                status_label(res->status), what.ptr, status_label(res->status), r->secs[v]);
    else
        fprintf(f, "%s  %*zu of %zu OK    %s [%s in %.2fs]\n", clock, w, seq, r->total, what.ptr,
                res->message ? res->message : "OK", r->secs[v]);
    if ((res->status == TF_ST_ERROR || res->status == TF_ST_FAIL || res->status == TF_ST_WARN) &&
        res->message) {
        /* the error, indented, for the reader of the log */
        const char *m = res->message;
        while (*m) {
            const char *e = strchr(m, '\n');
            size_t len = e ? (size_t)(e - m) : strlen(m);
            fprintf(f, "          %.*s\n", (int)len, m);
            m += len + (e ? 1 : 0);
        }
    }
    fflush(f);
    weir_buf_release(&what);
}

static void mark_skip_down(runner *r, size_t v)
{
    idxvec stack = WEIR_VEC_INIT;
    weir_vec_push(&stack, v);
    while (stack.len) {
        size_t u = weir_vec_pop(&stack);
        for (size_t i = 0; i < r->down[u].len; i++) {
            size_t w = r->down[u].items[i];
            if (!r->skip[w]) {
                r->skip[w] = 1;
                weir_vec_push(&stack, w);
            }
        }
    }
    weir_vec_release(&stack);
}

/* Called with the lock held when v is finished (run or skipped). */
static void finish(runner *r, size_t v)
{
    int st = r->res[v].status;
    weir_tnode *n = r->tf->nodes.items[v];
    int bad = st == TF_ST_ERROR || (st == TF_ST_FAIL && (r->o->what & WEIR_RUN_MODELS));
    if (st == TF_ST_ERROR || st == TF_ST_FAIL)
        r->failed = 1;
    if (bad)
        mark_skip_down(r, v);
    if ((st == TF_ST_ERROR || st == TF_ST_FAIL) && r->o->fail_fast)
        r->stop = 1;
    switch (st) {
    case TF_ST_SUCCESS:
    case TF_ST_PASS: r->sum.ok++; break;
    case TF_ST_WARN: r->sum.warn++; break;
    case TF_ST_SKIPPED: r->sum.skipped++; break;
    default: r->sum.error++; break;
    }
    WEIR_UNUSED(n);
    r->done++;
    for (size_t i = 0; i < r->down[v].len; i++) {
        size_t w = r->down[v].items[i];
        if (--r->pending[w] == 0)
            r->queue[r->qtail++] = w;
    }
    pthread_cond_broadcast(&r->cv);
}

typedef struct worker_arg {
    runner *r;
    int id;
} worker_arg;

static void write_run_sql(runner *r, weir_tnode *n, const char *sql)
{
    weir_buf path = WEIR_BUF_INIT, dir = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    if (!sql || !*sql || !n->path[0])
        return;
    weir_buf_addf(&path, "%s/run/%s/%s", r->tf->target_dir, r->tf->name, n->path);
    if (!weir_str_ends_with(n->path, ".sql"))
        weir_buf_addf(&path, "/%s.sql", n->name);
    weir_buf_add(&dir, path.ptr, (size_t)(strrchr(path.ptr, '/') - path.ptr));
    if (!weir_fs_mkdir_p(dir.ptr, &err))
        tf_write_file(path.ptr, sql, &err);
    weir_error_release(&err);
    weir_buf_release(&path);
    weir_buf_release(&dir);
}

/*
 * Runs test v with the other tests of its batch key waiting in the queue
 * (the lock held on entry and exit): each keeps its own result, line and
 * place in the graph; only the queries are shared.
 */
static void run_batch(runner *r, worker_arg *wa, weir_conn *c, size_t v, size_t seq)
{
    idxvec members = WEIR_VEC_INIT, seqs = WEIR_VEC_INIT;
    size_t key = r->batch_key[v], keep = r->qhead;
    weir_vec_push(&members, v);
    weir_vec_push(&seqs, seq);
    for (size_t q = r->qhead; q < r->qtail; q++) {
        size_t u = r->queue[q];
        if (r->batch_key[u] == key && !r->skip[u]) {
            weir_vec_push(&members, u);
            weir_vec_push(&seqs, ++r->seq);
        } else {
            r->queue[keep++] = u;
        }
    }
    r->qtail = keep;
    pthread_mutex_unlock(&r->mu);
    {
        size_t k = members.len;
        weir_tnode **ts = weir_xcalloc(k, sizeof(*ts));
        tf_exec_result **res = weir_xcalloc(k, sizeof(*res));
        int64_t t0 = weir_monotonic_us();
        for (size_t i = 0; i < k; i++) {
            ts[i] = r->tf->nodes.items[members.items[i]];
            res[i] = &r->res[members.items[i]];
        }
        if (k == 1)
            tf_exec_node(r->tf, c, ts[0], res[0]);
        else
            tf_exec_tests(r->tf, c, ts, k, res);
        /* the batch's time, shared out among its tests */
        double secs = (double)(weir_monotonic_us() - t0) / 1e6 / (double)k;
        for (size_t i = 0; i < k; i++) {
            r->secs[members.items[i]] = secs;
            r->thread_of[members.items[i]] = wa->id;
            write_run_sql(r, ts[i], res[i]->run_sql);
        }
        free(ts);
        free(res);
    }
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < members.len; i++) {
        print_line(r, members.items[i], seqs.items[i]);
        finish(r, members.items[i]);
    }
    weir_vec_release(&members);
    weir_vec_release(&seqs);
}

static void *worker(void *p)
{
    worker_arg *wa = p;
    runner *r = wa->r;
    weir_conn *c = NULL;
    weir_error err = WEIR_ERROR_INIT;
    int conn_failed = weir_conn_new(r->engine, &c, &err) != 0;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->qhead == r->qtail && r->done < r->total)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->done >= r->total)
            break;
        size_t v = r->queue[r->qhead++];
        size_t seq = ++r->seq;
        weir_tnode *n = r->tf->nodes.items[v];
        if (r->skip[v] || r->stop || conn_failed) {
            memset(&r->res[v], 0, sizeof(r->res[v]));
            r->res[v].rows = -1;
            r->res[v].status = conn_failed ? TF_ST_ERROR : TF_ST_SKIPPED;
            if (conn_failed)
                r->res[v].message = weir_xstrdup(weir_error_str(&err));
            print_line(r, v, seq);
            finish(r, v);
            continue;
        }
        if (r->batch_key && r->batch_key[v] != TF_NONE) {
            run_batch(r, wa, c, v, seq);
            continue;
        }
        pthread_mutex_unlock(&r->mu);
        int64_t t0 = weir_monotonic_us();
        tf_exec_node(r->tf, c, n, &r->res[v]);
        r->secs[v] = (double)(weir_monotonic_us() - t0) / 1e6;
        r->thread_of[v] = wa->id;
        write_run_sql(r, n, r->res[v].run_sql);
        pthread_mutex_lock(&r->mu);
        print_line(r, v, seq);
        finish(r, v);
    }
    pthread_mutex_unlock(&r->mu);
    weir_conn_free(c);
    weir_error_release(&err);
    return NULL;
}

static json_t *results_json(runner *r, double elapsed, const char *generated_at)
{
    json_t *root = json_object(), *meta = json_object(), *results = json_array(), *args = json_object();
    json_object_set_new(meta, "dbt_schema_version",
                        json_string("https://schemas.getdbt.com/dbt/run-results/v6.json"));
    json_object_set_new(meta, "dbt_version", json_string("1.8.0"));
    json_object_set_new(meta, "generated_at", json_string(generated_at));
    json_object_set_new(meta, "invocation_id", json_string(r->tf->invocation_id ? r->tf->invocation_id : ""));
    json_object_set_new(meta, "env", json_object());
    json_object_set_new(root, "metadata", meta);
    for (size_t v = 0; v < r->n; v++) {
        if (!r->runnable[v])
            continue;
        weir_tnode *n = r->tf->nodes.items[v];
        tf_exec_result *res = &r->res[v];
        json_t *o = json_object(), *ar = json_object();
        char tname[32];
        json_object_set_new(o, "status", json_string(status_word(n, res->status)));
        json_object_set_new(o, "timing", json_array());
        snprintf(tname, sizeof(tname), "Thread-%d", r->thread_of[v] + 1);
        json_object_set_new(o, "thread_id", json_string(tname));
        json_object_set_new(o, "execution_time", json_real(r->secs[v]));
        if (res->rows >= 0)
            json_object_set_new(ar, "rows_affected", json_integer(res->rows));
        json_object_set_new(ar, "_message", json_string(res->message ? res->message : ""));
        json_object_set_new(o, "adapter_response", ar);
        json_object_set_new(o, "message", res->message ? json_string(res->message) : json_null());
        json_object_set_new(o, "failures", n->kind == WEIR_NODE_TEST && res->rows >= 0 ? json_integer(res->rows) : json_null());
        json_object_set_new(o, "unique_id", json_string(n->unique_id));
        json_object_set_new(o, "compiled", json_boolean(n->compiled));
        json_object_set_new(o, "compiled_code", json_string(n->compiled_sql ? n->compiled_sql : ""));
        json_object_set_new(o, "relation_name", n->kind == WEIR_NODE_TEST || is_ephemeral(n) ? json_null()
                                                                                           : json_string(n->relation));
        json_array_append_new(results, o);
    }
    json_object_set_new(root, "results", results);
    json_object_set_new(root, "elapsed_time", json_real(elapsed));
    json_object_set_new(args, "which", json_string(r->o->command ? r->o->command : "run"));
    json_object_set_new(args, "threads", json_integer(r->o->threads));
    json_object_set_new(args, "full_refresh", json_boolean(r->o->full_refresh));
    json_object_set_new(root, "args", args);
    return root;
}

static void make_invocation_id(weir_transform *tf)
{
    unsigned char b[16];
    char out[40];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(b, 1, sizeof(b), f) != sizeof(b)) {
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)(rand() & 0xff);
    }
    if (f)
        fclose(f);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, sizeof(out), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    free(tf->invocation_id);
    tf->invocation_id = weir_xstrdup(out);
}

int weir_transform_run(weir_transform *tf, weir_engine *e, const weir_selection *sel,
                       const weir_run_options *opts, weir_run_summary *summary, weir_error *err)
{
    runner r;
    size_t n = tf->nodes.len;
    int threads = opts->threads > 0 ? opts->threads : 1;
    int64_t t0 = weir_monotonic_us();
    pthread_t *tids = NULL;
    worker_arg *args = NULL;
    weir_conn *c = NULL;
    int rc = 0;
    char generated[40];

    memset(&r, 0, sizeof(r));
    if (!tf->invocation_id)
        make_invocation_id(tf);
    tf->full_refresh = opts->full_refresh;
    r.tf = tf;
    r.engine = e;
    r.o = opts;
    r.n = n;
    r.runnable = weir_xcalloc(n + 1, 1);
    r.skip = weir_xcalloc(n + 1, 1);
    r.up = weir_xcalloc(n + 1, sizeof(idxvec));
    r.down = weir_xcalloc(n + 1, sizeof(idxvec));
    r.pending = weir_xcalloc(n + 1, sizeof(size_t));
    r.queue = weir_xcalloc(n + 1, sizeof(size_t));
    r.res = weir_xcalloc(n + 1, sizeof(tf_exec_result));
    r.secs = weir_xcalloc(n + 1, sizeof(double));
    r.thread_of = weir_xcalloc(n + 1, sizeof(int));
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);

    for (size_t i = 0; i < n; i++)
        if (sel->on[i] && kind_wanted(tf->nodes.items[i], opts->what))
            r.runnable[i] = 1;
    {
        unsigned char *seen = weir_xcalloc(n + 1, 1);
        idxvec stack = WEIR_VEC_INIT;
        for (size_t i = 0; i < n; i++) {
            if (!r.runnable[i])
                continue;
            effective_up(&r, i, seen, &r.up[i], &stack);
            for (size_t k = 0; k < r.touched.len; k++)
                seen[r.touched.items[k]] = 0;
            r.touched.len = 0;
        }
        weir_vec_release(&stack);
        weir_vec_release(&r.touched);
        free(seen);
    }
    if ((opts->what & WEIR_RUN_TESTS) && (opts->what & ~(unsigned)WEIR_RUN_TESTS)) {
        /* build: dependants of a node also wait for its single-parent tests */
        idxvec *rev = weir_xcalloc(n + 1, sizeof(idxvec));
        for (size_t i = 0; i < n; i++) {
            if (!r.runnable[i] || tf->nodes.items[i]->kind == WEIR_NODE_TEST)
                continue;
            for (size_t k = 0; k < r.up[i].len; k++)
                weir_vec_push(&rev[r.up[i].items[k]], i);
        }
        for (size_t t = 0; t < n; t++) {
            weir_tnode *tn = tf->nodes.items[t];
            if (!r.runnable[t] || tn->kind != WEIR_NODE_TEST || r.up[t].len != 1)
                continue;
            size_t parent = r.up[t].items[0];
            for (size_t k = 0; k < rev[parent].len; k++)
                push_unique(&r.up[rev[parent].items[k]], t);
        }
        for (size_t i = 0; i < n; i++)
            weir_vec_release(&rev[i]);
        free(rev);
    }
    for (size_t i = 0; i < n; i++) {
        if (!r.runnable[i])
            continue;
        r.total++;
        r.pending[i] = r.up[i].len;
        for (size_t k = 0; k < r.up[i].len; k++)
            weir_vec_push(&r.down[r.up[i].items[k]], i);
    }
    for (size_t i = 0; i < n; i++)
        if (r.runnable[i] && !r.pending[i])
            r.queue[r.qtail++] = i;
    {
        if ((opts->what & WEIR_RUN_TESTS) && !opts->own_test_queries && tf_tests_batched()) {
            r.batch_key = weir_xcalloc(n + 1, sizeof(size_t));
            for (size_t i = 0; i < n; i++)
                r.batch_key[i] = r.runnable[i] ? tf_test_batch_key(tf, tf->nodes.items[i]) : TF_NONE;
        }
    }

    if ((rc = weir_conn_new(e, &c, err)))
        goto cleanup;
    if (json_array_size(tf->on_run_start) && (rc = tf_exec_hooks(tf, c, tf->on_run_start, "on-run-start", err)))
        goto cleanup;
    if (opts->out && r.total)
        fprintf(opts->out, "Running %zu node%s with %d thread%s\n", r.total, r.total == 1 ? "" : "s",
                threads, threads == 1 ? "" : "s");
    if (r.total) {
        tids = weir_xcalloc((size_t)threads, sizeof(pthread_t));
        args = weir_xcalloc((size_t)threads, sizeof(worker_arg));
        for (int i = 0; i < threads; i++) {
            args[i].r = &r;
            args[i].id = i;
            pthread_create(&tids[i], NULL, worker, &args[i]);
        }
        for (int i = 0; i < threads; i++)
            pthread_join(tids[i], NULL);
    }
    if (json_array_size(tf->on_run_end) && tf_exec_hooks(tf, c, tf->on_run_end, "on-run-end", err)) {
        rc = err->code ? err->code : WEIR_ERROR;
        goto cleanup;
    }
    r.sum.total = r.total;
    r.sum.elapsed = (double)(weir_monotonic_us() - t0) / 1e6;
    if (opts->out) {
        fprintf(opts->out, "\nFinished running %zu node%s in %.2fs.\n", r.total, r.total == 1 ? "" : "s",
                r.sum.elapsed);
        fprintf(opts->out, "Done. PASS=%zu WARN=%zu ERROR=%zu SKIP=%zu TOTAL=%zu\n", r.sum.ok, r.sum.warn,
                r.sum.error, r.sum.skipped, r.sum.total);
    }
    {
        weir_buf path = WEIR_BUF_INIT;
        weir_ts_format(weir_ts_now(), generated);
        generated[10] = 'T';
        json_t *j = results_json(&r, r.sum.elapsed, generated);
        weir_error e2 = WEIR_ERROR_INIT;
        weir_fs_mkdir_p(tf->target_dir, &e2);
        weir_path_join(&path, tf->target_dir, "run_results.json");
        if (weir_json_write_file(path.ptr, j, 2, &e2))
            weir_warn("%s", weir_error_str(&e2));
        weir_error_release(&e2);
        json_decref(j);
        weir_buf_release(&path);
    }
    if (summary)
        *summary = r.sum;
    rc = r.failed ? WEIR_ERROR : 0;
    if (rc)
        weir_error_set(err, WEIR_ERROR, "%zu node%s failed", r.sum.error, r.sum.error == 1 ? "" : "s");
cleanup:
    weir_conn_free(c);
    for (size_t i = 0; i < n; i++) {
        weir_vec_release(&r.up[i]);
        weir_vec_release(&r.down[i]);
        free(r.res[i].message);
        free(r.res[i].run_sql);
    }
    free(tids);
    free(args);
    free(r.runnable);
    free(r.skip);
    free(r.up);
    free(r.down);
    free(r.pending);
    free(r.queue);
    free(r.res);
    free(r.batch_key);
    free(r.secs);
    free(r.thread_of);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return rc;
}
