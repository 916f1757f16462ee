/*
 * models.c: a pipeline's `models:` selector turned into model tasks (see
 * weir_pipeline_bind_models in pipeline.h).
 *
 * pipeline.c keeps one placeholder task for `models:` so that loading a
 * pipeline file needs nothing but the file (`weir check`, `pipeline list`).
 * A command that runs or rolls back a pipeline loads the project's models
 * once (weir_pipeline_load_models) and binds: the placeholder becomes one
 * task per selected node, wired as `dbt build` orders them, and the
 * executor builds each with weir_transform_build_node().
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "orchestrate/pipeline.h"
#include "transform/transform.h"

typedef WEIR_VEC(size_t) idxvec;

int weir_pipeline_has_models(const weir_pipeline *pl)
{
    if (pl->transform)
        return 0;
    for (size_t i = 0; i < pl->n_tasks; i++)
        if (pl->tasks[i].kind == WEIR_TASK_MODELS)
            return 1;
    return 0;
}

int weir_pipeline_load_models(const weir_project *p, weir_engine *engine,
                              const weir_interval_vars *vars, weir_transform **out,
                              weir_diags *diags, weir_error *err)
{
    weir_transform_options o = WEIR_TRANSFORM_OPTIONS_INIT;
    weir_transform *tf = NULL;
    char *vars_json = NULL;
    int rc;
    *out = NULL;
    if (vars) {
        json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s}", "ds", vars->ds, "ds_nodash",
                              vars->ds_nodash, "ts", vars->ts, "data_interval_start",
                              vars->data_interval_start, "data_interval_end",
                              vars->data_interval_end);
        vars_json = json_dumps(v, JSON_COMPACT);
        json_decref(v);
        o.vars_yaml = vars_json;
    }
    if ((rc = weir_transform_load(p, &o, &tf, diags))) {
        rc = weir_error_set(err, rc, "cannot load the project's models (see the problems above)");
        goto cleanup;
    }
    if (engine)
        weir_transform_set_engine(tf, engine);
    if ((rc = weir_transform_compile(tf, err))) {
        weir_transform_free(tf);
        goto cleanup;
    }
    *out = tf;
cleanup:
    free(vars_json);
    return rc;
}

static int runnable(const weir_tnode *n)
{
    json_t *en = json_object_get(n->config, "enabled");
    json_t *mat = json_object_get(n->config, "materialized");
    if (json_is_false(en))
        return 0;
    if (n->kind == WEIR_NODE_MODEL)
        return !(json_is_string(mat) && !strcmp(json_string_value(mat), "ephemeral"));
    return n->kind == WEIR_NODE_SEED || n->kind == WEIR_NODE_SNAPSHOT;
}

/* The task positions (pos[] >= 0) nearest upstream of node v, looking
 * through nodes without a task. */
static void nearest_up(weir_transform *tf, size_t v, const long *pos, unsigned char *seen,
                       idxvec *out)
{
    idxvec stack = WEIR_VEC_INIT, touched = WEIR_VEC_INIT;
    weir_vec_push(&stack, v);
    while (stack.len) {
        weir_tnode *n = weir_transform_node(tf, weir_vec_pop(&stack));
        for (size_t k = 0; k < n->deps.len; k++) {
            size_t d = n->deps.items[k];
            if (seen[d])
                continue;
            seen[d] = 1;
            weir_vec_push(&touched, d);
            if (pos[d] >= 0)
                weir_vec_push(out, (size_t)pos[d]);
            else
                weir_vec_push(&stack, d);
        }
    }
    for (size_t k = 0; k < touched.len; k++)
        seen[touched.items[k]] = 0;
    weir_vec_release(&stack);
    weir_vec_release(&touched);
}

static void push_unique(idxvec *v, size_t x)
{
    for (size_t i = 0; i < v->len; i++)
        if (v->items[i] == x)
            return;
    weir_vec_push(v, x);
}

/* Whether `outputs:` entry o names the relation of model n. */
static int names_model(const weir_output_spec *o, const weir_tnode *n)
{
    const char *dot = strrchr(o->table, '.');
    if (!dot)
        return !strcmp(o->table, n->alias) || !strcmp(o->table, n->name);
    return !strcmp(dot + 1, n->alias) && strlen(n->schema) == (size_t)(dot - o->table) &&
           !strncmp(o->table, n->schema, (size_t)(dot - o->table));
}

static void add_model_outputs(weir_pipeline *pl, weir_transform *tf, const size_t *order, size_t K)
{
    weir_output_spec *outs = weir_arena_calloc(&pl->arena, pl->n_outputs + K + 1, sizeof(*outs));
    size_t n_out = 0;
    unsigned char *used = weir_xcalloc(pl->n_outputs + 1, 1);
    weir_output_spec *models = weir_xcalloc(K + 1, sizeof(*models));
    size_t n_models = 0;
    for (size_t q = 0; q < K; q++) {
        weir_tnode *n = weir_transform_node(tf, order[q]);
        json_t *mat = json_object_get(n->config, "materialized");
        weir_output_spec o;
        if (n->kind == WEIR_NODE_MODEL &&
            (!json_is_string(mat) || !strcmp(json_string_value(mat), "view")))
            continue; /* a view holds no rows of its own */
        memset(&o, 0, sizeof(o));
        o.table = weir_arena_printf(&pl->arena, "%s.%s", n->schema, n->alias);
        o.date_column = weir_node_partition_by(n);
        o.model = n->name;
        for (size_t i = 0; i < pl->n_outputs; i++)
            if (names_model(&pl->outputs[i], n)) {
                used[i] = 1;
                o.line = pl->outputs[i].line;
                o.col = pl->outputs[i].col;
                if (pl->outputs[i].date_column && *pl->outputs[i].date_column)
                    o.date_column = pl->outputs[i].date_column;
            }
        models[n_models++] = o;
    }
    for (size_t i = 0; i < pl->n_outputs; i++)
        if (!used[i])
            outs[n_out++] = pl->outputs[i];
    for (size_t q = 0; q < n_models; q++)
        outs[n_out++] = models[q];
    pl->outputs = outs;
    pl->n_outputs = n_out;
    free(used);
    free(models);
}

int weir_pipeline_bind_models(weir_pipeline *pl, weir_transform *tf, weir_error *err)
{
    size_t n = weir_transform_count(tf), m = pl->n_tasks, K = 0;
    weir_selection sel = { NULL, 0 };
    const char *selector;
    const char *const *selp;
    long *pos = NULL;          /* node -> position among model tasks, or -1 */
    size_t *order = NULL;      /* model tasks' nodes in build order */
    idxvec *ups = NULL, *tests = NULL, node_up = WEIR_VEC_INIT;
    unsigned char *seen = NULL;
    weir_task_spec *tasks = NULL;
    int rc = 0;

    if (pl->transform)
        return 0;
    for (size_t i = 0; i < pl->n_tasks; i++)
        if (pl->tasks[i].kind == WEIR_TASK_MODELS)
            m = i;
    if (m == pl->n_tasks) {
        pl->transform = tf;
        return 0;
    }
    selector = pl->tasks[m].text;
    selp = &selector;
    if ((rc = weir_transform_select(tf, selp, 1, NULL, 0, 1, &sel, err))) {
        weir_error_wrap(err, "%s:%u:%u: models '%s' of pipeline '%s'", pl->file, pl->tasks[m].line,
                        pl->tasks[m].col, selector, pl->name);
        goto cleanup;
    }
    /* the nodes with a task, in build order: Kahn's algorithm over the
     * selected graph, ties broken by the project's order (deterministic) */
    pos = weir_xmalloc((n + 1) * sizeof(long));
    seen = weir_xcalloc(n + 1, 1);
    for (size_t i = 0; i < n; i++)
        pos[i] = sel.on[i] && runnable(weir_transform_node(tf, i)) ? 0 : -1;
    {
        size_t cand = 0;
        idxvec *up_of = weir_xcalloc(n + 1, sizeof(idxvec));
        size_t *pending = weir_xcalloc(n + 1, sizeof(size_t));
        unsigned char *done = weir_xcalloc(n + 1, 1);
        /* nearest_up needs positions >= 0 for nodes with a task; use the
         * node index itself while ordering */
        long *tmp = weir_xmalloc((n + 1) * sizeof(long));
        for (size_t i = 0; i < n; i++)
            tmp[i] = pos[i] >= 0 ? (long)i : -1;
        for (size_t i = 0; i < n; i++) {
            if (tmp[i] < 0)
                continue;
            cand++;
            nearest_up(tf, i, tmp, seen, &up_of[i]);
            pending[i] = up_of[i].len;
        }
        order = weir_xcalloc(cand + 1, sizeof(size_t));
        while (K < cand) {
            size_t pick = n;
            for (size_t i = 0; i < n && pick == n; i++)
                if (tmp[i] >= 0 && !done[i] && !pending[i])
                    pick = i;
            if (pick == n)
                break; /* a cycle: the transform's compile refuses those */
            done[pick] = 1;
            pos[pick] = (long)K;
            order[K++] = pick;
            for (size_t i = 0; i < n; i++)
                if (tmp[i] >= 0 && !done[i])
                    for (size_t k = 0; k < up_of[i].len; k++)
                        if (up_of[i].items[k] == pick)
                            pending[i]--;
        }
        for (size_t i = 0; i < n; i++) {
            if (!done[i])
                pos[i] = -1;
            weir_vec_release(&up_of[i]);
        }
        free(up_of);
        free(pending);
        free(done);
        free(tmp);
    }
    if (K == 0) {
        rc = weir_error_set(err, WEIR_EINVALID,
                            "%s:%u:%u: models '%s' of pipeline '%s' selects no model, seed or "
                            "snapshot",
                            pl->file, pl->tasks[m].line, pl->tasks[m].col, selector, pl->name);
        goto cleanup;
    }
    for (size_t k = 0; k < K; k++) {
        const char *name = weir_transform_node(tf, order[k])->name;
        for (size_t i = 0; i < pl->n_tasks; i++)
            if (i != m && !strcmp(pl->tasks[i].id, name)) {
                rc = weir_error_set(err, WEIR_EINVALID,
                                    "%s:%u:%u: model '%s' selected by '%s' has the name of task "
                                    "'%s' of pipeline '%s' (rename the task)",
                                    pl->file, pl->tasks[m].line, pl->tasks[m].col, name, selector,
                                    name, pl->name);
                goto cleanup;
            }
    }
    /* edges among model tasks, and the tests each runs */
    ups = weir_xcalloc(K + 1, sizeof(idxvec));
    tests = weir_xcalloc(K + 1, sizeof(idxvec));
    for (size_t k = 0; k < K; k++)
        nearest_up(tf, order[k], pos, seen, &ups[k]);
    for (size_t i = 0; i < n; i++) {
        weir_tnode *t = weir_transform_node(tf, i);
        size_t last = 0;
        if (!sel.on[i] || t->kind != WEIR_NODE_TEST || json_is_false(json_object_get(t->config, "enabled")))
            continue;
        node_up.len = 0;
        nearest_up(tf, i, pos, seen, &node_up);
        if (!node_up.len)
            continue; /* a test of sources only: no model task to follow */
        for (size_t k = 0; k < node_up.len; k++)
            if (node_up.items[k] > last)
                last = node_up.items[k];
        weir_vec_push(&tests[last], i);
        for (size_t k = 0; k < node_up.len; k++)
            if (node_up.items[k] != last)
                push_unique(&ups[last], node_up.items[k]);
    }

    /* the new task list: before `models:`, the model tasks, after it */
    {
        size_t total = pl->n_tasks - 1 + K;
        const weir_task_spec *mt = &pl->tasks[m];
        idxvec *tup = weir_xcalloc(total + 1, sizeof(idxvec));
        size_t *n_down;
#define NEWIDX(j) ((j) < m ? (j) : (j) + K - 1)
        tasks = weir_arena_calloc(&pl->arena, total, sizeof(weir_task_spec));
        for (size_t j = 0; j < pl->n_tasks; j++) {
            const weir_task_spec *old = &pl->tasks[j];
            if (j == m)
                continue;
            tasks[NEWIDX(j)] = *old;
            for (size_t k = 0; k < old->n_up; k++) {
                if (old->up[k] == m)
                    for (size_t q = 0; q < K; q++)
                        push_unique(&tup[NEWIDX(j)], m + q);
                else
                    push_unique(&tup[NEWIDX(j)], NEWIDX(old->up[k]));
            }
        }
        for (size_t q = 0; q < K; q++) {
            weir_task_spec *t = &tasks[m + q];
            weir_tnode *node = weir_transform_node(tf, order[q]);
            *t = *mt;
            t->id = weir_arena_strdup(&pl->arena, node->name);
            t->text = t->id;
            t->node = order[q];
            t->n_tests = tests[q].len;
            t->tests = weir_arena_calloc(&pl->arena, t->n_tests ? t->n_tests : 1, sizeof(size_t));
            if (t->n_tests)
                memcpy(t->tests, tests[q].items, t->n_tests * sizeof(size_t));
            if (!ups[q].len) {
                for (size_t k = 0; k < mt->n_up; k++)
                    push_unique(&tup[m + q], NEWIDX(mt->up[k]));
            }
            for (size_t k = 0; k < ups[q].len; k++)
                push_unique(&tup[m + q], m + ups[q].items[k]);
        }
#undef NEWIDX
        n_down = weir_xcalloc(total + 1, sizeof(size_t));
        for (size_t j = 0; j < total; j++) {
            tasks[j].n_up = tup[j].len;
            tasks[j].up = weir_arena_calloc(&pl->arena, tup[j].len ? tup[j].len : 1, sizeof(size_t));
            if (tup[j].len)
                memcpy(tasks[j].up, tup[j].items, tup[j].len * sizeof(size_t));
            for (size_t k = 0; k < tup[j].len; k++)
                n_down[tup[j].items[k]]++;
        }
        for (size_t j = 0; j < total; j++) {
            tasks[j].down = weir_arena_calloc(&pl->arena, n_down[j] ? n_down[j] : 1, sizeof(size_t));
            tasks[j].n_down = 0;
        }
        for (size_t j = 0; j < total; j++)
            for (size_t k = 0; k < tasks[j].n_up; k++) {
                weir_task_spec *u = &tasks[tasks[j].up[k]];
                u->down[u->n_down++] = j;
            }
        for (size_t j = 0; j < total; j++)
            weir_vec_release(&tup[j]);
        free(tup);
        free(n_down);
        pl->tasks = tasks;
        pl->n_tasks = total;
    }
    add_model_outputs(pl, tf, order, K);
    pl->transform = tf;
cleanup:
    if (ups)
        for (size_t k = 0; k < K; k++) {
            weir_vec_release(&ups[k]);
            weir_vec_release(&tests[k]);
        }
    free(ups);
    free(tests);
    weir_vec_release(&node_up);
    free(pos);
    free(order);
    free(seen);
    weir_selection_release(&sel);
    return rc;
}

int weir_pipeline_bind_all(const weir_project *p, weir_engine *engine, weir_pipeline_list *l,
                           weir_transform **tf, weir_diags *diags, weir_error *err)
{
    int first_rc = 0;
    for (size_t i = 0; i < l->len; i++) {
        weir_pipeline *pl = l->items[i];
        weir_error e = WEIR_ERROR_INIT;
        int rc = 0;
        if (!weir_pipeline_has_models(pl))
            continue;
        if (!*tf) {
            weir_interval iv;
            weir_interval_vars v;
            int have = weir_schedule_latest_closed(&pl->schedule, weir_ts_now(), &iv) == 0;
            if (have)
                weir_schedule_vars(&pl->schedule, &iv, &v);
            rc = weir_pipeline_load_models(p, engine, have ? &v : NULL, tf, diags, &e);
        }
        if (!rc)
            rc = weir_pipeline_bind_models(pl, *tf, &e);
        if (rc && !first_rc) {
            first_rc = rc;
            weir_error_move(err, &e);
        }
        weir_error_release(&e);
        if (rc && !*tf)
            return first_rc; /* the models do not load: no pipeline can bind */
    }
    return first_rc;
}
