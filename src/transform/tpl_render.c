/*
 * tpl_render.c: dbt's Jinja context on top of the template engine.
 *
 * Registers ref, source, config, var, env_var, is_incremental, this,
 * target, log, return, doc, exceptions, adapter and the project's macros
 * into one environment, and renders nodes with it. The state of the render
 * in progress (which node, is_incremental) lives in a thread-local pointer
 * so host functions registered once can serve renders on many threads.
 *
 * The template side of the module: files that talk to the warehouse
 * (exec.c, run.c) reach it only through tf_int.h.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "engine/engine.h"
#include "template/template.h"
#include "transform/tf_int.h"

struct tf_tpl {
    weir_template_env *env;
    weir_template **tpls;   /* per node, compiled on first render */
    json_t **base_config;   /* per node: the config before any config() call */
    const char **names;     /* model, seed, snapshot names for suggestions */
    size_t n_names;
    /*
     * Renders on several threads: each writes only its own node, and reads
     * others' through two per-node slots, so a ref() takes no lock:
     *  - rel: the node's relation value, built once and shared by every
     *    ref() to it (an immutable host object with atomic counts). A move
     *    (config(alias=...)) swaps the node's strings and empties the slot
     *    under lock held exclusive; the old value is retired, not freed,
     *    until tf_tpl_free, so a reader that loaded it may still copy it.
     *    Building a value reads the strings: under lock, shared.
     *  - off: 1 when the node is disabled, set by its render after config().
     */
    pthread_rwlock_t lock;
    weir_tvalue **rel;
    unsigned char *off;
    WEIR_VEC(weir_tvalue *) retired;
    /* run_query(): one connection of its own, used by one render at a time */
    weir_engine *engine;
    weir_conn *conn;
    pthread_mutex_t qlock;
    WEIR_VEC(weir_tvalue *) kept; /* column lists that values() functions return */
};

typedef struct rstate {
    weir_transform *tf;
    weir_tnode *node;
    int is_incremental;
    weir_tvalue results; /* statement() results by name, for load_result(); none until used */
} rstate;

static _Thread_local rstate *cur;

/* --- host functions -------------------------------------------------------- */

static int resolve_ref(weir_transform *tf, const weir_args *a, weir_tnode **out, weir_error *err)
{
    const weir_tvalue *name = NULL;
    if (a->npos == 2)
        name = &a->pos[1];
    else if (a->npos == 1)
        name = &a->pos[0];
    if (!name || weir_tvalue_kind_of(name) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "ref() takes a model name (and optionally a package first)");
    weir_tnode *n = weir_map_get(&tf->by_name, weir_tvalue_str(name));
    if (!n || __atomic_load_n(&tf->tpl->off[n->index], __ATOMIC_ACQUIRE)) {
        const char *s = weir_str_suggest(weir_tvalue_str(name), tf->tpl->names, tf->tpl->n_names);
        if (s)
            return weir_error_set(err, WEIR_ENOTFOUND, "ref to unknown model '%s' (did you mean '%s'?)",
                                  weir_tvalue_str(name), s);
        return weir_error_set(err, WEIR_ENOTFOUND, "ref to unknown model '%s'", weir_tvalue_str(name));
    }
    *out = n;
    return 0;
}

static int resolve_source(weir_transform *tf, const weir_args *a, weir_tnode **out, weir_error *err)
{
    if (a->npos != 2 || weir_tvalue_kind_of(&a->pos[0]) != WEIR_TVALUE_STRING ||
        weir_tvalue_kind_of(&a->pos[1]) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "source() takes a source name and a table name");
    weir_buf key = WEIR_BUF_INIT;
    weir_buf_addf(&key, "%s.%s", weir_tvalue_str(&a->pos[0]), weir_tvalue_str(&a->pos[1]));
    weir_tnode *n = weir_map_get(&tf->sources, key.ptr);
    if (!n) {
        int rc = weir_error_set(err, WEIR_ENOTFOUND, "unknown source '%s' (declare it under 'sources:' in a models/ .yml file)", key.ptr);
        weir_buf_release(&key);
        return rc;
    }
    weir_buf_release(&key);
    *out = n;
    return 0;
}

/*
 * A relation as dbt's templates see it: prints as its quoted name
 * ("main"."orders"), with attributes database, schema, identifier, name and
 * table. Call with the render lock held when n may be renamed meanwhile.
 */
static weir_tvalue relation_value(const weir_tnode *n)
{
    weir_tvalue r = weir_tvalue_object(n->relation ? n->relation : "");
    weir_tvalue_dict_set(&r, "database", weir_tvalue_string(n->database ? n->database : "main"));
    weir_tvalue_dict_set(&r, "schema", weir_tvalue_string(n->schema ? n->schema : ""));
    weir_tvalue_dict_set(&r, "identifier", weir_tvalue_string(n->alias ? n->alias : n->name));
    weir_tvalue_dict_set(&r, "name", weir_tvalue_string(n->alias ? n->alias : n->name));
    weir_tvalue_dict_set(&r, "table", weir_tvalue_string(n->alias ? n->alias : n->name));
    return r;
}

static int in_graph(const weir_transform *tf, const weir_tnode *n)
{
    return n->index < tf->nodes.len && tf->nodes.items[n->index] == n;
}

/* n's relation value, from its slot when that holds one (see struct tf_tpl). */
static weir_tvalue relation_of(weir_transform *tf, const weir_tnode *n)
{
    if (!in_graph(tf, n))
        return relation_value(n); /* an inline query, a pipeline build's copy */
    weir_tvalue **slot = &tf->tpl->rel[n->index];
    weir_tvalue *v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!v) {
        weir_tvalue *fresh = weir_xmalloc(sizeof(*fresh)), *seen = NULL;
        pthread_rwlock_rdlock(&tf->tpl->lock);
        *fresh = relation_value(n);
        pthread_rwlock_unlock(&tf->tpl->lock);
        if (__atomic_compare_exchange_n(slot, &seen, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            v = fresh;
        } else {
            /* another render built it meanwhile */
            weir_tvalue_free(*fresh);
            free(fresh);
            v = seen;
        }
    }
    return weir_tvalue_copy(v);
}

/* Empties n's slot; call with the render lock held exclusive. */
static void relation_forget(struct tf_tpl *t, const weir_tnode *n)
{
    weir_tvalue *v = __atomic_exchange_n(&t->rel[n->index], NULL, __ATOMIC_ACQ_REL);
    if (v)
        weir_vec_push(&t->retired, v);
}

/*
 * After n's config changed in its own render: its disabled flag, and its
 * relation (a move empties its slot). Returns 1 when it moved.
 */
static int config_changed(weir_transform *tf, weir_tnode *n)
{
    /* an inline query, or a pipeline build's copy of a node: it owns its
     * relation strings, and other renders never read it */
    if (!in_graph(tf, n))
        return tf_node_resolve_relation(tf, n, NULL);
    __atomic_store_n(&tf->tpl->off[n->index], (unsigned char)!tf_cfg_bool(n, "enabled", 1),
                     __ATOMIC_RELEASE);
    if (!tf_node_resolve_relation(tf, n, &tf->tpl->lock))
        return 0;
    pthread_rwlock_wrlock(&tf->tpl->lock);
    relation_forget(tf->tpl, n);
    pthread_rwlock_unlock(&tf->tpl->lock);
    return 1;
}

static int h_ref(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_transform *tf = ud;
    weir_tnode *n;
    if (resolve_ref(tf, a, &n, err))
        return WEIR_ENOTFOUND;
    *out = relation_of(tf, n);
    return 0;
}

static int h_source(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_transform *tf = ud;
    weir_tnode *n;
    if (resolve_source(tf, a, &n, err))
        return WEIR_ENOTFOUND;
    *out = relation_of(tf, n); /* sources never move */
    return 0;
}


static int h_config(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_transform *tf = ud;
    if (!cur || !cur->node) {
        *out = weir_tvalue_string("");
        return 0;
    }
    WEIR_UNUSED(err);
    /* only this render reads or writes its node's config (others read the
     * node's slots), so the merge needs no lock */
    for (size_t i = 0; i < a->npos; i++)
        if (weir_tvalue_kind_of(&a->pos[i]) == WEIR_TVALUE_DICT)
            for (size_t k = 0; k < weir_tvalue_dict_len(&a->pos[i]); k++)
                tf_cfg_set(cur->node->config,
                           weir_tvalue_str(weir_tvalue_dict_key_at(&a->pos[i], k)),
                           weir_tvalue_to_json(weir_tvalue_dict_value_at(&a->pos[i], k)));
    for (size_t i = 0; i < a->nkw; i++)
        tf_cfg_set(cur->node->config, a->kw_names[i], weir_tvalue_to_json(&a->kw[i]));
    if (cur->node->kind != WEIR_NODE_SOURCE && config_changed(tf, cur->node))
        cur->node->config_set_alias = 1;
    *out = weir_tvalue_string("");
    return 0;
}

static int h_config_get(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    const weir_tvalue *key, *dflt;
    if (!weir_args_get(a, 0, "name", &key) || weir_tvalue_kind_of(key) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "config.get() takes a key");
    json_t *v = cur && cur->node ? json_object_get(cur->node->config, weir_tvalue_str(key)) : NULL;
    if (v)
        *out = weir_tvalue_from_json(v);
    else if (weir_args_get(a, 1, "default", &dflt))
        *out = weir_tvalue_copy(dflt);
    else
        *out = weir_tvalue_none();
    return 0;
}

static int h_var(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_transform *tf = ud;
    const weir_tvalue *name, *dflt;
    if (!weir_args_get(a, 0, "name", &name) || weir_tvalue_kind_of(name) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "var() takes a variable name");
    json_t *v = json_object_get(tf_vars(tf), weir_tvalue_str(name));
    if (v) {
        *out = weir_tvalue_from_json(v);
        return 0;
    }
    if (weir_args_get(a, 1, "default", &dflt)) {
        *out = weir_tvalue_copy(dflt);
        return 0;
    }
    return weir_error_set(err, WEIR_ENOTFOUND,
                          "required var '%s' not found (set it under 'vars:' or with --vars)",
                          weir_tvalue_str(name));
}

static int h_env_var(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    const weir_tvalue *name, *dflt;
    if (!weir_args_get(a, 0, "var", &name) || weir_tvalue_kind_of(name) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "env_var() takes a variable name");
    const char *v = getenv(weir_tvalue_str(name));
    if (v) {
        *out = weir_tvalue_string(v);
        return 0;
    }
    if (weir_args_get(a, 1, "default", &dflt)) {
        *out = weir_tvalue_copy(dflt);
        return 0;
    }
    return weir_error_set(err, WEIR_ENOTFOUND, "env var '%s' is not set and has no default",
                          weir_tvalue_str(name));
}

static int h_is_incremental(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(a);
    WEIR_UNUSED(err);
    *out = weir_tvalue_bool(cur ? cur->is_incremental : 0);
    return 0;
}

static int h_log(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    const weir_tvalue *msg, *info;
    weir_buf b = WEIR_BUF_INIT;
    if (weir_args_get(a, 0, "msg", &msg))
        weir_tvalue_to_buf(msg, &b);
    if (weir_args_get(a, 1, "info", &info) && weir_tvalue_truthy(info))
        weir_info("%s", b.ptr);
    else
        weir_debug("%s", b.ptr);
    weir_buf_release(&b);
    *out = weir_tvalue_string("");
    return 0;
}

static int h_return(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    *out = a->npos ? weir_tvalue_copy(&a->pos[0]) : weir_tvalue_none();
    return WEIR_TEMPLATE_RETURN;
}

static int h_raise(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(out);
    weir_buf b = WEIR_BUF_INIT;
    if (a->npos)
        weir_tvalue_to_buf(&a->pos[0], &b);
    int rc = weir_error_set(err, WEIR_EINVALID, "%s", b.ptr);
    weir_buf_release(&b);
    return rc;
}

static int h_warn(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    weir_buf b = WEIR_BUF_INIT;
    if (a->npos)
        weir_tvalue_to_buf(&a->pos[0], &b);
    weir_warn("%s", b.ptr);
    weir_buf_release(&b);
    *out = weir_tvalue_string("");
    return 0;
}

static int h_quote(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    if (a->npos != 1)
        return weir_error_set(err, WEIR_EINVALID, "adapter.quote() takes one identifier");
    weir_buf b = WEIR_BUF_INIT, s = WEIR_BUF_INIT;
    weir_tvalue_to_buf(&a->pos[0], &s);
    tf_quote_ident(&b, s.ptr);
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    weir_buf_release(&s);
    return 0;
}

static int h_dispatch(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_transform *tf = ud;
    const weir_tvalue *name;
    if (!weir_args_get(a, 0, "macro_name", &name) || weir_tvalue_kind_of(name) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "adapter.dispatch() takes a macro name");
    const char *prefixes[] = { "duckdb__", "default__", "" };
    for (size_t i = 0; i < 3; i++) {
        weir_buf b = WEIR_BUF_INIT;
        weir_error e2 = WEIR_ERROR_INIT;
        weir_buf_addf(&b, "%s%s", prefixes[i], weir_tvalue_str(name));
        int rc = weir_template_env_get_macro(tf->tpl->env, b.ptr, out, &e2);
        weir_buf_release(&b);
        weir_error_release(&e2);
        if (!rc)
            return 0;
    }
    return weir_error_set(err, WEIR_ENOTFOUND, "no macro 'duckdb__%s' or 'default__%s' to dispatch to",
                          weir_tvalue_str(name), weir_tvalue_str(name));
}

static int h_doc(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_transform *tf = ud;
    if (a->npos < 1)
        return weir_error_set(err, WEIR_EINVALID, "doc() takes a docs block name");
    json_t *v = json_object_get(tf->docs, weir_tvalue_str(&a->pos[a->npos - 1]));
    if (!v)
        return weir_error_set(err, WEIR_ENOTFOUND, "unknown docs block '%s'",
                              weir_tvalue_str(&a->pos[a->npos - 1]));
    *out = weir_tvalue_string(json_string_value(v));
    return 0;
}

/* A column's values(): ud is a list the transform keeps until it is freed. */
static int h_column_values(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(a);
    WEIR_UNUSED(err);
    *out = weir_tvalue_copy((const weir_tvalue *)ud);
    return 0;
}

static int h_run_query_table(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(a);
    WEIR_UNUSED(out);
    weir_error_set(err, WEIR_EINVALID, "a run_query() table is not callable (use .rows or .columns)");
    return WEIR_EINVALID;
}

static weir_tvalue cell_value(weir_result *r, size_t row, size_t col, weir_buf *tmp)
{
    weir_value v;
    if (weir_result_is_null(r, row, col))
        return weir_tvalue_none();
    weir_result_value(r, row, col, &v);
    switch (v.type) {
    case WEIR_TYPE_BOOL: return weir_tvalue_bool(v.u.b);
    case WEIR_TYPE_INT:
        if (!v.str)
            return weir_tvalue_int(v.u.i);
        break;
    case WEIR_TYPE_DOUBLE: return weir_tvalue_float(v.u.d);
    default: break;
    }
    weir_buf_reset(tmp);
    weir_result_text(r, row, col, tmp);
    return weir_tvalue_string(tmp->ptr);
}

/*
 * run_query(sql): the rows of sql as an agate-like table: `.rows` (a list of
 * rows), `.columns[i].values()`, `.columns[i].name`, `.column_names`.
 * Without a warehouse (`weir ls`, where `execute` is false, as in dbt's
 * parse) it returns none.
 */
/* Runs sql on the rendering connection; *table is an agate-like table and
 * *rows (when not NULL) the list of rows. */
static int query_table(weir_transform *tf, const char *sql, weir_tvalue *table, weir_tvalue *rows_out,
                       weir_error *err)
{
    struct tf_tpl *t = tf->tpl;
    weir_result *r = NULL;
    weir_buf tmp = WEIR_BUF_INIT;
    int rc = 0;
    pthread_mutex_lock(&t->qlock);
    if (!t->conn && (rc = weir_conn_new(t->engine, &t->conn, err)))
        goto cleanup;
    if ((rc = weir_conn_query(t->conn, sql, &r, err)))
        goto cleanup;
    size_t nr = weir_result_rows(r), nc = weir_result_cols(r);
    weir_tvalue rows = weir_tvalue_list(), cols = weir_tvalue_list(), names = weir_tvalue_list();
    for (size_t i = 0; i < nr; i++) {
        weir_tvalue row = weir_tvalue_list();
        for (size_t c = 0; c < nc; c++)
            weir_tvalue_list_push(&row, cell_value(r, i, c, &tmp));
        weir_tvalue_list_push(&rows, row);
    }
    for (size_t c = 0; c < nc; c++) {
        weir_tvalue *vals = weir_xmalloc(sizeof(*vals));
        *vals = weir_tvalue_list();
        for (size_t i = 0; i < nr; i++)
            weir_tvalue_list_push(vals, cell_value(r, i, c, &tmp));
        weir_vec_push(&t->kept, vals);
        weir_tvalue col = weir_tvalue_function("column", h_column_values, vals);
        weir_tvalue_func_set_attr(&col, "name", weir_tvalue_string(weir_result_col_name(r, c)));
        weir_tvalue_func_set_attr(&col, "values", weir_tvalue_function("values", h_column_values, vals));
        weir_tvalue_list_push(&cols, col);
        weir_tvalue_list_push(&names, weir_tvalue_string(weir_result_col_name(r, c)));
    }
    if (rows_out)
        *rows_out = weir_tvalue_copy(&rows);
    *table = weir_tvalue_function("table", h_run_query_table, NULL);
    weir_tvalue_func_set_attr(table, "rows", rows);
    weir_tvalue_func_set_attr(table, "columns", cols);
    weir_tvalue_func_set_attr(table, "column_names", names);
cleanup:
    pthread_mutex_unlock(&t->qlock);
    weir_result_free(r);
    weir_buf_release(&tmp);
    return rc;
}

/*
 * run_query(sql): the rows of sql as an agate-like table: `.rows` (a list of
 * rows), `.columns[i].values()`, `.columns[i].name`, `.column_names`.
 * Without a warehouse (`weir ls`, where `execute` is false, as in dbt's
 * parse) it returns none.
 */
static int h_run_query(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_transform *tf = ud;
    const weir_tvalue *sqlv;
    weir_buf sql = WEIR_BUF_INIT;
    int rc;
    if (!tf->tpl->engine) {
        *out = weir_tvalue_none();
        return 0;
    }
    if (!weir_args_get(a, 0, "sql", &sqlv))
        return weir_error_set(err, WEIR_EINVALID, "run_query() takes the SQL to run");
    weir_tvalue_to_buf(sqlv, &sql);
    rc = query_table(tf, sql.ptr, out, NULL, err);
    weir_buf_release(&sql);
    return rc;
}

/*
 * {% call statement('name', fetch_result=True) %}SQL{% endcall %}: runs the
 * block's SQL; load_result('name') then gives {data, table, response}.
 */
static int h_statement(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    weir_transform *tf = ud;
    const weir_tvalue *name, *fetch, *caller = NULL;
    weir_tvalue body = weir_tvalue_none(), table = weir_tvalue_none(), rows = weir_tvalue_none();
    weir_tvalue ctx;
    weir_buf sql = WEIR_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < a->nkw; i++)
        if (!strcmp(a->kw_names[i], "caller"))
            caller = &a->kw[i];
    *out = weir_tvalue_string("");
    if (!caller || !cur)
        return 0;
    ctx = weir_tvalue_dict();
    if (cur->node && cur->node->relation)
        weir_tvalue_dict_set(&ctx, "this", weir_tvalue_string(cur->node->relation));
    rc = weir_template_env_call(tf->tpl->env, caller, NULL, &ctx, &body, err);
    weir_tvalue_free(ctx);
    if (rc || !tf->tpl->engine)
        goto cleanup;
    weir_tvalue_to_buf(&body, &sql);
    if ((rc = query_table(tf, sql.ptr, &table, &rows, err)))
        goto cleanup;
    if (weir_args_get(a, 0, "name", &name) && weir_tvalue_kind_of(name) == WEIR_TVALUE_STRING) {
        int want = weir_args_get(a, 1, "fetch_result", &fetch) && weir_tvalue_truthy(fetch);
        weir_tvalue res = weir_tvalue_dict(), resp = weir_tvalue_dict();
        weir_tvalue_dict_set(&resp, "rows_affected", weir_tvalue_int((int64_t)weir_tvalue_list_len(&rows)));
        weir_tvalue_dict_set(&res, "response", resp);
        weir_tvalue_dict_set(&res, "data", want ? weir_tvalue_copy(&rows) : weir_tvalue_none());
        weir_tvalue_dict_set(&res, "table", want ? weir_tvalue_copy(&table) : weir_tvalue_none());
        if (weir_tvalue_kind_of(&cur->results) != WEIR_TVALUE_DICT) {
            weir_tvalue_free(cur->results);
            cur->results = weir_tvalue_dict();
        }
        weir_tvalue_dict_set(&cur->results, weir_tvalue_str(name), res);
    }
cleanup:
    weir_tvalue_free(body);
    weir_tvalue_free(table);
    weir_tvalue_free(rows);
    weir_buf_release(&sql);
    return rc;
}

static int h_load_result(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    const weir_tvalue *name;
    if (!weir_args_get(a, 0, "name", &name) || weir_tvalue_kind_of(name) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "load_result() takes a statement name");
    const weir_tvalue *v = cur && weir_tvalue_kind_of(&cur->results) == WEIR_TVALUE_DICT
                               ? weir_tvalue_dict_get(&cur->results, weir_tvalue_str(name))
                               : NULL;
    *out = v ? weir_tvalue_copy(v) : weir_tvalue_none();
    return 0;
}

void tf_tpl_set_engine(weir_transform *tf, weir_engine *e)
{
    tf->tpl->engine = e;
    weir_template_env_set_global(tf->tpl->env, "execute", weir_tvalue_bool(e != NULL));
}

/* --- setup ------------------------------------------------------------------ */

int tf_tpl_init(weir_transform *tf, weir_error *err)
{
    struct tf_tpl *t = weir_xcalloc(1, sizeof(*t));
    weir_template_env *env = weir_template_env_new();
    tf->tpl = t;
    t->env = env;
    pthread_rwlock_init(&t->lock, NULL);
    pthread_mutex_init(&t->qlock, NULL);
    t->tpls = weir_xcalloc(tf->nodes.len + 1, sizeof(*t->tpls));
    t->base_config = weir_xcalloc(tf->nodes.len + 1, sizeof(*t->base_config));
    t->rel = weir_xcalloc(tf->nodes.len + 1, sizeof(*t->rel));
    t->off = weir_xcalloc(tf->nodes.len + 1, 1);
    for (size_t i = 0; i < tf->nodes.len; i++)
        t->off[i] = (unsigned char)!tf_cfg_bool(tf->nodes.items[i], "enabled", 1);
    t->names = weir_xcalloc(tf->nodes.len + 1, sizeof(*t->names));
    for (size_t i = 0; i < tf->nodes.len; i++) {
        weir_tnode *n = tf->nodes.items[i];
        if (n->kind == WEIR_NODE_MODEL || n->kind == WEIR_NODE_SEED || n->kind == WEIR_NODE_SNAPSHOT)
            t->names[t->n_names++] = n->name;
    }

    weir_template_env_add_function(env, "ref", h_ref, tf);
    weir_template_env_add_function(env, "source", h_source, tf);
    weir_tvalue config = weir_tvalue_function("config", h_config, tf);
    weir_tvalue_func_set_attr(&config, "get", weir_tvalue_function("get", h_config_get, tf));
    weir_tvalue_func_set_attr(&config, "require", weir_tvalue_function("require", h_config_get, tf));
    weir_template_env_set_global(env, "config", config);
    weir_template_env_add_function(env, "var", h_var, tf);
    weir_template_env_add_function(env, "env_var", h_env_var, tf);
    weir_template_env_add_function(env, "is_incremental", h_is_incremental, tf);
    weir_template_env_add_function(env, "log", h_log, tf);
    weir_template_env_add_function(env, "return", h_return, tf);
    weir_template_env_add_function(env, "doc", h_doc, tf);
    weir_template_env_add_function(env, "run_query", h_run_query, tf);
    weir_template_env_add_function(env, "statement", h_statement, tf);
    weir_template_env_add_function(env, "load_result", h_load_result, tf);

    weir_tvalue exc = weir_tvalue_dict();
    weir_tvalue_dict_set(&exc, "raise_compiler_error", weir_tvalue_function("raise_compiler_error", h_raise, tf));
    weir_tvalue_dict_set(&exc, "warn", weir_tvalue_function("warn", h_warn, tf));
    weir_template_env_set_global(env, "exceptions", exc);

    weir_tvalue adapter = weir_tvalue_dict();
    weir_tvalue_dict_set(&adapter, "quote", weir_tvalue_function("quote", h_quote, tf));
    weir_tvalue_dict_set(&adapter, "dispatch", weir_tvalue_function("dispatch", h_dispatch, tf));
    weir_template_env_set_global(env, "adapter", adapter);

    weir_tvalue target = weir_tvalue_dict();
    weir_tvalue_dict_set(&target, "name", weir_tvalue_string(tf->target_name));
    weir_tvalue_dict_set(&target, "schema", weir_tvalue_string(tf->target_schema));
    weir_tvalue_dict_set(&target, "type", weir_tvalue_string("duckdb"));
    weir_tvalue_dict_set(&target, "database", weir_tvalue_string("main"));
    weir_tvalue_dict_set(&target, "profile_name", weir_tvalue_string(tf->name));
    weir_tvalue_dict_set(&target, "threads", weir_tvalue_int(1));
    weir_template_env_set_global(env, "target", target);

    weir_tvalue proj = weir_tvalue_string(tf->name);
    weir_template_env_set_global(env, "project_name", proj);
    weir_template_env_set_global(env, "execute", weir_tvalue_bool(0));
    weir_template_env_set_global(env, "flags", weir_tvalue_dict());

    weir_template_env_add_macro_tag(env, "test", "test_", 0);
    weir_template_env_add_macro_tag(env, "docs", "docs_", 1);
    weir_template_env_add_macro_tag(env, "snapshot", "snapshot_", 1);
    weir_template_env_trace_calls(env, "ref");
    weir_template_env_trace_calls(env, "source");

    for (size_t i = 0; i < tf->macro_files.len; i++) {
        const char *src = tf->macro_srcs.items[i];
        if (weir_template_env_load_macros(env, NULL, tf->macro_files.items[i], src, strlen(src), err))
            return err->code ? err->code : WEIR_ERROR;
    }
    for (size_t i = 0; i < tf->nodes.len; i++) {
        weir_tnode *n = tf->nodes.items[i];
        if (n->kind == WEIR_NODE_SNAPSHOT &&
            weir_template_env_load_macros(env, NULL, n->path, n->raw_sql, strlen(n->raw_sql), err))
            return err->code ? err->code : WEIR_ERROR;
    }
    return 0;
}

void tf_tpl_free(weir_transform *tf)
{
    struct tf_tpl *t = tf->tpl;
    if (!t)
        return;
    for (size_t i = 0; i < tf->nodes.len; i++) {
        weir_template_free(t->tpls[i]);
        json_decref(t->base_config[i]);
        relation_forget(t, tf->nodes.items[i]);
    }
    for (size_t i = 0; i < t->retired.len; i++) {
        weir_tvalue_free(*t->retired.items[i]);
        free(t->retired.items[i]);
    }
    weir_vec_release(&t->retired);
    free(t->rel);
    free(t->off);
    free(t->tpls);
    free(t->base_config);
    free(t->names);
    weir_template_env_free(t->env);
    weir_conn_free(t->conn);
    for (size_t i = 0; i < t->kept.len; i++) {
        weir_tvalue_free(*t->kept.items[i]);
        free(t->kept.items[i]);
    }
    weir_vec_release(&t->kept);
    pthread_rwlock_destroy(&t->lock);
    pthread_mutex_destroy(&t->qlock);
    free(t);
    tf->tpl = NULL;
}

int tf_tpl_has_test(weir_transform *tf, const char *name)
{
    weir_buf b = WEIR_BUF_INIT;
    weir_tvalue v;
    weir_error e = WEIR_ERROR_INIT;
    weir_buf_addf(&b, "test_%s", name);
    int rc = weir_template_env_get_macro(tf->tpl->env, b.ptr, &v, &e);
    if (!rc)
        weir_tvalue_free(v);
    weir_buf_release(&b);
    weir_error_release(&e);
    return rc == 0;
}

/* --- rendering ------------------------------------------------------------ */

static void add_dep(weir_tnode *n, size_t idx)
{
    if (idx == n->index)
        return;
    for (size_t i = 0; i < n->deps.len; i++)
        if (n->deps.items[i] == idx)
            return;
    weir_vec_push(&n->deps, idx);
}

/* Adds the nodes named by traced ref()/source() calls to n's deps. */
static void deps_from_calls(weir_transform *tf, weir_tnode *n, const weir_tvalue *calls)
{
    for (size_t i = 0; i < weir_tvalue_list_len(calls); i++) {
        const weir_tvalue *c = weir_tvalue_list_at(calls, i);
        const char *fn = weir_tvalue_str(weir_tvalue_list_at(c, 0));
        const weir_tvalue *pos = weir_tvalue_list_at(c, 1);
        weir_args a = { NULL, 0, NULL, NULL, 0 };
        weir_tvalue tmp[2];
        size_t np = weir_tvalue_list_len(pos);
        if (np > 2)
            np = 2;
        for (size_t k = 0; k < np; k++)
            tmp[k] = *weir_tvalue_list_at(pos, k);
        a.pos = tmp;
        a.npos = np;
        weir_tnode *dep = NULL;
        weir_error e = WEIR_ERROR_INIT;
        if (!strcmp(fn, "ref"))
            resolve_ref(tf, &a, &dep, &e);
        else
            resolve_source(tf, &a, &dep, &e);
        weir_error_release(&e);
        if (dep)
            add_dep(n, dep->index);
    }
}

static weir_tvalue make_ctx(weir_transform *tf, weir_tnode *n)
{
    weir_tvalue ctx = weir_tvalue_dict();
    if (!n)
        return ctx;
    weir_tvalue model = weir_tvalue_dict();
    weir_tvalue_dict_set(&model, "name", weir_tvalue_string(n->name));
    weir_tvalue_dict_set(&model, "unique_id", weir_tvalue_string(n->unique_id));
    weir_tvalue_dict_set(&model, "resource_type", weir_tvalue_string(weir_node_kind_name(n->kind)));
    weir_tvalue_dict_set(&model, "config", weir_tvalue_from_json(n->config));
    weir_tvalue_dict_set(&model, "path", weir_tvalue_string(n->path));
    weir_tvalue_dict_set(&ctx, "model", model);
    /* n's own render is the only one that moves it: no lock needed here */
    if (n->relation)
        weir_tvalue_dict_set(&ctx, "this", relation_of(tf, n));
    return ctx;
}

int tf_tpl_render_node(weir_transform *tf, weir_tnode *n, int is_incremental, weir_buf *out,
                       weir_error *err)
{
    struct tf_tpl *t = tf->tpl;
    rstate st = { tf, n, is_incremental , { WEIR_TVALUE_NONE, { 0 } } };
    rstate *saved = cur;
    weir_tvalue calls = weir_tvalue_none(), ctx;
    weir_template *tpl;
    json_t *base;
    int rc;

    /* pipeline builds on several threads may render one node at once (the
     * same model for two intervals, an ephemeral model two models read):
     * the first to compile its template installs it, the others use it */
    tpl = __atomic_load_n(&t->tpls[n->index], __ATOMIC_ACQUIRE);
    if (!tpl) {
        const char *src = n->raw_sql;
        weir_buf wrap = WEIR_BUF_INIT;
        weir_template *seen = NULL;
        if (n->kind == WEIR_NODE_SNAPSHOT) {
            weir_buf_addf(&wrap, "{{ snapshot_%s() }}", n->name);
            src = wrap.ptr;
        }
        rc = weir_template_compile(t->env, n->path, src, strlen(src), &tpl, err);
        weir_buf_release(&wrap);
        if (rc)
            return rc;
        if (!__atomic_compare_exchange_n(&t->tpls[n->index], &seen, tpl, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            weir_template_free(tpl);
            tpl = seen;
        }
    }
    /* every render starts from the config before config() calls, so a
     * second render (is_incremental true) does not add hooks twice; a
     * build's copy of a node (tf_build) owns its config */
    base = __atomic_load_n(&t->base_config[n->index], __ATOMIC_ACQUIRE);
    if (!base) {
        json_t *seen = NULL;
        base = json_deep_copy(n->config);
        if (!__atomic_compare_exchange_n(&t->base_config[n->index], &seen, base, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            json_decref(base);
            base = seen;
        }
    }
    json_decref(n->config);
    n->config = json_deep_copy(base);
    config_changed(tf, n);

    ctx = make_ctx(tf, n);
    cur = &st;
    if (n->attached == TF_NONE)
        n->deps.len = 0;
    rc = weir_template_render(tpl, &ctx, out, &calls, err);
    cur = saved;
    weir_tvalue_free(st.results);
    if (!rc)
        deps_from_calls(tf, n, &calls);
    /* most nodes render once; a compiled template is much bigger than its
     * source, so keep only those an incremental run renders again, and
     * those pipeline builds render (each run, maybe on several threads) */
    const char *mat = tf_cfg_str(n, "materialized");
    if (!tf_cur_build && !is_incremental &&
        !(mat && !strcmp(mat, "incremental"))) {
        weir_template_free(t->tpls[n->index]);
        t->tpls[n->index] = NULL;
    }
    weir_tvalue_free(calls);
    weir_tvalue_free(ctx);
    return rc;
}

int tf_tpl_render_string(weir_transform *tf, weir_tnode *n, const char *file, const char *src,
                         int add_deps, weir_buf *out, weir_error *err)
{
    struct tf_tpl *t = tf->tpl;
    rstate st = { tf, n, 0 , { WEIR_TVALUE_NONE, { 0 } } };
    rstate *saved = cur;
    weir_template *tpl = NULL;
    weir_tvalue calls = weir_tvalue_none(), ctx = make_ctx(tf, n);
    int rc = weir_template_compile(t->env, file, src, strlen(src), &tpl, err);
    if (!rc) {
        cur = &st;
        rc = weir_template_render(tpl, &ctx, out, &calls, err);
        cur = saved;
    weir_tvalue_free(st.results);
        if (!rc && add_deps && n)
            deps_from_calls(tf, n, &calls);
    }
    weir_template_free(tpl);
    weir_tvalue_free(calls);
    weir_tvalue_free(ctx);
    return rc;
}

int tf_tpl_render_custom_test(weir_transform *tf, weir_tnode *n, json_t *args,
                              const char *filtered, weir_buf *out, weir_error *err)
{
    struct tf_tpl *t = tf->tpl;
    weir_buf name = WEIR_BUF_INIT;
    weir_tvalue fn = weir_tvalue_none(), res = weir_tvalue_none(), ctx = make_ctx(tf, n);
    WEIR_VEC(const char *) kn = WEIR_VEC_INIT;
    WEIR_VEC(weir_tvalue) kv = WEIR_VEC_INIT;
    weir_tnode *parent = tf_node_at(tf, n->attached);
    rstate st = { tf, n, 0 , { WEIR_TVALUE_NONE, { 0 } } };
    rstate *saved = cur;
    int rc;

    weir_buf_addf(&name, "test_%s", n->test_kind);
    if ((rc = weir_template_env_get_macro(t->env, name.ptr, &fn, err)))
        goto cleanup;
    weir_vec_push(&kn, "model");
    /* dbt's get_where_subquery(): the model, or its rows the where keeps */
    weir_vec_push(&kv, filtered ? weir_tvalue_string(filtered) : relation_of(tf, parent));
    if (n->column) {
        weir_vec_push(&kn, "column_name");
        weir_vec_push(&kv, weir_tvalue_string(n->column));
    }
    const char *k;
    json_t *v;
    json_object_foreach(args, k, v)
    {
        weir_vec_push(&kn, k);
        weir_vec_push(&kv, weir_tvalue_from_json(v));
    }
    weir_args a = { NULL, 0, kn.items, kv.items, kn.len };
    cur = &st;
    rc = weir_template_env_call(t->env, &fn, &a, &ctx, &res, err);
    cur = saved;
    weir_tvalue_free(st.results);
    if (!rc)
        weir_tvalue_to_buf(&res, out);
cleanup:
    for (size_t i = 0; i < kv.len; i++)
        weir_tvalue_free(kv.items[i]);
    weir_vec_release(&kv);
    weir_vec_release(&kn);
    weir_tvalue_free(fn);
    weir_tvalue_free(res);
    weir_tvalue_free(ctx);
    weir_buf_release(&name);
    return rc;
}
