/*
 * requests.c: work handed to a running `weir serve` (see store.h): the
 * requests table and the runs each request covers.
 *
 * Written against the store's SQL-level calls only. A server is the one
 * consumer of requests (it holds the project's warehouse lock, so there is
 * never a second one to race with); clients only add requests and read them.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "store/store.h"

#define REQUEST_COLUMNS                                                                       \
    "id, kind, pipeline, date_from, date_to, task, downstream, rerun, state, requested_by, "  \
    "requested_at, server_pid, runs, skipped, cleared, succeeded, failed, message, spec_hash, " \
    "cancel_requested_at, cancelled_by, dropped"

void weir_request_release(weir_request *r)
{
    free(r->pipeline);
    free(r->task);
    free(r->requested_by);
    free(r->message);
    free(r->cancelled_by);
    r->pipeline = r->task = r->requested_by = r->message = r->cancelled_by = NULL;
}

void weir_request_list_release(weir_request_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        weir_request_release(&l->items[i]);
    weir_vec_release(l);
}

static char *dup_or_null(const char *s)
{
    return s ? weir_xstrdup(s) : NULL;
}

static void copy_text(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

/* Fills r from the current row of a statement selecting REQUEST_COLUMNS. */
static void read_row(weir_store_stmt *st, weir_request *r)
{
    memset(r, 0, sizeof(*r));
    r->id = weir_store_col_int(st, 0);
    copy_text(r->kind, sizeof(r->kind), weir_store_col_text(st, 1));
    r->pipeline = dup_or_null(weir_store_col_text(st, 2));
    copy_text(r->date_from, sizeof(r->date_from), weir_store_col_text(st, 3));
    copy_text(r->date_to, sizeof(r->date_to), weir_store_col_text(st, 4));
    r->task = dup_or_null(weir_store_col_text(st, 5));
    r->downstream = (int)weir_store_col_int(st, 6);
    r->rerun = (int)weir_store_col_int(st, 7);
    copy_text(r->state, sizeof(r->state), weir_store_col_text(st, 8));
    r->requested_by = dup_or_null(weir_store_col_text(st, 9));
    copy_text(r->requested_at, sizeof(r->requested_at), weir_store_col_text(st, 10));
    r->server_pid = weir_store_col_int(st, 11);
    r->runs = weir_store_col_int(st, 12);
    r->skipped = weir_store_col_int(st, 13);
    r->cleared = weir_store_col_int(st, 14);
    r->succeeded = weir_store_col_int(st, 15);
    r->failed = weir_store_col_int(st, 16);
    r->message = dup_or_null(weir_store_col_text(st, 17));
    copy_text(r->spec_hash, sizeof(r->spec_hash), weir_store_col_text(st, 18));
    copy_text(r->cancel_requested_at, sizeof(r->cancel_requested_at),
              weir_store_col_text(st, 19));
    r->cancelled_by = dup_or_null(weir_store_col_text(st, 20));
    r->dropped = weir_store_col_int(st, 21);
}

/* Runs st (an INSERT or UPDATE) and frees it: 0, or the step's error. */
static int step_once(weir_store_stmt *st, weir_error *err)
{
    int rc = weir_store_step(st, err);
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int weir_store_request_add(weir_store *s, weir_request *r, weir_error *err)
{
    weir_store_stmt *st = NULL;
    weir_date d;
    int rc;
    if (strcmp(r->kind, "run") && strcmp(r->kind, "backfill") && strcmp(r->kind, "clear"))
        return weir_error_set(err, WEIR_EINVALID, "unknown request kind '%s'", r->kind);
    if (!r->pipeline || !*r->pipeline || !r->requested_by || !*r->requested_by)
        return weir_error_set(err, WEIR_EINVALID, "a request needs a pipeline and a requester");
    if (weir_date_parse(r->date_from, &d) || weir_date_parse(r->date_to, &d))
        return weir_error_set(err, WEIR_EINVALID, "a request needs dates (YYYY-MM-DD), got '%s' "
                                                  "and '%s'",
                              r->date_from, r->date_to);
    if ((rc = weir_store_prepare(s,
                                 "INSERT INTO requests (kind, pipeline, date_from, date_to, task, "
                                 "downstream, rerun, requested_by, requested_at, spec_hash) VALUES "
                                 "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                 &st, err)))
        return rc;
    weir_store_bind_text(st, 1, r->kind, NULL);
    weir_store_bind_text(st, 2, r->pipeline, NULL);
    weir_store_bind_text(st, 3, r->date_from, NULL);
    weir_store_bind_text(st, 4, r->date_to, NULL);
    weir_store_bind_text(st, 5, r->task, NULL);
    weir_store_bind_int(st, 6, r->downstream != 0, NULL);
    weir_store_bind_int(st, 7, r->rerun != 0, NULL);
    weir_store_bind_text(st, 8, r->requested_by, NULL);
    weir_store_bind_ts(st, 9, weir_ts_now(), NULL);
    weir_store_bind_text(st, 10, r->spec_hash[0] ? r->spec_hash : NULL, NULL);
    if ((rc = step_once(st, err))) {
        weir_error_wrap(err, "cannot record the request");
        return rc;
    }
    r->id = weir_store_last_insert_id(s);
    copy_text(r->state, sizeof(r->state), "pending");
    return 0;
}

int weir_store_request_get(weir_store *s, int64_t id, weir_request *out, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, "SELECT " REQUEST_COLUMNS " FROM requests WHERE id = ?1", &st,
                                err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    rc = weir_store_step(st, err);
    if (rc == 1) {
        read_row(st, out);
        rc = 0;
    } else if (rc == 0) {
        rc = weir_error_set(err, WEIR_ENOTFOUND, "no request %lld", (long long)id);
    }
    weir_store_stmt_free(st);
    return rc;
}

int weir_store_request_list(weir_store *s, const char *state, size_t limit,
                            weir_request_list *out, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s,
                                "SELECT * FROM (SELECT " REQUEST_COLUMNS " FROM requests WHERE "
                                "(?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2) ORDER BY id",
                                &st, err);
    if (rc)
        return rc;
    weir_store_bind_text(st, 1, state, NULL);
    weir_store_bind_int(st, 2, limit ? (int64_t)limit : -1, NULL);
    while ((rc = weir_store_step(st, err)) == 1) {
        weir_request r;
        read_row(st, &r);
        weir_vec_push(out, r);
    }
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

/* Prepares sql, an update of request id by the server that runs it,
 * binding id as ?1, the server's pid as ?2 and now as ?3. */
static int prepare_by_server(weir_store *s, const char *sql, int64_t id, int64_t server_pid,
                             weir_store_stmt **st, weir_error *err)
{
    int rc = weir_store_prepare(s, sql, st, err);
    if (rc)
        return rc;
    weir_store_bind_int(*st, 1, id, NULL);
    weir_store_bind_int(*st, 2, server_pid, NULL);
    weir_store_bind_ts(*st, 3, weir_ts_now(), NULL);
    return 0;
}

int weir_store_request_take(weir_store *s, int64_t id, int64_t server_pid,
                            const int64_t *run_ids, size_t n, int64_t skipped, int64_t cleared,
                            const char *note, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = prepare_by_server(s,
                               "UPDATE requests SET state = 'running', server_pid = ?2, taken_at "
                               "= ?3, runs = ?4, skipped = ?5, cleared = ?6, message = ?7 "
                               "WHERE id = ?1 AND state = 'pending'",
                               id, server_pid, &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 4, (int64_t)n, NULL);
    weir_store_bind_int(st, 5, skipped, NULL);
    weir_store_bind_int(st, 6, cleared, NULL);
    weir_store_bind_text(st, 7, note, NULL);
    rc = step_once(st, err);
    st = NULL;
    if (rc)
        return rc;
    if (weir_store_changes(s) != 1)
        return weir_error_set(err, WEIR_ENOTFOUND, "no pending request %lld", (long long)id);
    if ((rc = weir_store_prepare(s,
                                 "INSERT INTO request_runs (request_id, run_id) VALUES (?1, ?2) "
                                 "ON CONFLICT DO NOTHING",
                                 &st, err)))
        return rc;
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        weir_store_reset(st);
        weir_store_bind_int(st, 1, id, NULL);
        weir_store_bind_int(st, 2, run_ids[i], NULL);
        rc = weir_store_step(st, err);
    }
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int weir_store_request_fail(weir_store *s, int64_t id, int64_t server_pid, const char *message,
                            weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = prepare_by_server(s,
                               "UPDATE requests SET state = 'failed', server_pid = ?2, taken_at "
                               "= COALESCE(taken_at, ?3), finished_at = ?3, message = ?4 WHERE "
                               "id = ?1 AND state IN ('pending', 'running')",
                               id, server_pid, &st, err);
    if (rc)
        return rc;
    weir_store_bind_text(st, 4, message, NULL);
    if ((rc = step_once(st, err)))
        return rc;
    if (weir_store_changes(s) != 1)
        return weir_error_set(err, WEIR_ENOTFOUND, "no pending or running request %lld",
                              (long long)id);
    return 0;
}

int weir_store_request_note(weir_store *s, int64_t id, const char *message, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s,
                                "UPDATE requests SET message = ?2 WHERE id = ?1 AND state = "
                                "'pending' AND message IS NOT ?2",
                                &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    weir_store_bind_text(st, 2, message, NULL);
    return step_once(st, err);
}

int weir_store_request_settle(weir_store *s, size_t *n, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(
        s,
        "UPDATE requests SET state = 'done', finished_at = ?1, "
        "succeeded = (SELECT count(*) FROM request_runs q JOIN runs r ON r.id = q.run_id "
        "  WHERE q.request_id = requests.id AND r.state = 'success'), "
        "failed = (SELECT count(*) FROM request_runs q JOIN runs r ON r.id = q.run_id "
        "  WHERE q.request_id = requests.id AND r.state IN ('failed', 'cancelled')) "
        "WHERE state = 'running' AND cancel_requested_at IS NULL AND "
        "NOT EXISTS (SELECT 1 FROM request_runs q JOIN runs r ON "
        "r.id = q.run_id WHERE q.request_id = requests.id AND r.state IN ('queued', 'running'))",
        &st, err);
    if (rc)
        return rc;
    weir_store_bind_ts(st, 1, weir_ts_now(), NULL);
    if ((rc = step_once(st, err)))
        return rc;
    if (n)
        *n = (size_t)weir_store_changes(s);
    return 0;
}

/* Runs sql, binding id as ?1, now as ?2 and by (a requester or a message)
 * as ?3 (a parameter the SQL does not use is left out: its binding fails
 * harmlessly), and says whether it changed a row. */
static int update_one(weir_store *s, const char *sql, int64_t id, const char *by, int *changed,
                      weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, sql, &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    weir_store_bind_ts(st, 2, weir_ts_now(), NULL);
    weir_store_bind_text(st, 3, by, NULL);
    if ((rc = step_once(st, err)))
        return rc;
    *changed = weir_store_changes(s) == 1;
    return 0;
}

int weir_store_request_cancel(weir_store *s, int64_t id, const char *by, weir_request *out,
                              weir_error *err)
{
    weir_request r = { 0 };
    int changed = 0, rc;
    if (!by || !*by)
        return weir_error_set(err, WEIR_EINVALID, "cancelling a request needs a requester");
    /* one transaction: the server takes pending requests with a conditional
     * update too, so the request is either cancelled before it is taken or
     * marked for the server that took it */
    if ((rc = weir_store_begin(s, err)))
        return rc;
    if ((rc = update_one(s,
                         "UPDATE requests SET state = 'cancelled', finished_at = ?2, "
                         "cancel_requested_at = ?2, cancelled_by = ?3, message = 'cancelled by ' "
                         "|| ?3 || ' before a server took it' WHERE id = ?1 AND state = 'pending'",
                         id, by, &changed, err)))
        goto fail;
    if (!changed && (rc = update_one(s,
                                     "UPDATE requests SET cancel_requested_at = COALESCE("
                                     "cancel_requested_at, ?2), cancelled_by = COALESCE("
                                     "cancelled_by, ?3) WHERE id = ?1 AND state = 'running'",
                                     id, by, &changed, err)))
        goto fail;
    if ((rc = weir_store_request_get(s, id, &r, err)))
        goto fail;
    if (!changed) {
        rc = weir_error_set(err, WEIR_EINVALID,
                            "request %lld is already %s: only a pending or running request can "
                            "be cancelled",
                            (long long)id, r.state);
        goto fail;
    }
    {
        /* cancelling throws work away: it goes in the audit log */
        char target[200], details[100];
        snprintf(target, sizeof(target), "pipeline:%s", r.pipeline);
        snprintf(details, sizeof(details), "{\"request\": %lld, \"was\": \"%s\"}",
                 (long long)id, strcmp(r.state, "cancelled") ? "running" : "pending");
        if ((rc = weir_store_audit_append(s, by, "cancel request", target, details, -1, NULL,
                                          err)))
            goto fail;
    }
    if ((rc = weir_store_commit(s, err)))
        goto fail;
    if (out)
        *out = r;
    else
        weir_request_release(&r);
    return 0;
fail:
    weir_request_release(&r);
    weir_store_rollback(s, NULL);
    return rc;
}

/* Runs sql, binding id as ?1, and appends the first column of every row
 * to out. */
static int select_ids(weir_store *s, const char *sql, int64_t id, weir_store_id_vec *out,
                      weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, sql, &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    while ((rc = weir_store_step(st, err)) == 1)
        weir_vec_push(out, weir_store_col_int(st, 0));
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int weir_store_request_run_ids(weir_store *s, int64_t id, weir_store_id_vec *out,
                               weir_error *err)
{
    return select_ids(s,
                      "SELECT q.run_id FROM request_runs q JOIN runs r ON r.id = q.run_id WHERE "
                      "q.request_id = ?1 ORDER BY r.ds, r.id",
                      id, out, err);
}

int weir_store_request_open_runs(weir_store *s, int64_t id, weir_store_id_vec *out,
                                 weir_error *err)
{
    return select_ids(
        s,
        "SELECT q.run_id FROM request_runs q JOIN runs r ON r.id = q.run_id WHERE "
        "q.request_id = ?1 AND r.state IN ('queued', 'running') AND NOT EXISTS (SELECT 1 FROM "
        "request_runs o JOIN requests rq ON rq.id = o.request_id WHERE o.run_id = q.run_id AND "
        "rq.id <> ?1 AND rq.state IN ('pending', 'running') AND rq.cancel_requested_at IS NULL) "
        "ORDER BY r.ds, r.id",
        id, out, err);
}

int weir_store_request_drop_queued(weir_store *s, int64_t run_id, int *dropped, weir_error *err)
{
    int rc, changed = 0, reset = 0;
    *dropped = 0;
    if ((rc = weir_store_begin(s, err)))
        return rc;
    if ((rc = update_one(s,
                         "UPDATE runs SET state = 'cancelled', ended_at = ?2, pid = NULL WHERE "
                         "id = ?1 AND state = 'queued'",
                         run_id, NULL, &changed, err)))
        goto fail;
    if (changed && (rc = update_one(s,
                                    "UPDATE task_instances SET state = 'none', pid = NULL WHERE "
                                    "run_id = ?1 AND state = 'queued'",
                                    run_id, NULL, &reset, err)))
        goto fail;
    if ((rc = weir_store_commit(s, err)))
        goto fail;
    *dropped = changed;
    return 0;
fail:
    weir_store_rollback(s, NULL);
    return rc;
}

int weir_store_request_add_dropped(weir_store *s, int64_t id, int64_t n, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, "UPDATE requests SET dropped = dropped + ?2 WHERE id = ?1",
                                &st, err);
    if (rc)
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    weir_store_bind_int(st, 2, n, NULL);
    return step_once(st, err);
}

int weir_store_request_settle_cancelled(weir_store *s, int64_t id, const char *message,
                                        int *settled, weir_error *err)
{
    return update_one(
        s,
        "UPDATE requests SET state = 'cancelled', finished_at = ?2, message = ?3, "
        "succeeded = (SELECT count(*) FROM request_runs q JOIN runs r ON r.id = q.run_id "
        "  WHERE q.request_id = requests.id AND r.state = 'success'), "
        "failed = (SELECT count(*) FROM request_runs q JOIN runs r ON r.id = q.run_id "
        "  WHERE q.request_id = requests.id AND r.state = 'failed') "
        "WHERE id = ?1 AND state = 'running' AND cancel_requested_at IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM request_runs q JOIN runs r ON r.id = q.run_id WHERE q.request_id = "
        "requests.id AND r.state IN ('queued', 'running'))",
        id, message, settled, err);
}
