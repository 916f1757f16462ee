/*
 * rollback.c: rollback, restore and purge of a pipeline's date range (see
 * rollback.h). The warehouse's work for one action is one transaction; the
 * store records the action as pending before it and active after it, so a
 * crash in between leaves a pending action whose trash tables say what
 * happened.
 */
#include "core/compat.h"

#include <jansson.h>
#include <pwd.h>

#include "core/alloc.h"
#include "orchestrate/rollback.h"

const char *weir_rollback_actor(void)
{
    static char name[128];
    const char *u = getenv("USER");
    if (u && *u)
        return u;
    {
        struct passwd *pw = getpwuid(getuid());
        if (pw && pw->pw_name)
            snprintf(name, sizeof(name), "%s", pw->pw_name);
        else
            snprintf(name, sizeof(name), "uid %ld", (long)getuid());
    }
    return name;
}

static void range_cond(weir_conn *c, weir_buf *sql, const char *col, weir_date from, weir_date to)
{
    char a[WEIR_DATE_STRLEN], b[WEIR_DATE_STRLEN];
    weir_buf_adds(sql, " WHERE CAST(");
    weir_sql_quote_ident(weir_engine_dialect(weir_conn_engine(c)), sql, col);
    weir_buf_addf(sql, " AS DATE) BETWEEN DATE '%s' AND DATE '%s'", weir_date_format(from, a),
                  weir_date_format(to, b));
}

int weir_rollback_plan_make(weir_conn *c, const weir_pipeline *pl, weir_date from, weir_date to,
                            weir_rollback_plan *out, weir_error *err)
{
    weir_buf missing = WEIR_BUF_INIT, sql = WEIR_BUF_INIT;
    size_t n_missing = 0;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    out->from = from;
    out->to = to;
    if (from > to)
        return weir_error_set(err, WEIR_EINVALID, "--from is after --to");
    if (pl->n_outputs == 0)
        return weir_error_set(err, WEIR_EINVALID,
                              "pipeline '%s' names no tables it writes: add an 'outputs:' list "
                              "(table and date_column) to %s, or model tasks with partition_by",
                              pl->name, pl->file);
    for (size_t i = 0; i < pl->n_outputs; i++)
        if (!pl->outputs[i].date_column || !*pl->outputs[i].date_column) {
            weir_buf_addf(&missing, "%s'%s'", n_missing ? ", " : "", pl->outputs[i].table);
            n_missing++;
        }
    if (n_missing) {
        rc = weir_error_set(err, WEIR_EINVALID,
                            "refusing to roll back pipeline '%s': table%s %s ha%s no date column "
                            "(give the model a partition_by, or name the column with "
                            "'date_column:' under 'outputs:' in %s); nothing was deleted",
                            pl->name, n_missing == 1 ? "" : "s", missing.ptr,
                            n_missing == 1 ? "s" : "ve", pl->file);
        goto cleanup;
    }
    out->tables = weir_xcalloc(pl->n_outputs, sizeof(weir_rollback_table));
    for (size_t k = 0; k < pl->n_outputs; k++) {
        const weir_output_spec *o = &pl->outputs[pl->n_outputs - 1 - k];
        weir_result *r = NULL;
        weir_rollback_table *t = &out->tables[out->n++];
        t->table = o->table;
        t->date_column = o->date_column;
        weir_buf_reset(&sql);
        weir_buf_addf(&sql, "SELECT count(*) FROM %s", o->table);
        range_cond(c, &sql, o->date_column, from, to);
        if ((rc = weir_conn_query(c, sql.ptr, &r, err))) {
            weir_error_wrap(err, "while counting the rows of '%s'", o->table);
            goto cleanup;
        }
        weir_result_int64(r, 0, 0, &t->rows);
        out->total += t->rows;
        weir_result_free(r);
    }
cleanup:
    if (rc)
        weir_rollback_plan_release(out);
    weir_buf_release(&missing);
    weir_buf_release(&sql);
    return rc;
}

void weir_rollback_plan_release(weir_rollback_plan *plan)
{
    free(plan->tables);
    plan->tables = NULL;
    plan->n = 0;
}

static int run_stmt(weir_store *s, const char *sql, int64_t a, const char *b, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, sql, &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, a, NULL);
    if (b)
        weir_store_bind_text(st, 2, b, NULL);
    rc = weir_store_step(st, err);
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int weir_rollback_apply(weir_conn *c, weir_store *s, const weir_pipeline *pl,
                        const weir_rollback_plan *plan, const char *actor, int64_t *action_id,
                        weir_error *err)
{
    weir_store_stmt *st = NULL;
    weir_buf sql = WEIR_BUF_INIT;
    char from[WEIR_DATE_STRLEN], to[WEIR_DATE_STRLEN];
    json_t *runs = json_array(), *details = NULL;
    char *runs_text = NULL, *details_text = NULL;
    int64_t id = 0;
    int rc, in_tx = 0, wh_tx = 0;

    weir_date_format(plan->from, from);
    weir_date_format(plan->to, to);
    if ((rc = weir_store_prepare(s,
                                 "INSERT INTO trash_actions (pipeline, date_from, date_to, state, "
                                 "actor, rows, created_at, updated_at) VALUES (?1, ?2, ?3, "
                                 "'pending', ?4, ?5, ?6, ?6)",
                                 &st, err)))
        goto cleanup;
    weir_store_bind_text(st, 1, pl->name, NULL);
    weir_store_bind_text(st, 2, from, NULL);
    weir_store_bind_text(st, 3, to, NULL);
    weir_store_bind_text(st, 4, actor, NULL);
    weir_store_bind_int(st, 5, plan->total, NULL);
    weir_store_bind_ts(st, 6, weir_ts_now(), NULL);
    if ((rc = weir_store_step(st, err)) < 0)
        goto cleanup;
    id = weir_store_last_insert_id(s);
    weir_store_stmt_free(st);
    st = NULL;

    /* the warehouse: copy to the trash, then delete, all or nothing */
    if ((rc = weir_conn_begin(c, err)))
        goto cleanup;
    wh_tx = 1;
    if ((rc = weir_conn_exec(c, "CREATE SCHEMA IF NOT EXISTS weir_trash", err)))
        goto cleanup;
    for (size_t k = 0; k < plan->n; k++) {
        const weir_rollback_table *t = &plan->tables[k];
        weir_buf_reset(&sql);
        weir_buf_addf(&sql, "CREATE TABLE weir_trash.a%" PRId64 "_%zu AS SELECT * FROM %s", id, k,
                      t->table);
        range_cond(c, &sql, t->date_column, plan->from, plan->to);
        weir_buf_addf(&sql, "; DELETE FROM %s", t->table);
        range_cond(c, &sql, t->date_column, plan->from, plan->to);
        if ((rc = weir_conn_exec(c, sql.ptr, err))) {
            weir_error_wrap(err, "while rolling back '%s'", t->table);
            goto cleanup;
        }
    }
    if ((rc = weir_conn_commit(c, err)))
        goto cleanup;
    wh_tx = 0;

    /* the store: what went where, the runs cancelled, the audit entry */
    if ((rc = weir_store_begin(s, err)))
        goto cleanup;
    in_tx = 1;
    if ((rc = weir_store_prepare(s,
                                 "INSERT INTO trash_tables (action_id, position, table_name, "
                                 "date_column, trash_table, row_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                 &st, err)))
        goto cleanup;
    for (size_t k = 0; k < plan->n; k++) {
        char trash[64];
        snprintf(trash, sizeof(trash), "weir_trash.a%" PRId64 "_%zu", id, k);
        weir_store_reset(st);
        weir_store_bind_int(st, 1, id, NULL);
        weir_store_bind_int(st, 2, (int64_t)k, NULL);
        weir_store_bind_text(st, 3, plan->tables[k].table, NULL);
        weir_store_bind_text(st, 4, plan->tables[k].date_column, NULL);
        weir_store_bind_text(st, 5, trash, NULL);
        weir_store_bind_int(st, 6, plan->tables[k].rows, NULL);
        if ((rc = weir_store_step(st, err)) < 0)
            goto cleanup;
    }
    weir_store_stmt_free(st);
    st = NULL;
    if ((rc = weir_store_prepare(s,
                                 "SELECT r.id, r.state FROM runs r JOIN pipelines p ON p.id = "
                                 "r.pipeline_id WHERE p.name = ?1 AND r.ds BETWEEN ?2 AND ?3 AND "
                                 "r.state <> 'cancelled'",
                                 &st, err)))
        goto cleanup;
    weir_store_bind_text(st, 1, pl->name, NULL);
    weir_store_bind_text(st, 2, from, NULL);
    weir_store_bind_text(st, 3, to, NULL);
    while ((rc = weir_store_step(st, err)) == 1)
        json_array_append_new(runs, json_pack("{s:I, s:s}", "id", (json_int_t)weir_store_col_int(st, 0),
                                              "state", weir_store_col_text(st, 1)));
    if (rc < 0)
        goto cleanup;
    weir_store_stmt_free(st);
    st = NULL;
    for (size_t k = 0; k < json_array_size(runs); k++)
        if ((rc = run_stmt(s, "UPDATE runs SET state = 'cancelled' WHERE id = ?1",
                           json_integer_value(json_object_get(json_array_get(runs, k), "id")), NULL,
                           err)))
            goto cleanup;
    runs_text = json_dumps(runs, JSON_COMPACT);
    if ((rc = run_stmt(s, "UPDATE trash_actions SET state = 'active', runs = ?2 WHERE id = ?1", id,
                       runs_text, err)))
        goto cleanup;
    details = json_pack("{s:I, s:s, s:s, s:s, s:[]}", "action_id", (json_int_t)id, "pipeline",
                        pl->name, "from", from, "to", to, "tables");
    for (size_t k = 0; k < plan->n; k++)
        json_array_append_new(json_object_get(details, "tables"),
                              json_pack("{s:s, s:s, s:I}", "table", plan->tables[k].table,
                                        "date_column", plan->tables[k].date_column, "rows",
                                        (json_int_t)plan->tables[k].rows));
    details_text = json_dumps(details, JSON_COMPACT);
    {
        char target[200];
        snprintf(target, sizeof(target), "pipeline:%s", pl->name);
        if ((rc = weir_store_audit_append(s, actor, "rollback", target, details_text, plan->total,
                                          NULL, err)))
            goto cleanup;
    }
    if ((rc = weir_store_commit(s, err)))
        goto cleanup;
    in_tx = 0;
    *action_id = id;
cleanup:
    if (wh_tx)
        weir_conn_rollback(c, NULL);
    if (in_tx)
        weir_store_rollback(s, NULL);
    if (rc && id && wh_tx) /* nothing deleted: the pending action means nothing */
        run_stmt(s, "DELETE FROM trash_actions WHERE id = ?1", id, NULL, NULL);
    weir_store_stmt_free(st);
    weir_buf_release(&sql);
    json_decref(runs);
    json_decref(details);
    free(runs_text);
    free(details_text);
    return rc;
}

typedef struct trash_row {
    char *table, *trash;
    int64_t rows;
} trash_row;
typedef WEIR_VEC(trash_row) trash_rows;

static int load_action(weir_store *s, int64_t id, char *state, size_t n, char **pipeline,
                       char **runs, trash_rows *rows, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, "SELECT state, pipeline, runs FROM trash_actions WHERE id = ?1",
                                &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    rc = weir_store_step(st, err);
    if (rc == 0)
        rc = weir_error_set(err, WEIR_ENOTFOUND, "no rollback action %" PRId64, id);
    if (rc < 0)
        goto cleanup;
    snprintf(state, n, "%s", weir_store_col_text(st, 0));
    *pipeline = weir_xstrdup(weir_store_col_text(st, 1));
    *runs = weir_store_col_text(st, 2) ? weir_xstrdup(weir_store_col_text(st, 2)) : NULL;
    weir_store_stmt_free(st);
    st = NULL;
    if ((rc = weir_store_prepare(s,
                                 "SELECT table_name, trash_table, row_count FROM trash_tables "
                                 "WHERE action_id = ?1 ORDER BY position DESC",
                                 &st, err)))
        goto cleanup;
    weir_store_bind_int(st, 1, id, NULL);
    while ((rc = weir_store_step(st, err)) == 1) {
        trash_row r = { weir_xstrdup(weir_store_col_text(st, 0)),
                        weir_xstrdup(weir_store_col_text(st, 1)), weir_store_col_int(st, 2) };
        weir_vec_push(rows, r);
    }
cleanup:
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

static void free_rows(trash_rows *v)
{
    trash_rows *rows = v;
    for (size_t i = 0; i < rows->len; i++) {
        free(rows->items[i].table);
        free(rows->items[i].trash);
    }
    weir_vec_release(rows);
}

int weir_rollback_restore(weir_conn *c, weir_store *s, int64_t action_id, const char *actor,
                          int64_t *rows, weir_error *err)
{
    trash_rows tr = WEIR_VEC_INIT;
    char state[32], *pipeline = NULL, *runs_text = NULL, *details_text = NULL;
    weir_buf sql = WEIR_BUF_INIT;
    json_t *runs = NULL, *details = NULL;
    int64_t total = 0;
    int rc, wh_tx = 0, in_tx = 0;

    if ((rc = load_action(s, action_id, state, sizeof(state), &pipeline, &runs_text, &tr,
                          err)))
        goto cleanup;
    if (strcmp(state, "active")) {
        rc = weir_error_set(err, WEIR_EINVALID, "rollback action %" PRId64 " is %s: nothing to restore",
                            action_id, state);
        goto cleanup;
    }
    if ((rc = weir_conn_begin(c, err)))
        goto cleanup;
    wh_tx = 1;
    /* upstream tables first: the reverse of the deletion order */
    for (size_t k = 0; k < tr.len; k++) {
        weir_buf_reset(&sql);
        weir_buf_addf(&sql, "INSERT INTO %s SELECT * FROM %s; DROP TABLE %s", tr.items[k].table,
                      tr.items[k].trash, tr.items[k].trash);
        if ((rc = weir_conn_exec(c, sql.ptr, err))) {
            weir_error_wrap(err, "while restoring '%s'", tr.items[k].table);
            goto cleanup;
        }
        total += tr.items[k].rows;
    }
    if ((rc = weir_store_begin(s, err)))
        goto cleanup;
    in_tx = 1;
    if ((rc = run_stmt(s, "UPDATE trash_actions SET state = 'restored' WHERE id = ?1", action_id,
                       NULL, err)))
        goto cleanup;
    if (runs_text && (runs = json_loads(runs_text, 0, NULL)))
        for (size_t k = 0; k < json_array_size(runs); k++) {
            json_t *r = json_array_get(runs, k);
            if ((rc = run_stmt(s, "UPDATE runs SET state = ?2 WHERE id = ?1 AND state = 'cancelled'",
                               json_integer_value(json_object_get(r, "id")),
                               json_string_value(json_object_get(r, "state")), err)))
                goto cleanup;
        }
    details = json_pack("{s:I, s:s}", "action_id", (json_int_t)action_id, "pipeline", pipeline);
    details_text = json_dumps(details, JSON_COMPACT);
    {
        char target[200];
        snprintf(target, sizeof(target), "pipeline:%s", pipeline);
        if ((rc = weir_store_audit_append(s, actor, "restore", target, details_text, total, NULL,
                                          err)))
            goto cleanup;
    }
    /* the warehouse commits first: a crash between the two leaves the rows
     * back and the action active, which a purge then cleans (its trash
     * tables are gone) */
    if ((rc = weir_conn_commit(c, err)))
        goto cleanup;
    wh_tx = 0;
    if ((rc = weir_store_commit(s, err)))
        goto cleanup;
    in_tx = 0;
    if (rows)
        *rows = total;
cleanup:
    if (wh_tx)
        weir_conn_rollback(c, NULL);
    if (in_tx)
        weir_store_rollback(s, NULL);
    free_rows(&tr);
    free(pipeline);
    free(runs_text);
    free(details_text);
    json_decref(runs);
    json_decref(details);
    weir_buf_release(&sql);
    return rc;
}

int weir_rollback_purge(weir_conn *c, weir_store *s, int64_t action_id, const char *actor,
                        size_t *n, weir_error *err)
{
    WEIR_VEC(int64_t) ids = WEIR_VEC_INIT;
    weir_store_stmt *st = NULL;
    weir_buf sql = WEIR_BUF_INIT;
    size_t done = 0;
    int rc;

    if (action_id) {
        weir_vec_push(&ids, action_id);
    } else {
        if ((rc = weir_store_prepare(s,
                                     "SELECT id FROM trash_actions WHERE state IN ('active', "
                                     "'pending') ORDER BY id",
                                     &st, err)))
            goto cleanup;
        while ((rc = weir_store_step(st, err)) == 1)
            weir_vec_push(&ids, weir_store_col_int(st, 0));
        weir_store_stmt_free(st);
        st = NULL;
        if (rc < 0)
            goto cleanup;
    }
    for (size_t i = 0; i < ids.len; i++) {
        trash_rows tr = WEIR_VEC_INIT;
        char state[32], *pipeline = NULL, *runs_text = NULL, *details = NULL;
        int64_t total = 0;
        if ((rc = load_action(s, ids.items[i], state, sizeof(state), &pipeline, &runs_text,
                              &tr, err)))
            goto next;
        if (strcmp(state, "active") && strcmp(state, "pending")) {
            rc = weir_error_set(err, WEIR_EINVALID, "rollback action %" PRId64 " is %s: nothing to purge",
                                ids.items[i], state);
            goto next;
        }
        weir_buf_reset(&sql);
        for (size_t k = 0; k < tr.len; k++) {
            weir_buf_addf(&sql, "DROP TABLE IF EXISTS %s;", tr.items[k].trash);
            total += tr.items[k].rows;
        }
        if (sql.len && (rc = weir_conn_exec(c, sql.ptr, err)))
            goto next;
        if ((rc = weir_store_begin(s, err)))
            goto next;
        if ((rc = run_stmt(s, "UPDATE trash_actions SET state = 'purged' WHERE id = ?1",
                           ids.items[i], NULL, err)) == 0) {
            char target[200];
            json_t *d = json_pack("{s:I, s:s}", "action_id", (json_int_t)ids.items[i], "pipeline",
                                  pipeline);
            details = json_dumps(d, JSON_COMPACT);
            json_decref(d);
            snprintf(target, sizeof(target), "pipeline:%s", pipeline);
            rc = weir_store_audit_append(s, actor, "purge", target, details, total, NULL, err);
        }
        if (rc == 0)
            rc = weir_store_commit(s, err);
        else
            weir_store_rollback(s, NULL);
        if (rc == 0)
            done++;
    next:
        free_rows(&tr);
        free(pipeline);
        free(runs_text);
        free(details);
        if (rc)
            goto cleanup;
    }
    rc = 0;
cleanup:
    if (n)
        *n = done;
    weir_store_stmt_free(st);
    weir_vec_release(&ids);
    weir_buf_release(&sql);
    return rc;
}
