/*
 * Tests of store/requests.c: requests handed to the server, their states
 * (pending, running, done, failed), the runs they cover and how settling
 * counts those runs' outcomes.
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
