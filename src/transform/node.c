/*
 * node.c: one node and its tests built for a pipeline run (see
 * weir_transform_build_node in transform.h).
 *
 * A pipeline process loads and compiles its project once; each model task
 * then renders its node again with the run's vars (the date it builds) and
 * runs it with exec.c's materializations, then its tests. Model tasks build
 * side by side on the executor's workers (one run's independent tasks, the
 * intervals of a parallel backfill), so a build writes nothing shared: it
 * renders into its own copies of the nodes it renders (tf_build in
 * tf_int.h), which the materializations then read. Its tests render again
 * too: a singular test's SQL, a generic test's where config and arguments
 * may read the run's vars. Builds of one relation
 * take turns on that node's lock, so two intervals of an incremental model
 * never write its table at once (the engine refuses concurrent writes to a
 * table's rows, and the first build of a table creates it). A build
 * waiting for its turn can be cancelled (take_turn): the executor's
 * timeout and shutdown interrupt the connection's query, which a build
 * blocked on a lock is not running yet.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "engine/engine.h"
#include "transform/tf_int.h"

_Thread_local tf_build *tf_cur_build;

weir_tnode *tf_node_at(weir_transform *tf, size_t i)
{
    const tf_build *b = tf_cur_build;
    return b && b->own[i] ? b->own[i] : tf->nodes.items[i];
}

json_t *tf_vars(weir_transform *tf)
{
    return tf_cur_build ? tf_cur_build->vars : tf->vars;
}

static char *dup_or_null(const char *s)
{
    return s ? weir_xstrdup(s) : NULL;
}

/*
 * The build's copy of node i, made on first use: it owns what a render or
 * a materialization writes (config, schema, alias, relation, deps, SQL) and
 * borrows the rest (names, paths, raw SQL, columns, test arguments) from the
 * graph's node, which builds only read.
 */
static weir_tnode *own_copy(weir_transform *tf, tf_build *b, size_t i)
{
    const weir_tnode *g = tf->nodes.items[i];
    weir_tnode *n = b->own[i];
    if (n)
        return n;
    n = weir_xmalloc(sizeof(*n));
    *n = *g;
    n->config = json_deep_copy(g->config);
    n->schema = dup_or_null(g->schema);
    n->alias = dup_or_null(g->alias);
    n->relation = dup_or_null(g->relation);
    n->rendered_sql = dup_or_null(g->rendered_sql);
    n->compiled_sql = dup_or_null(g->compiled_sql);
    n->deps.items = NULL;
    n->deps.len = n->deps.cap = 0;
    for (size_t k = 0; k < g->deps.len; k++)
        weir_vec_push(&n->deps, g->deps.items[k]);
    n->children.items = NULL; /* not read by a build */
    n->children.len = n->children.cap = 0;
    b->own[i] = n;
    return n;
}

static void own_free(weir_tnode *n)
{
    if (!n)
        return;
    json_decref(n->config);
    free(n->schema);
    free(n->alias);
    free(n->relation);
    free(n->rendered_sql);
    free(n->compiled_sql);
    weir_vec_release(&n->deps);
    weir_vec_release(&n->children);
    free(n);
}

void weir_node_outcomes_release(weir_node_outcomes *o)
{
    for (size_t i = 0; i < o->list.len; i++)
        free(o->list.items[i].message);
    weir_vec_release(&o->list);
    free(o->error);
    o->error = NULL;
}

static int is_ephemeral(const weir_tnode *n)
{
    const char *m = tf_cfg_str(n, "materialized");
    return n->kind == WEIR_NODE_MODEL && m && !strcmp(m, "ephemeral");
}

static int render_into(weir_transform *tf, weir_tnode *n, weir_error *err)
{
    weir_buf out = WEIR_BUF_INIT;
    int rc = tf_tpl_render_node(tf, n, 0, &out, err);
    if (rc) {
        weir_buf_release(&out);
        return rc;
    }
    free(n->rendered_sql);
    n->rendered_sql = weir_buf_detach(&out, NULL);
    return 0;
}

/*
 * Renders the build's copies of the ephemeral models node i reads
 * (innermost first, each once), then of i. Returns i's copy in *out.
 */
static int render_with_ephemerals(weir_transform *tf, tf_build *b, size_t i, weir_tnode **out,
                                  weir_error *err)
{
    weir_tnode *n = own_copy(tf, b, i);
    *out = n;
    for (size_t k = 0; k < n->deps.len; k++) {
        weir_tnode *d = tf->nodes.items[n->deps.items[k]], *dc;
        if (!is_ephemeral(d) || b->own[d->index] || !d->raw_sql)
            continue;
        int rc = render_with_ephemerals(tf, b, d->index, &dc, err);
        if (rc)
            return rc;
    }
    if (!n->raw_sql)
        return 0;
    return render_into(tf, n, err);
}

static const char *status_name(int st)
{
    switch (st) {
    case TF_ST_SUCCESS: return "success";
    case TF_ST_SKIPPED: return "skipped";
    case TF_ST_PASS: return "pass";
    case TF_ST_WARN: return "warn";
    case TF_ST_FAIL: return "fail";
    default: return "error";
    }
}

static void log_outcome(FILE *log, const weir_tnode *n, const weir_node_outcome *o,
                        const char *sql)
{
    if (!log)
        return;
    if (n->kind == WEIR_NODE_TEST)
        fprintf(log, "test %s: %s", n->name, o->status);
    else
        fprintf(log, "%s %s (%s): %s", weir_node_kind_name(n->kind), n->name,
                n->relation ? n->relation : "", o->status);
    if (o->rows >= 0)
        fprintf(log, ", %lld row%s", o->rows, o->rows == 1 ? "" : "s");
    fprintf(log, " in %.3f s\n", o->secs);
    if (o->message && strcmp(o->status, "success") && strcmp(o->status, "pass"))
        fprintf(log, "  %s\n", o->message);
    if (sql && *sql)
        fprintf(log, "  sql:\n%s\n", sql);
    fflush(log);
}

/* Appends n's outcome from res (whose message it takes). Returns its TF_ST_*. */
static int record(weir_tnode *n, tf_exec_result *res, double secs, FILE *log,
                  weir_node_outcomes *out)
{
    weir_node_outcome o;
    memset(&o, 0, sizeof(o));
    o.node = n->index;
    o.status = status_name(res->status);
    o.rows = res->rows;
    o.secs = secs;
    o.message = res->message;
    res->message = NULL;
    log_outcome(log, n, &o, res->run_sql);
    free(res->run_sql);
    res->run_sql = NULL;
    weir_vec_push(&out->list, o);
    return res->status;
}

/* Runs node n (rendered already); appends its outcome. Returns its TF_ST_*. */
static int run_one(weir_transform *tf, weir_conn *c, weir_tnode *n, FILE *log,
                   weir_node_outcomes *out)
{
    tf_exec_result res;
    int64_t t0 = weir_monotonic_us();
    tf_exec_node(tf, c, n, &res);
    return record(n, &res, (double)(weir_monotonic_us() - t0) / 1e6, log, out);
}

/*
 * The node's built-in generic tests computed together through quality/
 * (tf_exec_tests), as `weir build` does: pre[k] / has_pre[k] for tests[k]
 * (tn[k]: the build's copy of it, NULL when it could not be rendered).
 * Nothing when fewer than two can be, or WEIR_TEST_BATCH=0.
 */
static void batch_tests(weir_transform *tf, weir_conn *c, const weir_tnode *n, weir_tnode **tn,
                        size_t n_tests, tf_exec_result *pre, unsigned char *has_pre, double *secs)
{
    weir_tnode **ts = weir_xcalloc(n_tests + 1, sizeof(*ts));
    tf_exec_result **rs = weir_xcalloc(n_tests + 1, sizeof(*rs));
    size_t m = 0;
    if (tf_tests_batched()) {
        for (size_t k = 0; k < n_tests; k++) {
            weir_tnode *t = tn[k];
            if (t && !t->raw_sql && tf_test_batch_key(tf, t) == n->index) {
                ts[m] = t;
                rs[m++] = &pre[k];
                has_pre[k] = 1;
            }
        }
    }
    if (m >= 2) {
        int64_t t0 = weir_monotonic_us();
        tf_exec_tests(tf, c, ts, m, rs);
        *secs = (double)(weir_monotonic_us() - t0) / 1e6 / (double)m;
    } else {
        memset(has_pre, 0, n_tests);
    }
    free(ts);
    free(rs);
}

/*
 * Test ti rendered for this build into its copy (*out): a singular test's
 * SQL, a generic test's where config and arguments, which may read the
 * run's vars (dbt renders them all with the invocation's vars).
 */
static int render_test(weir_transform *tf, tf_build *b, size_t ti, weir_tnode **out,
                       weir_error *err)
{
    weir_tnode *t = tf->nodes.items[ti];
    int rc;
    *out = NULL;
    if (t->raw_sql) {
        rc = render_with_ephemerals(tf, b, ti, &t, err);
    } else if (t->attached != TF_NONE) {
        t = own_copy(tf, b, ti);
        rc = tf_render_generic_test(tf, t, err);
    } else {
        *out = t; /* nothing of it is rendered */
        return 0;
    }
    if (rc)
        return rc;
    tf_inline_node(tf, t);
    *out = t;
    return 0;
}

static void set_error(weir_node_outcomes *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_error(weir_node_outcomes *out, const char *fmt, ...)
{
    weir_buf b = WEIR_BUF_INIT;
    va_list ap;
    if (out->error)
        return;
    va_start(ap, fmt);
    weir_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    out->error = weir_buf_detach(&b, NULL);
}

/* How often a build waiting for its turn looks at its cancel flag. */
#define TURN_POLL_MS 10

static int cancelled(const weir_build_options *o)
{
    return o->cancel && atomic_load(o->cancel);
}

static int interrupted(const weir_tnode *n, const char *when, weir_error *err)
{
    return weir_error_set(err, WEIR_EINTERRUPTED, "build of %s '%s' interrupted %s",
                          weir_node_kind_name(n->kind), n->name, when);
}

/*
 * Waits for node n's lock (another build of it, another interval, may hold
 * it) in short timed waits, so a cancel set meanwhile is seen: returns 0
 * holding the lock, or WEIR_EINTERRUPTED without it.
 */
static int take_turn(weir_transform *tf, const weir_tnode *n, const weir_build_options *o,
                     weir_error *err)
{
    pthread_mutex_t *mu = &tf->build_locks[n->index];
    int e;
    if (!o->cancel) {
        pthread_mutex_lock(mu);
        return 0;
    }
    for (;;) {
        struct timespec until;
        if (atomic_load(o->cancel))
            return interrupted(n, "while waiting for another build of it to finish", err);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TURN_POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        e = pthread_mutex_timedlock(mu, &until);
        if (e == 0)
            break;
        if (e != ETIMEDOUT)
            return weir_error_set(err, WEIR_ERROR, "cannot wait for the build lock of '%s': %s",
                                  n->name, strerror(e));
    }
    if (atomic_load(o->cancel)) { /* cancelled as the turn came: its interrupt found no query */
        pthread_mutex_unlock(mu);
        return interrupted(n, "while waiting for another build of it to finish", err);
    }
    return 0;
}

int weir_transform_build_node(weir_transform *tf, weir_conn *c, size_t i, const size_t *tests,
                              size_t n_tests, const weir_build_options *opts,
                              weir_node_outcomes *out, weir_error *err)
{
    static const weir_build_options none = { NULL, NULL, NULL, NULL, NULL };
    const weir_build_options *bo = opts ? opts : &none;
    json_t *vars = bo->vars;
    FILE *log = bo->log;
    tf_build b;
    unsigned char *has_pre = NULL;
    tf_exec_result *pre = NULL; /* the tests run as one batch (batch_tests) */
    weir_tnode **tn = NULL;     /* per test: the build's copy, rendered for the run */
    char **render_errs = NULL;  /* per test: why it could not be rendered */
    double pre_secs = 0;
    weir_tnode *n;
    int rc = 0, st, locked = 0;

    if (i >= tf->nodes.len || !tf->compiled || !tf->build_locks)
        return weir_error_set(err, WEIR_EINVALID, "no such node to build (compile the project first)");
    b.vars = tf->vars ? json_deep_copy(tf->vars) : json_object();
    if (json_is_object(vars))
        json_object_update(b.vars, vars);
    b.window_start = bo->window_start;
    b.window_end = bo->window_end;
    b.own = weir_xcalloc(tf->nodes.len + 1, sizeof(*b.own));
    tf_cur_build = &b;

    if ((rc = render_with_ephemerals(tf, &b, i, &n, err))) {
        weir_error_wrap(err, "cannot render %s '%s' (%s)", weir_node_kind_name(n->kind), n->name,
                        n->path);
        goto cleanup;
    }
    if (n->raw_sql)
        tf_inline_node(tf, n);
    /* from here on the node's relation is written and read: builds of it
     * (other intervals) take turns, which also keeps them deterministic */
    if ((rc = take_turn(tf, n, bo, err))) {
        if (log) {
            weir_buf m = WEIR_BUF_INIT;
            weir_error_format(err, &m);
            fprintf(log, "%s\n", m.ptr);
            fflush(log);
            weir_buf_release(&m);
        }
        goto cleanup;
    }
    locked = 1;
    st = run_one(tf, c, n, log, out);
    if (st == TF_ST_ERROR) {
        weir_node_outcome *o = &out->list.items[out->list.len - 1];
        set_error(out, "%s '%s' failed: %s", weir_node_kind_name(n->kind), n->name,
                  o->message ? o->message : "error");
        rc = WEIR_ERROR;
    }
    pre = weir_xcalloc(n_tests + 1, sizeof(*pre));
    has_pre = weir_xcalloc(n_tests + 1, 1);
    tn = weir_xcalloc(n_tests + 1, sizeof(*tn));
    render_errs = weir_xcalloc(n_tests + 1, sizeof(*render_errs));
    /* an interrupt that came between two statements found no query to stop */
    if (!rc && cancelled(bo))
        rc = interrupted(n, "before its tests", err);
    for (size_t k = 0; k < n_tests && !rc; k++) {
        weir_error terr = WEIR_ERROR_INIT;
        if (render_test(tf, &b, tests[k], &tn[k], &terr)) {
            weir_buf m = WEIR_BUF_INIT;
            weir_error_format(&terr, &m);
            render_errs[k] = weir_buf_detach(&m, NULL);
        }
        weir_error_release(&terr);
    }
    if (!rc)
        batch_tests(tf, c, n, tn, n_tests, pre, has_pre, &pre_secs);
    for (size_t k = 0; k < n_tests; k++) {
        weir_tnode *t = tn[k] ? tn[k] : tf->nodes.items[tests[k]];
        if (has_pre[k]) {
            st = record(t, &pre[k], pre_secs, log, out);
            if (st == TF_ST_ERROR || st == TF_ST_FAIL) {
                weir_node_outcome *o = &out->list.items[out->list.len - 1];
                set_error(out, "test '%s' of %s '%s' failed: %s", t->name,
                          weir_node_kind_name(n->kind), n->name, o->message ? o->message : "fail");
            }
            continue;
        }
        if (!rc && cancelled(bo))
            rc = interrupted(n, "between its tests", err);
        if (rc) {
            weir_node_outcome o = { t->index, "skipped", -1, 0, NULL };
            log_outcome(log, t, &o, NULL);
            weir_vec_push(&out->list, o);
            continue;
        }
        if (render_errs[k]) {
            weir_node_outcome o = { t->index, "error", -1, 0, render_errs[k] };
            render_errs[k] = NULL;
            log_outcome(log, t, &o, NULL);
            set_error(out, "test '%s' failed: %s", t->name, o.message);
            weir_vec_push(&out->list, o);
            continue;
        }
        st = run_one(tf, c, t, log, out);
        if (st == TF_ST_ERROR || st == TF_ST_FAIL) {
            weir_node_outcome *o = &out->list.items[out->list.len - 1];
            set_error(out, "test '%s' of %s '%s' failed: %s", t->name,
                      weir_node_kind_name(n->kind), n->name, o->message ? o->message : "fail");
        }
    }
    if (!rc && out->error)
        rc = WEIR_ERROR;
cleanup:
    if (locked)
        pthread_mutex_unlock(&tf->build_locks[i]);
    tf_cur_build = NULL;
    for (size_t k = 0; k < tf->nodes.len; k++)
        own_free(b.own[k]);
    free(b.own);
    json_decref(b.vars);
    free(pre);
    free(has_pre);
    free(tn);
    for (size_t k = 0; render_errs && k < n_tests; k++)
        free(render_errs[k]);
    free(render_errs);
    if (rc == WEIR_ERROR && out->error && !err->code)
        weir_error_set(err, WEIR_ERROR, "%s", out->error);
    return rc;
}
