/*
 * transform.h: dbt projects built on weir's warehouse.
 *
 * A weir_transform is a loaded project graph: every model, seed, test,
 * snapshot and source of a dbt project (or of a weir project's model
 * folders), with its merged configuration, its rendered SQL and its
 * dependencies. The life of one command:
 *
 *   weir_transform_load(project, &opts, &tf, &diags);   files -> nodes
 *   weir_transform_compile(tf, &err);                   Jinja -> SQL, DAG
 *   weir_transform_select(tf, select, exclude, &sel);   dbt selectors
 *   weir_transform_run(tf, engine, &sel, &run_opts);    materializations
 *   weir_transform_write_run_results(tf, ...);          target/ artifacts
 *   weir_transform_free(tf);
 *
 * Semantics follow dbt: config precedence is config() in the model >
 * property file (a .yml under models/) > the dbt_project.yml tree (`+key` and
 * folder nesting); dependencies are the ref()/source() calls found while
 * rendering; custom schemas are "<target schema>_<schema>".
 *
 * Ownership: the weir_transform owns every node and string reachable from
 * it. Configs are jansson objects (borrowed from their node).
 *
 * Threads: weir_transform_run() runs independent nodes on opts->threads
 * worker threads, each with its own connection; weir_transform_build_node()
 * may be called from several threads at once (pipeline model tasks);
 * everything else is called from one thread.
 */
#ifndef WEIR_TRANSFORM_H
#define WEIR_TRANSFORM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "config/project.h"
#include "core/error.h"
#include "core/vec.h"

typedef struct weir_engine weir_engine;
struct weir_conn;

typedef enum {
    WEIR_NODE_MODEL,
    WEIR_NODE_SEED,
    WEIR_NODE_TEST,
    WEIR_NODE_SNAPSHOT,
    WEIR_NODE_SOURCE
} weir_node_kind;

/* "model", "seed", "test", "snapshot", "source" (dbt's resource_type). */
const char *weir_node_kind_name(weir_node_kind k);

typedef struct weir_tnode {
    weir_node_kind kind;
    size_t index;          /* position in weir_transform.nodes */
    char *name;            /* model name; a test's generated name; source "src.tbl" */
    char *unique_id;       /* "model.<project>.<name>", "source.<p>.<src>.<tbl>" */
    char *path;            /* relative to the project: "models/staging/a.sql" */
    char *abs_path;        /* NULL for generated tests and sources */
    char **fqn;            /* project name, folders..., name */
    size_t n_fqn;
    char *raw_sql;         /* the file's text (models, tests, snapshots) */
    json_t *config;        /* merged config: materialized, schema, alias, tags, ... */
    char *database;        /* NULL: the warehouse's default */
    char *schema;          /* resolved: "main", "main_staging", a source's schema */
    char *alias;           /* relation name */
    char *relation;        /* quoted "schema"."alias", what ref() returns */
    char *description;
    json_t *columns;       /* {name: {name, description, data_type}} */
    char *rendered_sql;    /* the Jinja's output, before ephemeral CTEs */
    char *compiled_sql;    /* after weir_transform_compile (ephemeral CTEs inlined) */
    int compiled;          /* compiled_sql is valid */
    WEIR_VEC(size_t) deps; /* indexes of the nodes this one reads (incl. sources) */
    WEIR_VEC(size_t) children;
    int config_set_alias;  /* config() in the model changed where it lives */
    /* tests */
    char *test_kind;       /* "not_null", "unique", ..., "singular", or a custom name */
    char *column;          /* the column a generic test is on, or NULL */
    json_t *test_args;     /* generic test arguments (values, to, field, ...) */
    size_t attached;       /* the node a generic test is attached to, or (size_t)-1 */
    /* sources */
    char *source_name, *table_name;
} weir_tnode;

/*
 * The date column an incremental model is partitioned by (its partition_by
 * config: 'day' or dbt's {'field': 'day', ...}), or NULL.
 */
const char *weir_node_partition_by(const weir_tnode *n);

typedef struct weir_transform weir_transform;

typedef struct weir_transform_options {
    const char *vars_yaml;   /* --vars: a YAML/JSON mapping, or NULL */
    const char *target_name; /* "dev" when NULL */
    int full_refresh;
} weir_transform_options;

#define WEIR_TRANSFORM_OPTIONS_INIT { NULL, NULL, 0 }

/*
 * Reads the project's files: dbt_project.yml's config tree, property files,
 * models, seeds, tests, snapshots and macros. Every problem found goes into
 * diags ("file:line:col: error: ..."); returns 0 or WEIR_EINVALID. *out is
 * set on success only; free it with weir_transform_free().
 */
int weir_transform_load(const weir_project *p, const weir_transform_options *opts,
                        weir_transform **out, weir_diags *diags);
void weir_transform_free(weir_transform *tf);

size_t weir_transform_count(const weir_transform *tf);
weir_tnode *weir_transform_node(weir_transform *tf, size_t i);
/* The node with this unique_id or name (models, seeds, snapshots first), or NULL. */
weir_tnode *weir_transform_find(weir_transform *tf, const char *name);
const char *weir_transform_name(const weir_transform *tf);
/* The project folder's target/ path. */
const char *weir_transform_target_dir(const weir_transform *tf);

/*
 * Gives rendering a warehouse for run_query() and sets `execute` true, as
 * dbt does when it runs or compiles against a connection. Without one
 * (`weir ls`), run_query() returns none and `execute` is false, as in dbt's
 * parse. e must outlive tf; call before weir_transform_compile().
 */
void weir_transform_set_engine(weir_transform *tf, weir_engine *e);

/*
 * Renders every model, test and snapshot (is_incremental() false), records
 * dependencies from the traced ref()/source() calls, checks the graph for
 * cycles ("dependency cycle: a -> b -> a") and inlines ephemeral models.
 * Errors name the file, line and column; an unknown ref suggests the
 * nearest name. Returns 0 or a negative code.
 */
int weir_transform_compile(weir_transform *tf, weir_error *err);

/*
 * Renders src as an inline model (`weir compile --inline`) and appends the
 * SQL to out. Call after weir_transform_compile().
 */
int weir_transform_compile_inline(weir_transform *tf, const char *src, weir_buf *out,
                                  weir_error *err);

/* A selection: one flag per node. */
typedef struct weir_selection {
    unsigned char *on;
    size_t n;
} weir_selection;

/*
 * Evaluates dbt selectors: each string of select is a union of
 * space-separated selectors, each an intersection of comma-separated
 * methods (name, +name, name+, 2+name, name+1, @name, tag:, path:,
 * config.K:, source:, resource_type:, test_type:, fqn:). No select means
 * everything. Then removes exclude's matches. Tests whose parents are all
 * selected are added (dbt's indirect selection) when with_tests is set.
 * Unknown methods are WEIR_EINVALID. Free with weir_selection_release().
 */
int weir_transform_select(weir_transform *tf, const char *const *select, size_t n_select,
                          const char *const *exclude, size_t n_exclude, int with_tests,
                          weir_selection *out, weir_error *err);
void weir_selection_release(weir_selection *s);

/* What weir_transform_run() runs among the selected nodes. */
typedef enum {
    WEIR_RUN_MODELS = 1 << 0,
    WEIR_RUN_TESTS = 1 << 1,
    WEIR_RUN_SEEDS = 1 << 2,
    WEIR_RUN_SNAPSHOTS = 1 << 3,
    WEIR_RUN_BUILD = 15 /* everything, a model's tests right after it */
} weir_run_what;

typedef struct weir_run_options {
    unsigned what;       /* weir_run_what bits */
    int threads;         /* >= 1 */
    int full_refresh;
    int fail_fast;
    const char *command; /* "run", "build", ... for run_results.json */
    FILE *out;           /* progress lines; NULL: silent */
    /*
     * 0: a model's built-in generic tests that are ready together run as
     * one batch through quality/ (the same failures and statuses as their
     * own queries, in fewer scans); 1: each test runs its own query, as
     * dbt does. WEIR_TEST_BATCH=0 in the environment also turns it off.
     */
    int own_test_queries;
} weir_run_options;

typedef struct weir_run_summary {
    size_t ok, warn, error, skipped, total;
    double elapsed;
} weir_run_summary;

/*
 * Builds the selected nodes in dependency order: views, tables,
 * incremental models, seeds, snapshots and tests, printing a line per node
 * as it finishes and a summary. A failed node skips everything downstream
 * of it; in a build, so does a failing test. Writes target/run/ and
 * target/run_results.json. Returns 0 when nothing failed, WEIR_ERROR
 * otherwise (details were printed), or another code when the run could
 * not start.
 */
int weir_transform_run(weir_transform *tf, weir_engine *e, const weir_selection *sel,
                       const weir_run_options *opts, weir_run_summary *summary,
                       weir_error *err);

/*
 * One node of a pipeline run (orchestrate/'s model tasks): what
 * weir_transform_build_node() did, one entry per node it ran.
 */
typedef struct weir_node_outcome {
    size_t node;       /* index in the transform */
    const char *status; /* "success", "error", "pass", "warn", "fail", "skipped" */
    long long rows;    /* rows affected or failing rows; -1 unknown */
    double secs;
    char *message;     /* owned; may be NULL */
} weir_node_outcome;

typedef struct weir_node_outcomes {
    WEIR_VEC(weir_node_outcome) list;
    char *error;       /* the first failure, owned; NULL when none */
} weir_node_outcomes;

void weir_node_outcomes_release(weir_node_outcomes *o);

/* What a pipeline build of one node runs with (weir_transform_build_node). */
typedef struct weir_build_options {
    json_t *vars;              /* the run's vars (a JSON object), or NULL */
    /* the run's data interval [start, end) as local timestamps
     * "YYYY-MM-DD HH:MM:SS", or NULL */
    const char *window_start, *window_end;
    FILE *log;                 /* lines for the task's log, or NULL */
    /* set nonzero (from another thread) to stop the build: a timeout, a
     * shutdown; NULL when nothing stops it */
    const atomic_int *cancel;
} weir_build_options;

/*
 * Builds node i (a model, seed or snapshot) and then the given tests, on
 * connection c, for one pipeline run (opts may be NULL):
 *
 * - opts->vars is laid over the project's vars for this call only, and the
 *   node, the ephemeral models it reads and its tests are rendered again
 *   with it: a model reads the run's date as var('ds') (also ds_nodash,
 *   data_interval_start, data_interval_end); so do its singular tests,
 *   and its generic tests' `where` config and templated arguments;
 * - when opts->window_start/window_end are given, an incremental model
 *   with incremental_strategy insert_overwrite replaces every row of its
 *   partition_by column in that window, even when the new rows hold none
 *   of it, so running an interval again gives the same table;
 * - a node that fails leaves its previous relation and its tests are
 *   skipped; a test with severity error that fails is a failure, one with
 *   severity warn (or past warn_if only) is reported, not failed.
 *
 * Calls may run at once on several threads, each with its own connection:
 * a call renders into its own copies of the nodes (the graph keeps what
 * weir_transform_compile() rendered and is never written), and calls
 * building the same node take turns for its materialization and tests, so
 * two intervals of one incremental model never write its table at once.
 *
 * Stopping: interrupting c stops the query running; a call waiting for
 * its turn, or between two statements, looks at *opts->cancel every few
 * milliseconds and returns WEIR_EINTERRUPTED once it is set (the caller
 * sets the flag, then interrupts c).
 *
 * Returns 0 when everything passed or only warned, WEIR_ERROR when the
 * node or a test failed (out->error says which), WEIR_EINTERRUPTED when
 * cancelled, another code when the build could not start.
 */
int weir_transform_build_node(weir_transform *tf, struct weir_conn *c, size_t i,
                              const size_t *tests, size_t n_tests,
                              const weir_build_options *opts, weir_node_outcomes *out,
                              weir_error *err);

/*
 * dbt's `source freshness`: for each selected source with a freshness
 * (warn_after / error_after {count, period}, loaded_at_field, filter),
 * reads max(loaded_at_field), takes its age from now (UTC) and reports
 * pass, warn, error (stale) or runtime error, a line per source on out
 * (NULL: silent) and target/sources.json. summary counts pass (ok), warn
 * and error (stale or runtime). Returns 0 when none erred, WEIR_ERROR when
 * one did, or another code when the check could not start.
 */
int weir_transform_source_freshness(weir_transform *tf, weir_engine *e, const weir_selection *sel,
                                    FILE *out, weir_run_summary *summary, weir_error *err);

/* Writes target/manifest.json and target/compiled/. */
int weir_transform_write_manifest(weir_transform *tf, weir_error *err);

/*
 * Writes target/index.html: every model, seed, snapshot and source with its
 * columns, descriptions, tests, compiled SQL and links both ways, and the
 * lineage graph as an SVG picture. Call after weir_transform_compile().
 */
int weir_transform_write_docs(weir_transform *tf, weir_error *err);

#endif
