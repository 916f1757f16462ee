/*
 * Tests of orchestrate/handoff: the server's side taking requests into its
 * executor (run, backfill with skips, clear, refusals, joining a run in
 * flight, a clear waiting for one) and settling them, cancelling them
 * (runs not started dropped, also those a stopped server left); the client's side
 * reporting a finished request's runs and noticing that no server is there.
 */
#include "harness.h"

#include "core/buf.h"
#include "core/fs.h"
#include "orchestrate/handoff.h"
#include "orchestrate/lock.h"

static const char yaml[] = "pipeline: p\n"
                           "schedule: \"@daily\"\n"
                           "start: 2024-01-01\n"
                           "retries: 0\n"
                           "tasks:\n"
                           "  - name: a\n"
                           "    run: \"true\"\n"
                           "  - name: b\n"
                           "    run: \"test $WEIR_DS != 2024-01-04\"\n"
                           "    depends_on: [a]\n";

typedef struct fixture {
    weir_store *store;
    weir_pipeline_list pls;
    weir_exec *x;
    weir_buf logs;
    char notes[1024];
} fixture;

static void setup(fixture *f)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_buf path = WEIR_BUF_INIT;
    weir_exec_options o = { 0 };
    weir_pipeline *pl = NULL;
    memset(f, 0, sizeof(*f));
    weir_path_join(&path, weir_test_tmpdir(), "store.db");
    CHECK_OK(weir_store_open(path.ptr, NULL, &f->store, &err), &err);
    weir_pipeline_load_buf(NULL, "p.yml", yaml, strlen(yaml), &pl, &d);
    if (!pl)
        weir_diags_print(&d, stderr);
    CHECK(pl != NULL);
    weir_diags_release(&d);
    weir_vec_push(&f->pls, pl);
    weir_buf_addf(&f->logs, "%s/logs", weir_test_tmpdir());
    o.workers = 2;
    o.log_dir = f->logs.ptr;
    CHECK_OK(weir_exec_new(NULL, f->store, NULL, &o, &f->x, &err), &err);
    weir_buf_release(&path);
}

static void teardown(fixture *f)
{
    weir_exec_free(f->x);
    weir_pipeline_list_release(&f->pls);
    weir_store_free(f->store);
    weir_buf_release(&f->logs);
}

static void note(void *data, const weir_request *r, const char *what)
{
    fixture *f = data;
    size_t len = strlen(f->notes);
    snprintf(f->notes + len, sizeof(f->notes) - len, "%lld:%s ", (long long)r->id, what);
}

static int64_t request(fixture *f, const char *kind, const char *from, const char *to,
                       const char *task, int rerun)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_request r = { 0 };
    snprintf(r.kind, sizeof(r.kind), "%s", kind);
    r.pipeline = (char *)"p";
    snprintf(r.date_from, sizeof(r.date_from), "%s", from);
    snprintf(r.date_to, sizeof(r.date_to), "%s", to);
    r.task = (char *)task;
    r.rerun = rerun;
    r.requested_by = (char *)"test";
    CHECK_OK(weir_store_request_add(f->store, &r, &err), &err);
    return r.id;
}

/* Takes what is pending, then runs the executor to the end and settles. */
static void serve_once(fixture *f)
{
    weir_error err = WEIR_ERROR_INIT;
    CHECK_INT(weir_exec_step(f->x, 0, &err), >=, 0);
    CHECK_OK(weir_handoff_take(f->x, f->store, &f->pls, 4242, note, f, NULL, &err), &err);
    CHECK_OK(weir_exec_run(f->x, &err), &err);
    CHECK_OK(weir_handoff_settle(f->store, note, f, &err), &err);
}

static weir_request get(fixture *f, int64_t id)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_request r = { 0 };
    CHECK_OK(weir_store_request_get(f->store, id, &r, &err), &err);
    return r;
}

static int64_t qint(fixture *f, const char *sql)
{
    weir_error err = WEIR_ERROR_INIT;
    int64_t v = -1;
    CHECK_OK(weir_store_query_int(f->store, sql, &v, &err), &err);
    return v;
}

TEST(handoff_runs_backfills_and_settles_requests)
{
    fixture f;
    weir_request r;
    int64_t run, bf, again, rerun;
    setup(&f);
    run = request(&f, "run", "2024-01-02", "2024-01-02", NULL, 0);
    bf = request(&f, "backfill", "2024-01-01", "2024-01-04", NULL, 0);
    serve_once(&f);
    r = get(&f, run);
    CHECK_STR(r.state, "done");
    CHECK_INT(r.server_pid, ==, 4242);
    CHECK_INT(r.runs, ==, 1);
    CHECK_INT(r.succeeded, ==, 1);
    weir_request_release(&r);
    /* the backfill joined the run of 01-02 the first request had in flight */
    r = get(&f, bf);
    CHECK_STR(r.state, "done");
    CHECK_INT(r.runs, ==, 4);
    CHECK_INT(r.skipped, ==, 0);
    CHECK_INT(r.succeeded, ==, 3);
    CHECK_INT(r.failed, ==, 1); /* task b fails on 2024-01-04 */
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT count(*) FROM runs"), ==, 4);
    CHECK(strstr(f.notes, "1:taken") && strstr(f.notes, "2:taken"));
    CHECK(strstr(f.notes, "1:done") && strstr(f.notes, "2:done"));

    /* the same range again skips what succeeded and resumes what failed */
    again = request(&f, "backfill", "2024-01-01", "2024-01-04", NULL, 0);
    serve_once(&f);
    r = get(&f, again);
    CHECK_INT(r.runs, ==, 1);
    CHECK_INT(r.skipped, ==, 3);
    CHECK_INT(r.failed, ==, 1);
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT max(try_number) FROM task_instances t JOIN runs r ON r.id = "
                       "t.run_id WHERE r.ds = '2024-01-01'"),
              ==, 1);
    /* with rerun every interval runs again */
    rerun = request(&f, "backfill", "2024-01-01", "2024-01-02", NULL, 1);
    serve_once(&f);
    r = get(&f, rerun);
    CHECK_INT(r.runs, ==, 2);
    CHECK_INT(r.skipped, ==, 0);
    CHECK_INT(r.succeeded, ==, 2);
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT max(try_number) FROM task_instances t JOIN runs r ON r.id = "
                       "t.run_id WHERE r.ds = '2024-01-01'"),
              ==, 2);
    /* an explicit run of a successful date runs it again */
    run = request(&f, "run", "2024-01-01", "2024-01-01", NULL, 0);
    serve_once(&f);
    r = get(&f, run);
    CHECK_INT(r.runs, ==, 1);
    CHECK_INT(r.succeeded, ==, 1);
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT max(try_number) FROM task_instances t JOIN runs r ON r.id = "
                       "t.run_id WHERE r.ds = '2024-01-01'"),
              ==, 3);
    teardown(&f);
}

TEST(handoff_clear_clears_then_runs_and_waits_for_a_run_in_flight)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_request r;
    weir_interval iv;
    weir_date d;
    int64_t clear;
    setup(&f);
    request(&f, "run", "2024-01-05", "2024-01-05", NULL, 0);
    serve_once(&f);

    /* while the run of the date is in flight, the clear waits */
    CHECK_INT(weir_date_parse("2024-01-05", &d), ==, 0);
    CHECK_INT(weir_schedule_interval_on(&f.pls.items[0]->schedule, d, &iv), ==, 0);
    CHECK_OK(weir_exec_add_run(f.x, f.pls.items[0], &iv, "manual", WEIR_EXEC_RERUN, NULL, &err),
             &err);
    clear = request(&f, "clear", "2024-01-05", "2024-01-05", "b", 0);
    CHECK_INT(weir_exec_step(f.x, 0, &err), >=, 0);
    CHECK_OK(weir_handoff_take(f.x, f.store, &f.pls, 4242, note, &f, NULL, &err), &err);
    r = get(&f, clear);
    CHECK_STR(r.state, "pending");
    CHECK_STR(r.message, "waiting for the run in flight to finish");
    weir_request_release(&r);
    CHECK(strstr(f.notes, "waiting") != NULL);
    CHECK_OK(weir_exec_run(f.x, &err), &err);

    /* then it clears task b only and runs it */
    serve_once(&f);
    r = get(&f, clear);
    CHECK_STR(r.state, "done");
    CHECK_INT(r.cleared, ==, 1);
    CHECK_INT(r.succeeded, ==, 1);
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT try_number FROM task_instances WHERE task_id = 'a'"), ==, 2);
    CHECK_INT(qint(&f, "SELECT try_number FROM task_instances WHERE task_id = 'b'"), ==, 3);
    teardown(&f);
}

TEST(handoff_cancel_drops_the_runs_not_started_and_lets_the_others_finish)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_request r;
    weir_id_vec ids = WEIR_VEC_INIT;
    int64_t bf;
    setup(&f);
    f.pls.items[0]->max_active_runs = 1; /* one run admitted at a time */
    bf = request(&f, "backfill", "2024-01-01", "2024-01-04", NULL, 0);
    CHECK_INT(weir_exec_step(f.x, 0, &err), >=, 0);
    CHECK_OK(weir_handoff_take(f.x, f.store, &f.pls, 4242, note, &f, NULL, &err), &err);
    /* the first run is admitted, its first task handed to a worker */
    CHECK_INT(weir_exec_step(f.x, 0, &err), ==, 1);
    CHECK_OK(weir_handoff_run_ids(f.store, bf, &ids, &err), &err);
    CHECK_INT(ids.len, ==, 4);
    CHECK_INT(weir_exec_drop_run(f.x, ids.items[0], &err), ==, 0); /* admitted: kept */
    CHECK_INT(weir_exec_drop_run(f.x, 9999, &err), ==, WEIR_ENOTFOUND);
    weir_error_clear(&err);

    CHECK_OK(weir_store_request_cancel(f.store, bf, "bo@host (pid 1)", NULL, &err), &err);
    CHECK_OK(weir_handoff_cancel(f.x, f.store, note, &f, &err), &err);
    CHECK(strstr(f.notes, "1:cancelling") != NULL);
    CHECK_INT(qint(&f, "SELECT count(*) FROM runs WHERE state = 'cancelled' AND ended_at IS NOT "
                       "NULL AND started_at IS NULL"),
              ==, 3);
    r = get(&f, bf);
    CHECK_STR(r.state, "running"); /* its first run still runs */
    CHECK_INT(r.dropped, ==, 3);
    weir_request_release(&r);
    /* a second look drops nothing more */
    CHECK_OK(weir_handoff_cancel(f.x, f.store, note, &f, &err), &err);
    r = get(&f, bf);
    CHECK_INT(r.dropped, ==, 3);
    weir_request_release(&r);

    /* the started run finishes; the plain settle leaves the request alone */
    CHECK_OK(weir_exec_run(f.x, &err), &err);
    CHECK_OK(weir_handoff_settle(f.store, note, &f, &err), &err);
    CHECK(strstr(f.notes, "1:done") == NULL);
    CHECK_OK(weir_handoff_cancel(f.x, f.store, note, &f, &err), &err);
    CHECK(strstr(f.notes, "1:cancelled") != NULL);
    r = get(&f, bf);
    CHECK_STR(r.state, "cancelled");
    CHECK_INT(r.succeeded, ==, 1);
    CHECK_INT(r.failed, ==, 0);
    CHECK_STR(r.message,
              "cancelled by bo@host (pid 1): 3 runs dropped, 1 finished");
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT count(*) FROM runs WHERE state = 'success'"), ==, 1);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances t JOIN runs r ON r.id = t.run_id "
                       "WHERE r.state = 'cancelled' AND t.state <> 'none'"),
              ==, 0);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state IN ('queued', "
                       "'running')"),
              ==, 0);
    weir_vec_release(&ids);
    weir_error_release(&err);
    teardown(&f);
}

TEST(handoff_cancel_drops_what_a_stopped_server_left_queued)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_exec_options o = { 0 };
    weir_request r;
    int64_t bf;
    setup(&f);
    f.pls.items[0]->max_active_runs = 1;
    bf = request(&f, "backfill", "2024-01-01", "2024-01-03", NULL, 0);
    CHECK_INT(weir_exec_step(f.x, 0, &err), >=, 0);
    CHECK_OK(weir_handoff_take(f.x, f.store, &f.pls, 4242, note, &f, NULL, &err), &err);
    CHECK_OK(weir_exec_run(f.x, &err), &err);
    weir_exec_free(f.x);
    /* what a server stopped half way leaves (weir_exec_stop): the first run
     * interrupted after its task a, all runs queued */
    CHECK_OK(weir_store_exec(f.store,
                             "UPDATE runs SET state = 'queued', ended_at = NULL;"
                             "UPDATE task_instances SET state = 'none' WHERE run_id > 1 OR "
                             "task_id = 'b';"
                             "UPDATE task_instances SET state = 'up_for_retry' WHERE run_id = 1 "
                             "AND task_id = 'b'",
                             &err),
             &err);

    CHECK_OK(weir_store_request_cancel(f.store, bf, "bo@host (pid 1)", NULL, &err), &err);
    /* the next server looks before it resumes anything */
    o.workers = 1;
    o.log_dir = f.logs.ptr;
    CHECK_OK(weir_exec_new(NULL, f.store, NULL, &o, &f.x, &err), &err);
    CHECK_OK(weir_handoff_cancel(f.x, f.store, note, &f, &err), &err);
    r = get(&f, bf);
    CHECK_STR(r.state, "cancelled");
    CHECK_INT(r.dropped, ==, 3);
    CHECK_INT(r.succeeded + r.failed, ==, 0);
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT count(*) FROM runs WHERE state = 'cancelled'"), ==, 3);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state IN ('queued', "
                       "'running')"),
              ==, 0);
    /* and a later backfill runs them again, every task */
    CHECK_INT(weir_exec_step(f.x, 0, &err), >=, 0);
    bf = request(&f, "backfill", "2024-01-01", "2024-01-03", NULL, 0);
    serve_once(&f);
    r = get(&f, bf);
    CHECK_STR(r.state, "done");
    CHECK_INT(r.runs, ==, 3);
    CHECK_INT(r.succeeded, ==, 3);
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE task_id = 'a' AND "
                       "try_number = 2"),
              ==, 3);
    weir_error_release(&err);
    teardown(&f);
}

TEST(handoff_refuses_what_the_server_cannot_do)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_request r = { 0 };
    int64_t no_run, no_task;
    setup(&f);
    snprintf(r.kind, sizeof(r.kind), "run");
    r.pipeline = (char *)"unknown";
    snprintf(r.date_from, sizeof(r.date_from), "2024-01-01");
    snprintf(r.date_to, sizeof(r.date_to), "2024-01-01");
    r.requested_by = (char *)"test";
    CHECK_OK(weir_store_request_add(f.store, &r, &err), &err);
    no_run = request(&f, "clear", "2024-02-01", "2024-02-01", NULL, 0);
    request(&f, "run", "2024-02-02", "2024-02-02", NULL, 0);
    serve_once(&f);
    no_task = request(&f, "clear", "2024-02-02", "2024-02-02", "zz", 0);
    serve_once(&f);

    r = get(&f, 1);
    CHECK_STR(r.state, "failed");
    CHECK(strstr(r.message, "the server has no pipeline 'unknown'") != NULL);
    weir_request_release(&r);
    r = get(&f, no_run);
    CHECK_STR(r.state, "failed");
    CHECK(strstr(r.message, "has no run for 2024-02-01") != NULL);
    weir_request_release(&r);
    r = get(&f, no_task);
    CHECK_STR(r.state, "failed");
    CHECK(strstr(r.message, "has no task 'zz'") != NULL);
    weir_request_release(&r);
    CHECK_INT(qint(&f, "SELECT count(*) FROM requests WHERE state = 'done'"), ==, 1);
    teardown(&f);
}

typedef struct seen {
    char text[512];
} seen;

static void on_event(void *data, const weir_exec_event *ev)
{
    seen *s = data;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof(s->text) - len, "%s %s %s %s|",
             ev->kind == WEIR_EXEC_RUN_STARTED ? "started"
             : ev->kind == WEIR_EXEC_RUN_DONE  ? "done"
                                               : "task",
             ev->ds, ev->task ? ev->task : "-", ev->state);
}

TEST(handoff_follow_reports_runs_and_notices_no_server)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_handoff_follow_opts o = { 0 };
    weir_request fin = { 0 };
    seen s = { "" };
    long pid = 0;
    int64_t bf, pending;
    setup(&f);
    bf = request(&f, "backfill", "2024-01-03", "2024-01-04", NULL, 0);
    serve_once(&f);

    o.project_dir = weir_test_tmpdir();
    o.server_pid = 4242;
    o.on_event = on_event;
    o.event_data = &s;
    CHECK_OK(weir_handoff_follow(f.store, bf, &o, &fin, &err), &err);
    CHECK_STR(fin.state, "done");
    CHECK_INT(fin.failed, ==, 1);
    weir_request_release(&fin);
    CHECK(strstr(s.text, "started 2024-01-03 - running|") != NULL);
    CHECK(strstr(s.text, "done 2024-01-03 - success|") != NULL);
    /* the failed task is reported (once) before its run */
    {
        const char *t = strstr(s.text, "task 2024-01-04 b failed|");
        const char *r = strstr(s.text, "done 2024-01-04 - failed|");
        CHECK(t != NULL && r != NULL && t < r);
        CHECK(strstr(t + 1, "task 2024-01-04 b failed|") == NULL);
        CHECK(strstr(s.text, "task 2024-01-03") == NULL);
    }

    /* no server holds the project: a pending request is kept, and said so */
    CHECK_INT(weir_handoff_server(weir_test_tmpdir(), &pid), ==, 0);
    pending = request(&f, "run", "2024-01-06", "2024-01-06", NULL, 0);
    CHECK_INT(weir_handoff_follow(f.store, pending, &o, &fin, &err), ==, WEIR_ENOTFOUND);
    CHECK(strstr(weir_error_str(&err), "the server (pid 4242) is gone before it took request") !=
          NULL);
    weir_error_release(&err);
    fin = get(&f, pending);
    CHECK_STR(fin.state, "pending");
    weir_request_release(&fin);
    teardown(&f);
}
