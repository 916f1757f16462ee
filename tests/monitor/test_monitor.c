/*
 * Tests of monitor/monitor.h: monitors/ files (good ones, and every mistake
 * reported at its place), series recorded in and loaded from the store,
 * checks that record the verdict, the model's scores and the anomaly, the
 * warehouse backfill and the pipelines' monitor task.
 */
#include "harness.h"

#include <math.h>

#include "core/buf.h"
#include "core/fs.h"
#include "monitor/monitor.h"
#include "monitor/synth.h"

/* A project in a fresh folder whose monitors/x.yml holds yml. */
static weir_project *project_with(const char *yml)
{
    const char *dir = weir_test_tmpdir();
    weir_buf path = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    weir_path_join(&path, dir, "monitors");
    CHECK_OK(weir_fs_mkdir_p(path.ptr, &err), &err);
    weir_buf_adds(&path, "/x.yml");
    CHECK_OK(weir_fs_write_atomic(path.ptr, yml, strlen(yml), &err), &err);
    CHECK_INT(weir_project_load_buf(dir, "weir.yml", "name: t\n", 8, NULL, &p, &d), ==, 0);
    weir_buf_release(&path);
    weir_diags_release(&d);
    return p;
}

/* Every diagnostic, one per line, as a user sees them. */
static void diags_text(const weir_diags *d, weir_buf *out)
{
    for (size_t i = 0; i < d->list.len; i++) {
        weir_diag_format(&d->list.items[i], out);
        weir_buf_addch(out, '\n');
    }
}

TEST(config_reads_calendars_and_monitors)
{
    weir_project *p = project_with(
        "calendars:\n"
        "  school:\n"
        "    - 2024-01-01\n"
        "    - { from: 2024-04-01, to: 2024-04-12, name: spring_break }\n"
        "    - { date: 2024-05-20, name: v2, kind: launch }\n"
        "monitors:\n"
        "  - table: raw.events\n"
        "    date_column: occurred_at\n"
        "    calendar: school\n"
        "    level: 0.95\n"
        "    min_history: 21\n"
        "    on_anomaly: warn\n"
        "  - name: teachers\n"
        "    sql: select 1, 2\n");
    weir_monitor_config cfg = WEIR_MONITOR_CONFIG_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_calendar cal = WEIR_CALENDAR_INIT;
    weir_date day;
    CHECK_INT(weir_monitor_config_load(p, &cfg, &d), ==, 0);
    CHECK_INT(cfg.monitors.len, ==, 2);
    CHECK_INT(cfg.calendars.len, ==, 1);
    const weir_monitor_def *ev = weir_monitor_config_find(&cfg, "raw.events");
    CHECK(ev != NULL);
    CHECK(ev == weir_monitor_config_find(&cfg, "row_count:raw.events"));
    CHECK_STR(ev->name, "row_count:raw.events");
    CHECK_STR(ev->date_column, "occurred_at");
    CHECK_DBL(ev->opts.level, 0.95, 1e-12);
    CHECK_INT(ev->opts.min_history, ==, 21);
    CHECK(ev->warn_only);
    CHECK_INT(ev->line, ==, 7);
    const weir_monitor_def *t = weir_monitor_config_find(&cfg, "teachers");
    CHECK(t && t->sql && !t->date_column);
    CHECK_STR(t->metric, "custom");
    CHECK_DBL(t->opts.level, 0.99, 1e-12);
    CHECK_OK(weir_monitor_config_calendar(&cfg, ev, &cal, &err), &err);
    CHECK_INT(cal.events.len, ==, 3);
    weir_date_parse("2024-04-05", &day);
    CHECK_STR(weir_calendar_find(&cal, day)->name, "spring_break");
    weir_date_parse("2024-01-01", &day);
    CHECK_STR(weir_calendar_find(&cal, day)->name, "2024-01-01");
    weir_date_parse("2024-05-20", &day);
    CHECK_INT(weir_calendar_find(&cal, day)->kind, ==, WEIR_EVENT_LAUNCH);
    weir_calendar_release(&cal);
    weir_monitor_config_release(&cfg);
    weir_diags_release(&d);
    weir_project_free(p);
}

TEST(config_reports_every_mistake_at_its_place)
{
    weir_project *p = project_with(
        "calendars:\n"
        "  school:\n"
        "    - { from: 2024-04-12, to: 2024-04-01 }\n"
        "    - { date: 2024-13-01 }\n"
        "monitors:\n"
        "  - table: raw.events\n"
        "    date_colum: occurred_at\n"
        "  - table: raw.a\n"
        "    sql: select 1\n"
        "  - table: raw.b\n"
        "    calendar: scool\n"
        "  - table: raw.c\n"
        "    level: 1.5\n"
        "  - sql: select 1\n"
        "  - table: raw.d\n"
        "    min_history: 7\n");
    weir_monitor_config cfg = WEIR_MONITOR_CONFIG_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_buf text = WEIR_BUF_INIT;
    CHECK_INT(weir_monitor_config_load(p, &cfg, &d), ==, WEIR_EINVALID);
    diags_text(&d, &text);
    CHECK_CONTAINS(text.ptr, "monitors/x.yml:3:31: error: 'to' is before 'from'");
    CHECK_CONTAINS(text.ptr, "monitors/x.yml:4:15: error:");
    CHECK_CONTAINS(text.ptr, "monitors/x.yml:7:5: error: unknown key 'date_colum'");
    CHECK_CONTAINS(text.ptr, "did you mean 'date_column'?");
    CHECK_CONTAINS(text.ptr, "monitors/x.yml:8:5: error: a monitor takes 'table' or 'sql', not both");
    CHECK_CONTAINS(text.ptr, "monitors/x.yml:11:15: error: no calendar 'scool' (did you mean 'school'?)");
    CHECK_CONTAINS(text.ptr, "monitors/x.yml:13:12: error: expected a level between 0.5 and 1");
    CHECK_CONTAINS(text.ptr, "monitors/x.yml:14:5: error: a custom metric ('sql') needs a 'name'");
    /* fewer than two of each weekday cannot be fitted */
    CHECK_CONTAINS(text.ptr, "monitors/x.yml:16:18: error:");
    CHECK_INT(cfg.monitors.len, ==, 0);
    weir_buf_release(&text);
    weir_monitor_config_release(&cfg);
    weir_diags_release(&d);
    weir_project_free(p);
}

/* A school-like series with holidays, recorded as row_count:raw.events. */
static void record_synth(weir_store *st, weir_series *s, weir_calendar *cal, int days)
{
    weir_synth_options so;
    weir_error err = WEIR_ERROR_INIT;
    weir_synth_options_init(&so);
    so.days = days;
    weir_synth_school(&so, s, cal);
    for (size_t i = 0; i < s->len; i++)
        CHECK_OK(weir_monitor_record(st, "row_count:raw.events", "row_count", "raw.events",
                                     s->start + (weir_date)i, s->values[i], &err), &err);
}

static weir_store *open_store(void)
{
    weir_buf path = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_store *st = NULL;
    weir_path_join(&path, weir_test_tmpdir(), "store.db");
    CHECK_OK(weir_store_open(path.ptr, NULL, &st, &err), &err);
    weir_buf_release(&path);
    return st;
}

TEST(check_records_verdict_model_and_anomaly)
{
    weir_store *st = open_store();
    weir_series s = WEIR_SERIES_INIT, back = WEIR_SERIES_INIT;
    weir_calendar cal = WEIR_CALENDAR_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_monitor_def def;
    weir_check c;
    weir_forecaster f = WEIR_FORECASTER_INIT;
    int64_t n = 0;
    record_synth(st, &s, &cal, 200);
    weir_monitor_def_init_table(&def, "raw.events", "occurred_at");

    /* the last term weekday before the end: drop 40% of it */
    weir_date bad = weir_series_end(&s) - 3;
    while (weir_calendar_find(&cal, bad) || weir_date_weekday(bad) >= 5)
        bad--;
    double good = weir_series_get(&s, bad);
    CHECK_OK(weir_monitor_record(st, def.name, "row_count", "raw.events", bad, 0.6 * good, &err),
             &err);
    CHECK_OK(weir_monitor_check_series(st, &def, &cal, bad, &c, &f, &err), &err);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_ANOMALY);
    CHECK(c.score < 0);
    CHECK_INT(c.severity, >=, WEIR_SEVERITY_MEDIUM);
    CHECK_OK(weir_store_query_int(st, "SELECT count(*) FROM anomalies WHERE severity IN ('medium', 'high')",
                                  &n, &err), &err);
    CHECK_INT(n, ==, 1);
    CHECK_OK(weir_store_query_int(st, "SELECT count(*) FROM monitor_checks WHERE verdict = "
                                      "'anomaly'", &n, &err), &err);
    CHECK_INT(n, ==, 1);
    CHECK_OK(weir_store_query_int(st, "SELECT count(*) FROM monitor_models WHERE scores LIKE "
                                      "'%\"chosen\": true%' OR scores LIKE '%\"chosen\":true%'",
                                  &n, &err), &err);
    CHECK_INT(n, ==, 1);

    /* loaded again, the day is flagged so later fits leave it out */
    CHECK_OK(weir_monitor_load(st, def.name, &back, &err), &err);
    CHECK_INT(back.len, ==, s.len);
    CHECK(back.flags[bad - back.start] & WEIR_POINT_ANOMALY);

    /* the source is corrected: the day is judged ok and the anomaly goes */
    CHECK_OK(weir_monitor_record(st, def.name, "row_count", "raw.events", bad, good, &err), &err);
    CHECK_OK(weir_monitor_check_series(st, &def, &cal, bad, &c, NULL, &err), &err);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_OK);
    CHECK_OK(weir_store_query_int(st, "SELECT count(*) FROM anomalies", &n, &err), &err);
    CHECK_INT(n, ==, 0);

    /* too early to judge: insufficient history, recorded as such */
    CHECK_OK(weir_monitor_check_series(st, &def, &cal, s.start + 10, &c, NULL, &err), &err);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    CHECK_OK(weir_store_query_int(st, "SELECT count(*) FROM monitor_checks WHERE verdict = "
                                      "'insufficient_history'", &n, &err), &err);
    CHECK_INT(n, ==, 1);

    weir_forecaster_release(&f);
    weir_monitor_def_release(&def);
    weir_series_release(&s);
    weir_series_release(&back);
    weir_calendar_release(&cal);
    weir_store_free(st);
}

TEST(unknown_series_is_not_found)
{
    weir_store *st = open_store();
    weir_series s = WEIR_SERIES_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_strvec names = WEIR_VEC_INIT;
    CHECK_INT(weir_monitor_load(st, "row_count:nope", &s, &err), ==, WEIR_ENOTFOUND);
    CHECK_CONTAINS(weir_error_str(&err), "no series 'row_count:nope'");
    CHECK_OK(weir_monitor_series_names(st, &names, &err), &err);
    CHECK_INT(names.len, ==, 0);
    weir_error_release(&err);
    weir_store_free(st);
}

/* A warehouse table with 3 rows a day over 2024-01-01..10, none on the 5th. */
static void make_table(weir_engine **e, weir_conn **c)
{
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_engine_open(":memory:", NULL, e, &err), &err);
    CHECK_OK(weir_conn_new(*e, c, &err), &err);
    CHECK_OK(weir_conn_exec(*c,
                            "CREATE SCHEMA raw;"
                            "CREATE TABLE raw.events AS SELECT d + INTERVAL (i) HOUR AS ts "
                            "FROM range(DATE '2024-01-01', DATE '2024-01-11', INTERVAL 1 DAY) t(d),"
                            " range(3) r(i) WHERE d <> DATE '2024-01-05'",
                            &err), &err);
}

TEST(backfill_counts_rows_per_day_in_one_query)
{
    weir_store *st = open_store();
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_error err = WEIR_ERROR_INIT;
    weir_monitor_def def, custom;
    weir_series s = WEIR_SERIES_INIT;
    weir_date d1, d2;
    size_t n = 0;
    make_table(&e, &c);
    weir_monitor_def_init_table(&def, "raw.events", "ts");
    CHECK_OK(weir_monitor_backfill(c, st, &def, 1, 0, &n, &err), &err);
    CHECK_INT(n, ==, 10);
    CHECK_OK(weir_monitor_load(st, def.name, &s, &err), &err);
    CHECK_INT(s.len, ==, 10);
    weir_date_parse("2024-01-05", &d1);
    CHECK_DBL(weir_series_get(&s, d1), 0, 0);     /* a day without rows counts 0 */
    CHECK_DBL(weir_series_get(&s, d1 + 1), 3, 0);

    /* a range records only its days */
    weir_date_parse("2024-01-02", &d1);
    weir_date_parse("2024-01-03", &d2);
    CHECK_OK(weir_monitor_backfill(c, st, &def, d1, d2, &n, &err), &err);
    CHECK_INT(n, ==, 2);

    /* no date column: said so */
    weir_monitor_def_release(&def);
    weir_monitor_def_init_table(&def, "raw.events", NULL);
    CHECK_INT(weir_monitor_backfill(c, st, &def, 1, 0, &n, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(weir_error_str(&err), "no date column for table 'raw.events'");
    weir_error_clear(&err);

    /* a custom metric: SQL returning (date, value) */
    weir_monitor_def_init_table(&custom, "x", NULL);
    free(custom.name);
    custom.name = strdup("hours");
    custom.sql = strdup("select ts::date, count(distinct hour(ts)) * 10 from raw.events group by 1");
    CHECK_OK(weir_monitor_backfill(c, st, &custom, 1, 0, &n, &err), &err);
    CHECK_INT(n, ==, 9);
    CHECK_OK(weir_monitor_load(st, "hours", &s, &err), &err);
    CHECK_DBL(weir_series_get(&s, d1), 30, 0);
    free(custom.sql);
    custom.sql = strdup("select 1");
    CHECK_INT(weir_monitor_backfill(c, st, &custom, 1, 0, &n, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(weir_error_str(&err), "expected two: a date and a value");

    weir_error_release(&err);
    weir_series_release(&s);
    weir_monitor_def_release(&custom);
    weir_monitor_def_release(&def);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_store_free(st);
}

TEST(pipeline_task_records_and_checks_a_day)
{
    weir_store *st = open_store();
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_error err = WEIR_ERROR_INIT;
    weir_monitor_task_result r;
    weir_series s = WEIR_SERIES_INIT;
    weir_date d;
    make_table(&e, &c);
    weir_date_parse("2024-01-04", &d);
    CHECK_OK(weir_monitor_task_run(c, st, NULL, "raw.events", "ts", d, &r, &err), &err);
    CHECK_INT(r.check.verdict, ==, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    CHECK(!r.failed && !r.warned);
    CHECK_CONTAINS(r.message, "row_count:raw.events 2024-01-04: 3");
    CHECK_CONTAINS(r.message, "insufficient history");
    free(r.message);
    CHECK_OK(weir_monitor_load(st, "row_count:raw.events", &s, &err), &err);
    CHECK_DBL(weir_series_get(&s, d), 3, 0);
    CHECK_OK(weir_monitor_load(st, "row_total:raw.events", &s, &err), &err);
    CHECK_DBL(weir_series_get(&s, d), 27, 0);

    /* without a date column, only the total is watched */
    CHECK_OK(weir_monitor_task_run(c, st, NULL, "raw.events", NULL, d, &r, &err), &err);
    CHECK_CONTAINS(r.message, "row_total:raw.events");
    free(r.message);

    /* declared in monitors/ under a name of its own: its date column and name are used */
    static const char yml[] = "monitors:\n  - name: events\n    table: raw.events\n"
                              "    date_column: ts\n    on_anomaly: warn\n";
    weir_monitor_config cfg = WEIR_MONITOR_CONFIG_INIT;
    weir_diags dg = WEIR_DIAGS_INIT;
    CHECK_INT(weir_monitor_config_load_buf(&cfg, "m.yml", yml, strlen(yml), &dg), ==, 0);
    CHECK_OK(weir_monitor_task_run(c, st, &cfg, "raw.events", NULL, d, &r, &err), &err);
    CHECK_CONTAINS(r.message, "events 2024-01-04: 3");
    free(r.message);
    CHECK_OK(weir_monitor_load(st, "events", &s, &err), &err);
    CHECK_DBL(weir_series_get(&s, d), 3, 0);
    weir_monitor_config_release(&cfg);
    weir_diags_release(&dg);

    CHECK_INT(weir_monitor_task_run(c, st, NULL, "raw.nope", "ts", d, &r, &err), <, 0);
    CHECK_CONTAINS(weir_error_str(&err), "cannot count the rows of 'raw.nope'");
    weir_error_release(&err);
    weir_series_release(&s);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_store_free(st);
}

TEST(calendars_may_come_from_another_file)
{
    static const char a[] = "calendars:\n  public: [2024-12-25, 2024-12-26]\n";
    static const char b[] = "monitors:\n  - table: raw.t\n    date_column: d\n"
                            "    calendar: public\n  - table: raw.u\n    calendar: nope\n";
    weir_monitor_config cfg = WEIR_MONITOR_CONFIG_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_buf text = WEIR_BUF_INIT;
    CHECK_INT(weir_monitor_config_load_buf(&cfg, "a.yml", a, strlen(a), &d), ==, 0);
    CHECK_INT(weir_monitor_config_load_buf(&cfg, "b.yml", b, strlen(b), &d), ==, WEIR_EINVALID);
    diags_text(&d, &text);
    CHECK_CONTAINS(text.ptr, "b.yml:6:15: error: no calendar 'nope' in the monitors folder");
    CHECK_INT(cfg.monitors.len, ==, 1);
    CHECK_STR(cfg.monitors.items[0].name, "row_count:raw.t");
    weir_buf_release(&text);
    weir_monitor_config_release(&cfg);
    weir_diags_release(&d);
}

TEST(a_check_reads_in_one_line)
{
    weir_check c = { 0 };
    weir_buf b = WEIR_BUF_INIT;
    weir_date_parse("2024-03-14", &c.date);
    c.actual = 230;
    c.expected = 351.4;
    c.lo = 311.2;
    c.hi = 391.7;
    c.deviation = (230 - 351.4) / 351.4;
    c.score = -7.76;
    c.verdict = WEIR_VERDICT_ANOMALY;
    c.severity = WEIR_SEVERITY_HIGH;
    weir_monitor_describe_check(&c, &b);
    CHECK_STR(b.ptr, "2024-03-14: 230 vs expected 351 [311, 392] (-34.5%, -7.8 sigma): anomaly (high)");
    weir_buf_reset(&b);
    c.expected = c.lo = c.hi = c.deviation = c.score = NAN;
    c.verdict = WEIR_VERDICT_INSUFFICIENT_HISTORY;
    c.event = "spring_break";
    weir_monitor_describe_check(&c, &b);
    CHECK_STR(b.ptr, "2024-03-14: 230: insufficient history, calendar: spring_break");
    weir_buf_release(&b);
}
