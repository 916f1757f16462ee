/*
 * project.h: the project a user writes, as described by weir.yml.
 *
 * weir_project_load() finds and reads DIR/weir.yml (or, for a plain dbt
 * project, DIR/dbt_project.yml), checks it against its schema, fills in the
 * defaults and resolves every path against the project folder, so the rest
 * of weir only ever sees absolute paths:
 *
 *   name: classroom              # required, an identifier
 *   warehouse:                   # default: duckdb at warehouse.duckdb
 *     type: duckdb               # duckdb | postgres
 *     path: warehouse.duckdb     # duckdb: relative to the project, or ":memory:"
 *     dsn: ${WAREHOUSE_DSN}      # postgres only (and required there)
 *     threads: 4
 *   store:                       # default: sqlite at .weir/store.db
 *     type: sqlite               # sqlite | postgres
 *     path: .weir/store.db
 *     dsn: ...
 *   lake: { path: lake }         # optional
 *   defaults: { timezone: UTC, retries: 0, retry_delay: 5m, schedule: "@daily", owner: data }
 *   paths: { models: [models], seeds: [seeds], ... }
 *   vars: { any: mapping }
 *   dbt: { models: {...}, seeds: {...}, on-run-end: [...] }   # as in dbt_project.yml
 *
 * weir.yml is interpolated (${VAR}, ${VAR:-default}); dbt_project.yml is not
 * (dbt writes {{ env_var() }}, which the template layer will handle).
 */
#ifndef WEIR_CONFIG_PROJECT_H
#define WEIR_CONFIG_PROJECT_H

#include <stdint.h>

#include "config/schema.h"
#include "config/yaml.h"
#include "core/error.h"

typedef enum {
    WEIR_PROJECT_WEIR, /* weir.yml */
    WEIR_PROJECT_DBT   /* only dbt_project.yml */
} weir_project_kind;

typedef enum { WEIR_WAREHOUSE_DUCKDB, WEIR_WAREHOUSE_POSTGRES } weir_warehouse_kind;
typedef enum { WEIR_STORE_SQLITE, WEIR_STORE_POSTGRES } weir_store_kind;

/* Folders of one kind, as absolute paths. */
typedef struct weir_pathlist {
    const char **items;
    size_t len;
} weir_pathlist;

typedef struct weir_project {
    weir_project_kind kind;
    const char *dir;          /* absolute project folder, no trailing slash */
    const char *display_dir;  /* the folder as the user named it, for messages */
    const char *file;         /* absolute path of weir.yml / dbt_project.yml */
    const char *name;

    struct {
        weir_warehouse_kind kind;
        const char *type;     /* "duckdb" | "postgres" */
        const char *path;     /* duckdb: absolute path or ":memory:"; else NULL */
        const char *dsn;      /* postgres: the connection string; else NULL */
        int threads;          /* 0: the engine's default */
    } warehouse;

    struct {
        weir_store_kind kind;
        const char *type;     /* "sqlite" | "postgres" */
        const char *path;     /* sqlite: absolute path; else NULL */
        const char *dsn;      /* postgres: the connection string; else NULL */
    } store;

    const char *lake_path;    /* absolute, or NULL when the project has no lake */

    struct {
        const char *timezone;     /* "UTC" */
        int retries;              /* 0 */
        int64_t retry_delay;      /* seconds; 300 */
        const char *schedule;     /* "@daily" */
        const char *owner;        /* NULL when not set */
    } defaults;

    struct {
        weir_pathlist models, seeds, macros, tests, snapshots, pipelines, sources,
            expectations, monitors;
    } paths;

    const weir_yaml_node *vars; /* a mapping, or NULL when there are none */

    weir_yaml_doc doc;          /* the parsed file; owns every string above */
    weir_yaml_getenv_fn getenv; /* how ${VAR} was looked up (NULL: environment) */
    void *getenv_data;
} weir_project;

/*
 * Loads the project in dir. On success *out is a new project (free it with
 * weir_project_free) and 0 is returned. Otherwise every problem found is in
 * diags, *out is NULL, and the return is WEIR_ENOTFOUND when the folder holds
 * neither weir.yml nor dbt_project.yml ("no weir.yml in 'DIR' (run 'weir
 * init DIR' to create a project)") or WEIR_EINVALID when the file is wrong.
 * Locations in diagnostics name the file as dir/weir.yml with dir as given.
 */
int weir_project_load(const char *dir, weir_project **out, weir_diags *diags);

typedef struct weir_project_options {
    weir_yaml_getenv_fn getenv; /* NULL: the process environment */
    void *getenv_data;
    /*
     * Non-zero: when the project file parses but has errors, still return
     * the project (with defaults where values were wrong) in *out along with
     * WEIR_EINVALID, so `weir check` can go on to check the other files.
     * The caller frees it. Its name is "" when the file had none. After a
     * syntax error *out stays NULL.
     */
    int keep_invalid;
} weir_project_options;

/* weir_project_load with options; opts may be NULL. */
int weir_project_load_opts(const char *dir, const weir_project_options *opts,
                           weir_project **out, weir_diags *diags);

/*
 * As weir_project_load, for a weir.yml whose text is given: name is the file
 * name used in locations, dir the folder paths are resolved against (it need
 * not exist), opts the YAML options (NULL: interpolation from the process
 * environment). For tests and the fuzzer.
 */
int weir_project_load_buf(const char *dir, const char *name, const char *data, size_t len,
                          const weir_yaml_options *opts, weir_project **out,
                          weir_diags *diags);

void weir_project_free(weir_project *p);

/*
 * Parses every YAML file under the project's sources, pipelines, models and
 * expectations folders and reports each file's problems (syntax, duplicate
 * keys, unset variables, ...) into diags, all files included. Files of weir's
 * own (sources, pipelines, expectations) are interpolated; dbt's model files
 * are not. Returns 0 when no problem was found, WEIR_EINVALID otherwise.
 */
int weir_project_check(const weir_project *p, weir_diags *diags);

/* The schema of weir.yml, for tools that check it without loading. */
extern const weir_schema weir_project_schema;

#endif
