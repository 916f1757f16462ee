/*
 * audit.c: the audit log of destructive and administrative actions
 * (rollbacks, purges, backfills, ...): who did what, when, to which target.
 *
 * Written against the store's SQL-level calls only, so it works on every
 * store backend. Details are JSON, checked (and minified) by the store.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "store/store.h"

int weir_store_audit_append(weir_store *s, const char *actor, const char *action,
                            const char *target, const char *details, int64_t rows,
                            int64_t *id, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int64_t valid = 1;
    int rc;

    if (!actor || !*actor || !action || !*action)
        return weir_error_set(err, WEIR_EINVALID, "an audit entry needs an actor and an action");
    if (details) {
        rc = weir_store_prepare(s, "SELECT json_valid(?)", &st, err);
        if (rc == 0)
            rc = weir_store_bind_text(st, 1, details, err);
        if (rc == 0 && (rc = weir_store_step(st, err)) == 1) {
            valid = weir_store_col_int(st, 0);
            rc = 0;
        }
        weir_store_stmt_free(st);
        st = NULL;
        if (rc)
            return rc;
        if (!valid)
            return weir_error_set(err, WEIR_EINVALID,
                                  "audit details for '%s' are not valid JSON", action);
    }
    rc = weir_store_prepare(s, "INSERT INTO audit_log (at, actor, action, target, details, "
                               "row_count) VALUES (?, ?, ?, ?, json(?), ?)", &st, err);
    if (rc)
        return rc;
    if ((rc = weir_store_bind_ts(st, 1, weir_ts_now(), err)) ||
        (rc = weir_store_bind_text(st, 2, actor, err)) ||
        (rc = weir_store_bind_text(st, 3, action, err)) ||
        (rc = weir_store_bind_text(st, 4, target, err)) ||
        (rc = weir_store_bind_text(st, 5, details, err)))
        goto cleanup;
    rc = rows >= 0 ? weir_store_bind_int(st, 6, rows, err) : weir_store_bind_null(st, 6, err);
    if (rc)
        goto cleanup;
    if ((rc = weir_store_step(st, err)) < 0)
        goto cleanup;
    rc = 0;
    if (id)
        *id = weir_store_last_insert_id(s);
cleanup:
    weir_store_stmt_free(st);
    if (rc)
        weir_error_wrap(err, "cannot write the audit log");
    return rc;
}

static char *dup_col(weir_store_stmt *st, int col)
{
    const char *t = weir_store_col_text(st, col);
    return t ? weir_xstrdup(t) : NULL;
}

int weir_store_audit_list(weir_store *s, size_t limit, weir_audit_list *out, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, "SELECT id, at, actor, action, target, details, row_count "
                                   "FROM audit_log ORDER BY id DESC LIMIT ?", &st, err);
    if (rc)
        goto cleanup;
    if ((rc = weir_store_bind_int(st, 1, limit ? (int64_t)limit : -1, err)))
        goto cleanup;
    while ((rc = weir_store_step(st, err)) == 1) {
        weir_audit_entry e;
        e.id = weir_store_col_int(st, 0);
        if (weir_ts_parse(weir_store_col_text(st, 1) ? weir_store_col_text(st, 1) : "", &e.at))
            e.at = 0;
        e.actor = dup_col(st, 2);
        e.action = dup_col(st, 3);
        e.target = dup_col(st, 4);
        e.details = dup_col(st, 5);
        e.rows = weir_store_col_is_null(st, 6) ? -1 : weir_store_col_int(st, 6);
        weir_vec_push(out, e);
    }
cleanup:
    weir_store_stmt_free(st);
    if (rc)
        weir_error_wrap(err, "cannot read the audit log");
    return rc;
}

void weir_audit_list_release(weir_audit_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i].actor);
        free(l->items[i].action);
        free(l->items[i].target);
        free(l->items[i].details);
    }
    weir_vec_release(l);
}
