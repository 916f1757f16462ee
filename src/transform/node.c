/*
 * node.c: one node and its tests built for a pipeline run (see
 * weir_transform_build_node in transform.h).
 *
 * A pipeline process loads and compiles its project once; each model task
 * then renders its node again with the run's vars (the date it builds) and
 * runs it with exec.c's materializations, then its tests. The vars live in
 * the transform while a node renders and runs, so builds take turns: one
 * lock for the process (a process loads one project for its pipelines).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "engine/engine.h"
#include "transform/tf_int.h"

_Thread_local const char *tf_window_start, *tf_window_end;

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

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

/* Renders the ephemeral models n reads (innermost first), then n. */
static int render_with_ephemerals(weir_transform *tf, weir_tnode *n, unsigned char *seen,
                                  weir_error *err)
{
    for (size_t k = 0; k < n->deps.len; k++) {
        weir_tnode *d = tf->nodes.items[n->deps.items[k]];
        if (!is_ephemeral(d) || seen[d->index] || !d->raw_sql)
            continue;
        seen[d->index] = 1;
        int rc = render_with_ephemerals(tf, d, seen, err);
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
 * (tf_exec_tests), as `weir build` does: pre[k] / has_pre[k] for tests[k].
 * Nothing when fewer than two can be, or WEIR_TEST_BATCH=0.
 */
static void batch_tests(weir_transform *tf, weir_conn *c, const weir_tnode *n, const size_t *tests,
                        size_t n_tests, tf_exec_result *pre, unsigned char *has_pre, double *secs)
{
    weir_tnode **ts = weir_xcalloc(n_tests + 1, sizeof(*ts));
    tf_exec_result **rs = weir_xcalloc(n_tests + 1, sizeof(*rs));
    size_t m = 0;
    if (tf_tests_batched()) {
        for (size_t k = 0; k < n_tests; k++) {
            weir_tnode *t = tf->nodes.items[tests[k]];
            if (!t->raw_sql && tf_test_batch_key(tf, t) == n->index) {
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

int weir_transform_build_node(weir_transform *tf, weir_conn *c, size_t i, const size_t *tests,
                              size_t n_tests, json_t *vars, const char *window_start,
                              const char *window_end, FILE *log, weir_node_outcomes *out,
                              weir_error *err)
{
    json_t *saved, *merged;
    unsigned char *seen = NULL, *has_pre = NULL;
    tf_exec_result *pre = NULL; /* the tests run as one batch (batch_tests) */
    double pre_secs = 0;
    weir_tnode *n;
    int rc = 0, st;

    if (i >= tf->nodes.len || !tf->compiled)
        return weir_error_set(err, WEIR_EINVALID, "no such node to build (compile the project first)");
    n = tf->nodes.items[i];
    pthread_mutex_lock(&build_lock);
    saved = tf->vars;
    merged = saved ? json_deep_copy(saved) : json_object();
    if (json_is_object(vars))
        json_object_update(merged, vars);
    tf->vars = merged;
    tf_window_start = window_start;
    tf_window_end = window_end;
    seen = weir_xcalloc(tf->nodes.len + 1, 1);

    if ((rc = render_with_ephemerals(tf, n, seen, err))) {
        weir_error_wrap(err, "cannot render %s '%s' (%s)", weir_node_kind_name(n->kind), n->name,
                        n->path);
        goto cleanup;
    }
    if (n->raw_sql)
        tf_inline_node(tf, n);
    st = run_one(tf, c, n, log, out);
    if (st == TF_ST_ERROR) {
        weir_node_outcome *o = &out->list.items[out->list.len - 1];
        set_error(out, "%s '%s' failed: %s", weir_node_kind_name(n->kind), n->name,
                  o->message ? o->message : "error");
        rc = WEIR_ERROR;
    }
    pre = weir_xcalloc(n_tests + 1, sizeof(*pre));
    has_pre = weir_xcalloc(n_tests + 1, 1);
    if (!rc)
        batch_tests(tf, c, n, tests, n_tests, pre, has_pre, &pre_secs);
    for (size_t k = 0; k < n_tests; k++) {
        weir_tnode *t = tf->nodes.items[tests[k]];
        if (has_pre[k]) {
            st = record(t, &pre[k], pre_secs, log, out);
            if (st == TF_ST_ERROR || st == TF_ST_FAIL) {
                weir_node_outcome *o = &out->list.items[out->list.len - 1];
                set_error(out, "test '%s' of %s '%s' failed: %s", t->name,
                          weir_node_kind_name(n->kind), n->name, o->message ? o->message : "fail");
            }
            continue;
        }
        if (rc) {
            weir_node_outcome o = { t->index, "skipped", -1, 0, NULL };
            log_outcome(log, t, &o, NULL);
            weir_vec_push(&out->list, o);
            continue;
        }
        if (t->raw_sql) { /* a singular test may read the run's vars */
            weir_error terr = WEIR_ERROR_INIT;
            if (render_into(tf, t, &terr)) {
                weir_node_outcome o = { t->index, "error", -1, 0, NULL };
                weir_buf m = WEIR_BUF_INIT;
                weir_error_format(&terr, &m);
                o.message = weir_buf_detach(&m, NULL);
                log_outcome(log, t, &o, NULL);
                set_error(out, "test '%s' failed: %s", t->name, o.message);
                weir_vec_push(&out->list, o);
                weir_error_release(&terr);
                continue;
            }
            weir_error_release(&terr);
            tf_inline_node(tf, t);
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
    tf->vars = saved;
    json_decref(merged);
    tf_window_start = tf_window_end = NULL;
    free(seen);
    free(pre);
    free(has_pre);
    pthread_mutex_unlock(&build_lock);
    if (rc == WEIR_ERROR && out->error && !err->code)
        weir_error_set(err, WEIR_ERROR, "%s", out->error);
    return rc;
}
