/*
 * pipeline.h: a pipeline file (pipelines/NAME.yml) loaded, validated and turned
 * into a DAG of tasks.
 *
 *   pipeline: engagement          # required, an identifier
 *   owner: growth
 *   schedule: "0 3 * * *"         # cron or @daily...; default: weir.yml's
 *   timezone: Europe/Paris        # default: weir.yml's
 *   start: 2024-01-01             # first logical date (serve's catch-up)
 *   end: 2024-12-31               # optional last logical date
 *   catchup: true                 # serve creates missed intervals' runs
 *   max_active_runs: 4            # runs of this pipeline in flight at once
 *   concurrency: 8                # task instances of this pipeline at once
 *   retries: 2                    # default: weir.yml's; tasks may override
 *   retry_delay: 30s              # first delay; doubled each try, +-10% jitter
 *   max_retry_delay: 1h
 *   timeout: 2h                   # per attempt; 0 or absent: none
 *   depends_on_past: false
 *   alert: { webhook: "${SLACK_WEBHOOK:-}", stderr: true }
 *   inputs:                       # sensors, poked until true or timed out
 *     - table: raw.events         #   the run's ds has rows in raw.events
 *       partition: event_date
 *     - file: landing/{{ ds }}/_SUCCESS   # relative to the project
 *     - sql: "select count(*) > 0 from raw.users"
 *     - pipeline: ingest_daily    #   that pipeline's run of the same interval succeeded
 *       poke_interval: 1m
 *       timeout: 6h
 *       soft_fail: true           #   on timeout the sensor is skipped, not failed
 *   ingest: [app_db.users]        # placeholder tasks until ingest/ lands
 *   tasks:                        # the escape hatch: shell or SQL
 *     - name: load
 *       run: ./scripts/load.sh    # env: WEIR_DS, WEIR_DATA_INTERVAL_START/END, ...
 *     - name: daily
 *       sql: "delete from mart.daily where day = '{{ ds }}'; insert into ..."
 *       depends_on: [load]
 *       trigger_rule: all_success # all_success | all_done | one_failed
 *   models: "tag:engagement"      # dbt selectors: one task per model (models.c)
 *   expectations: [daily_active_users]   # suites run through quality/
 *   #   or items { suite: NAME, severity: warn }: a failed suite only reports
 *   monitor: { row_count: [raw.events] } # row counts recorded and checked by monitor/
 *   outputs:                      # what rollback deletes, upstream first
 *     - table: mart.daily
 *       date_column: day
 *
 * The DAG: stages in the order inputs, ingest, tasks, models, expectations,
 * monitor; each task of a stage depends on every task of the previous
 * non-empty stage, except a `tasks:` entry with `depends_on`, which depends
 * on exactly the tasks it names (any stage). Cycles are refused.
 *
 * Model tasks read the run's interval as vars: var('ds'), var('ds_nodash'),
 * var('ts'), var('data_interval_start'), var('data_interval_end') (models.c,
 * executor.c).
 *
 * `{{ ds }}` and the other schedule variables (schedule.h) are substituted
 * in file sensors, sql sensors and sql tasks by weir_pipeline_render(), a
 * plain substitution until the template engine is wired in.
 *
 * Memory: a weir_pipeline owns its YAML document and an arena holding every
 * string and array below; free it with weir_pipeline_free().
 */
#ifndef WEIR_ORCHESTRATE_PIPELINE_H
#define WEIR_ORCHESTRATE_PIPELINE_H

#include <stdint.h>

#include "config/project.h"
#include "config/yaml.h"
#include "core/error.h"
#include "orchestrate/schedule.h"

typedef enum {
    WEIR_TASK_SENSOR_TABLE,
    WEIR_TASK_SENSOR_FILE,
    WEIR_TASK_SENSOR_SQL,
    WEIR_TASK_SENSOR_PIPELINE,
    WEIR_TASK_RUN,         /* shell command */
    WEIR_TASK_SQL,         /* SQL on the warehouse, in one transaction */
    WEIR_TASK_INGEST,      /* a placeholder that fails with "not available" */
    WEIR_TASK_MODELS,      /* the selector until bound, then one model each (models.c) */
    WEIR_TASK_EXPECTATION,
    WEIR_TASK_MONITOR
} weir_task_kind;

typedef enum {
    WEIR_TRIGGER_ALL_SUCCESS,
    WEIR_TRIGGER_ALL_DONE,
    WEIR_TRIGGER_ONE_FAILED
} weir_trigger_rule;

typedef struct weir_task_spec {
    const char *id;
    weir_task_kind kind;
    const char *text;       /* command, SQL, file, table, pipeline, selector, suite */
    const char *partition;  /* table sensor: the date column */
    size_t *up, n_up;       /* indexes of upstream tasks */
    size_t *down, n_down;   /* indexes of downstream tasks */
    int retries;
    int64_t retry_delay_ms, max_retry_delay_ms;
    int64_t timeout_ms;     /* 0: none */
    int64_t poke_interval_ms;
    int soft_fail;
    int depends_on_past;
    weir_trigger_rule trigger;
    int warn_only;          /* expectation with severity warn: a failed suite only reports */
    unsigned line, col;
    /* model tasks bound by weir_pipeline_bind_models(): the transform's node
     * this task builds, and the tests it runs right after it */
    size_t node;
    size_t *tests, n_tests;
} weir_task_spec;

typedef struct weir_output_spec {
    const char *table;       /* as written: schema.table or table */
    const char *date_column; /* NULL when the pipeline named none */
    unsigned line, col;
    const char *model;       /* the model task that writes it (bound pipelines), or NULL */
} weir_output_spec;

typedef struct weir_pipeline {
    const char *name;
    const char *file;        /* as shown in messages */
    const char *owner;       /* may be NULL */
    const char *schedule_expr;
    const char *timezone;
    weir_schedule schedule;
    int has_start, has_end;
    weir_date start, end;
    int catchup;
    int max_active_runs;     /* >= 1 */
    int concurrency;         /* >= 1 */
    const char *alert_webhook; /* NULL or "" when none */
    int alert_stderr;
    weir_task_spec *tasks;
    size_t n_tasks;
    weir_output_spec *outputs;
    size_t n_outputs;
    char spec_hash[17];      /* hex of a hash of the file's bytes */
    struct weir_transform *transform; /* set by weir_pipeline_bind_models; borrowed */
    const char *project_dir; /* for relative file sensors and shell tasks */
    weir_yaml_doc doc;
    weir_arena arena;
} weir_pipeline;

typedef WEIR_VEC(weir_pipeline *) weir_pipeline_list;

/*
 * Loads and validates one pipeline file. Every problem is added to diags
 * with file:line:col (display_name in locations); returns 0 with *out set
 * (free with weir_pipeline_free) or WEIR_EINVALID with *out NULL.
 * p gives the defaults and the project folder; it may be NULL for tests.
 */
int weir_pipeline_load_file(const weir_project *p, const char *path, const char *display_name,
                            weir_pipeline **out, weir_diags *diags);
/* As weir_pipeline_load_file, from text. */
int weir_pipeline_load_buf(const weir_project *p, const char *name, const char *data,
                           size_t len, weir_pipeline **out, weir_diags *diags);
void weir_pipeline_free(weir_pipeline *pl);

/*
 * Loads every pipeline under the project's pipelines folders into out
 * (sorted by name). Problems of every file go to diags, duplicate names
 * included; returns 0 when all loaded, WEIR_EINVALID otherwise (the valid
 * ones are still in out). Release with weir_pipeline_list_release().
 */
int weir_pipeline_load_all(const weir_project *p, weir_pipeline_list *out, weir_diags *diags);
void weir_pipeline_list_release(weir_pipeline_list *l);

/* What `weir check` calls: every pipeline's problems into diags. */
int weir_pipeline_check_project(const weir_project *p, weir_diags *diags);

/* The pipeline called name in l, or NULL. */
weir_pipeline *weir_pipeline_list_find(const weir_pipeline_list *l, const char *name);
/* Index of the task called id, or -1. */
long weir_pipeline_task_index(const weir_pipeline *pl, const char *id);

/* "sensor", "run", "sql", "models", ... */
const char *weir_task_kind_name(weir_task_kind k);
const char *weir_trigger_rule_name(weir_trigger_rule r);

/*
 * Substitutes {{ name }} (blanks inside the braces optional) with the
 * variable of v, appending to out. An unknown name fails with
 * WEIR_EINVALID ("unknown variable 'x' in '...' (known: ds, ...)").
 */
int weir_pipeline_render(const char *text, const weir_interval_vars *v, weir_buf *out,
                         weir_error *err);

/* --- models.c: model tasks ---------------------------------------------- */

struct weir_transform;
struct weir_engine;

/* True when pl has a `models:` task still to bind. */
int weir_pipeline_has_models(const weir_pipeline *pl);

/*
 * Loads and compiles the project's models once for the process (with
 * engine for run_query(); vars, which may be NULL, give var('ds') and the
 * others a value while compiling: the first run's). Problems of the
 * project's files go to diags; returns 0 with *out set (free it with
 * weir_transform_free) or a negative code.
 */
int weir_pipeline_load_models(const weir_project *p, struct weir_engine *engine,
                              const weir_interval_vars *vars, struct weir_transform **out,
                              weir_diags *diags, weir_error *err);

/*
 * Replaces pl's `models:` task by one task per model, seed and snapshot its
 * selector picks in tf (compiled), in dbt build order: a task depends on
 * the tasks of the nearest selected nodes upstream of it (looking through
 * ephemeral and unselected ones), or on the stage before `models:` when it
 * has none; a task's tests are the selected tests on it, run right after
 * it (a test on several models runs with the last of them, which then
 * waits for the others); what came after `models:` waits for every model
 * task. Tasks are named after their model; the settings of `models:`
 * (retries, timeout, ...) apply to each. Independent model tasks build at
 * once on the executor's workers; the builds of one model (its intervals in
 * a parallel backfill) take turns, a task's timeout counting its wait for
 * its turn (which stopping the executor also ends). The tables the model tasks
 * write (tables, incremental models, snapshots, seeds; not views) join
 * pl->outputs after the pipeline's own, in build order, each with the
 * date_column `outputs:` names for it or else its partition_by column, for
 * rollback. tf must outlive pl. Returns 0
 * (also when pl has no models task), or WEIR_EINVALID when the selector is
 * invalid, selects no model, or a model's name is already a task's.
 */
int weir_pipeline_bind_models(weir_pipeline *pl, struct weir_transform *tf, weir_error *err);

/*
 * For a long-running process (`weir serve`): binds the model tasks of every
 * pipeline of l, loading the project's models once into *tf (when *tf is
 * NULL and some pipeline has models; compiled with the vars of the latest
 * closed interval of the first such pipeline). A pipeline that cannot be
 * bound is reported in err and the others are still bound; returns 0 or the
 * first error's code. *tf stays the caller's (free it after the pipelines'
 * last run).
 */
int weir_pipeline_bind_all(const weir_project *p, struct weir_engine *engine,
                           weir_pipeline_list *l, struct weir_transform **tf, weir_diags *diags,
                           weir_error *err);

/* Parses "100ms", "1.5s", "5m", "1h30m", "2d", or plain seconds, into ms. */
int weir_parse_duration_ms(const char *s, int64_t *ms);

#endif
