/*
 * compile.c: from rendered Jinja to runnable SQL.
 *
 * Renders every enabled node once (is_incremental() false, as dbt's
 * parse), takes dependencies from the traced ref()/source() calls,
 * writes the SQL of the generic tests (their where config and string
 * arguments rendered as dbt does; a pipeline build renders them again with
 * its run's vars), checks the graph for cycles and inlines ephemeral
 * models as CTEs.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/date.h"
#include "core/log.h"
#include "core/str.h"
#include "transform/tf_int.h"

static int enabled(const weir_tnode *n)
{
    return tf_cfg_bool(n, "enabled", 1);
}

static int is_ephemeral(const weir_tnode *n)
{
    const char *m = tf_cfg_str(n, "materialized");
    return n->kind == WEIR_NODE_MODEL && m && !strcmp(m, "ephemeral");
}

/* Whether s holds Jinja to render. */
static int templated(const char *s)
{
    return strstr(s, "{{") || strstr(s, "{%");
}

/*
 * A render error of a string from t's property file: its line and column
 * count within the string (which the error shows, caret and all), not in
 * the file, so the file is named as context instead.
 */
static int snippet_error(weir_error *err, const weir_tnode *t, const char *what)
{
    if (err) {
        free(err->file);
        err->file = NULL;
        err->line = err->col = 0;
    }
    return weir_error_wrap(err, "%s: cannot render %s of test '%s'", t->path, what, t->name);
}

int tf_test_where(weir_transform *tf, weir_tnode *t, weir_buf *out, weir_error *err)
{
    const char *where = tf_cfg_str(t, "where");
    int rc;
    if (!where || !*where)
        return 0;
    if (!templated(where)) {
        weir_buf_adds(out, where);
        return 0;
    }
    /* like dbt's configs in property files: var(), env_var(), no ref() */
    if ((rc = tf_tpl_render_string(tf, t, t->path, where, 0, out, err)))
        snippet_error(err, t, "the where config");
    return rc;
}

/*
 * The relation a generic test reads: the model, or (*filtered set) the
 * subquery of its where config, as dbt's get_where_subquery().
 */
static int test_target(weir_transform *tf, weir_tnode *t, weir_buf *out, int *filtered,
                       weir_error *err)
{
    const weir_tnode *p = tf_node_at(tf, t->attached);
    weir_buf where = WEIR_BUF_INIT;
    int rc = tf_test_where(tf, t, &where, err);
    *filtered = !rc && where.len;
    if (*filtered)
        weir_buf_addf(out, "(select * from %s where %s) dbt_subquery", p->relation, where.ptr);
    else if (!rc)
        weir_buf_adds(out, p->relation);
    weir_buf_release(&where);
    return rc;
}

static void add_literal(weir_buf *out, const char *s)
{
    weir_buf_addch(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            weir_buf_addch(out, '\'');
        weir_buf_addch(out, *s);
    }
    weir_buf_addch(out, '\'');
}

int tf_render_test_arg(weir_transform *tf, weir_tnode *t, const char *s, int add_deps,
                       weir_buf *out, weir_error *err)
{
    /* dbt renders string arguments: `to: ref('customers')`, `"{{ var('x') }}"` */
    if (templated(s) || strstr(s, "ref(") || strstr(s, "source(")) {
        weir_buf src = WEIR_BUF_INIT;
        if (templated(s))
            weir_buf_adds(&src, s);
        else
            weir_buf_addf(&src, "{{ %s }}", s);
        int rc = tf_tpl_render_string(tf, t, t->path, src.ptr, add_deps, out, err);
        weir_buf_release(&src);
        if (rc)
            snippet_error(err, t, "an argument");
        return rc;
    }
    weir_buf_adds(out, s);
    return 0;
}

int tf_test_values_sql(weir_transform *tf, weir_tnode *t, weir_buf *out, weir_error *err)
{
    json_t *vals = json_object_get(t->test_args, "values");
    json_t *quote = json_object_get(t->test_args, "quote");
    int q = quote ? json_is_true(quote) : 1, rc = 0;
    weir_buf txt = WEIR_BUF_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v)
    {
        weir_buf_reset(&txt);
        if (json_is_string(v)) {
            if ((rc = tf_render_test_arg(tf, t, json_string_value(v), 0, &txt, err)))
                break;
        } else {
            char *d = json_dumps(v, JSON_ENCODE_ANY);
            weir_buf_adds(&txt, d ? d : "null");
            free(d);
        }
        if (i)
            weir_buf_adds(out, ", ");
        if (q)
            add_literal(out, txt.ptr);
        else
            weir_buf_adds(out, txt.ptr);
    }
    weir_buf_release(&txt);
    return rc;
}

/*
 * A generic test's SQL into out. Its where config and string arguments are
 * rendered here, each time: at compile with the project's vars, in a
 * pipeline build (on the build's copy of t) with the run's.
 */
static int generic_test_sql(weir_transform *tf, weir_tnode *t, weir_buf *out, weir_error *err)
{
    weir_buf rel = WEIR_BUF_INIT, arg = WEIR_BUF_INIT, arg2 = WEIR_BUF_INIT;
    const char *col = t->column ? t->column : "";
    json_t *args = NULL;
    int rc, filtered;
    if ((rc = test_target(tf, t, &rel, &filtered, err)))
        goto cleanup;
    if (!strcmp(t->test_kind, "not_null")) {
        weir_buf_addf(out, "select %s\nfrom %s\nwhere %s is null", col, rel.ptr, col);
    } else if (!strcmp(t->test_kind, "unique")) {
        weir_buf_addf(out,
                      "select %s as unique_field, count(*) as n_records\nfrom %s\nwhere %s is not null\n"
                      "group by %s\nhaving count(*) > 1",
                      col, rel.ptr, col, col);
    } else if (!strcmp(t->test_kind, "accepted_values")) {
        if (!json_is_array(json_object_get(t->test_args, "values"))) {
            rc = weir_error_set(err, WEIR_EINVALID, "%s: test '%s' needs 'values:' (a list)", t->path, t->name);
            goto cleanup;
        }
        if ((rc = tf_test_values_sql(tf, t, &arg, err)))
            goto cleanup;
        weir_buf_addf(out,
                      "with all_values as (\n    select %s as value_field, count(*) as n_records\n"
                      "    from %s\n    group by %s\n)\nselect *\nfrom all_values\nwhere value_field not in (%s)",
                      col, rel.ptr, col, arg.ptr);
    } else if (!strcmp(t->test_kind, "relationships")) {
        json_t *to = json_object_get(t->test_args, "to");
        json_t *field = json_object_get(t->test_args, "field");
        if (!json_is_string(to) || !json_is_string(field)) {
            rc = weir_error_set(err, WEIR_EINVALID, "%s: test '%s' needs 'to:' and 'field:'", t->path, t->name);
            goto cleanup;
        }
        if ((rc = tf_render_test_arg(tf, t, json_string_value(to), 1, &arg, err)) ||
            (rc = tf_render_test_arg(tf, t, json_string_value(field), 0, &arg2, err)))
            goto cleanup;
        weir_buf_addf(out,
                      "with child as (\n    select %s as from_field\n    from %s\n    where %s is not null\n),\n"
                      "parent as (\n    select %s as to_field\n    from %s\n)\n"
                      "select from_field\nfrom child\nleft join parent on child.from_field = parent.to_field\n"
                      "where parent.to_field is null",
                      col, rel.ptr, col, arg2.ptr, arg.ptr);
    } else if (tf_tpl_has_test(tf, t->test_kind)) {
        /* string arguments that name relations or hold Jinja are rendered
         * first, into a copy: the node keeps them as written, for the next
         * render (a pipeline build's) */
        const char *k;
        json_t *v;
        args = json_copy(t->test_args);
        json_object_foreach(t->test_args, k, v)
        {
            if (json_is_string(v) && (templated(json_string_value(v)) ||
                                      strstr(json_string_value(v), "ref(") ||
                                      strstr(json_string_value(v), "source("))) {
                weir_buf_reset(&arg);
                if ((rc = tf_render_test_arg(tf, t, json_string_value(v), 1, &arg, err)))
                    goto cleanup;
                json_object_set_new(args, k, json_string(arg.ptr));
            }
        }
        rc = tf_tpl_render_custom_test(tf, t, args, filtered ? rel.ptr : NULL, out, err);
    } else {
        rc = weir_error_set(err, WEIR_ENOTFOUND, "%s: unknown test '%s' on '%s' (define it with {%% test %s(model, column_name) %%})",
                            t->path, t->test_kind, tf_node_at(tf, t->attached)->name, t->test_kind);
    }
cleanup:
    json_decref(args);
    weir_buf_release(&rel);
    weir_buf_release(&arg);
    weir_buf_release(&arg2);
    return rc;
}

int tf_render_generic_test(weir_transform *tf, weir_tnode *t, weir_error *err)
{
    weir_buf out = WEIR_BUF_INIT;
    int rc = generic_test_sql(tf, t, &out, err);
    if (rc) {
        weir_buf_release(&out);
        return rc;
    }
    free(t->rendered_sql);
    t->rendered_sql = weir_buf_detach(&out, NULL);
    t->compiled = 1;
    return 0;
}

typedef WEIR_VEC(size_t) idxvec;

/* Ephemeral models n reads, innermost first, each once (a pipeline build's
 * own copies of them when it rendered some: tf_node_at). */
static void collect_ephemeral(weir_transform *tf, weir_tnode *n, unsigned char *seen,
                              idxvec *out)
{
    for (size_t i = 0; i < n->deps.len; i++) {
        weir_tnode *d = tf_node_at(tf, n->deps.items[i]);
        if (!is_ephemeral(d) || seen[d->index])
            continue;
        seen[d->index] = 1;
        collect_ephemeral(tf, d, seen, out);
        weir_vec_push(out, d->index);
    }
}

static int starts_with_with(const char *s, size_t *after)
{
    const char *p = s;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    if (strncasecmp(p, "with", 4) == 0 && isspace((unsigned char)p[4])) {
        *after = (size_t)(p + 4 - s);
        return 1;
    }
    return 0;
}

static void inline_ephemeral(weir_transform *tf, weir_tnode *n, unsigned char *seen)
{
    idxvec eph = WEIR_VEC_INIT;
    weir_buf b = WEIR_BUF_INIT;
    size_t after;
    int any = 0;
    for (size_t i = 0; i < n->deps.len && !any; i++)
        any = is_ephemeral(tf_node_at(tf, n->deps.items[i]));
    if (any) {
        collect_ephemeral(tf, n, seen, &eph);
        for (size_t i = 0; i < eph.len; i++)
            seen[eph.items[i]] = 0; /* leave seen all zero for the next node */
    }
    free(n->compiled_sql);
    if (!eph.len) {
        n->compiled_sql = weir_xstrdup(n->rendered_sql ? n->rendered_sql : "");
        weir_vec_release(&eph);
        return;
    }
    weir_buf_adds(&b, "with ");
    for (size_t i = 0; i < eph.len; i++) {
        weir_tnode *e = tf_node_at(tf, eph.items[i]);
        weir_buf_addf(&b, "%s__dbt__cte__%s as (\n%s\n)", i ? ", " : "", e->name,
                      e->rendered_sql ? e->rendered_sql : "");
    }
    if (starts_with_with(n->rendered_sql, &after))
        weir_buf_addf(&b, ",%s", n->rendered_sql + after);
    else
        weir_buf_addf(&b, "\n%s", n->rendered_sql);
    n->compiled_sql = weir_buf_detach(&b, NULL);
    weir_vec_release(&eph);
}

/* --- every node on several threads ---------------------------------------- */

typedef struct node_job node_job;
/* Does one node's step; 0 or an error code with err set. */
typedef int (*node_step)(node_job *j, weir_tnode *n);

struct node_job {
    weir_transform *tf;
    node_step step;
    size_t start, stride;
    size_t failed_at;     /* index of the first node that failed, or TF_NONE */
    int rc;
    int changed;          /* a render moved its model (config(alias=...)) */
    weir_buf out;         /* scratch */
    unsigned char *seen;  /* scratch for inline_ephemeral, all zero between nodes */
    weir_error err;
};

static void *node_worker(void *p)
{
    node_job *j = p;
    for (size_t i = j->start; i < j->tf->nodes.len; i += j->stride) {
        weir_buf_reset(&j->out);
        if ((j->rc = j->step(j, j->tf->nodes.items[i]))) {
            j->failed_at = i;
            break;
        }
    }
    return NULL;
}

static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/*
 * Runs step on every node, on one thread per CPU (nodes are dealt
 * round-robin; each step touches its own node and reads others under the
 * render lock). The error reported is the first node's in file order, so
 * messages do not depend on scheduling.
 */
static int for_each_node(weir_transform *tf, node_step step, int *changed, weir_error *err)
{
    int threads = tf->nodes.len < 64 ? 1 : cpu_count();
    node_job *jobs = weir_xcalloc((size_t)threads, sizeof(*jobs));
    pthread_t *tids = weir_xcalloc((size_t)threads, sizeof(*tids));
    int rc = 0;
    size_t best = TF_NONE;
    for (int t = 0; t < threads; t++) {
        jobs[t].tf = tf;
        jobs[t].step = step;
        jobs[t].start = (size_t)t;
        jobs[t].stride = (size_t)threads;
        jobs[t].failed_at = TF_NONE;
        weir_buf_init(&jobs[t].out, 0);
        jobs[t].seen = weir_xcalloc(tf->nodes.len + 1, 1);
        weir_error_init(&jobs[t].err);
        if (t > 0 && pthread_create(&tids[t], NULL, node_worker, &jobs[t]) != 0)
            jobs[t].stride = 0; /* no thread: done below on this one */
    }
    node_worker(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        if (jobs[t].stride)
            pthread_join(tids[t], NULL);
        else {
            jobs[t].stride = (size_t)threads;
            node_worker(&jobs[t]);
        }
    }
    for (int t = 0; t < threads; t++) {
        if (changed)
            *changed |= jobs[t].changed;
        if (jobs[t].rc && (best == TF_NONE || jobs[t].failed_at < best)) {
            best = jobs[t].failed_at;
            rc = jobs[t].rc;
            weir_error_clear(err);
            weir_error_move(err, &jobs[t].err);
        }
        weir_error_release(&jobs[t].err);
        weir_buf_release(&jobs[t].out);
        free(jobs[t].seen);
    }
    free(jobs);
    free(tids);
    return rc;
}

/* Renders a node with SQL (not generic tests, made below from their model). */
static int render_step(node_job *j, weir_tnode *n)
{
    int rc;
    if (!n->raw_sql || !enabled(n))
        return 0;
    if ((rc = tf_tpl_render_node(j->tf, n, 0, &j->out, &j->err)))
        return rc;
    free(n->rendered_sql);
    n->rendered_sql = weir_buf_detach(&j->out, NULL);
    n->compiled = 1;
    if (n->config_set_alias)
        j->changed = 1;
    return 0;
}

/* A generic test's SQL, once every model knows where it lives. */
static int test_step(node_job *j, weir_tnode *n)
{
    weir_transform *tf = j->tf;
    if (n->kind != WEIR_NODE_TEST || n->attached == TF_NONE || !enabled(n))
        return 0;
    if (!enabled(tf->nodes.items[n->attached])) {
        json_object_set_new(n->config, "enabled", json_false());
        return 0;
    }
    return tf_render_generic_test(tf, n, &j->err);
}

static int inline_step(node_job *j, weir_tnode *n)
{
    if (n->compiled)
        inline_ephemeral(j->tf, n, j->seen);
    return 0;
}

void weir_transform_set_engine(weir_transform *tf, weir_engine *e)
{
    tf_tpl_set_engine(tf, e);
}

void tf_inline_node(weir_transform *tf, weir_tnode *n)
{
    unsigned char *seen = weir_xcalloc(tf->nodes.len + 1, 1);
    inline_ephemeral(tf, n, seen);
    free(seen);
}

int weir_transform_compile(weir_transform *tf, weir_error *err)
{
    weir_buf out = WEIR_BUF_INIT;
    size_t *order = NULL;
    int rc = 0, changed = 0;

    int64_t t0 = weir_monotonic_us();
    if ((rc = for_each_node(tf, render_step, &changed, err)))
        goto cleanup;
    weir_debug("compile: rendered in %.1f ms", (double)(weir_monotonic_us() - t0) / 1000.0);
    /* a config() call that moved a model: render its readers again so their
     * ref() points at the new place (dbt resolves refs after parsing) */
    if (changed) {
        for (size_t i = 0; i < tf->nodes.len; i++) {
            weir_tnode *n = tf->nodes.items[i];
            int reads_moved = 0;
            for (size_t k = 0; k < n->deps.len; k++)
                if (tf->nodes.items[n->deps.items[k]]->config_set_alias)
                    reads_moved = 1;
            if (!reads_moved || !n->raw_sql)
                continue;
            weir_buf_reset(&out);
            if ((rc = tf_tpl_render_node(tf, n, 0, &out, err)))
                goto cleanup;
            free(n->rendered_sql);
            n->rendered_sql = weir_buf_detach(&out, NULL);
        }
    }
    if ((rc = for_each_node(tf, test_step, NULL, err)))
        goto cleanup;
    order = weir_xmalloc((tf->nodes.len + 1) * sizeof(size_t));
    if ((rc = tf_dag_order(tf, order, err)))
        goto cleanup;
    tf_dag_link_children(tf);
    weir_debug("compile: tests and graph in %.1f ms", (double)(weir_monotonic_us() - t0) / 1000.0);
    for_each_node(tf, inline_step, NULL, err);
    weir_debug("compile: ephemeral models inlined in %.1f ms", (double)(weir_monotonic_us() - t0) / 1000.0);
    if (!tf->build_locks) {
        tf->build_locks = weir_xcalloc(tf->nodes.len + 1, sizeof(*tf->build_locks));
        for (size_t i = 0; i < tf->nodes.len; i++)
            pthread_mutex_init(&tf->build_locks[i], NULL);
    }
    tf->compiled = 1;
cleanup:
    free(order);
    weir_buf_release(&out);
    return rc;
}

int weir_transform_compile_inline(weir_transform *tf, const char *src, weir_buf *out,
                                  weir_error *err)
{
    weir_tnode tmp;
    unsigned char *seen;
    int rc;
    memset(&tmp, 0, sizeof(tmp));
    tmp.kind = WEIR_NODE_MODEL;
    tmp.index = tf->nodes.len;
    tmp.name = "inline_query";
    tmp.unique_id = "sql_operation.inline_query";
    tmp.path = "<inline>";
    tmp.config = json_object();
    tmp.attached = TF_NONE;
    weir_buf rendered = WEIR_BUF_INIT;
    rc = tf_tpl_render_string(tf, &tmp, "<inline>", src, 1, &rendered, err);
    if (!rc) {
        tmp.rendered_sql = rendered.ptr;
        seen = weir_xcalloc(tf->nodes.len + 1, 1);
        inline_ephemeral(tf, &tmp, seen);
        weir_buf_adds(out, tmp.compiled_sql);
        free(tmp.compiled_sql);
        free(seen);
    }
    weir_buf_release(&rendered);
    weir_vec_release(&tmp.deps);
    json_decref(tmp.config);
    return rc;
}
