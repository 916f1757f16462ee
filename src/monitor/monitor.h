/*
 * monitor.h: volume monitoring of a project: which series are watched
 * (monitors/ YAML files), their histories in the store, backfills from the
 * warehouse, and checks whose verdicts, chosen models and anomalies are
 * recorded.
 *
 * forecast.h is the numerical core and knows nothing of files, stores or
 * warehouses; this layer connects it to them. A series is named:
 *   row_count:SCHEMA.TABLE   rows of a table per day (by its date column)
 *   row_total:SCHEMA.TABLE   rows of a whole table, as seen by each run
 *   NAME                     a custom metric: SQL returning (date, value)
 *
 * The configuration a project writes, one or more files under monitors/
 * (like dbt's models/ YAML files: any number of files, any names):
 *
 *   calendars:
 *     school:                          # a name to refer to
 *       - { date: 2024-01-01, name: new_year }
 *       - { from: 2024-04-01, to: 2024-04-12, name: spring_break }
 *       - { date: 2024-05-20, name: app_v2, kind: launch }
 *   monitors:
 *     - table: raw.events              # row_count:raw.events
 *       date_column: occurred_at
 *       calendar: school               # a name or a list of names
 *       level: 0.99                    # interval level (default 0.99)
 *       min_history: 28                # usable days before judging (default 21)
 *       on_anomaly: fail               # fail (default) or warn
 *     - name: active_teachers          # a custom metric
 *       sql: select occurred_at::date, count(distinct teacher_id) from raw.events group by 1
 *
 * kind is holiday (the default), closure, launch or other.
 *
 * The store keeps (migration "monitor: models, checks, anomaly severity"):
 * metric_series / metric_points (the histories), monitor_models (per
 * series, the model chosen at its last check and every candidate's
 * backtest scores, as JSON), monitor_checks (per series and date, the
 * expected value, interval, actual, verdict) and anomalies (the points
 * judged anomalous, with score and severity; later fits leave them out).
 */
#ifndef WEIR_MONITOR_MONITOR_H
#define WEIR_MONITOR_MONITOR_H

#include <stdbool.h>

#include "config/project.h"
#include "core/error.h"
#include "core/vec.h"
#include "engine/engine.h"
#include "monitor/forecast.h"
#include "store/store.h"

/* --- configuration ----------------------------------------------------- */

/* One monitored series as declared in monitors/ YAML files. Owns its strings. */
typedef struct weir_monitor_def {
    char *name;        /* the series name (see above) */
    char *metric;      /* "row_count" or "custom" */
    char *target;      /* the table ("raw.events"), or the custom metric's name */
    char *date_column; /* row counts: the column giving each row's day; may be NULL */
    char *sql;         /* custom: a query returning (date, value) rows; else NULL */
    weir_strvec calendars;     /* names of the calendars to apply */
    weir_monitor_options opts; /* level and min_history from the file */
    bool warn_only;            /* on_anomaly: warn */
    char *file;                /* where it was declared (NULL for a default def) */
    unsigned line, col;
} weir_monitor_def;

/* A named calendar from monitors/ YAML files. */
typedef struct weir_monitor_calendar {
    char *name;
    weir_calendar cal;
} weir_monitor_calendar;

typedef struct weir_monitor_config {
    WEIR_VEC(weir_monitor_def) monitors;
    WEIR_VEC(weir_monitor_calendar) calendars;
} weir_monitor_config;

#define WEIR_MONITOR_CONFIG_INIT { WEIR_VEC_INIT, WEIR_VEC_INIT }

/*
 * Reads every YAML file under the project's monitors folders (paths.monitors,
 * default "monitors"), checking each against its schema. Every problem goes
 * to diags as "file:line:col: error: ...": unknown keys (with did you mean),
 * a monitor with both or neither of table and sql, an unknown calendar, a
 * range whose end is before its start, a level outside (0, 1), duplicate
 * series. Valid entries are kept even when others are wrong. Returns 0, or
 * WEIR_EINVALID when there was any error. cfg is released by the caller.
 */
int weir_monitor_config_load(const weir_project *p, weir_monitor_config *cfg,
                             weir_diags *diags);
/*
 * As weir_monitor_config_load, for one file's text (name is used in
 * locations; no ${VAR} interpolation), adding to what cfg holds. For tests
 * and the fuzzer.
 */
int weir_monitor_config_load_buf(weir_monitor_config *cfg, const char *name, const char *data,
                                 size_t len, weir_diags *diags);
/* Frees everything cfg holds; it is empty and reusable afterwards. */
void weir_monitor_config_release(weir_monitor_config *cfg);

/* For `weir check`: loads the monitor configuration and reports its problems. */
int weir_monitor_check_project(const weir_project *p, weir_diags *diags);

/*
 * The def for a series named name ("raw.events" is taken as
 * "row_count:raw.events"), or NULL.
 */
const weir_monitor_def *weir_monitor_config_find(const weir_monitor_config *cfg,
                                                 const char *name);

/* Sets up def as an undeclared table's row count: defaults, no calendar. */
void weir_monitor_def_init_table(weir_monitor_def *def, const char *table,
                                 const char *date_column);
/* Frees what def holds. */
void weir_monitor_def_release(weir_monitor_def *def);

/*
 * Adds the events of every calendar def names to out (released first).
 * WEIR_ENOTFOUND when a name is unknown (weir_monitor_config_load reports
 * that already, so it only happens for hand-made defs).
 */
int weir_monitor_config_calendar(const weir_monitor_config *cfg, const weir_monitor_def *def,
                                 weir_calendar *out, weir_error *err);

/*
 * Parses a calendar list (the value of one name under calendars:) into cal,
 * adding its problems to diags. For the loader and tests.
 */
int weir_monitor_calendar_parse(const weir_yaml_node *list, weir_calendar *cal,
                                weir_diags *diags);

/* --- histories in the store ------------------------------------------- */

/*
 * Records value for series name on ds (replacing an earlier value), creating
 * the series (with metric and target) when it is new.
 */
int weir_monitor_record(weir_store *s, const char *name, const char *metric,
                        const char *target, weir_date ds, double value, weir_error *err);

/*
 * Loads series name into out (released first): every point, the days judged
 * anomalous flagged WEIR_POINT_ANOMALY. WEIR_ENOTFOUND when there is no such
 * series.
 */
int weir_monitor_load(weir_store *s, const char *name, weir_series *out, weir_error *err);

/* The names of every series in the store, sorted. */
int weir_monitor_series_names(weir_store *s, weir_strvec *out, weir_error *err);

/*
 * Builds the history of def from data already in the warehouse in one
 * query: a table's rows per day of its date column (days without rows
 * between the first and the last are recorded as 0), or the custom SQL's
 * (date, value) rows. from/to bound the dates when from <= to (pass 1 and 0
 * for everything). *n_points receives the number of points recorded.
 * WEIR_EINVALID when a table monitor has no date column or the custom SQL
 * does not return two columns.
 */
int weir_monitor_backfill(weir_conn *c, weir_store *s, const weir_monitor_def *def,
                          weir_date from, weir_date to, size_t *n_points, weir_error *err);

/* --- checks ------------------------------------------------------------ */

/*
 * Judges def's value on d against a forecast from the days before it (the
 * model chosen by backtest, at def's level), and records in the store the
 * check, the chosen model with every candidate's scores, and the anomaly
 * (or removes one a previous check recorded, when the day is now ok).
 * fitted (may be NULL) receives the forecaster (the caller releases it).
 * WEIR_ENOTFOUND when the series has no history at all.
 */
int weir_monitor_check_series(weir_store *s, const weir_monitor_def *def,
                              const weir_calendar *cal, weir_date d, weir_check *out,
                              weir_forecaster *fitted, weir_error *err);

/*
 * What a pipeline's monitor task does for one table and the run's ds:
 * counts the table's rows on ds (by date_column; NULL: the monitor
 * configuration's date column for the table, if any) and in total, records
 * them as row_count:TABLE and row_total:TABLE, then checks the day's series
 * (row_count when there is a date column, else row_total) with the
 * configuration's calendar, level and on_anomaly (cfg may be NULL: defaults).
 * out->failed says whether the task should fail (an anomaly with on_anomaly
 * fail), out->warned an anomaly to report only; out->message (owned, free
 * it) says in one line what was found. Returns a negative code when the
 * counting or the store failed.
 */
typedef struct weir_monitor_task_result {
    weir_check check;
    bool failed, warned;
    char *message;
} weir_monitor_task_result;

int weir_monitor_task_run(weir_conn *c, weir_store *s, const weir_monitor_config *cfg,
                          const char *table, const char *date_column, weir_date ds,
                          weir_monitor_task_result *out, weir_error *err);

/*
 * Appends a one-line description of a check: "2024-03-14: 231 vs expected
 * 381 [342, 420] (-39.4%, -7.1 sigma): anomaly (high)".
 */
void weir_monitor_describe_check(const weir_check *c, weir_buf *out);

#endif
