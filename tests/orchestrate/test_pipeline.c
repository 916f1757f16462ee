/*
 * Tests of orchestrate/pipeline: loading pipelines/NAME.yml, the DAG built
 * from its stages, every problem of a file reported with file:line:col and
 * "did you mean", durations and the {{ ds }} substitution.
 */
#include "harness.h"

#include "core/buf.h"
#include "orchestrate/pipeline.h"

static weir_pipeline *load(const char *yaml, weir_diags *d)
{
    weir_pipeline *pl = NULL;
    weir_pipeline_load_buf(NULL, "pipelines/t.yml", yaml, strlen(yaml), &pl, d);
    return pl;
}

static char *all(const weir_diags *d)
{
    weir_buf b = WEIR_BUF_INIT;
    for (size_t i = 0; i < d->list.len; i++) {
        weir_diag_format(&d->list.items[i], &b);
        weir_buf_addch(&b, '\n');
    }
    return weir_buf_detach(&b, NULL);
}

static const weir_task_spec *task(const weir_pipeline *pl, const char *id)
{
    long i = weir_pipeline_task_index(pl, id);
    CHECK(i >= 0);
    return &pl->tasks[i];
}

static int depends(const weir_pipeline *pl, const char *a, const char *b)
{
    const weir_task_spec *t = task(pl, a);
    long j = weir_pipeline_task_index(pl, b);
    for (size_t k = 0; k < t->n_up; k++)
        if ((long)t->up[k] == j)
            return 1;
    return 0;
}

TEST(stages_become_a_dag)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_pipeline *pl = load("pipeline: engagement\n"
                             "owner: growth\n"
                             "schedule: \"0 3 * * *\"\n"
                             "timezone: Europe/Paris\n"
                             "start: 2024-01-01\n"
                             "retries: 2\n"
                             "retry_delay: 30s\n"
                             "inputs:\n"
                             "  - table: raw.events\n"
                             "    partition: event_date\n"
                             "  - file: landing/{{ ds }}/_SUCCESS\n"
                             "    poke_interval: 500ms\n"
                             "    soft_fail: true\n"
                             "ingest: [app_db.users]\n"
                             "tasks:\n"
                             "  - name: load\n"
                             "    run: ./load.sh\n"
                             "  - name: cleanup\n"
                             "    sql: select 1\n"
                             "    depends_on: [wait_raw_events]\n"
                             "    trigger_rule: all_done\n"
                             "    timeout: 1m\n"
                             "models: \"tag:engagement\"\n"
                             "expectations: [daily_active_users]\n"
                             "monitor:\n"
                             "  row_count: [raw.events]\n"
                             "outputs:\n"
                             "  - table: mart.daily\n"
                             "    date_column: day\n",
                             &d);
    char *msgs = all(&d);
    CHECK_STR(msgs, "");
    free(msgs);
    CHECK(pl != NULL);
    CHECK_STR(pl->name, "engagement");
    CHECK_INT(pl->n_tasks, ==, 8);
    CHECK_INT(task(pl, "wait_raw_events")->kind, ==, WEIR_TASK_SENSOR_TABLE);
    CHECK_STR(task(pl, "wait_raw_events")->partition, "event_date");
    CHECK_INT(task(pl, "wait_file_2")->poke_interval_ms, ==, 500);
    CHECK(task(pl, "wait_file_2")->soft_fail);
    CHECK(depends(pl, "ingest_app_db_users", "wait_raw_events"));
    CHECK(depends(pl, "ingest_app_db_users", "wait_file_2"));
    CHECK(depends(pl, "load", "ingest_app_db_users"));
    CHECK(depends(pl, "cleanup", "wait_raw_events"));
    CHECK(!depends(pl, "cleanup", "ingest_app_db_users"));
    CHECK(depends(pl, "models", "load") && depends(pl, "models", "cleanup"));
    CHECK(depends(pl, "expect_daily_active_users", "models"));
    CHECK(depends(pl, "monitor_row_count_raw_events", "expect_daily_active_users"));
    CHECK_INT(task(pl, "load")->retries, ==, 2);
    CHECK_INT(task(pl, "load")->retry_delay_ms, ==, 30000);
    CHECK_INT(task(pl, "cleanup")->trigger, ==, WEIR_TRIGGER_ALL_DONE);
    CHECK_INT(task(pl, "cleanup")->timeout_ms, ==, 60000);
    CHECK_INT(pl->n_outputs, ==, 1);
    CHECK_STR(pl->outputs[0].date_column, "day");
    CHECK(pl->has_start);
    weir_pipeline_free(pl);
    weir_diags_release(&d);
}

TEST(expectation_items_carry_a_severity)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_pipeline *pl = load("pipeline: p\n"
                             "tasks:\n"
                             "  - { name: load, sql: 'select 1' }\n"
                             "expectations:\n"
                             "  - orders\n"
                             "  - { suite: users, severity: warn }\n"
                             "  - { suite: events, severity: error }\n",
                             &d);
    CHECK(pl != NULL);
    CHECK_STR(task(pl, "expect_orders")->text, "orders");
    CHECK_INT(task(pl, "expect_orders")->warn_only, ==, 0);
    CHECK_STR(task(pl, "expect_users")->text, "users");
    CHECK_INT(task(pl, "expect_users")->warn_only, ==, 1);
    CHECK_INT(task(pl, "expect_events")->warn_only, ==, 0);
    CHECK(depends(pl, "expect_users", "load"));
    weir_pipeline_free(pl);
    weir_diags_release(&d);

    pl = load("pipeline: p\nexpectations:\n  - { suite: a, severity: loud }\n  - [x]\n", &d);
    CHECK(pl == NULL);
    char *msg = all(&d);
    CHECK_CONTAINS(msg, "pipelines/t.yml:3:");
    CHECK_CONTAINS(msg, "'severity'");
    CHECK_CONTAINS(msg, "pipelines/t.yml:4:");
    free(msg);
    weir_diags_release(&d);
}

TEST(every_problem_is_reported_at_its_place)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_pipeline *pl = load("pipeline: p\n"
                             "shedule: \"@daily\"\n"
                             "timeout: soon\n"
                             "tasks:\n"
                             "  - name: a\n"
                             "    run: x\n"
                             "    trigger_rule: al_done\n",
                             &d);
    char *msgs = all(&d);
    CHECK(pl == NULL);
    CHECK_CONTAINS(msgs, "pipelines/t.yml:2:1: error: unknown key 'shedule' (did you mean 'schedule'?)");
    CHECK_CONTAINS(msgs, "pipelines/t.yml:3:10: error: expected a duration");
    CHECK_CONTAINS(msgs, "pipelines/t.yml:7:19: error:");
    CHECK_CONTAINS(msgs, "did you mean 'all_done'?");
    free(msgs);
    weir_diags_release(&d);
}

TEST(cron_errors_name_their_column)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_pipeline *pl = load("pipeline: p\nschedule: \"0 3 * * FRX\"\ntimezone: Mars/Base\n", &d);
    char *msgs = all(&d);
    CHECK(pl == NULL);
    /* the value starts at column 11, its quote at 11: FRX is at 11 + 1 + 8 */
    CHECK_CONTAINS(msgs, "pipelines/t.yml:2:20: error: invalid 'schedule':");
    CHECK_CONTAINS(msgs, "FRX");
    CHECK_CONTAINS(msgs, "pipelines/t.yml:3:11: error: invalid 'timezone':");
    free(msgs);
    weir_diags_release(&d);
}

TEST(dependencies_names_and_cycles_are_checked)
{
    weir_diags d = WEIR_DIAGS_INIT;
    weir_pipeline *pl = load("pipeline: p\n"
                             "tasks:\n"
                             "  - name: load\n"
                             "    run: a\n"
                             "    depends_on: [laod_x]\n"
                             "  - name: load\n"
                             "    run: b\n"
                             "  - name: c\n"
                             "    depends_on: [loadd]\n",
                             &d);
    char *msgs = all(&d);
    CHECK(pl == NULL);
    CHECK_CONTAINS(msgs, "pipelines/t.yml:5:18: error: task 'load' depends on unknown task 'laod_x'");
    CHECK_CONTAINS(msgs, "duplicate task name 'load'");
    CHECK_CONTAINS(msgs, "pipelines/t.yml:8:5: error: task 'c' needs exactly one of 'run'");
    free(msgs);
    weir_diags_release(&d);

    weir_diags_init(&d);
    pl = load("pipeline: p\n"
              "tasks:\n"
              "  - name: a\n"
              "    run: x\n"
              "    depends_on: [b]\n"
              "  - name: b\n"
              "    run: y\n"
              "    depends_on: [a]\n",
              &d);
    msgs = all(&d);
    CHECK(pl == NULL);
    CHECK_CONTAINS(msgs, "(a cycle)");
    free(msgs);
    weir_diags_release(&d);

    weir_diags_init(&d);
    pl = load("pipeline: p\n"
              "inputs:\n"
              "  - partition: day\n"
              "  - table: raw.x\n"
              "    file: y\n"
              "  - table: raw.z\n",
              &d);
    msgs = all(&d);
    CHECK(pl == NULL);
    CHECK_CONTAINS(msgs, "pipelines/t.yml:3:5: error: input 1 needs one of 'table', 'file'");
    CHECK_CONTAINS(msgs, "pipelines/t.yml:4:5: error: input 2 has more than one");
    CHECK_CONTAINS(msgs, "pipelines/t.yml:6:5: error: input 3: table sensor on 'raw.z' needs 'partition'");
    free(msgs);
    weir_diags_release(&d);
}

TEST(durations)
{
    int64_t ms;
    CHECK_INT(weir_parse_duration_ms("100ms", &ms), ==, 0);
    CHECK_INT(ms, ==, 100);
    CHECK_INT(weir_parse_duration_ms("1.5s", &ms), ==, 0);
    CHECK_INT(ms, ==, 1500);
    CHECK_INT(weir_parse_duration_ms("1h30m", &ms), ==, 0);
    CHECK_INT(ms, ==, 5400000);
    CHECK_INT(weir_parse_duration_ms("90", &ms), ==, 0);
    CHECK_INT(ms, ==, 90000);
    CHECK_INT(weir_parse_duration_ms("5x", &ms), ==, WEIR_EINVALID);
    CHECK_INT(weir_parse_duration_ms("", &ms), ==, WEIR_EINVALID);
    CHECK_INT(weir_parse_duration_ms("-5s", &ms), ==, WEIR_EINVALID);
}

TEST(render_substitutes_the_schedule_variables)
{
    weir_schedule s = WEIR_SCHEDULE_INIT;
    weir_interval iv;
    weir_interval_vars v;
    weir_buf out = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_date d;
    CHECK_OK(weir_schedule_init(&s, "@daily", "UTC", &err), &err);
    weir_date_parse("2024-03-31", &d);
    CHECK_INT(weir_schedule_interval_on(&s, d, &iv), ==, 0);
    weir_schedule_vars(&s, &iv, &v);
    CHECK_OK(weir_pipeline_render("landing/{{ ds }}/{{ds_nodash}}_{{  data_interval_end }}", &v,
                                  &out, &err),
             &err);
    CHECK_STR(out.ptr, "landing/2024-03-31/20240331_2024-04-01T00:00:00+00:00");
    weir_buf_reset(&out);
    CHECK_INT(weir_pipeline_render("{{ nope }}", &v, &out, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(err.msg.ptr, "unknown variable 'nope'");
    weir_error_release(&err);
    weir_buf_release(&out);
    weir_schedule_release(&s);
}
