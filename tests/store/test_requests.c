/*
 * Tests of store/requests.c: requests handed to the server, their states
 * (pending, running, done, failed, cancelled), the runs they cover, how
 * settling counts those runs' outcomes, cancelling, and migration 6.
 */
#include "harness.h"

#include "core/buf.h"
#include "core/fs.h"
#include "store/store.h"

static weir_store *open_store(void)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf path = WEIR_BUF_INIT;
    weir_store *s = NULL;
    weir_path_join(&path, weir_test_tmpdir(), "store.db");
    CHECK_OK(weir_store_open(path.ptr, NULL, &s, &err), &err);
    weir_buf_release(&path);
    return s;
}

static int64_t add(weir_store *s, const char *kind, const char *pipeline, const char *from,
                   const char *to)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_request r = { 0 };
    snprintf(r.kind, sizeof(r.kind), "%s", kind);
    r.pipeline = (char *)pipeline;
    snprintf(r.date_from, sizeof(r.date_from), "%s", from);
    snprintf(r.date_to, sizeof(r.date_to), "%s", to);
    r.requested_by = (char *)"ana@host (pid 1)";
    CHECK_OK(weir_store_request_add(s, &r, &err), &err);
    CHECK_STR(r.state, "pending");
    CHECK_INT(r.id, >, 0);
    return r.id;
}

/* A run of pipeline p (created if needed) for ds in state, its id. */
static int64_t make_run(weir_store *s, const char *ds, const char *state)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf sql = WEIR_BUF_INIT;
    CHECK_OK(weir_store_exec(s,
                             "INSERT INTO pipelines (name, created_at, updated_at) VALUES "
                             "('p', 'now', 'now') ON CONFLICT (name) DO NOTHING",
                             &err),
             &err);
    weir_buf_addf(&sql,
                  "INSERT INTO runs (pipeline_id, run_key, ds, interval_start, interval_end, "
                  "state, created_at) SELECT id, 'k%s', '%s', '%sT00:00:00.000Z', "
                  "'%sT00:00:00.000Z', '%s', 'now' FROM pipelines WHERE name = 'p'",
                  ds, ds, ds, ds, state);
    CHECK_OK(weir_store_exec(s, sql.ptr, &err), &err);
    weir_buf_release(&sql);
    return weir_store_last_insert_id(s);
}

static void set_run_state(weir_store *s, int64_t id, const char *state)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf sql = WEIR_BUF_INIT;
    weir_buf_addf(&sql, "UPDATE runs SET state = '%s' WHERE id = %lld", state, (long long)id);
    CHECK_OK(weir_store_exec(s, sql.ptr, &err), &err);
    weir_buf_release(&sql);
}

TEST(request_is_recorded_pending_and_read_back)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    weir_request r = { 0 }, got = { 0 };
    weir_request_list l = WEIR_VEC_INIT;
    snprintf(r.kind, sizeof(r.kind), "clear");
    r.pipeline = (char *)"daily";
    snprintf(r.date_from, sizeof(r.date_from), "2024-01-03");
    snprintf(r.date_to, sizeof(r.date_to), "2024-01-03");
    r.task = (char *)"load";
    r.downstream = 1;
    r.requested_by = (char *)"ana@host (pid 7)";
    CHECK_OK(weir_store_request_add(s, &r, &err), &err);
    CHECK_OK(weir_store_request_get(s, r.id, &got, &err), &err);
    CHECK_STR(got.kind, "clear");
    CHECK_STR(got.pipeline, "daily");
    CHECK_STR(got.date_from, "2024-01-03");
    CHECK_STR(got.task, "load");
    CHECK_INT(got.downstream, ==, 1);
    CHECK_INT(got.rerun, ==, 0);
    CHECK_STR(got.state, "pending");
    CHECK_STR(got.requested_by, "ana@host (pid 7)");
    CHECK_INT(got.server_pid, ==, 0);
    CHECK(got.message == NULL);
    CHECK(strlen(got.requested_at) == 24);
    weir_request_release(&got);

    add(s, "backfill", "other", "2024-01-01", "2024-01-31");
    CHECK_OK(weir_store_request_list(s, "pending", 0, &l, &err), &err);
    CHECK_INT(l.len, ==, 2);
    CHECK_INT(l.items[0].id, <, l.items[1].id); /* oldest first */
    CHECK_STR(l.items[1].kind, "backfill");
    CHECK_STR(l.items[1].date_to, "2024-01-31");
    CHECK(l.items[1].task == NULL);
    weir_request_list_release(&l);
    CHECK_OK(weir_store_request_list(s, NULL, 1, &l, &err), &err);
    CHECK_INT(l.len, ==, 1);
    CHECK_STR(l.items[0].pipeline, "other"); /* the newest */
    weir_request_list_release(&l);

    CHECK_INT(weir_store_request_get(s, 999, &got, &err), ==, WEIR_ENOTFOUND);
    weir_error_release(&err);
    weir_store_free(s);
}

TEST(bad_requests_are_refused_and_nothing_is_written)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    weir_request r = { 0 };
    int64_t n = -1;
    snprintf(r.kind, sizeof(r.kind), "rollback");
    r.pipeline = (char *)"p";
    snprintf(r.date_from, sizeof(r.date_from), "2024-01-01");
    snprintf(r.date_to, sizeof(r.date_to), "2024-01-01");
    r.requested_by = (char *)"me";
    CHECK_INT(weir_store_request_add(s, &r, &err), ==, WEIR_EINVALID);
    CHECK(strstr(weir_error_str(&err), "unknown request kind 'rollback'") != NULL);
    weir_error_clear(&err);
    snprintf(r.kind, sizeof(r.kind), "run");
    snprintf(r.date_to, sizeof(r.date_to), "2024-13-01");
    CHECK_INT(weir_store_request_add(s, &r, &err), ==, WEIR_EINVALID);
    weir_error_clear(&err);
    snprintf(r.date_to, sizeof(r.date_to), "2024-01-01");
    r.requested_by = NULL;
    CHECK_INT(weir_store_request_add(s, &r, &err), ==, WEIR_EINVALID);
    CHECK_OK(weir_store_query_int(s, "SELECT count(*) FROM requests", &n, &err), &err);
    CHECK_INT(n, ==, 0);
    weir_error_release(&err);
    weir_store_free(s);
}

TEST(taken_request_is_done_when_its_runs_finish)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    weir_request got = { 0 };
    size_t n = 99;
    int64_t id = add(s, "backfill", "p", "2024-01-01", "2024-01-03");
    int64_t runs[2] = { make_run(s, "2024-01-01", "queued"), make_run(s, "2024-01-02", "running") };

    CHECK_OK(weir_store_request_take(s, id, 4242, runs, 2, 1, 0, NULL, &err), &err);
    CHECK_OK(weir_store_request_get(s, id, &got, &err), &err);
    CHECK_STR(got.state, "running");
    CHECK_INT(got.server_pid, ==, 4242);
    CHECK_INT(got.runs, ==, 2);
    CHECK_INT(got.skipped, ==, 1);
    weir_request_release(&got);
    /* taking it twice is refused */
    CHECK_INT(weir_store_request_take(s, id, 4242, runs, 2, 0, 0, NULL, &err), ==, WEIR_ENOTFOUND);
    weir_error_clear(&err);

    CHECK_OK(weir_store_request_settle(s, &n, &err), &err);
    CHECK_INT(n, ==, 0); /* both runs still in flight */
    set_run_state(s, runs[0], "success");
    CHECK_OK(weir_store_request_settle(s, &n, &err), &err);
    CHECK_INT(n, ==, 0); /* one still running */
    set_run_state(s, runs[1], "failed");
    CHECK_OK(weir_store_request_settle(s, &n, &err), &err);
    CHECK_INT(n, ==, 1);
    CHECK_OK(weir_store_request_get(s, id, &got, &err), &err);
    CHECK_STR(got.state, "done");
    CHECK_INT(got.succeeded, ==, 1);
    CHECK_INT(got.failed, ==, 1);
    weir_request_release(&got);
    /* settled once only */
    CHECK_OK(weir_store_request_settle(s, &n, &err), &err);
    CHECK_INT(n, ==, 0);
    weir_error_release(&err);
    weir_store_free(s);
}

TEST(request_with_no_runs_to_do_settles_at_once)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    weir_request got = { 0 };
    size_t n = 0;
    int64_t id = add(s, "backfill", "p", "2024-01-01", "2024-01-02");
    CHECK_OK(weir_store_request_take(s, id, 1, NULL, 0, 2, 0, "a note", &err), &err);
    CHECK_OK(weir_store_request_settle(s, &n, &err), &err);
    CHECK_INT(n, ==, 1);
    CHECK_OK(weir_store_request_get(s, id, &got, &err), &err);
    CHECK_STR(got.state, "done");
    CHECK_STR(got.message, "a note");
    CHECK_INT(got.skipped, ==, 2);
    CHECK_INT(got.succeeded + got.failed, ==, 0);
    weir_request_release(&got);
    weir_error_release(&err);
    weir_store_free(s);
}

TEST(failed_and_waiting_requests_keep_their_message)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    weir_request got = { 0 };
    int64_t a = add(s, "run", "p", "2024-01-01", "2024-01-01");
    int64_t b = add(s, "clear", "p", "2024-01-01", "2024-01-01");
    CHECK_OK(weir_store_request_fail(s, a, 77, "pipeline 'p' has no run on 2024-01-01", &err),
             &err);
    CHECK_OK(weir_store_request_note(s, b, "waiting for the run in flight to finish", &err), &err);
    CHECK_OK(weir_store_request_get(s, a, &got, &err), &err);
    CHECK_STR(got.state, "failed");
    CHECK_INT(got.server_pid, ==, 77);
    CHECK_STR(got.message, "pipeline 'p' has no run on 2024-01-01");
    weir_request_release(&got);
    CHECK_OK(weir_store_request_get(s, b, &got, &err), &err);
    CHECK_STR(got.state, "pending"); /* a note does not take it */
    CHECK_STR(got.message, "waiting for the run in flight to finish");
    weir_request_release(&got);
    /* a note on a request no longer pending changes nothing */
    CHECK_OK(weir_store_request_note(s, a, "other", &err), &err);
    CHECK_OK(weir_store_request_get(s, a, &got, &err), &err);
    CHECK_STR(got.message, "pipeline 'p' has no run on 2024-01-01");
    weir_request_release(&got);
    CHECK_INT(weir_store_request_fail(s, 999, 1, "x", &err), ==, WEIR_ENOTFOUND);
    weir_error_release(&err);
    weir_store_free(s);
}

TEST(deleting_a_run_drops_it_from_its_request)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    int64_t id = add(s, "run", "p", "2024-01-01", "2024-01-01");
    int64_t run = make_run(s, "2024-01-01", "queued");
    int64_t n = -1;
    CHECK_OK(weir_store_request_take(s, id, 1, &run, 1, 0, 0, NULL, &err), &err);
    CHECK_OK(weir_store_query_int(s, "SELECT count(*) FROM request_runs", &n, &err), &err);
    CHECK_INT(n, ==, 1);
    CHECK_OK(weir_store_exec(s, "DELETE FROM runs", &err), &err);
    CHECK_OK(weir_store_query_int(s, "SELECT count(*) FROM request_runs", &n, &err), &err);
    CHECK_INT(n, ==, 0);
    weir_error_release(&err);
    weir_store_free(s);
}

static int64_t count(weir_store *s, const char *sql)
{
    weir_error err = WEIR_ERROR_INIT;
    int64_t n = -1;
    CHECK_OK(weir_store_query_int(s, sql, &n, &err), &err);
    return n;
}

TEST(cancelling_a_pending_request_ends_it_at_once)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    weir_request got = { 0 };
    int64_t id = add(s, "backfill", "p", "2024-01-01", "2024-01-03");
    int64_t run = make_run(s, "2024-01-01", "queued");
    CHECK_OK(weir_store_request_cancel(s, id, "bo@host (pid 9)", &got, &err), &err);
    CHECK_STR(got.state, "cancelled");
    CHECK_STR(got.cancelled_by, "bo@host (pid 9)");
    CHECK(got.cancel_requested_at[0] != '\0');
    CHECK_CONTAINS(got.message, "cancelled by bo@host (pid 9) before a server took it");
    weir_request_release(&got);
    /* no server takes it any more */
    CHECK_INT(weir_store_request_take(s, id, 1, &run, 1, 0, 0, NULL, &err), ==, WEIR_ENOTFOUND);
    weir_error_clear(&err);
    CHECK_INT(weir_store_request_fail(s, id, 1, "x", &err), ==, WEIR_ENOTFOUND);
    weir_error_clear(&err);
    CHECK_OK(weir_store_request_get(s, id, &got, &err), &err);
    CHECK_STR(got.state, "cancelled");
    weir_request_release(&got);
    /* cancelling it again is refused, and says why */
    CHECK_INT(weir_store_request_cancel(s, id, "bo@host (pid 9)", NULL, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(weir_error_str(&err), "request 1 is already cancelled");
    weir_error_clear(&err);
    CHECK_INT(weir_store_request_cancel(s, 42, "bo@host (pid 9)", NULL, &err), ==, WEIR_ENOTFOUND);
    CHECK_CONTAINS(weir_error_str(&err), "no request 42");
    weir_error_release(&err);
    weir_store_free(s);
}

TEST(cancelling_a_running_request_waits_for_its_runs_in_flight)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    weir_request got = { 0 };
    weir_store_id_vec open = WEIR_VEC_INIT;
    size_t n = 9;
    int settled = -1, dropped = -1;
    int64_t id = add(s, "backfill", "p", "2024-01-01", "2024-01-04");
    int64_t runs[4] = { make_run(s, "2024-01-01", "success"), make_run(s, "2024-01-02", "running"),
                        make_run(s, "2024-01-03", "queued"), make_run(s, "2024-01-04", "queued") };
    CHECK_OK(weir_store_request_take(s, id, 4242, runs, 4, 0, 0, NULL, &err), &err);
    CHECK_OK(weir_store_request_cancel(s, id, "bo@host (pid 9)", &got, &err), &err);
    CHECK_STR(got.state, "running"); /* for the server to finish */
    CHECK(got.cancel_requested_at[0] != '\0');
    weir_request_release(&got);
    /* asking twice is fine */
    CHECK_OK(weir_store_request_cancel(s, id, "cy@host (pid 10)", &got, &err), &err);
    CHECK_STR(got.cancelled_by, "bo@host (pid 9)");
    weir_request_release(&got);

    /* the plain settle leaves it to the cancel */
    set_run_state(s, runs[1], "success");
    set_run_state(s, runs[2], "success");
    set_run_state(s, runs[3], "success");
    CHECK_OK(weir_store_request_settle(s, &n, &err), &err);
    CHECK_INT(n, ==, 0);
    set_run_state(s, runs[1], "running");
    set_run_state(s, runs[2], "queued");
    set_run_state(s, runs[3], "queued");

    CHECK_OK(weir_store_request_open_runs(s, id, &open, &err), &err);
    CHECK_INT(open.len, ==, 3);
    CHECK_INT(open.items[0], ==, runs[1]);
    CHECK_INT(open.items[2], ==, runs[3]);
    /* a queued run is dropped (cancelled, its queued instances back to none);
     * a running one is not */
    CHECK_OK(weir_store_exec(s, "INSERT INTO task_instances (run_id, task_id, state) VALUES "
                                "(3, 'a', 'queued'), (2, 'a', 'running')",
                             &err),
             &err);
    CHECK_OK(weir_store_request_drop_queued(s, runs[2], &dropped, &err), &err);
    CHECK_INT(dropped, ==, 1);
    CHECK_OK(weir_store_request_drop_queued(s, runs[1], &dropped, &err), &err);
    CHECK_INT(dropped, ==, 0);
    CHECK_INT(count(s, "SELECT count(*) FROM runs WHERE id = 3 AND state = 'cancelled' AND "
                       "ended_at IS NOT NULL"),
              ==, 1);
    CHECK_INT(count(s, "SELECT count(*) FROM task_instances WHERE run_id = 3 AND state = 'none'"),
              ==, 1);
    CHECK_INT(count(s, "SELECT count(*) FROM task_instances WHERE run_id = 2 AND state = "
                       "'running'"),
              ==, 1);
    set_run_state(s, runs[3], "cancelled");
    CHECK_OK(weir_store_request_add_dropped(s, id, 2, &err), &err);

    /* not while a run is still running */
    CHECK_OK(weir_store_request_settle_cancelled(s, id, "cancelled by bo", &settled, &err), &err);
    CHECK_INT(settled, ==, 0);
    set_run_state(s, runs[1], "failed");
    CHECK_OK(weir_store_request_settle_cancelled(s, id, "cancelled by bo", &settled, &err), &err);
    CHECK_INT(settled, ==, 1);
    CHECK_OK(weir_store_request_get(s, id, &got, &err), &err);
    CHECK_STR(got.state, "cancelled");
    CHECK_STR(got.message, "cancelled by bo");
    CHECK_INT(got.dropped, ==, 2);
    CHECK_INT(got.succeeded, ==, 1);
    CHECK_INT(got.failed, ==, 1); /* the dropped runs are not failures */
    weir_request_release(&got);
    CHECK_OK(weir_store_request_settle_cancelled(s, id, "again", &settled, &err), &err);
    CHECK_INT(settled, ==, 0);
    CHECK_INT(weir_store_request_cancel(s, id, "bo@host (pid 9)", NULL, &err), ==, WEIR_EINVALID);
    weir_error_release(&err);
    weir_vec_release(&open);
    weir_store_free(s);
}

TEST(cancel_drops_no_run_another_live_request_covers)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_store *s = open_store();
    weir_store_id_vec open = WEIR_VEC_INIT;
    int64_t a = add(s, "backfill", "p", "2024-01-01", "2024-01-02");
    int64_t b = add(s, "run", "p", "2024-01-02", "2024-01-02");
    int64_t runs[2] = { make_run(s, "2024-01-01", "queued"), make_run(s, "2024-01-02", "queued") };
    CHECK_OK(weir_store_request_take(s, a, 1, runs, 2, 0, 0, NULL, &err), &err);
    CHECK_OK(weir_store_request_take(s, b, 1, &runs[1], 1, 0, 0, NULL, &err), &err);
    CHECK_OK(weir_store_request_cancel(s, a, "bo@host (pid 9)", NULL, &err), &err);
    CHECK_OK(weir_store_request_open_runs(s, a, &open, &err), &err);
    CHECK_INT(open.len, ==, 1);
    CHECK_INT(open.items[0], ==, runs[0]);
    /* once b is being cancelled too, both may go */
    open.len = 0;
    CHECK_OK(weir_store_request_cancel(s, b, "bo@host (pid 9)", NULL, &err), &err);
    CHECK_OK(weir_store_request_open_runs(s, a, &open, &err), &err);
    CHECK_INT(open.len, ==, 2);
    weir_error_release(&err);
    weir_vec_release(&open);
    weir_store_free(s);
}

/* A store made by migrations 1..5 (before requests could be cancelled),
 * with a request and its run, upgraded by migration 6. */
TEST(migration_6_keeps_requests_and_their_runs)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf path = WEIR_BUF_INIT;
    weir_store_options o = WEIR_STORE_OPTIONS_INIT;
    weir_store *s = NULL;
    weir_request got = { 0 };
    int64_t id, run;
    CHECK_INT(weir_store_migrations_count, >=, 6);
    CHECK_INT(weir_store_migrations[5].version, ==, 6);
    weir_path_join(&path, weir_test_tmpdir(), "old.db");
    o.migrations = weir_store_migrations;
    o.n_migrations = 5;
    CHECK_OK(weir_store_open(path.ptr, &o, &s, &err), &err);
    CHECK_OK(weir_store_exec(s,
                             "INSERT INTO requests (kind, pipeline, date_from, date_to, state, "
                             "requested_by, requested_at, runs, message) VALUES ('backfill', 'p', "
                             "'2024-01-01', '2024-01-02', 'running', 'ana', 'now', 1, 'hi')",
                             &err),
             &err);
    id = weir_store_last_insert_id(s);
    run = make_run(s, "2024-01-01", "queued");
    {
        weir_buf sql = WEIR_BUF_INIT;
        weir_buf_addf(&sql, "INSERT INTO request_runs VALUES (%lld, %lld)", (long long)id,
                      (long long)run);
        CHECK_OK(weir_store_exec(s, sql.ptr, &err), &err);
        weir_buf_release(&sql);
    }
    weir_store_free(s);

    CHECK_OK(weir_store_open(path.ptr, NULL, &s, &err), &err);
    CHECK_INT(weir_store_schema_version(s), ==, weir_store_latest_version());
    CHECK_OK(weir_store_request_get(s, id, &got, &err), &err);
    CHECK_STR(got.state, "running");
    CHECK_STR(got.message, "hi");
    CHECK_STR(got.cancel_requested_at, "");
    CHECK(got.cancelled_by == NULL);
    CHECK_INT(got.dropped, ==, 0);
    weir_request_release(&got);
    CHECK_INT(count(s, "SELECT count(*) FROM request_runs"), ==, 1);
    CHECK_INT(count(s, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v6'"), ==, 0);
    CHECK_INT(count(s, "SELECT count(*) FROM sqlite_master WHERE name = 'requests_by_state'"), ==,
              1);
    /* request_runs points at the new requests table: cascades still work */
    CHECK_OK(weir_store_exec(s, "DELETE FROM requests", &err), &err);
    CHECK_INT(count(s, "SELECT count(*) FROM request_runs"), ==, 0);
    CHECK_OK(weir_store_request_cancel(s, add(s, "run", "p", "2024-01-01", "2024-01-01"), "bo",
                                       NULL, &err),
             &err);
    weir_error_release(&err);
    weir_buf_release(&path);
    weir_store_free(s);
}
