/*
 * exec.c: materializations on the warehouse.
 *
 * One function per kind of node, each given its own connection (one per
 * worker thread). Every change a reader can see is made in one
 * transaction, so readers see the old relation or the new one:
 *
 *   view         CREATE OR REPLACE VIEW (dropping a table of that name first)
 *   table        CREATE TABLE x__weir_tmp AS ...; DROP x; RENAME tmp TO x
 *   incremental  new rows into a temp table, then append / delete+insert /
 *                merge / insert_overwrite into x, after on_schema_change
 *   seed         CSV -> a VARCHAR temp table -> CREATE OR REPLACE x AS casts
 *   snapshot     close changed current rows, insert new versions
 *   test         count the failing rows against warn_if / error_if; a
 *                model's built-in generic tests that are ready together
 *                are computed as one batch through quality/ (tf_exec_tests)
 *
 * A failure rolls the transaction back: the previous relation stays.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/fs.h"
#include "core/str.h"
#include "core/log.h"
#include "engine/engine.h"
#include "quality/quality.h"
#include "transform/tf_int.h"

typedef WEIR_VEC(char *) namevec;

static void names_release(namevec *v)
{
    for (size_t i = 0; i < v->len; i++)
        free(v->items[i]);
    weir_vec_release(v);
}

static void lit(weir_buf *out, const char *s)
{
    weir_buf_addch(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            weir_buf_addch(out, '\'');
        weir_buf_addch(out, *s);
    }
    weir_buf_addch(out, '\'');
}

/* 'T' table, 'V' view, 0 absent. */
static int relation_kind(weir_conn *c, const char *schema, const char *name, char *kind,
                         weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_result *r = NULL;
    int rc;
    *kind = 0;
    weir_buf_adds(&sql, "select table_type from information_schema.tables where table_catalog = current_database() and table_schema = ");
    lit(&sql, schema);
    weir_buf_adds(&sql, " and table_name = ");
    lit(&sql, name);
    rc = weir_conn_query(c, sql.ptr, &r, err);
    if (!rc && weir_result_rows(r) > 0) {
        const char *p;
        size_t n;
        if (!weir_result_str(r, 0, 0, &p, &n))
            *kind = (n >= 4 && !strncmp(p, "VIEW", 4)) ? 'V' : 'T';
    }
    weir_result_free(r);
    weir_buf_release(&sql);
    return rc;
}

/* Column names (and types when types is not NULL) of a relation. */
static int columns_of(weir_conn *c, const char *rel, namevec *names, namevec *types,
                      weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_result *r = NULL;
    weir_buf_addf(&sql, "select * from %s limit 0", rel);
    int rc = weir_conn_query(c, sql.ptr, &r, err);
    if (!rc) {
        for (size_t i = 0; i < weir_result_cols(r); i++) {
            weir_vec_push(names, weir_xstrdup(weir_result_col_name(r, i)));
            if (types)
                weir_vec_push(types, weir_xstrdup(weir_result_col_type_name(r, i)));
        }
    }
    weir_result_free(r);
    weir_buf_release(&sql);
    return rc;
}

static int count_rows(weir_conn *c, const char *rel, long long *out, weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_result *r = NULL;
    int64_t v = 0;
    weir_buf_addf(&sql, "select count(*) from %s", rel);
    int rc = weir_conn_query(c, sql.ptr, &r, err);
    if (!rc)
        weir_result_int64(r, 0, 0, &v);
    *out = v;
    weir_result_free(r);
    weir_buf_release(&sql);
    return rc;
}

/* Runs sql inside BEGIN/COMMIT, rolling back on failure. */
static int exec_tx(weir_conn *c, const char *sql, weir_buf *log, weir_error *err)
{
    weir_buf_addf(log, "%s;\n", sql);
    if (weir_conn_begin(c, err))
        return err->code;
    if (weir_conn_exec(c, sql, err)) {
        weir_error ignore = WEIR_ERROR_INIT;
        weir_conn_rollback(c, &ignore);
        weir_error_release(&ignore);
        return err->code ? err->code : WEIR_ERROR;
    }
    return weir_conn_commit(c, err);
}

/*
 * Two connections creating the same new schema at once conflict in the
 * engine ("write-write conflict"): they take turns, so the second finds it.
 */
static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;

static int ensure_schema(weir_conn *c, const char *schema, weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_buf_adds(&sql, "create schema if not exists ");
    tf_quote_ident(&sql, schema);
    pthread_mutex_lock(&schema_lock);
    int rc = weir_conn_exec(c, sql.ptr, err);
    pthread_mutex_unlock(&schema_lock);
    weir_buf_release(&sql);
    return rc;
}

int tf_exec_hooks(weir_transform *tf, weir_conn *c, json_t *hooks, const char *what,
                  weir_error *err)
{
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        const char *src = json_is_string(h) ? json_string_value(h)
                                            : json_string_value(json_object_get(h, "sql"));
        if (!src || !*src)
            continue;
        weir_buf sql = WEIR_BUF_INIT;
        int rc = tf_tpl_render_string(tf, NULL, what, src, 0, &sql, err);
        if (!rc && weir_conn_exec(c, sql.ptr, err))
            rc = err->code ? err->code : WEIR_ERROR;
        weir_buf_release(&sql);
        if (rc)
            return weir_error_wrap(err, "in %s", what), rc;
    }
    return 0;
}

static int node_hooks(weir_transform *tf, weir_conn *c, weir_tnode *n, const char *key,
                      weir_buf *log, weir_error *err)
{
    json_t *hooks = json_object_get(n->config, key);
    size_t i;
    json_t *h;
    json_array_foreach(hooks, i, h)
    {
        const char *src = json_is_string(h) ? json_string_value(h)
                                            : json_string_value(json_object_get(h, "sql"));
        if (!src || !*src)
            continue;
        weir_buf sql = WEIR_BUF_INIT;
        int rc = tf_tpl_render_string(tf, n, n->path, src, 0, &sql, err);
        if (!rc) {
            weir_buf_addf(log, "%s;\n", sql.ptr);
            if (weir_conn_exec(c, sql.ptr, err))
                rc = err->code ? err->code : WEIR_ERROR;
        }
        weir_buf_release(&sql);
        if (rc) {
            weir_error_wrap(err, "in %s of '%s'", key, n->name);
            return rc;
        }
    }
    return 0;
}

/*
 * Where the compiled SQL starts in the statement being built, in lines, so
 * an engine error's "LINE n:" can be turned into a line of the compiled
 * SQL. Per thread: each worker builds its own statements.
 */
static _Thread_local int sql_line_offset = -1;

/* Appends "(\n<sql>\n)" to b, remembering where sql starts. */
static void add_model_sql(weir_buf *b, const char *sql)
{
    int lines = 0;
    weir_buf_adds(b, "(\n");
    for (const char *p = b->ptr; *p; p++)
        lines += *p == '\n';
    sql_line_offset = lines;
    weir_buf_adds(b, sql);
    weir_buf_adds(b, "\n)");
}

/* "LINE 7:" in an engine message, as a line of the compiled SQL, or 0. */
static int compiled_line(const char *msg)
{
    const char *p = strstr(msg, "LINE ");
    if (!p || sql_line_offset < 0)
        return 0;
    int line = atoi(p + 5) - sql_line_offset;
    return line > 0 ? line : 0;
}

/* --- models ------------------------------------------------------------ */

static int mat_view(weir_conn *c, weir_tnode *n, const char *sql, weir_buf *log, weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT;
    char kind;
    int rc = relation_kind(c, n->schema, n->alias, &kind, err);
    if (rc)
        goto cleanup;
    if (kind == 'T')
        weir_buf_addf(&b, "drop table %s;\n", n->relation);
    weir_buf_addf(&b, "create or replace view %s as ", n->relation);
    add_model_sql(&b, sql);
    rc = exec_tx(c, b.ptr, log, err);
cleanup:
    weir_buf_release(&b);
    return rc;
}

static int mat_table(weir_conn *c, weir_tnode *n, const char *sql, weir_buf *log, weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT, tmp = WEIR_BUF_INIT, tmpname = WEIR_BUF_INIT;
    char kind;
    int rc = relation_kind(c, n->schema, n->alias, &kind, err);
    if (rc)
        goto cleanup;
    weir_buf_addf(&tmpname, "%s__weir_tmp", n->alias);
    tf_quote_relation(&tmp, n->schema, tmpname.ptr);
    weir_buf_addf(&b, "drop table if exists %s;\ncreate table %s as ", tmp.ptr, tmp.ptr);
    add_model_sql(&b, sql);
    weir_buf_adds(&b, ";\n");
    if (kind == 'T')
        weir_buf_addf(&b, "drop table %s;\n", n->relation);
    else if (kind == 'V')
        weir_buf_addf(&b, "drop view %s;\n", n->relation);
    weir_buf_addf(&b, "alter table %s rename to ", tmp.ptr);
    tf_quote_ident(&b, n->alias);
    rc = exec_tx(c, b.ptr, log, err);
cleanup:
    weir_buf_release(&b);
    weir_buf_release(&tmp);
    weir_buf_release(&tmpname);
    return rc;
}

static int has_name(const namevec *v, const char *s)
{
    for (size_t i = 0; i < v->len; i++)
        if (weir_str_ieq(v->items[i], s))
            return 1;
    return 0;
}

/* unique_key as a list of column names. */
static void unique_keys(const weir_tnode *n, namevec *out)
{
    json_t *k = json_object_get(n->config, "unique_key");
    if (json_is_string(k)) {
        /* "a, b" is also a composite key in some projects */
        const char *s = json_string_value(k);
        while (*s) {
            while (*s == ' ' || *s == ',')
                s++;
            const char *e = s;
            while (*e && *e != ',')
                e++;
            const char *t = e;
            while (t > s && t[-1] == ' ')
                t--;
            if (t > s)
                weir_vec_push(out, weir_xstrndup(s, (size_t)(t - s)));
            s = e;
        }
    } else if (json_is_array(k)) {
        size_t i;
        json_t *x;
        json_array_foreach(k, i, x)
        if (json_is_string(x))
            weir_vec_push(out, weir_xstrdup(json_string_value(x)));
    }
}

const char *weir_node_partition_by(const weir_tnode *n)
{
    json_t *p = json_object_get(n->config, "partition_by");
    if (json_is_string(p))
        return json_string_value(p);
    if (json_is_object(p) && json_is_string(json_object_get(p, "field")))
        return json_string_value(json_object_get(p, "field"));
    return NULL;
}

/* incremental_predicates: more conditions on what delete+insert and merge touch. */
static void add_predicates(const weir_tnode *n, weir_buf *b)
{
    json_t *p = json_object_get(n->config, "incremental_predicates");
    size_t i;
    json_t *x;
    if (json_is_string(p))
        weir_buf_addf(b, " and (%s)", json_string_value(p));
    json_array_foreach(p, i, x)
    if (json_is_string(x))
        weir_buf_addf(b, " and (%s)", json_string_value(x));
}

static int in_list(json_t *list, const char *col)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    if (json_is_string(x) && weir_str_ieq(json_string_value(x), col))
        return 1;
    return 0;
}

/* Whether merge updates col: merge_update_columns / merge_exclude_columns. */
static int merge_updates(const weir_tnode *n, const char *col)
{
    json_t *only = json_object_get(n->config, "merge_update_columns");
    json_t *except = json_object_get(n->config, "merge_exclude_columns");
    if (json_is_array(only))
        return in_list(only, col);
    return !in_list(except, col);
}

static int mat_incremental(weir_transform *tf, weir_conn *c, weir_tnode *n, int full_refresh,
                           tf_exec_result *res, weir_buf *log, weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT, b = WEIR_BUF_INIT, tmp = WEIR_BUF_INIT, cols = WEIR_BUF_INIT;
    namevec tcols = WEIR_VEC_INIT, tcoltypes = WEIR_VEC_INIT, xcols = WEIR_VEC_INIT, keys = WEIR_VEC_INIT;
    char kind;
    int rc = relation_kind(c, n->schema, n->alias, &kind, err);
    const char *strategy, *osc;
    json_t *fr = json_object_get(n->config, "full_refresh");
    if (rc)
        goto cleanup;
    if (json_is_boolean(fr))
        full_refresh = json_is_true(fr);
    if (kind != 'T' || full_refresh) {
        rc = mat_table(c, n, n->compiled_sql, log, err);
        if (!rc)
            rc = count_rows(c, n->relation, &res->rows, err);
        goto cleanup;
    }
    /* render again with is_incremental() true */
    weir_buf rendered = WEIR_BUF_INIT;
    rc = tf_tpl_render_node(tf, n, 1, &rendered, err);
    if (rc) {
        weir_buf_release(&rendered);
        goto cleanup;
    }
    free(n->rendered_sql);
    n->rendered_sql = weir_buf_detach(&rendered, NULL);
    /* ephemeral models it reads become CTEs again */
    tf_inline_node(tf, n);
    /* the render replaced n->config: read it only now */
    strategy = tf_cfg_str(n, "incremental_strategy");
    osc = tf_cfg_str(n, "on_schema_change");
    weir_buf_adds(&sql, n->compiled_sql);
    weir_buf_addf(&tmp, "\"%s__dbt_tmp\"", n->alias);
    weir_buf_addf(&b, "create or replace temp table %s as ", tmp.ptr);
    add_model_sql(&b, sql.ptr);
    weir_buf_addf(log, "%s;\n", b.ptr);
    if ((rc = weir_conn_exec(c, b.ptr, err)))
        goto cleanup;
    if ((rc = columns_of(c, n->relation, &tcols, NULL, err)) ||
        (rc = columns_of(c, tmp.ptr, &xcols, &tcoltypes, err)))
        goto cleanup;
    weir_buf_reset(&b);
    /* on_schema_change */
    namevec added = WEIR_VEC_INIT, removed = WEIR_VEC_INIT;
    for (size_t i = 0; i < xcols.len; i++)
        if (!has_name(&tcols, xcols.items[i]))
            weir_vec_push(&added, xcols.items[i]);
    for (size_t i = 0; i < tcols.len; i++)
        if (!has_name(&xcols, tcols.items[i]))
            weir_vec_push(&removed, tcols.items[i]);
    if ((added.len || removed.len) && osc && strcmp(osc, "ignore")) {
        if (!strcmp(osc, "fail")) {
            weir_buf d = WEIR_BUF_INIT;
            for (size_t i = 0; i < added.len; i++)
                weir_buf_addf(&d, "%s+%s", d.len ? ", " : "", added.items[i]);
            for (size_t i = 0; i < removed.len; i++)
                weir_buf_addf(&d, "%s-%s", d.len ? ", " : "", removed.items[i]);
            rc = weir_error_set(err, WEIR_EINVALID,
                                "the columns of incremental model '%s' changed (%s) and on_schema_change is 'fail' (run with --full-refresh)",
                                n->name, d.ptr);
            weir_buf_release(&d);
            weir_vec_release(&added);
            weir_vec_release(&removed);
            goto cleanup;
        }
        if (!strcmp(osc, "append_new_columns") || !strcmp(osc, "sync_all_columns")) {
            for (size_t i = 0; i < added.len; i++) {
                size_t j = 0;
                while (j < xcols.len && strcmp(xcols.items[j], added.items[i]))
                    j++;
                weir_buf_addf(&b, "alter table %s add column ", n->relation);
                tf_quote_ident(&b, added.items[i]);
                weir_buf_addf(&b, " %s;\n", tcoltypes.items[j]);
                weir_vec_push(&tcols, weir_xstrdup(added.items[i]));
            }
        }
        if (!strcmp(osc, "sync_all_columns"))
            for (size_t i = 0; i < removed.len; i++) {
                weir_buf_addf(&b, "alter table %s drop column ", n->relation);
                tf_quote_ident(&b, removed.items[i]);
                weir_buf_adds(&b, ";\n");
            }
    }
    weir_vec_release(&added);
    weir_vec_release(&removed);
    /* the columns written: the target's that the new rows have */
    for (size_t i = 0; i < tcols.len; i++) {
        if (!has_name(&xcols, tcols.items[i]))
            continue;
        if (cols.len)
            weir_buf_adds(&cols, ", ");
        tf_quote_ident(&cols, tcols.items[i]);
    }
    unique_keys(n, &keys);
    if (!strategy)
        strategy = keys.len ? "delete+insert" : "append";
    if (!strcmp(strategy, "append")) {
        /* nothing to remove */
    } else if (!strcmp(strategy, "delete+insert")) {
        if (!keys.len) {
            rc = weir_error_set(err, WEIR_EINVALID, "incremental model '%s': 'delete+insert' needs a unique_key", n->name);
            goto cleanup;
        }
        weir_buf_addf(&b, "delete from %s as DBT_INTERNAL_DEST using %s as DBT_INTERNAL_SOURCE where ",
                      n->relation, tmp.ptr);
        for (size_t i = 0; i < keys.len; i++)
            weir_buf_addf(&b, "%sDBT_INTERNAL_DEST.%s = DBT_INTERNAL_SOURCE.%s", i ? " and " : "",
                          keys.items[i], keys.items[i]);
        add_predicates(n, &b);
        weir_buf_adds(&b, ";\n");
    } else if (!strcmp(strategy, "insert_overwrite")) {
        const char *f = weir_node_partition_by(n);
        if (!f) {
            rc = weir_error_set(err, WEIR_EINVALID, "incremental model '%s': 'insert_overwrite' needs partition_by", n->name);
            goto cleanup;
        }
        /* the partitions the run produced are replaced whole; partitions
         * given in config('partitions') (the run's interval) too, even when
         * the new rows hold none of them */
        weir_buf_addf(&b, "delete from %s where %s in (select distinct %s from %s)", n->relation, f, f, tmp.ptr);
        json_t *parts = json_object_get(n->config, "partitions");
        if (json_is_array(parts) && json_array_size(parts)) {
            weir_buf_addf(&b, " or %s in (", f);
            size_t i;
            json_t *x;
            json_array_foreach(parts, i, x)
            {
                if (i)
                    weir_buf_adds(&b, ", ");
                if (json_is_string(x))
                    weir_buf_adds(&b, json_string_value(x));
            }
            weir_buf_adds(&b, ")");
        }
        /* a pipeline run replaces its whole interval, rows or not */
        const tf_build *run = tf_cur_build;
        if (run && run->window_start && run->window_end) {
            weir_buf_addf(&b, " or (cast(%s as timestamp) >= ", f);
            lit(&b, run->window_start);
            weir_buf_addf(&b, "::timestamp and cast(%s as timestamp) < ", f);
            lit(&b, run->window_end);
            weir_buf_adds(&b, "::timestamp)");
        }
        weir_buf_adds(&b, ";\n");
    } else if (!strcmp(strategy, "merge")) {
        if (!keys.len) {
            strategy = "append";
        } else {
            weir_buf_addf(&b, "merge into %s as DBT_INTERNAL_DEST using %s as DBT_INTERNAL_SOURCE on (",
                          n->relation, tmp.ptr);
            for (size_t i = 0; i < keys.len; i++)
                weir_buf_addf(&b, "%sDBT_INTERNAL_DEST.%s = DBT_INTERNAL_SOURCE.%s", i ? " and " : "",
                              keys.items[i], keys.items[i]);
            add_predicates(n, &b);
            weir_buf_adds(&b, ")\nwhen matched then update set ");
            int first = 1;
            for (size_t i = 0; i < tcols.len; i++) {
                if (!has_name(&xcols, tcols.items[i]) || has_name(&keys, tcols.items[i]) ||
                    !merge_updates(n, tcols.items[i]))
                    continue;
                if (!first)
                    weir_buf_adds(&b, ", ");
                first = 0;
                tf_quote_ident(&b, tcols.items[i]);
                weir_buf_adds(&b, " = DBT_INTERNAL_SOURCE.");
                tf_quote_ident(&b, tcols.items[i]);
            }
            if (first) {
                /* only key columns: nothing to update */
                weir_buf_truncate(&b, b.len - strlen("\nwhen matched then update set "));
            }
            weir_buf_addf(&b, "\nwhen not matched then insert (%s) values (", cols.ptr);
            first = 1;
            for (size_t i = 0; i < tcols.len; i++) {
                if (!has_name(&xcols, tcols.items[i]))
                    continue;
                if (!first)
                    weir_buf_adds(&b, ", ");
                first = 0;
                weir_buf_adds(&b, "DBT_INTERNAL_SOURCE.");
                tf_quote_ident(&b, tcols.items[i]);
            }
            weir_buf_adds(&b, ");\n");
        }
    } else {
        rc = weir_error_set(err, WEIR_EINVALID,
                            "incremental model '%s': unknown incremental_strategy '%s' (expected append, delete+insert, merge or insert_overwrite)",
                            n->name, strategy);
        goto cleanup;
    }
    if (strcmp(strategy, "merge"))
        weir_buf_addf(&b, "insert into %s (%s) select %s from %s", n->relation, cols.ptr, cols.ptr, tmp.ptr);
    rc = exec_tx(c, b.ptr, log, err);
    if (!rc)
        rc = count_rows(c, tmp.ptr, &res->rows, err);
    {
        weir_buf drop = WEIR_BUF_INIT;
        weir_error ignore = WEIR_ERROR_INIT;
        weir_buf_addf(&drop, "drop table if exists %s", tmp.ptr);
        weir_conn_exec(c, drop.ptr, &ignore);
        weir_error_release(&ignore);
        weir_buf_release(&drop);
    }
cleanup:
    names_release(&tcols);
    names_release(&tcoltypes);
    names_release(&xcols);
    names_release(&keys);
    weir_buf_release(&sql);
    weir_buf_release(&b);
    weir_buf_release(&tmp);
    weir_buf_release(&cols);
    return rc;
}

/* --- seeds ----------------------------------------------------------------- */

static int exec_seed(weir_transform *tf, weir_conn *c, weir_tnode *n, tf_exec_result *res,
                     weir_buf *log, weir_error *err)
{
    weir_buf text = WEIR_BUF_INIT, b = WEIR_BUF_INIT, raw = WEIR_BUF_INIT;
    weir_csv csv = WEIR_CSV_INIT;
    weir_appender *ap = NULL;
    json_t *ctypes = json_object_get(n->config, "column_types");
    int rc, in_tx = 0;
    WEIR_UNUSED(tf);
    if ((rc = weir_fs_read_file(n->abs_path, &text, 0, err)))
        goto cleanup;
    const char *delim = tf_cfg_str(n, "delimiter");
    if (delim && strlen(delim) != 1) {
        rc = weir_error_set(err, WEIR_EINVALID, "%s: 'delimiter' must be one character, got '%s'", n->path, delim);
        goto cleanup;
    }
    if ((rc = weir_csv_parse_delim(text.ptr, text.len, n->path, delim ? delim[0] : ',', &csv, err)))
        goto cleanup;
    weir_buf_addf(&raw, "%s__weir_raw", n->alias);
    weir_buf_adds(&b, "create or replace temp table ");
    tf_quote_ident(&b, raw.ptr);
    weir_buf_adds(&b, " (");
    for (size_t i = 0; i < csv.n_cols; i++) {
        if (i)
            weir_buf_adds(&b, ", ");
        tf_quote_ident(&b, csv.header[i]);
        weir_buf_adds(&b, " varchar");
    }
    weir_buf_adds(&b, ")");
    if ((rc = weir_conn_exec(c, b.ptr, err)))
        goto cleanup;
    if ((rc = weir_conn_begin(c, err)))
        goto cleanup;
    in_tx = 1;
    if ((rc = weir_appender_new(c, NULL, raw.ptr, &ap, err)))
        goto cleanup;
    for (size_t r = 0; r < csv.n_rows; r++) {
        for (size_t col = 0; col < csv.n_cols; col++) {
            const char *cell = weir_csv_cell(&csv, r, col);
            if ((rc = weir_appender_add(ap, cell ? weir_value_str(cell) : weir_value_null(), err)))
                goto cleanup;
        }
        if ((rc = weir_appender_end_row(ap, err)))
            goto cleanup;
    }
    rc = weir_appender_close(ap, err);
    ap = NULL;
    if (rc)
        goto cleanup;
    weir_buf_reset(&b);
    weir_buf_addf(&b, "create or replace table %s as select ", n->relation);
    for (size_t i = 0; i < csv.n_cols; i++) {
        json_t *ct = json_object_get(ctypes, csv.header[i]);
        const char *type = json_is_string(ct) ? json_string_value(ct) : weir_csv_infer_type(&csv, i);
        if (i)
            weir_buf_adds(&b, ", ");
        weir_buf_adds(&b, "cast(");
        tf_quote_ident(&b, csv.header[i]);
        weir_buf_addf(&b, " as %s) as ", type);
        tf_quote_ident(&b, csv.header[i]);
    }
    weir_buf_adds(&b, " from ");
    tf_quote_ident(&b, raw.ptr);
    weir_buf_addf(log, "%s;\n", b.ptr);
    if ((rc = weir_conn_exec(c, b.ptr, err)))
        goto cleanup;
    weir_buf_reset(&b);
    weir_buf_adds(&b, "drop table ");
    tf_quote_ident(&b, raw.ptr);
    if ((rc = weir_conn_exec(c, b.ptr, err)) || (rc = weir_conn_commit(c, err)))
        goto cleanup;
    in_tx = 0;
    res->rows = (long long)csv.n_rows;
cleanup:
    weir_appender_free(ap);
    if (in_tx) {
        weir_error ignore = WEIR_ERROR_INIT;
        weir_conn_rollback(c, &ignore);
        weir_error_release(&ignore);
    }
    weir_csv_release(&csv);
    weir_buf_release(&text);
    weir_buf_release(&b);
    weir_buf_release(&raw);
    return rc;
}

/* --- snapshots ------------------------------------------------------------- */

static int exec_snapshot(weir_transform *tf, weir_conn *c, weir_tnode *n, tf_exec_result *res,
                         weir_buf *log, weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT, src = WEIR_BUF_INIT, changed = WEIR_BUF_INIT, ts = WEIR_BUF_INIT,
             cols = WEIR_BUF_INIT, scols = WEIR_BUF_INIT;
    namevec xcols = WEIR_VEC_INIT, keys = WEIR_VEC_INIT;
    const char *strategy = tf_cfg_str(n, "strategy");
    const char *updated_at = tf_cfg_str(n, "updated_at");
    json_t *check_cols = json_object_get(n->config, "check_cols");
    const char *hard = tf_cfg_str(n, "hard_deletes");
    int invalidate = tf_cfg_bool(n, "invalidate_hard_deletes", 0) || (hard && !strcmp(hard, "invalidate"));
    char kind;
    int rc;
    WEIR_UNUSED(tf);
    unique_keys(n, &keys);
    if (!strategy || !keys.len) {
        rc = weir_error_set(err, WEIR_EINVALID, "%s: snapshot '%s' needs 'strategy' and 'unique_key' in its config",
                            n->path, n->name);
        goto cleanup;
    }
    if (!strcmp(strategy, "timestamp")) {
        if (!updated_at) {
            rc = weir_error_set(err, WEIR_EINVALID, "%s: snapshot '%s' with strategy 'timestamp' needs 'updated_at'", n->path, n->name);
            goto cleanup;
        }
    } else if (strcmp(strategy, "check")) {
        rc = weir_error_set(err, WEIR_EINVALID, "%s: unknown snapshot strategy '%s' (expected 'timestamp' or 'check')", n->path, strategy);
        goto cleanup;
    }
    if ((rc = ensure_schema(c, n->schema, err)))
        goto cleanup;
    weir_buf_addf(&src, "\"%s__snap_src\"", n->alias);
    weir_buf_addf(&b, "create or replace temp table %s as ", src.ptr);
    add_model_sql(&b, n->compiled_sql);
    weir_buf_addf(log, "%s;\n", b.ptr);
    if ((rc = weir_conn_exec(c, b.ptr, err)))
        goto cleanup;
    if ((rc = columns_of(c, src.ptr, &xcols, NULL, err)))
        goto cleanup;
    /* the key expression and the version's timestamp */
    weir_buf kexpr = WEIR_BUF_INIT;
    for (size_t i = 0; i < keys.len; i++)
        weir_buf_addf(&kexpr, "%scast(s.%s as varchar)", i ? " || '|' || " : "", keys.items[i]);
    if (!strcmp(strategy, "timestamp"))
        weir_buf_addf(&ts, "cast(s.%s as timestamp)", updated_at);
    else
        weir_buf_adds(&ts, "cast(now() as timestamp)");
    for (size_t i = 0; i < xcols.len; i++) {
        if (i) {
            weir_buf_adds(&cols, ", ");
            weir_buf_adds(&scols, ", ");
        }
        tf_quote_ident(&cols, xcols.items[i]);
        weir_buf_adds(&scols, "s.");
        tf_quote_ident(&scols, xcols.items[i]);
    }
    weir_buf_reset(&b);
    if ((rc = relation_kind(c, n->schema, n->alias, &kind, err)))
        goto cleanup_k;
    if (!kind) {
        weir_buf_addf(&b,
                      "create table %s as select %s, md5(%s || '|' || cast(%s as varchar)) as dbt_scd_id, "
                      "%s as dbt_updated_at, %s as dbt_valid_from, cast(null as timestamp) as dbt_valid_to from %s as s",
                      n->relation, scols.ptr, kexpr.ptr, ts.ptr, ts.ptr, ts.ptr, src.ptr);
    } else {
        weir_buf on = WEIR_BUF_INIT;
        for (size_t i = 0; i < keys.len; i++)
            weir_buf_addf(&on, "%st.%s = s.%s", i ? " and " : "", keys.items[i], keys.items[i]);
        if (!strcmp(strategy, "timestamp")) {
            weir_buf_addf(&changed, "cast(s.%s as timestamp) > t.dbt_updated_at", updated_at);
        } else {
            int first = 1;
            for (size_t i = 0; i < xcols.len; i++) {
                int use = 1;
                if (json_is_array(check_cols)) {
                    use = 0;
                    size_t k;
                    json_t *x;
                    json_array_foreach(check_cols, k, x)
                    if (json_is_string(x) && weir_str_ieq(json_string_value(x), xcols.items[i]))
                        use = 1;
                }
                if (!use)
                    continue;
                weir_buf_addf(&changed, "%st.", first ? "(" : " or ");
                tf_quote_ident(&changed, xcols.items[i]);
                weir_buf_adds(&changed, " is distinct from s.");
                tf_quote_ident(&changed, xcols.items[i]);
                first = 0;
            }
            weir_buf_adds(&changed, first ? "false" : ")");
        }
        weir_buf_addf(&b,
                      "update %s as t set dbt_valid_to = %s from %s as s where %s and t.dbt_valid_to is null and %s;\n",
                      n->relation, ts.ptr, src.ptr, on.ptr, changed.ptr);
        if (invalidate)
            weir_buf_addf(&b,
                          "update %s as t set dbt_valid_to = cast(now() as timestamp) where t.dbt_valid_to is null "
                          "and not exists (select 1 from %s as s where %s);\n",
                          n->relation, src.ptr, on.ptr);
        weir_buf_addf(&b,
                      "insert into %s (%s, dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to) "
                      "select %s, md5(%s || '|' || cast(%s as varchar)), %s, %s, null from %s as s "
                      "where not exists (select 1 from %s as t where %s and t.dbt_valid_to is null)",
                      n->relation, cols.ptr, scols.ptr, kexpr.ptr, ts.ptr, ts.ptr, ts.ptr, src.ptr,
                      n->relation, on.ptr);
        weir_buf_release(&on);
    }
    rc = exec_tx(c, b.ptr, log, err);
    if (!rc)
        rc = count_rows(c, n->relation, &res->rows, err);
    weir_buf_reset(&b);
    weir_buf_addf(&b, "drop table if exists %s", src.ptr);
    {
        weir_error ignore = WEIR_ERROR_INIT;
        weir_conn_exec(c, b.ptr, &ignore);
        weir_error_release(&ignore);
    }
cleanup_k:
    weir_buf_release(&kexpr);
cleanup:
    names_release(&xcols);
    names_release(&keys);
    weir_buf_release(&b);
    weir_buf_release(&src);
    weir_buf_release(&changed);
    weir_buf_release(&ts);
    weir_buf_release(&cols);
    weir_buf_release(&scols);
    return rc;
}

/* --- tests -------------------------------------------------------------------- */

/* store_failures: the failing rows in <schema>_dbt_test__audit.<test name>. */
static int store_failures(weir_transform *tf, weir_conn *c, weir_tnode *n, weir_buf *log,
                          weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT, schema = WEIR_BUF_INIT;
    const char *custom = tf_cfg_str(n, "schema");
    int rc;
    weir_buf_addf(&schema, "%s_%s", tf->target_schema, custom && *custom ? custom : "dbt_test__audit");
    if ((rc = ensure_schema(c, schema.ptr, err)))
        goto cleanup;
    weir_buf_adds(&b, "create or replace table ");
    tf_quote_relation(&b, schema.ptr, n->name);
    weir_buf_addf(&b, " as (\n%s\n)", n->compiled_sql);
    weir_buf_addf(log, "%s;\n", b.ptr);
    rc = weir_conn_exec(c, b.ptr, err);
cleanup:
    weir_buf_release(&b);
    weir_buf_release(&schema);
    return rc;
}

/* A test's status and message from its failure count and thresholds, as dbt decides them. */
static void test_status(const weir_tnode *n, long long failures, bool should_warn, bool should_error,
                        tf_exec_result *res)
{
    const char *severity = tf_cfg_str(n, "severity");
    const char *warn_if = tf_cfg_str(n, "warn_if");
    const char *error_if = tf_cfg_str(n, "error_if");
    res->rows = failures;
    if (severity && weir_str_ieq(severity, "warn"))
        res->status = should_warn ? TF_ST_WARN : TF_ST_PASS;
    else
        res->status = should_error ? TF_ST_FAIL : should_warn ? TF_ST_WARN : TF_ST_PASS;
    if (res->status != TF_ST_PASS) {
        weir_buf m = WEIR_BUF_INIT;
        weir_buf_addf(&m, "Got %lld result%s, configured to %s if %s", failures,
                      failures == 1 ? "" : "s", res->status == TF_ST_WARN ? "warn" : "fail",
                      res->status == TF_ST_WARN ? (warn_if ? warn_if : "!= 0") : (error_if ? error_if : "!= 0"));
        free(res->message);
        res->message = weir_buf_detach(&m, NULL);
    }
}

static int exec_test(weir_conn *c, weir_tnode *n, tf_exec_result *res, weir_buf *log,
                     weir_error *err)
{
    weir_buf b = WEIR_BUF_INIT;
    weir_result *r = NULL;
    const char *warn_if = tf_cfg_str(n, "warn_if");
    const char *error_if = tf_cfg_str(n, "error_if");
    json_t *limit = json_object_get(n->config, "limit");
    int64_t failures = 0;
    bool should_warn = false, should_error = false;
    int rc;
    weir_buf_addf(&b,
                  "select count(*) as failures, count(*) %s as should_warn, count(*) %s as should_error\n"
                  "from (\n%s\n",
                  warn_if ? warn_if : "!= 0", error_if ? error_if : "!= 0", n->compiled_sql);
    if (json_is_integer(limit))
        weir_buf_addf(&b, "limit %lld\n", (long long)json_integer_value(limit));
    weir_buf_adds(&b, ") dbt_internal_test");
    weir_buf_addf(log, "%s;\n", b.ptr);
    if ((rc = weir_conn_query(c, b.ptr, &r, err)))
        goto cleanup;
    weir_result_int64(r, 0, 0, &failures);
    weir_result_bool(r, 0, 1, &should_warn);
    weir_result_bool(r, 0, 2, &should_error);
    test_status(n, failures, should_warn, should_error, res);
cleanup:
    weir_result_free(r);
    weir_buf_release(&b);
    return rc;
}

/* --- built-in generic tests, batched per model through quality/ --------------- */

static int dbt_kind(const char *k, weir_dbt_test_kind *out)
{
    static const struct { const char *name; weir_dbt_test_kind kind; } kinds[] = {
        { "not_null", WEIR_DBT_NOT_NULL },
        { "unique", WEIR_DBT_UNIQUE },
        { "accepted_values", WEIR_DBT_ACCEPTED_VALUES },
        { "relationships", WEIR_DBT_RELATIONSHIPS },
    };
    for (size_t i = 0; k && i < WEIR_ARRAY_SIZE(kinds); i++)
        if (!strcmp(k, kinds[i].name)) {
            *out = kinds[i].kind;
            return 1;
        }
    return 0;
}

size_t tf_test_batch_key(const weir_transform *tf, const weir_tnode *n)
{
    weir_dbt_test_kind kind;
    json_t *limit;
    if (n->kind != WEIR_NODE_TEST || n->attached == TF_NONE || !n->compiled || !n->compiled_sql ||
        !dbt_kind(n->test_kind, &kind) || !n->column || !*n->column ||
        tf_cfg_bool(n, "store_failures", 0))
        return TF_NONE;
    limit = json_object_get(n->config, "limit");
    if (json_is_integer(limit) && json_integer_value(limit) < 0)
        return TF_NONE; /* the engine's error, from the test's own query */
    if (kind == WEIR_DBT_ACCEPTED_VALUES && !json_is_array(json_object_get(n->test_args, "values")))
        return TF_NONE;
    if (kind == WEIR_DBT_RELATIONSHIPS && (!json_is_string(json_object_get(n->test_args, "to")) ||
                                           !json_is_string(json_object_get(n->test_args, "field"))))
        return TF_NONE;
    /* an ephemeral model is a CTE in the test's own SQL */
    for (size_t i = 0; i < n->deps.len; i++) {
        const weir_tnode *d = tf->nodes.items[n->deps.items[i]];
        const char *m = tf_cfg_str(d, "materialized");
        if (d->kind == WEIR_NODE_MODEL && m && !strcmp(m, "ephemeral"))
            return TF_NONE;
    }
    return n->attached;
}

int tf_tests_batched(void)
{
    const char *env = getenv("WEIR_TEST_BATCH");
    return !(env && !strcmp(env, "0"));
}

void tf_exec_tests(weir_transform *tf, weir_conn *c, weir_tnode **ts, size_t k, tf_exec_result **res)
{
    weir_dbt_check *checks = weir_xcalloc(k ? k : 1, sizeof(*checks));
    weir_buf *bufs = weir_xcalloc(k ? 4 * k : 1, sizeof(weir_buf));
    weir_tnode **batch = weir_xcalloc(k ? k : 1, sizeof(*batch));
    tf_exec_result **bres = weir_xcalloc(k ? k : 1, sizeof(*bres));
    weir_strvec sqls = WEIR_VEC_INIT;
    weir_validate_stats stats = { 0, 0, &sqls };
    weir_error err = WEIR_ERROR_INIT;
    size_t nb = 0;
    /* a pipeline build's copy of the model when it has one */
    const char *relation = k ? tf_node_at(tf, ts[0]->attached)->relation : NULL;
    for (size_t i = 0; i < 4 * k; i++)
        weir_buf_init(&bufs[i], 0);
    for (size_t i = 0; i < k; i++) {
        weir_tnode *n = ts[i];
        weir_dbt_check *x = &checks[nb];
        json_t *limit = json_object_get(n->config, "limit");
        weir_buf *where = &bufs[4 * i], *vals = &bufs[4 * i + 1], *to = &bufs[4 * i + 2],
                 *field = &bufs[4 * i + 3];
        int rc;
        memset(res[i], 0, sizeof(*res[i]));
        dbt_kind(n->test_kind, &x->kind);
        x->column = n->column;
        /* rendered as the test's own SQL was: with this thread's vars */
        rc = tf_test_where(tf, n, where, &err);
        x->where = where->len ? where->ptr : NULL;
        x->limit = json_is_integer(limit) ? (long long)json_integer_value(limit) : -1;
        x->warn_if = tf_cfg_str(n, "warn_if");
        x->error_if = tf_cfg_str(n, "error_if");
        if (!rc && x->kind == WEIR_DBT_ACCEPTED_VALUES) {
            rc = tf_test_values_sql(tf, n, vals, &err);
            x->values = vals->ptr;
        } else if (!rc && x->kind == WEIR_DBT_RELATIONSHIPS) {
            rc = tf_render_test_arg(tf, n, json_string_value(json_object_get(n->test_args, "to")), 0,
                                    to, &err);
            if (!rc)
                rc = tf_render_test_arg(tf, n, json_string_value(json_object_get(n->test_args, "field")),
                                        0, field, &err);
            x->to = to->ptr;
            x->field = field->ptr;
        }
        if (rc) {
            /* its own query says what is wrong, with its usual message */
            weir_error_clear(&err);
            tf_exec_node(tf, c, n, res[i]);
            continue;
        }
        batch[nb] = n;
        bres[nb++] = res[i];
    }
    if (nb && weir_quality_dbt_checks(c, relation, checks, nb, true, WEIR_SPLIT_AUTO, &stats, &err)) {
        /* a batch names no culprit: each test's own query does */
        weir_log(WEIR_LOG_DEBUG, "batched tests of %s failed (%s); running them one by one", relation,
                 weir_error_str(&err));
        for (size_t i = 0; i < nb; i++)
            tf_exec_node(tf, c, batch[i], bres[i]);
        nb = 0;
    }
    for (size_t i = 0; i < nb; i++) {
        weir_buf log = WEIR_BUF_INIT;
        tf_exec_result *r = bres[i];
        r->rows = -1;
        test_status(batch[i], checks[i].failures, checks[i].should_warn, checks[i].should_error, r);
        if (!r->message)
            r->message = weir_xstrdup(r->status == TF_ST_PASS ? "PASS" : r->status == TF_ST_WARN ? "WARN" : "FAIL");
        weir_buf_addf(&log, "-- this test's count is one of %zu computed together on %s; its own query:\n-- ",
                      nb, relation);
        for (const char *p = batch[i]->compiled_sql; *p; p++) {
            weir_buf_addch(&log, *p);
            if (*p == '\n')
                weir_buf_adds(&log, "-- ");
        }
        weir_buf_adds(&log, "\n");
        for (size_t q = 0; q < sqls.len; q++)
            weir_buf_addf(&log, "%s;\n", sqls.items[q]);
        r->run_sql = weir_buf_detach(&log, NULL);
    }
    for (size_t i = 0; i < 4 * k; i++)
        weir_buf_release(&bufs[i]);
    weir_strvec_release(&sqls);
    weir_error_release(&err);
    free(bufs);
    free(checks);
    free(batch);
    free(bres);
}

/* --- dispatch ----------------------------------------------------------------- */

int tf_exec_node(weir_transform *tf, weir_conn *c, weir_tnode *n, tf_exec_result *res)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf log = WEIR_BUF_INIT;
    /* a copy: an incremental model's second render replaces n->config */
    char *mat = tf_cfg_str(n, "materialized") ? weir_xstrdup(tf_cfg_str(n, "materialized")) : NULL;
    int rc = 0;
    memset(res, 0, sizeof(*res));
    res->rows = -1;
    res->status = TF_ST_SUCCESS;
    sql_line_offset = -1;
    if (n->kind == WEIR_NODE_TEST) {
        rc = exec_test(c, n, res, &log, &err);
        if (!rc && tf_cfg_bool(n, "store_failures", 0))
            rc = store_failures(tf, c, n, &log, &err);
        goto done;
    }
    if ((rc = ensure_schema(c, n->schema, &err)))
        goto done;
    if ((rc = node_hooks(tf, c, n, "pre-hook", &log, &err)))
        goto done;
    if (n->kind == WEIR_NODE_SEED) {
        rc = exec_seed(tf, c, n, res, &log, &err);
    } else if (n->kind == WEIR_NODE_SNAPSHOT) {
        rc = exec_snapshot(tf, c, n, res, &log, &err);
    } else if (!mat || !strcmp(mat, "view")) {
        rc = mat_view(c, n, n->compiled_sql, &log, &err);
    } else if (!strcmp(mat, "table")) {
        rc = mat_table(c, n, n->compiled_sql, &log, &err);
        if (!rc)
            rc = count_rows(c, n->relation, &res->rows, &err);
    } else if (!strcmp(mat, "incremental")) {
        rc = mat_incremental(tf, c, n, tf->full_refresh, res, &log, &err);
    } else if (!strcmp(mat, "ephemeral")) {
        rc = 0;
    } else {
        rc = weir_error_set(&err, WEIR_EINVALID,
                            "%s: unknown materialization '%s' (expected view, table, incremental or ephemeral)",
                            n->path, mat);
    }
    if (!rc)
        rc = node_hooks(tf, c, n, "post-hook", &log, &err);
done:
    if (rc) {
        weir_buf m = WEIR_BUF_INIT;
        weir_error_format(&err, &m);
        int line = compiled_line(m.ptr);
        if (line && n->abs_path)
            weir_buf_addf(&m, "\n(LINE %d is line %d of the model's compiled SQL, target/compiled/%s/%s)",
                          line + sql_line_offset, line, tf->name, n->path);
        /* name the model, its file, and the SQL that ran, which the
         * engine's LINE numbers refer to */
        if (n->abs_path)
            weir_buf_addf(&m, "\nin %s '%s' (%s); the SQL that ran is in target/run/%s/%s%s%s",
                          weir_node_kind_name(n->kind), n->name, n->path, tf->name, n->path,
                          weir_str_ends_with(n->path, ".sql") ? "" : "/",
                          weir_str_ends_with(n->path, ".sql") ? "" : n->name);
        res->status = TF_ST_ERROR;
        free(res->message);
        res->message = weir_buf_detach(&m, NULL);
    } else if (!res->message) {
        weir_buf m = WEIR_BUF_INIT;
        if (n->kind == WEIR_NODE_TEST)
            weir_buf_adds(&m, res->status == TF_ST_PASS ? "PASS" : res->status == TF_ST_WARN ? "WARN" : "FAIL");
        else if (n->kind == WEIR_NODE_SEED)
            weir_buf_addf(&m, "INSERT %lld", res->rows);
        else if (mat && !strcmp(mat, "view"))
            weir_buf_adds(&m, "CREATE VIEW");
        else
            weir_buf_addf(&m, "OK %lld", res->rows);
        res->message = weir_buf_detach(&m, NULL);
    }
    res->run_sql = weir_buf_detach(&log, NULL);
    weir_error_release(&err);
    free(mat);
    return rc;
}
