/*
 * Tests of orchestrate/executor, state and rollback: the task instance
 * state machine as the store records it, retries with exponential backoff,
 * timeouts of shell and SQL tasks, sensors' timeout and soft_fail, trigger
 * rules, depends_on_past, placeholders, recovery of orphaned instances, a
 * clean stop, alerts to a webhook on loopback, and rollback then restore
 * giving back identical tables.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/fs.h"
#include "orchestrate/executor.h"
#include "orchestrate/rollback.h"
#include "orchestrate/state.h"

typedef struct fixture {
    weir_store *store;
    weir_engine *engine;
    weir_pipeline *pl;
} fixture;

static void setup(fixture *f, const char *yaml)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_buf path = WEIR_BUF_INIT;
    memset(f, 0, sizeof(*f));
    weir_buf_addf(&path, "%s/store.db", weir_test_tmpdir());
    CHECK_OK(weir_store_open(path.ptr, NULL, &f->store, &err), &err);
    CHECK_OK(weir_engine_open(":memory:", NULL, &f->engine, &err), &err);
    weir_pipeline_load_buf(NULL, "t.yml", yaml, strlen(yaml), &f->pl, &d);
    if (!f->pl) {
        weir_diags_print(&d, stderr);
        CHECK(f->pl != NULL);
    }
    weir_diags_release(&d);
    weir_buf_release(&path);
}

static void teardown(fixture *f)
{
    weir_pipeline_free(f->pl);
    weir_engine_free(f->engine);
    weir_store_free(f->store);
}

static weir_interval interval(fixture *f, const char *ds)
{
    weir_date d;
    weir_interval iv;
    CHECK_INT(weir_date_parse(ds, &d), ==, 0);
    CHECK_INT(weir_schedule_interval_on(&f->pl->schedule, d, &iv), ==, 0);
    return iv;
}

/* An executor with options o (and the fixture's warehouse, or none) whose
 * logs go to the test's folder. */
static weir_exec *exec_with(fixture *f, weir_exec_options o, int warehouse)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x = NULL;
    weir_buf logs = WEIR_BUF_INIT;
    weir_buf_addf(&logs, "%s/logs", weir_test_tmpdir());
    o.log_dir = logs.ptr;
    CHECK_OK(weir_exec_new(NULL, f->store, warehouse ? f->engine : NULL, &o, &x, &err), &err);
    weir_buf_release(&logs);
    return x;
}

static weir_exec *exec_new(fixture *f)
{
    return exec_with(f, (weir_exec_options){ 0 }, 1);
}

/* Adds the run of ds to x and steps it n times (50 ms waits), checking it
 * is still unfinished after each. */
static void start_run(fixture *f, weir_exec *x, const char *ds, int n)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_interval iv = interval(f, ds);
    CHECK_OK(weir_exec_add_run(x, f->pl, &iv, "manual", 0, NULL, &err), &err);
    for (int i = 0; i < n; i++)
        CHECK_INT(weir_exec_step(x, 50, &err), ==, 1);
}

/* Runs the given dates (NULL-terminated) to the end. */
static void run_dates(fixture *f, const char *const *dates, unsigned flags)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x = exec_with(f, (weir_exec_options){ .workers = 4 }, 1);
    for (size_t i = 0; dates[i]; i++) {
        weir_interval iv = interval(f, dates[i]);
        int rc = weir_exec_add_run(x, f->pl, &iv, "manual", flags, NULL, &err);
        CHECK(rc == 0 || rc == WEIR_EEXISTS);
    }
    CHECK_OK(weir_exec_run(x, &err), &err);
    weir_exec_free(x);
}

static void run_date(fixture *f, const char *ds)
{
    const char *dates[] = { ds, NULL };
    run_dates(f, dates, 0);
}

static int64_t qint(fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int64_t qint(fixture *f, const char *fmt, ...)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    int64_t v = -1;
    va_list ap;
    va_start(ap, fmt);
    weir_buf_vaddf(&sql, fmt, ap);
    va_end(ap);
    CHECK_OK(weir_store_query_int(f->store, sql.ptr, &v, &err), &err);
    weir_buf_release(&sql);
    return v;
}

/* The state (and error) of a task instance, from the store. */
static const char *ti(fixture *f, const char *ds, const char *task, const char **error)
{
    static char state[32], errbuf[512];
    weir_store_stmt *st = NULL;
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_store_prepare(f->store,
                                "SELECT t.state, t.error FROM task_instances t JOIN runs r ON r.id "
                                "= t.run_id WHERE r.ds = ?1 AND t.task_id = ?2",
                                &st, &err),
             &err);
    weir_store_bind_text(st, 1, ds, NULL);
    weir_store_bind_text(st, 2, task, NULL);
    CHECK_INT(weir_store_step(st, &err), ==, 1);
    snprintf(state, sizeof(state), "%s", weir_store_col_text(st, 0));
    snprintf(errbuf, sizeof(errbuf), "%s",
             weir_store_col_text(st, 1) ? weir_store_col_text(st, 1) : "");
    if (error)
        *error = errbuf;
    weir_store_stmt_free(st);
    return state;
}

static const char *run_state(fixture *f, const char *ds)
{
    static char state[16];
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_state_run_state(f->store, f->pl->name, ds, state, &err), &err);
    return state;
}

TEST(chain_succeeds_and_every_step_is_recorded)
{
    fixture f;
    setup(&f, "pipeline: p\n"
              "tasks:\n"
              "  - name: make\n"
              "    sql: create table t (day date, n int)\n"
              "  - name: fill\n"
              "    sql: insert into t values ('{{ ds }}', 1)\n"
              "    depends_on: [make]\n"
              "  - name: say\n"
              "    run: echo \"ds is $WEIR_DS\"\n"
              "    depends_on: [fill]\n");
    run_date(&f, "2024-01-02");
    CHECK_STR(run_state(&f, "2024-01-02"), "success");
    CHECK_STR(ti(&f, "2024-01-02", "make", NULL), "success");
    CHECK_STR(ti(&f, "2024-01-02", "say", NULL), "success");
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts WHERE state = 'success'"), ==, 3);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts WHERE ended_at < started_at"), ==, 0);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'running'"), ==, 0);
    {
        weir_buf log = WEIR_BUF_INIT, path = WEIR_BUF_INIT;
        weir_error err = WEIR_ERROR_INIT;
        weir_buf_addf(&path, "%s/logs/p/2024-01-02/say.1.log", weir_test_tmpdir());
        CHECK_OK(weir_fs_read_file(path.ptr, &log, 0, &err), &err);
        CHECK_CONTAINS(log.ptr, "ds is 2024-01-02");
        weir_buf_release(&log);
        weir_buf_release(&path);
    }
    /* the run again: already successful, so it is not added */
    {
        weir_error err = WEIR_ERROR_INIT;
        weir_interval iv = interval(&f, "2024-01-02");
        weir_exec *x = exec_new(&f);
        CHECK_INT(weir_exec_add_run(x, f.pl, &iv, "manual", 0, NULL, &err), ==, WEIR_EEXISTS);
        weir_exec_free(x);
    }
    teardown(&f);
}

TEST(retries_back_off_exponentially_then_fail)
{
    fixture f;
    setup(&f, "pipeline: p\n"
              "alert: { stderr: false }\n"
              "tasks:\n"
              "  - name: flaky\n"
              "    run: exit 3\n"
              "    retries: 2\n"
              "    retry_delay: 100ms\n"
              "  - name: after\n"
              "    run: 'true'\n"
              "    depends_on: [flaky]\n");
    int64_t t0 = weir_monotonic_us();
    run_date(&f, "2024-01-02");
    int64_t took = weir_monotonic_us() - t0;
    const char *e;
    CHECK_STR(ti(&f, "2024-01-02", "flaky", &e), "failed");
    CHECK_CONTAINS(e, "exited with status 3");
    CHECK_STR(ti(&f, "2024-01-02", "after", NULL), "upstream_failed");
    CHECK_STR(run_state(&f, "2024-01-02"), "failed");
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts WHERE state = 'failed'"), ==, 3);
    CHECK_INT(qint(&f, "SELECT max(try_number) FROM task_instances"), ==, 3);
    /* waits of 100 ms then 200 ms, each +-10% */
    CHECK_INT(took, >=, 270000);
    {
        int64_t gap1 = qint(&f, "SELECT CAST(round((julianday(b.started_at) - julianday(a.ended_at)) * "
                                "86400000) AS INTEGER) FROM task_attempts a, task_attempts b WHERE "
                                "a.try_number = 1 AND b.try_number = 2");
        int64_t gap2 = qint(&f, "SELECT CAST(round((julianday(b.started_at) - julianday(a.ended_at)) * "
                                "86400000) AS INTEGER) FROM task_attempts a, task_attempts b WHERE "
                                "a.try_number = 2 AND b.try_number = 3");
        CHECK_INT(gap1, >=, 85);
        CHECK_INT(gap2, >=, 175);
        CHECK_INT(gap2, >, gap1);
    }
    teardown(&f);
}

TEST(a_retry_that_succeeds_ends_in_success)
{
    fixture f;
    weir_buf yaml = WEIR_BUF_INIT;
    weir_buf_addf(&yaml,
                  "pipeline: p\n"
                  "tasks:\n"
                  "  - name: once\n"
                  "    run: test -f %s/m || { touch %s/m; exit 1; }\n"
                  "    retries: 1\n"
                  "    retry_delay: 10ms\n",
                  weir_test_tmpdir(), weir_test_tmpdir());
    setup(&f, yaml.ptr);
    run_date(&f, "2024-01-02");
    CHECK_STR(ti(&f, "2024-01-02", "once", NULL), "success");
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts"), ==, 2);
    CHECK_STR(run_state(&f, "2024-01-02"), "success");
    weir_buf_release(&yaml);
    teardown(&f);
}

TEST(timeouts_kill_shell_tasks_and_interrupt_queries)
{
    fixture f;
    const char *e;
    setup(&f, "pipeline: p\n"
              "alert: { stderr: false }\n"
              "tasks:\n"
              "  - name: slow_shell\n"
              "    run: sleep 30\n"
              "    timeout: 200ms\n"
              "  - name: slow_sql\n"
              "    sql: select sum(a.range * b.range) from range(100000) a, range(100000) b\n"
              "    timeout: 300ms\n");
    int64_t t0 = weir_monotonic_us();
    run_date(&f, "2024-01-02");
    CHECK_INT(weir_monotonic_us() - t0, <, 10000000);
    CHECK_STR(ti(&f, "2024-01-02", "slow_shell", &e), "failed");
    CHECK_CONTAINS(e, "timed out after 0.2s");
    CHECK_STR(ti(&f, "2024-01-02", "slow_sql", &e), "failed");
    CHECK_CONTAINS(e, "timed out after 0.3s: the query was interrupted");
    teardown(&f);
}

/* Workers schedule dependants themselves while the owner waits; what they
 * did is in the store whenever weir_exec_step returns. */
TEST(workers_start_dependants_and_the_store_keeps_up)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x = NULL;
    weir_exec_stats s;
    weir_interval iv;
    weir_buf yaml = WEIR_BUF_INIT;
    int rc;
    weir_buf_adds(&yaml, "pipeline: p\ntasks:\n");
    for (int i = 0; i < 60; i++) {
        /* a few milliseconds each, so the owner is waiting when most end */
        weir_buf_addf(&yaml, "  - name: t%d\n    sql: select count(*) + %d from range(2000000)\n",
                      i, i);
        if (i % 3)
            weir_buf_addf(&yaml, "    depends_on: [t%d]\n", i - 1);
    }
    setup(&f, yaml.ptr);
    x = exec_new(&f);
    iv = interval(&f, "2024-01-02");
    CHECK_OK(weir_exec_add_run(x, f.pl, &iv, "manual", 0, NULL, &err), &err);
    while ((rc = weir_exec_step(x, 1000, &err)) == 1) {
        int64_t settled = qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'success'");
        weir_exec_get_stats(x, &s);
        /* every instance settled in memory is settled in the store */
        CHECK_INT(settled, ==, (int64_t)s.tasks_done);
        /* and every attempt started in memory is in the store */
        CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts"), >=, settled);
    }
    CHECK_OK(rc, &err);
    weir_exec_get_stats(x, &s);
    CHECK_INT((int64_t)s.tasks_done, ==, 60);
    CHECK_STR(run_state(&f, "2024-01-02"), "success");
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts WHERE state = 'success'"), ==, 60);
    /* most dependants were started by the worker that finished their upstream */
    CHECK_INT((int64_t)s.led, >, 0);
    weir_exec_free(x);
    weir_buf_release(&yaml);
    teardown(&f);
}

/* A task a worker started on its own still times out on time: the waiting
 * owner wakes for its deadline rather than at the end of its wait. */
TEST(a_deadline_set_by_a_worker_wakes_the_owner)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x = NULL;
    weir_interval iv;
    const char *e;
    int rc;
    setup(&f, "pipeline: p\n"
              "alert: { stderr: false }\n"
              "tasks:\n"
              "  - name: first\n"
              "    run: sleep 0.3\n"
              "  - name: slow_sql\n"
              "    sql: select sum(a.range * b.range) from range(100000) a, range(100000) b\n"
              "    timeout: 300ms\n"
              "    depends_on: [first]\n");
    x = exec_new(&f);
    iv = interval(&f, "2024-01-02");
    CHECK_OK(weir_exec_add_run(x, f.pl, &iv, "manual", 0, NULL, &err), &err);
    int64_t t0 = weir_monotonic_us();
    /* long waits: only the deadline can end them early */
    while ((rc = weir_exec_step(x, 20000, &err)) == 1)
        ;
    CHECK_OK(rc, &err);
    /* without it, the owner would sleep until its heartbeat is due (5 s) */
    CHECK_INT(weir_monotonic_us() - t0, <, 3500000);
    CHECK_STR(ti(&f, "2024-01-02", "slow_sql", &e), "failed");
    CHECK_CONTAINS(e, "timed out after 0.3s: the query was interrupted");
    weir_exec_free(x);
    teardown(&f);
}

TEST(sensor_timeout_fails_or_skips_with_soft_fail)
{
    fixture f;
    const char *e;
    setup(&f, "pipeline: p\n"
              "alert: { stderr: false }\n"
              "inputs:\n"
              "  - file: nowhere/{{ ds }}/_SUCCESS\n"
              "    name: hard\n"
              "    poke_interval: 50ms\n"
              "    timeout: 200ms\n"
              "  - sql: select count(*) > 5 from range(3)\n"
              "    name: soft\n"
              "    poke_interval: 50ms\n"
              "    timeout: 200ms\n"
              "    soft_fail: true\n"
              "  - sql: select true\n"
              "    name: yes\n"
              "tasks:\n"
              "  - name: after_hard\n"
              "    run: 'true'\n"
              "    depends_on: [hard]\n"
              "  - name: after_soft\n"
              "    run: 'true'\n"
              "    depends_on: [soft, yes]\n"
              "  - name: after_yes\n"
              "    run: 'true'\n"
              "    depends_on: [yes]\n");
    run_date(&f, "2024-01-02");
    CHECK_STR(ti(&f, "2024-01-02", "hard", &e), "failed");
    CHECK_CONTAINS(e, "sensor timed out after 0.2s");
    CHECK_STR(ti(&f, "2024-01-02", "after_hard", NULL), "upstream_failed");
    CHECK_STR(ti(&f, "2024-01-02", "soft", &e), "skipped");
    CHECK_CONTAINS(e, "soft_fail");
    CHECK_STR(ti(&f, "2024-01-02", "after_soft", NULL), "skipped");
    CHECK_STR(ti(&f, "2024-01-02", "yes", NULL), "success");
    CHECK_STR(ti(&f, "2024-01-02", "after_yes", NULL), "success");
    /* the tasks settled by their upstreams never ran */
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts"), ==, 4);
    teardown(&f);
}

TEST(trigger_rules)
{
    fixture f;
    setup(&f, "pipeline: p\n"
              "alert: { stderr: false }\n"
              "tasks:\n"
              "  - name: ok\n"
              "    run: 'true'\n"
              "  - name: bad\n"
              "    run: 'false'\n"
              "  - name: done\n"
              "    run: 'true'\n"
              "    depends_on: [ok, bad]\n"
              "    trigger_rule: all_done\n"
              "  - name: on_failure\n"
              "    run: 'true'\n"
              "    depends_on: [ok, bad]\n"
              "    trigger_rule: one_failed\n"
              "  - name: on_failure_of_ok\n"
              "    run: 'true'\n"
              "    depends_on: [ok]\n"
              "    trigger_rule: one_failed\n"
              "  - name: all_ok\n"
              "    run: 'true'\n"
              "    depends_on: [ok, bad]\n");
    run_date(&f, "2024-01-02");
    CHECK_STR(ti(&f, "2024-01-02", "done", NULL), "success");
    CHECK_STR(ti(&f, "2024-01-02", "on_failure", NULL), "success");
    CHECK_STR(ti(&f, "2024-01-02", "on_failure_of_ok", NULL), "skipped");
    CHECK_STR(ti(&f, "2024-01-02", "all_ok", NULL), "upstream_failed");
    CHECK_STR(run_state(&f, "2024-01-02"), "failed");
    teardown(&f);
}

TEST(depends_on_past_waits_for_and_follows_the_previous_interval)
{
    fixture f;
    const char *e;
    setup(&f, "pipeline: p\n"
              "alert: { stderr: false }\n"
              "tasks:\n"
              "  - name: step\n"
              "    run: test \"$WEIR_DS\" != 2024-01-02\n"
              "    depends_on_past: true\n");
    {
        /* three days at once: each waits for the previous one's step */
        const char *dates[] = { "2024-01-03", "2024-01-01", "2024-01-02", "2024-01-04", NULL };
        run_dates(&f, dates, 0);
    }
    CHECK_STR(ti(&f, "2024-01-01", "step", NULL), "success");
    CHECK_STR(ti(&f, "2024-01-02", "step", NULL), "failed");
    CHECK_STR(ti(&f, "2024-01-03", "step", &e), "upstream_failed");
    CHECK_CONTAINS(e, "depends_on_past: the previous interval's 'step' is failed");
    CHECK_STR(ti(&f, "2024-01-04", "step", NULL), "upstream_failed");
    teardown(&f);
}

TEST(placeholders_fail_clearly)
{
    fixture f;
    const char *e;
    setup(&f, "pipeline: p\n"
              "alert: { stderr: false }\n"
              "models: tag:x\n"
              "expectations: [suite]\n"
              "monitor: { row_count: [raw.events] }\n");
    run_date(&f, "2024-01-02");
    CHECK_STR(ti(&f, "2024-01-02", "models", &e), "failed");
    CHECK_CONTAINS(e, "model tasks need the project's models, which this command did not load");
    CHECK_STR(ti(&f, "2024-01-02", "expect_suite", NULL), "upstream_failed");
    teardown(&f);
}

TEST(orphans_of_a_dead_process_are_recovered_and_retried)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    size_t n = 0;
    setup(&f, "pipeline: p\n"
              "tasks:\n"
              "  - name: a\n"
              "    run: 'true'\n"
              "  - name: b\n"
              "    run: 'true'\n"
              "    depends_on: [a]\n");
    run_date(&f, "2024-01-02");
    /* pretend a process that died was running b: pid 0 is never alive */
    {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "UPDATE task_instances SET state = 'running', pid = 999999999, hostname = '%s', "
                 "heartbeat_at = '2020-01-01T00:00:00.000Z' WHERE task_id = 'b';"
                 "UPDATE task_attempts SET state = 'running', ended_at = NULL WHERE "
                 "task_instance_id = (SELECT id FROM task_instances WHERE task_id = 'b');"
                 "UPDATE runs SET state = 'running', pid = 999999999;",
                 weir_state_hostname());
        CHECK_OK(weir_store_exec(f.store, sql, &err), &err);
    }
    CHECK_OK(weir_state_recover(f.store, 60000, &n, &err), &err);
    CHECK_INT(n, ==, 1);
    {
        const char *e;
        CHECK_STR(ti(&f, "2024-01-02", "b", &e), "up_for_retry");
        CHECK_CONTAINS(e, "orphaned: process 999999999");
    }
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts WHERE state = 'killed'"), ==, 1);
    CHECK_STR(run_state(&f, "2024-01-02"), "queued");
    run_date(&f, "2024-01-02");
    CHECK_STR(ti(&f, "2024-01-02", "b", NULL), "success");
    CHECK_STR(ti(&f, "2024-01-02", "a", NULL), "success");
    CHECK_INT(qint(&f, "SELECT try_number FROM task_instances WHERE task_id = 'a'"), ==, 1);
    CHECK_INT(qint(&f, "SELECT try_number FROM task_instances WHERE task_id = 'b'"), ==, 2);
    teardown(&f);
}

TEST(stop_leaves_nothing_running)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x;
    setup(&f, "pipeline: p\n"
              "tasks:\n"
              "  - name: long\n"
              "    run: sleep 30\n"
              "  - name: query\n"
              "    sql: select sum(a.range * b.range) from range(100000) a, range(100000) b\n");
    x = exec_new(&f);
    start_run(&f, x, "2024-01-02", 5);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'running'"), ==, 2);
    int64_t t0 = weir_monotonic_us();
    CHECK_OK(weir_exec_stop(x, &err), &err);
    CHECK_INT(weir_monotonic_us() - t0, <, 5000000);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'running'"), ==, 0);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'up_for_retry'"), ==, 2);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts WHERE state = 'killed'"), ==, 2);
    CHECK_STR(run_state(&f, "2024-01-02"), "queued");
    weir_exec_free(x);
    teardown(&f);
}

/* Jobs waiting in the pool's queue when the executor stops were never
 * started: no attempt, back to waiting; the running one is killed. */
TEST(stop_returns_queued_jobs_unstarted)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x;
    setup(&f, "pipeline: p\n"
              "tasks:\n"
              "  - name: a\n"
              "    run: sleep 30\n"
              "  - name: b\n"
              "    run: sleep 30\n"
              "  - name: c\n"
              "    run: sleep 30\n");
    x = exec_with(&f, (weir_exec_options){ .workers = 1 }, 1);
    start_run(&f, x, "2024-01-02", 4);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'running'"), ==, 1);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'queued'"), ==, 2);
    CHECK_OK(weir_exec_stop(x, &err), &err);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state IN ('running', "
                       "'queued')"),
              ==, 0);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts"), ==, 1);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts WHERE state = 'killed'"), ==, 1);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'up_for_retry'"), ==, 1);
    /* the two never started used no try */
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state NOT IN ('up_for_retry') "
                       "AND COALESCE(try_number, 0) = 0 AND started_at IS NULL"),
              ==, 2);
    weir_exec_free(x);
    teardown(&f);
}

/* --- alerts ---------------------------------------------------------------- */

typedef struct listener {
    int fd, port;
    weir_buf request;
} listener;

static void *serve_one(void *arg)
{
    listener *l = arg;
    int c = accept(l->fd, NULL, NULL);
    char buf[4096];
    ssize_t n;
    if (c < 0)
        return NULL;
    /* read headers and body: stop once the body's closing brace arrived */
    while ((n = read(c, buf, sizeof(buf))) > 0) {
        weir_buf_add(&l->request, buf, (size_t)n);
        if (strstr(l->request.ptr, "\r\n\r\n") && strchr(strstr(l->request.ptr, "\r\n\r\n"), '}'))
            break;
    }
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    if (write(c, resp, strlen(resp)) < 0) {
        /* the test then fails on the client's side */
    }
    close(c);
    return NULL;
}

TEST(alerts_post_json_with_text_to_the_webhook)
{
    listener l = { -1, 0, WEIR_BUF_INIT };
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    pthread_t th;
    weir_error err = WEIR_ERROR_INIT;
    l.fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_INT(bind(l.fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    CHECK_INT(listen(l.fd, 1), ==, 0);
    getsockname(l.fd, (struct sockaddr *)&a, &len);
    l.port = ntohs(a.sin_port);
    pthread_create(&th, NULL, serve_one, &l);

    fixture f;
    weir_buf yaml = WEIR_BUF_INIT;
    weir_buf_addf(&yaml,
                  "pipeline: p\n"
                  "alert: { webhook: \"http://127.0.0.1:%d/hook\", stderr: false }\n"
                  "tasks:\n"
                  "  - name: boom\n"
                  "    run: exit 1\n",
                  l.port);
    setup(&f, yaml.ptr);
    run_date(&f, "2024-01-02");
    pthread_join(th, NULL);
    close(l.fd);
    CHECK_CONTAINS(l.request.ptr, "POST /hook");
    CHECK_CONTAINS(l.request.ptr, "application/json");
    CHECK_CONTAINS(l.request.ptr, "{\"text\":\"weir: task 'boom' of pipeline 'p' failed for 2024-01-02");
    /* an unreachable webhook is an error, not a crash */
    CHECK_INT(weir_alert_send("http://127.0.0.1:1/x", "t", 0, &err), ==, WEIR_ERROR);
    weir_error_release(&err);
    weir_buf_release(&l.request);
    weir_buf_release(&yaml);
    teardown(&f);
}

/* --- rollback --------------------------------------------------------------- */

static int64_t wint(weir_conn *c, const char *sql)
{
    weir_result *r = NULL;
    weir_error err = WEIR_ERROR_INIT;
    int64_t v = -1;
    CHECK_OK(weir_conn_query(c, sql, &r, &err), &err);
    weir_result_int64(r, 0, 0, &v);
    weir_result_free(r);
    return v;
}

TEST(rollback_then_restore_gives_identical_tables)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_conn *c = NULL;
    weir_rollback_plan plan;
    int64_t action = 0, rows = 0;
    weir_date from, to;
    setup(&f, "pipeline: p\n"
              "outputs:\n"
              "  - table: raw.events\n"
              "    date_column: day\n"
              "  - table: mart.daily\n"
              "    date_column: ts\n");
    CHECK_OK(weir_conn_new(f.engine, &c, &err), &err);
    CHECK_OK(weir_conn_exec(c,
                            "CREATE SCHEMA raw; CREATE SCHEMA mart;"
                            "CREATE TABLE raw.events AS SELECT DATE '2024-01-01' + (i % 10)::INT AS "
                            "day, i, 'e' || i AS name, CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1.5 "
                            "END AS v FROM range(1000) t(i);"
                            "CREATE TABLE mart.daily AS SELECT day::TIMESTAMP + INTERVAL 3 HOUR AS "
                            "ts, count(*) AS n FROM raw.events GROUP BY day;"
                            "CREATE TABLE snap_e AS SELECT * FROM raw.events;"
                            "CREATE TABLE snap_d AS SELECT * FROM mart.daily;",
                            &err),
             &err);
    weir_date_parse("2024-01-03", &from);
    weir_date_parse("2024-01-05", &to);
    CHECK_OK(weir_rollback_plan_make(c, f.pl, from, to, &plan, &err), &err);
    CHECK_INT(plan.n, ==, 2);
    CHECK_STR(plan.tables[0].table, "mart.daily"); /* downstream first */
    CHECK_INT(plan.tables[0].rows, ==, 3);
    CHECK_INT(plan.tables[1].rows, ==, 300);
    CHECK_OK(weir_rollback_apply(c, f.store, f.pl, &plan, "tester", &action, &err), &err);
    weir_rollback_plan_release(&plan);
    CHECK_INT(wint(c, "SELECT count(*) FROM raw.events"), ==, 700);
    CHECK_INT(wint(c, "SELECT count(*) FROM mart.daily"), ==, 7);
    CHECK_INT(qint(&f, "SELECT count(*) FROM audit_log WHERE action = 'rollback' AND row_count = 303 "
                       "AND actor = 'tester'"),
              ==, 1);
    CHECK_OK(weir_rollback_restore(c, f.store, action, "tester", &rows, &err), &err);
    CHECK_INT(rows, ==, 303);
    CHECK_INT(wint(c, "SELECT count(*) FROM (SELECT * FROM raw.events EXCEPT ALL SELECT * FROM snap_e)"),
              ==, 0);
    CHECK_INT(wint(c, "SELECT count(*) FROM (SELECT * FROM snap_e EXCEPT ALL SELECT * FROM raw.events)"),
              ==, 0);
    CHECK_INT(wint(c, "SELECT count(*) FROM (SELECT * FROM mart.daily EXCEPT ALL SELECT * FROM snap_d)"),
              ==, 0);
    CHECK_INT(wint(c, "SELECT count(*) FROM raw.events"), ==, 1000);
    CHECK_INT(wint(c, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'weir_trash'"), ==, 0);
    /* restored once only */
    CHECK_INT(weir_rollback_restore(c, f.store, action, "tester", &rows, &err), ==, WEIR_EINVALID);
    weir_error_clear(&err);
    /* a second rollback, purged: gone for good, and audited */
    weir_date_parse("2024-01-01", &from);
    weir_date_parse("2024-01-01", &to);
    CHECK_OK(weir_rollback_plan_make(c, f.pl, from, to, &plan, &err), &err);
    CHECK_OK(weir_rollback_apply(c, f.store, f.pl, &plan, "tester", &action, &err), &err);
    weir_rollback_plan_release(&plan);
    {
        size_t n = 0;
        CHECK_OK(weir_rollback_purge(c, f.store, 0, "tester", &n, &err), &err);
        CHECK_INT(n, ==, 1);
    }
    CHECK_INT(wint(c, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'weir_trash'"), ==, 0);
    CHECK_INT(qint(&f, "SELECT count(*) FROM audit_log"), ==, 4);
    CHECK_INT(weir_rollback_restore(c, f.store, action, "tester", &rows, &err), ==, WEIR_EINVALID);
    weir_error_release(&err);
    weir_conn_free(c);
    teardown(&f);
}

TEST(rollback_refuses_a_table_without_date_column_before_deleting)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_conn *c = NULL;
    weir_rollback_plan plan;
    weir_date d;
    setup(&f, "pipeline: p\n"
              "outputs:\n"
              "  - table: a\n"
              "    date_column: day\n"
              "  - table: b\n"
              "  - table: c\n");
    CHECK_OK(weir_conn_new(f.engine, &c, &err), &err);
    weir_date_parse("2024-01-01", &d);
    CHECK_INT(weir_rollback_plan_make(c, f.pl, d, d, &plan, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(err.msg.ptr, "tables 'b', 'c' have no date column");
    CHECK_CONTAINS(err.msg.ptr, "nothing was deleted");
    weir_error_release(&err);
    weir_conn_free(c);
    teardown(&f);
}

TEST(concurrency_and_max_active_runs_bound_the_parallelism)
{
    fixture f;
    setup(&f, "pipeline: p\n"
              "concurrency: 1\n"
              "max_active_runs: 1\n"
              "tasks:\n"
              "  - name: a\n"
              "    run: sleep 0.2\n"
              "  - name: b\n"
              "    run: sleep 0.2\n");
    const char *dates[] = { "2024-01-01", "2024-01-02", NULL };
    run_dates(&f, dates, 0);
    CHECK_STR(run_state(&f, "2024-01-01"), "success");
    CHECK_STR(run_state(&f, "2024-01-02"), "success");
    /* no two attempts overlap: one task at a time */
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts x, task_attempts y WHERE x.id < y.id "
                       "AND x.started_at < y.ended_at AND y.started_at < x.ended_at"),
              ==, 0);
    /* the second run started after the first ended */
    CHECK_INT(qint(&f, "SELECT count(*) FROM runs x, runs y WHERE x.ds = '2024-01-01' AND "
                       "y.ds = '2024-01-02' AND y.started_at >= x.ended_at"),
              ==, 1);
    teardown(&f);
}

TEST(running_tasks_heartbeat)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x;
    setup(&f, "pipeline: p\n"
              "tasks:\n"
              "  - name: slow\n"
              "    run: sleep 0.4\n");
    x = exec_with(&f, (weir_exec_options){ .heartbeat_ms = 50 }, 1);
    start_run(&f, x, "2024-01-02", 6);
    /* still running, with a heartbeat newer than its start */
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'running' AND "
                       "heartbeat_at > started_at AND pid = %d",
                   (int)getpid()),
              ==, 1);
    CHECK_OK(weir_exec_run(x, &err), &err);
    CHECK_STR(ti(&f, "2024-01-02", "slow", NULL), "success");
    weir_exec_free(x);
    teardown(&f);
}

TEST(pipeline_sensor_waits_for_the_other_pipelines_run)
{
    fixture f, g;
    weir_diags d = WEIR_DIAGS_INIT;
    const char *e;
    setup(&f, "pipeline: upstream\n"
              "tasks:\n"
              "  - name: t\n"
              "    run: 'true'\n");
    /* the second pipeline shares the store */
    g = f;
    g.pl = NULL;
    const char *yaml = "pipeline: downstream\n"
                       "alert: { stderr: false }\n"
                       "inputs:\n"
                       "  - pipeline: upstream\n"
                       "    poke_interval: 50ms\n"
                       "    timeout: 300ms\n";
    CHECK_INT(weir_pipeline_load_buf(NULL, "d.yml", yaml, strlen(yaml), &g.pl, &d), ==, 0);
    run_date(&g, "2024-01-02");
    CHECK_STR(ti(&g, "2024-01-02", "wait_upstream", &e), "failed");
    CHECK_CONTAINS(e, "sensor timed out");
    run_date(&f, "2024-01-03");
    run_date(&g, "2024-01-03");
    {
        weir_store_stmt *st = NULL;
        weir_error err = WEIR_ERROR_INIT;
        CHECK_OK(weir_store_prepare(f.store,
                                    "SELECT t.state FROM task_instances t JOIN runs r ON r.id = "
                                    "t.run_id WHERE r.ds = '2024-01-03' AND t.task_id = "
                                    "'wait_upstream'",
                                    &st, &err),
                 &err);
        CHECK_INT(weir_store_step(st, &err), ==, 1);
        CHECK_STR(weir_store_col_text(st, 0), "success");
        weir_store_stmt_free(st);
    }
    weir_pipeline_free(g.pl);
    weir_diags_release(&d);
    teardown(&f);
}

/* weir serve reloads pipelines while runs of the previous load are in
 * flight: runs of two loads of one pipeline share its max_active_runs and
 * concurrency, and each keeps the load it was added with. */
typedef struct seen_runs {
    const weir_pipeline *by_day[2]; /* 2024-01-01, 2024-01-02 */
} seen_runs;

static void see_run(void *data, const weir_pipeline *pl, const weir_interval *iv, int done)
{
    seen_runs *s = data;
    char ds[WEIR_DATE_STRLEN];
    CHECK(!done);
    weir_date_format(weir_schedule_ds(&pl->schedule, iv), ds);
    s->by_day[strcmp(ds, "2024-01-01") != 0] = pl;
}

TEST(two_loads_of_a_pipeline_share_its_limits)
{
    static const char yaml[] = "pipeline: p\n"
                               "concurrency: 1\n"
                               "max_active_runs: 1\n"
                               "tasks:\n"
                               "  - name: a\n"
                               "    run: sleep 0.2\n";
    fixture f;
    weir_pipeline *again = NULL;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_interval iv1, iv2;
    weir_exec *x;
    setup(&f, yaml);
    CHECK_INT(weir_pipeline_load_buf(NULL, "t.yml", yaml, strlen(yaml), &again, &d), ==, 0);
    iv1 = interval(&f, "2024-01-01");
    iv2 = interval(&f, "2024-01-02");
    x = exec_new(&f);
    CHECK_OK(weir_exec_add_run(x, f.pl, &iv1, "manual", 0, NULL, &err), &err);
    CHECK_OK(weir_exec_add_run(x, again, &iv2, "manual", 0, NULL, &err), &err);
    CHECK_INT(weir_exec_unfinished(x, "p"), ==, 2);
    {
        /* each run is told with the object it was added with */
        seen_runs s = { { NULL, NULL } };
        weir_exec_each_run(x, see_run, &s);
        CHECK(s.by_day[0] == f.pl);
        CHECK(s.by_day[1] == again);
    }
    CHECK_OK(weir_exec_run(x, &err), &err);
    weir_exec_free(x);
    CHECK_STR(run_state(&f, "2024-01-01"), "success");
    CHECK_STR(run_state(&f, "2024-01-02"), "success");
    /* the second run started after the first ended */
    CHECK_INT(qint(&f, "SELECT count(*) FROM runs x, runs y WHERE x.ds = '2024-01-01' AND "
                       "y.ds = '2024-01-02' AND y.started_at >= x.ended_at"),
              ==, 1);
    weir_pipeline_free(again);
    weir_diags_release(&d);
    teardown(&f);
}

/* depends_on_past across two loads of a pipeline whose tasks moved: the
 * later interval's instance follows the earlier one's by task name, and a
 * run of either load in flight for an interval is that interval's run. */
TEST(depends_on_past_follows_the_previous_run_of_another_load)
{
    static const char old_yaml[] = "pipeline: p\n"
                                   "alert: { stderr: false }\n"
                                   "tasks:\n"
                                   "  - name: step\n"
                                   "    run: sleep 0.2; test \"$WEIR_DS\" != 2024-01-01\n"
                                   "    depends_on_past: true\n";
    static const char new_yaml[] = "pipeline: p\n"
                                   "alert: { stderr: false }\n"
                                   "tasks:\n"
                                   "  - name: first\n"
                                   "    run: 'true'\n"
                                   "  - name: step\n"
                                   "    run: 'true'\n"
                                   "    depends_on_past: true\n";
    fixture f;
    weir_pipeline *edited = NULL;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_interval iv1, iv2;
    weir_exec *x;
    const char *e;
    setup(&f, old_yaml);
    CHECK_INT(weir_pipeline_load_buf(NULL, "t.yml", new_yaml, strlen(new_yaml), &edited, &d), ==, 0);
    iv1 = interval(&f, "2024-01-01");
    iv2 = interval(&f, "2024-01-02");
    x = exec_new(&f);
    CHECK_OK(weir_exec_add_run(x, f.pl, &iv1, "manual", 0, NULL, &err), &err);
    /* the same interval with the edited load is the run in flight */
    CHECK_INT(weir_exec_add_run(x, edited, &iv1, "manual", 0, NULL, &err), ==, WEIR_EEXISTS);
    weir_error_clear(&err);
    CHECK_OK(weir_exec_add_run(x, edited, &iv2, "manual", 0, NULL, &err), &err);
    CHECK_OK(weir_exec_run(x, &err), &err);
    weir_exec_free(x);
    CHECK_STR(ti(&f, "2024-01-01", "step", NULL), "failed");
    CHECK_STR(ti(&f, "2024-01-02", "first", NULL), "success");
    CHECK_STR(ti(&f, "2024-01-02", "step", &e), "upstream_failed");
    CHECK_CONTAINS(e, "depends_on_past: the previous interval's 'step' is failed");
    weir_pipeline_free(edited);
    weir_diags_release(&d);
    teardown(&f);
}

/* An executor without a warehouse (shell tasks only) stops cleanly too:
 * its workers have no connection to interrupt. */
TEST(stop_without_a_warehouse)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_exec *x;
    setup(&f, "pipeline: p\n"
              "tasks:\n"
              "  - name: long\n"
              "    run: sleep 30\n");
    x = exec_with(&f, (weir_exec_options){ 0 }, 0);
    start_run(&f, x, "2024-01-02", 3);
    CHECK_OK(weir_exec_stop(x, &err), &err);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_attempts WHERE state = 'killed'"), ==, 1);
    CHECK_INT(qint(&f, "SELECT count(*) FROM task_instances WHERE state = 'running'"), ==, 0);
    weir_exec_free(x);
    teardown(&f);
}
