/*
 * history.c: metric series in the store and in the warehouse: recording
 * and loading points, backfilling a history with one GROUP BY query, and
 * checking a day with the verdict, the chosen model's scores and the
 * anomaly written back to the store.
 *
 * The store's tables are metric_series, metric_points, anomalies (migration
 * 1) and monitor_models, monitor_checks (migration 4); see store/schema.c.
 */
#include "core/compat.h"

#include <jansson.h>
#include <math.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "monitor/monitor.h"

/* The store's spelling of a verdict (monitor_checks.verdict's CHECK list). */
static const char *verdict_code(weir_verdict v)
{
    switch (v) {
    case WEIR_VERDICT_OK: return "ok";
    case WEIR_VERDICT_ANOMALY: return "anomaly";
    case WEIR_VERDICT_INSUFFICIENT_HISTORY: return "insufficient_history";
    case WEIR_VERDICT_MISSING: return "missing";
    }
    return "ok";
}

static void now_text(char out[WEIR_TS_STRLEN])
{
    weir_ts_format_ms(weir_ts_now(), out);
}

/* NaN binds NULL: the store's REAL columns never hold NaN. */
static int bind_num(weir_store_stmt *st, int idx, double v, weir_error *err)
{
    return isfinite(v) ? weir_store_bind_double(st, idx, v, err) : weir_store_bind_null(st, idx, err);
}

/* The id of series name, created when create is set; WEIR_ENOTFOUND otherwise. */
static int series_id(weir_store *s, const char *name, const char *metric, const char *target,
                     int create, int64_t *id, weir_error *err)
{
    weir_store_stmt *st = NULL;
    char now[WEIR_TS_STRLEN];
    int rc;
    if (create) {
        now_text(now);
        if ((rc = weir_store_prepare(s, "INSERT INTO metric_series (name, metric, target, "
                                        "created_at) VALUES (?1, ?2, ?3, ?4) "
                                        "ON CONFLICT (name) DO NOTHING", &st, err)))
            return rc;
        weir_store_bind_text(st, 1, name, NULL);
        weir_store_bind_text(st, 2, metric, NULL);
        weir_store_bind_text(st, 3, target, NULL);
        weir_store_bind_text(st, 4, now, NULL);
        rc = weir_store_step(st, err);
        weir_store_stmt_free(st);
        st = NULL;
        if (rc < 0)
            return rc;
    }
    if ((rc = weir_store_prepare(s, "SELECT id FROM metric_series WHERE name = ?1", &st, err)))
        return rc;
    weir_store_bind_text(st, 1, name, NULL);
    rc = weir_store_step(st, err);
    if (rc == 1) {
        *id = weir_store_col_int(st, 0);
        rc = 0;
    } else if (rc == 0) {
        rc = weir_error_set(err, WEIR_ENOTFOUND, "no series '%s' in the store (record it with "
                                                 "'weir monitor backfill')", name);
    }
    weir_store_stmt_free(st);
    return rc;
}

static const char upsert_point[] =
    "INSERT INTO metric_points (series_id, ds, value, recorded_at) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (series_id, ds) DO UPDATE SET value = excluded.value, "
    "recorded_at = excluded.recorded_at";

int weir_monitor_record(weir_store *s, const char *name, const char *metric,
                        const char *target, weir_date ds, double value, weir_error *err)
{
    weir_store_stmt *st = NULL;
    char day[WEIR_DATE_STRLEN], now[WEIR_TS_STRLEN];
    int64_t id = 0;
    int rc;
    if (!isfinite(value))
        return weir_error_set(err, WEIR_EINVALID, "cannot record a value that is not a number "
                                                  "for series '%s'", name);
    if ((rc = series_id(s, name, metric, target, 1, &id, err)) ||
        (rc = weir_store_prepare(s, upsert_point, &st, err)))
        return rc;
    now_text(now);
    weir_store_bind_int(st, 1, id, NULL);
    weir_store_bind_text(st, 2, weir_date_format(ds, day), NULL);
    weir_store_bind_double(st, 3, value, NULL);
    weir_store_bind_text(st, 4, now, NULL);
    rc = weir_store_step(st, err);
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int weir_monitor_load(weir_store *s, const char *name, weir_series *out, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int64_t id = 0;
    int rc;
    weir_series_release(out);
    if ((rc = series_id(s, name, NULL, NULL, 0, &id, err)))
        return rc;
    if ((rc = weir_store_prepare(s, "SELECT p.ds, p.value, a.series_id IS NOT NULL "
                                    "FROM metric_points p LEFT JOIN anomalies a "
                                    "ON a.series_id = p.series_id AND a.ds = p.ds "
                                    "WHERE p.series_id = ?1 ORDER BY p.ds", &st, err)))
        return rc;
    weir_store_bind_int(st, 1, id, NULL);
    while ((rc = weir_store_step(st, err)) == 1) {
        weir_date d;
        const char *ds = weir_store_col_text(st, 0);
        if (!ds || weir_date_parse(ds, &d))
            continue;
        weir_series_set(out, d, weir_store_col_double(st, 1));
        if (weir_store_col_int(st, 2))
            weir_series_flag(out, d, WEIR_POINT_ANOMALY);
    }
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int weir_monitor_series_names(weir_store *s, weir_strvec *out, weir_error *err)
{
    weir_store_stmt *st = NULL;
    int rc = weir_store_prepare(s, "SELECT name FROM metric_series ORDER BY name", &st, err);
    if (rc)
        return rc;
    while ((rc = weir_store_step(st, err)) == 1)
        weir_strvec_push(out, weir_store_col_text(st, 0));
    weir_store_stmt_free(st);
    return rc < 0 ? rc : 0;
}

/* "raw.events" quoted as "raw"."events" (a name without a dot: as is). */
static void quote_table(const weir_dialect *d, weir_buf *out, const char *table)
{
    const char *dot = strchr(table, '.');
    if (dot) {
        char *schema = weir_xstrndup(table, (size_t)(dot - table));
        weir_sql_quote_qualified(d, out, schema, dot + 1);
        free(schema);
    } else {
        weir_sql_quote_ident(d, out, table);
    }
}

int weir_monitor_backfill(weir_conn *c, weir_store *s, const weir_monitor_def *def,
                          weir_date from, weir_date to, size_t *n_points, weir_error *err)
{
    const weir_dialect *dl = weir_engine_dialect(weir_conn_engine(c));
    weir_buf sql = WEIR_BUF_INIT, day = WEIR_BUF_INIT;
    weir_result *r = NULL;
    weir_store_stmt *st = NULL;
    weir_series pts = WEIR_SERIES_INIT;
    char a[WEIR_DATE_STRLEN], b[WEIR_DATE_STRLEN], now[WEIR_TS_STRLEN];
    int64_t id = 0;
    int rc = 0, in_tx = 0, ranged = from <= to;
    *n_points = 0;
    if (def->sql) {
        weir_buf_addf(&sql, "SELECT * FROM (%s) AS weir_metric", def->sql);
    } else {
        if (!def->date_column) {
            rc = weir_error_set(err, WEIR_EINVALID, "no date column for table '%s' (give "
                                                    "--date-column or 'date_column:' in "
                                                    "monitors/)", def->target);
            goto cleanup;
        }
        weir_buf_adds(&day, "CAST(");
        weir_sql_quote_ident(dl, &day, def->date_column);
        weir_buf_adds(&day, " AS DATE)");
        weir_buf_addf(&sql, "SELECT %s AS ds, count(*) AS value FROM ", day.ptr);
        quote_table(dl, &sql, def->target);
        weir_buf_addf(&sql, " WHERE %s IS NOT NULL", day.ptr);
        if (ranged)
            weir_buf_addf(&sql, " AND %s BETWEEN DATE '%s' AND DATE '%s'", day.ptr,
                          weir_date_format(from, a), weir_date_format(to, b));
        weir_buf_adds(&sql, " GROUP BY 1 ORDER BY 1");
    }
    if ((rc = weir_conn_query(c, sql.ptr, &r, err))) {
        weir_error_wrap(err, "cannot backfill '%s'", def->name);
        goto cleanup;
    }
    if (weir_result_cols(r) < 2) {
        rc = weir_error_set(err, WEIR_EINVALID, "the SQL of metric '%s' returns %zu column%s; "
                                                "expected two: a date and a value",
                            def->name, weir_result_cols(r), weir_result_cols(r) == 1 ? "" : "s");
        goto cleanup;
    }
    for (size_t i = 0; i < weir_result_rows(r); i++) {
        weir_date d;
        double v;
        if (weir_result_date(r, i, 0, &d) || weir_result_double(r, i, 1, &v) || !isfinite(v))
            continue; /* a NULL date or value: no point */
        if (ranged && (d < from || d > to))
            continue;
        weir_series_set(&pts, d, v);
    }
    /* a table with no rows on a day between two that have some: that day's count is 0 */
    if (!def->sql)
        for (size_t i = 0; i < pts.len; i++)
            if (isnan(pts.values[i]))
                pts.values[i] = 0;
    if ((rc = weir_store_begin(s, err)))
        goto cleanup;
    in_tx = 1;
    if ((rc = series_id(s, def->name, def->metric, def->target, 1, &id, err)) ||
        (rc = weir_store_prepare(s, upsert_point, &st, err)))
        goto cleanup;
    now_text(now);
    for (size_t i = 0; i < pts.len; i++) {
        if (isnan(pts.values[i]))
            continue;
        weir_store_reset(st);
        weir_store_bind_int(st, 1, id, NULL);
        weir_store_bind_text(st, 2, weir_date_format(pts.start + (weir_date)i, a), NULL);
        weir_store_bind_double(st, 3, pts.values[i], NULL);
        weir_store_bind_text(st, 4, now, NULL);
        if ((rc = weir_store_step(st, err)) < 0)
            goto cleanup;
        (*n_points)++;
    }
    if ((rc = weir_store_commit(s, err)))
        goto cleanup;
    in_tx = 0;
    rc = 0;
cleanup:
    if (in_tx)
        weir_store_rollback(s, NULL);
    weir_store_stmt_free(st);
    weir_series_release(&pts);
    weir_result_free(r);
    weir_buf_release(&sql);
    weir_buf_release(&day);
    return rc;
}

/* --- checks ------------------------------------------------------------ */

static char *scores_json(const weir_forecaster *f)
{
    json_t *a = json_array();
    weir_buf out = WEIR_BUF_INIT;
    for (size_t i = 0; i < f->n_scores; i++) {
        const weir_model_score *sc = &f->scores[i];
        json_t *o = json_pack("{s:s, s:I, s:b}", "model", weir_model_spec_name(&sc->spec), "n",
                              (json_int_t)sc->n, "chosen", (int)i == f->chosen);
        json_object_set_new(o, "smape", isfinite(sc->smape) ? json_real(sc->smape) : json_null());
        json_object_set_new(o, "mase", isfinite(sc->mase) ? json_real(sc->mase) : json_null());
        json_object_set_new(o, "coverage",
                            isfinite(sc->coverage) ? json_real(sc->coverage) : json_null());
        /* the same for every candidate: the window they were scored on */
        json_object_set_new(o, "backtest_days", json_integer((json_int_t)f->backtest_days));
        json_array_append_new(a, o);
    }
    weir_json_dump(a, 0, &out);
    json_decref(a);
    return weir_buf_detach(&out, NULL);
}

/* Binds ?1..?7 of a monitor_checks or anomalies row: the series, the day,
 * and the check's value, expected value, bounds and score. */
static void bind_point(weir_store_stmt *st, int64_t id, const char *day, const weir_check *c)
{
    weir_store_bind_int(st, 1, id, NULL);
    weir_store_bind_text(st, 2, day, NULL);
    bind_num(st, 3, c->actual, NULL);
    bind_num(st, 4, c->expected, NULL);
    bind_num(st, 5, c->lo, NULL);
    bind_num(st, 6, c->hi, NULL);
    bind_num(st, 7, c->score, NULL);
}

static int save_check(weir_store *s, int64_t id, const weir_monitor_def *def,
                      const weir_check *c, const weir_forecaster *f, weir_error *err)
{
    weir_store_stmt *st = NULL;
    char day[WEIR_DATE_STRLEN], now[WEIR_TS_STRLEN], end[WEIR_DATE_STRLEN];
    const char *model = f->priv ? weir_model_spec_name(&f->spec) : NULL;
    char *scores = NULL;
    int rc;
    now_text(now);
    weir_date_format(c->date, day);
    if ((rc = weir_store_prepare(
             s, "INSERT OR REPLACE INTO monitor_checks (series_id, ds, value, expected, "
                "lower_bound, upper_bound, score, level, model, verdict, severity, event, "
                "checked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
             &st, err)))
        goto cleanup;
    bind_point(st, id, day, c);
    weir_store_bind_double(st, 8, def->opts.level, NULL);
    weir_store_bind_text(st, 9, model, NULL);
    weir_store_bind_text(st, 10, verdict_code(c->verdict), NULL);
    weir_store_bind_text(st, 11, weir_severity_name(c->severity), NULL);
    weir_store_bind_text(st, 12, c->event, NULL);
    weir_store_bind_text(st, 13, now, NULL);
    if ((rc = weir_store_step(st, err)) < 0)
        goto cleanup;
    weir_store_stmt_free(st);
    st = NULL;
    if (c->verdict == WEIR_VERDICT_ANOMALY) {
        if ((rc = weir_store_prepare(
                 s, "INSERT INTO anomalies (series_id, ds, value, expected, lower_bound, "
                    "upper_bound, score, severity, detected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                    "?7, ?8, ?9) ON CONFLICT (series_id, ds) DO UPDATE SET value = "
                    "excluded.value, expected = excluded.expected, lower_bound = "
                    "excluded.lower_bound, upper_bound = excluded.upper_bound, score = "
                    "excluded.score, severity = excluded.severity",
                 &st, err)))
            goto cleanup;
        bind_point(st, id, day, c);
        weir_store_bind_text(st, 8, weir_severity_name(c->severity), NULL);
        weir_store_bind_text(st, 9, now, NULL);
    } else {
        /* a day judged again (after a fix, or with a new calendar) is no longer anomalous */
        if ((rc = weir_store_prepare(s, "DELETE FROM anomalies WHERE series_id = ?1 AND ds = ?2",
                                     &st, err)))
            goto cleanup;
        weir_store_bind_int(st, 1, id, NULL);
        weir_store_bind_text(st, 2, day, NULL);
    }
    if ((rc = weir_store_step(st, err)) < 0)
        goto cleanup;
    weir_store_stmt_free(st);
    st = NULL;
    if (model) {
        scores = scores_json(f);
        if ((rc = weir_store_prepare(s, "INSERT OR REPLACE INTO monitor_models (series_id, model, "
                                        "fitted_through, sigma, scores, fitted_at) VALUES (?1, "
                                        "?2, ?3, ?4, ?5, ?6)", &st, err)))
            goto cleanup;
        weir_store_bind_int(st, 1, id, NULL);
        weir_store_bind_text(st, 2, model, NULL);
        weir_store_bind_text(st, 3, weir_date_format(f->start + (weir_date)f->end - 1, end), NULL);
        bind_num(st, 4, f->sigma1, NULL);
        weir_store_bind_text(st, 5, scores, NULL);
        weir_store_bind_text(st, 6, now, NULL);
        if ((rc = weir_store_step(st, err)) < 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    free(scores);
    weir_store_stmt_free(st);
    return rc;
}

int weir_monitor_check_series(weir_store *s, const weir_monitor_def *def,
                              const weir_calendar *cal, weir_date d, weir_check *out,
                              weir_forecaster *fitted, weir_error *err)
{
    weir_series ser = WEIR_SERIES_INIT;
    weir_forecaster local = WEIR_FORECASTER_INIT;
    weir_forecaster *f = fitted ? fitted : &local;
    weir_calendar none = WEIR_CALENDAR_INIT;
    int64_t id = 0;
    int rc, in_tx = 0;
    if ((rc = series_id(s, def->name, NULL, NULL, 0, &id, err)) ||
        (rc = weir_monitor_load(s, def->name, &ser, err)))
        goto cleanup;
    if (ser.len == 0) {
        rc = weir_error_set(err, WEIR_ENOTFOUND, "series '%s' has no points yet", def->name);
        goto cleanup;
    }
    if ((rc = weir_monitor_check(&ser, cal ? cal : &none, &def->opts, d, out, f, err)))
        goto cleanup;
    if ((rc = weir_store_begin(s, err)))
        goto cleanup;
    in_tx = 1;
    if ((rc = save_check(s, id, def, out, f, err)) || (rc = weir_store_commit(s, err)))
        goto cleanup;
    in_tx = 0;
cleanup:
    if (in_tx)
        weir_store_rollback(s, NULL);
    weir_forecaster_release(&local);
    weir_series_release(&ser);
    return rc;
}

void weir_monitor_describe_check(const weir_check *c, weir_buf *out)
{
    char day[WEIR_DATE_STRLEN];
    weir_buf_addf(out, "%s: ", weir_date_format(c->date, day));
    if (isnan(c->actual))
        weir_buf_adds(out, "no value");
    else
        weir_buf_addf(out, "%.0f", c->actual);
    if (isfinite(c->expected)) {
        weir_buf_addf(out, " vs expected %.0f [%.0f, %.0f]", c->expected, c->lo, c->hi);
        if (isfinite(c->deviation) && isfinite(c->score))
            weir_buf_addf(out, " (%+.1f%%, %+.1f sigma)", 100 * c->deviation, c->score);
    }
    weir_buf_addf(out, ": %s", weir_verdict_name(c->verdict));
    if (c->verdict == WEIR_VERDICT_ANOMALY)
        weir_buf_addf(out, " (%s)", weir_severity_name(c->severity));
    if (c->event)
        weir_buf_addf(out, ", calendar: %s", c->event);
}

/* --- the pipelines' monitor task -------------------------------------- */

int weir_monitor_task_run(weir_conn *c, weir_store *s, const weir_monitor_config *cfg,
                          const char *table, const char *date_column, weir_date ds,
                          weir_monitor_task_result *out, weir_error *err)
{
    const weir_dialect *dl = weir_engine_dialect(weir_conn_engine(c));
    const weir_monitor_def *declared = cfg ? weir_monitor_config_find(cfg, table) : NULL;
    weir_monitor_def def;
    weir_calendar cal = WEIR_CALENDAR_INIT;
    weir_buf sql = WEIR_BUF_INIT, total_name = WEIR_BUF_INIT, msg = WEIR_BUF_INIT;
    weir_result *r = NULL;
    char day[WEIR_DATE_STRLEN];
    int64_t day_rows = 0, total_rows = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    if (declared && declared->sql)
        declared = NULL; /* a custom metric named like the table */
    /* a table declared under a name of its own is found by its table */
    for (size_t i = 0; cfg && !declared && i < cfg->monitors.len; i++)
        if (!cfg->monitors.items[i].sql && strcmp(cfg->monitors.items[i].target, table) == 0)
            declared = &cfg->monitors.items[i];
    if (!date_column && declared)
        date_column = declared->date_column;
    weir_monitor_def_init_table(&def, table, date_column);
    if (declared) {
        free(def.name);
        def.name = weir_xstrdup(declared->name);
        def.opts = declared->opts;
        def.warn_only = declared->warn_only;
        for (size_t i = 0; i < declared->calendars.len; i++)
            weir_strvec_push(&def.calendars, declared->calendars.items[i]);
    }
    weir_date_format(ds, day);
    weir_buf_adds(&sql, "SELECT count(*)");
    if (date_column) {
        weir_buf_adds(&sql, ", count(*) FILTER (WHERE CAST(");
        weir_sql_quote_ident(dl, &sql, date_column);
        weir_buf_addf(&sql, " AS DATE) = DATE '%s')", day);
    }
    weir_buf_adds(&sql, " FROM ");
    quote_table(dl, &sql, table);
    if ((rc = weir_conn_query(c, sql.ptr, &r, err))) {
        weir_error_wrap(err, "cannot count the rows of '%s'", table);
        goto cleanup;
    }
    weir_result_int64(r, 0, 0, &total_rows);
    if (date_column)
        weir_result_int64(r, 0, 1, &day_rows);
    weir_buf_addf(&total_name, "row_total:%s", table);
    if ((rc = weir_monitor_record(s, total_name.ptr, "row_total", table, ds, (double)total_rows,
                                  err)))
        goto cleanup;
    if (date_column) {
        if ((rc = weir_monitor_record(s, def.name, "row_count", table, ds, (double)day_rows, err)))
            goto cleanup;
    } else {
        /* without a date column only the total can be watched */
        free(def.name);
        def.name = weir_buf_detach(&total_name, NULL);
        free(def.metric);
        def.metric = weir_xstrdup("row_total");
    }
    if ((rc = weir_monitor_config_calendar(cfg, &def, &cal, err)) ||
        (rc = weir_monitor_check_series(s, &def, &cal, ds, &out->check, NULL, err)))
        goto cleanup;
    if (out->check.verdict == WEIR_VERDICT_ANOMALY) {
        out->failed = !def.warn_only;
        out->warned = def.warn_only;
    }
    weir_buf_addf(&msg, "%s ", def.name);
    weir_monitor_describe_check(&out->check, &msg);
    out->message = weir_buf_detach(&msg, NULL);
    out->check.event = NULL; /* it pointed into cal, which dies here */
cleanup:
    weir_result_free(r);
    weir_calendar_release(&cal);
    weir_monitor_def_release(&def);
    weir_buf_release(&sql);
    weir_buf_release(&total_name);
    weir_buf_release(&msg);
    return rc;
}
