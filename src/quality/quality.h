/*
 * quality.h: Great-Expectations-compatible expectation suites, validated on
 * the warehouse in as few scans as possible.
 *
 * A suite is a file under expectations/ in GX's format, JSON or YAML:
 *
 *   { "expectation_suite_name": "orders",        (or "name")
 *     "table": "main.orders",                    (weir's: the table checked;
 *                                                  also meta.table; --table wins)
 *     "expectations": [
 *       { "expectation_type": "expect_column_values_to_not_be_null",  (or "type")
 *         "kwargs": { "column": "id", "mostly": 0.99 },
 *         "meta": {} } ] }
 *
 * Loading checks every expectation's kwargs against its type (required and
 * unknown kwargs, value types, min above max, ...). A bad expectation does
 * not stop the others: it keeps its message in weir_expectation.error, is
 * reported as a diagnostic, and validates as an error result.
 *
 * Validating plans every expectation of the suite together: column-map
 * unexpected counts, null counts, aggregates, distinct counts and distinct
 * sets go into ONE statement over the table: one aggregate with a FILTER
 * per metric, or on DuckDB one subquery per filter, which its scan prunes
 * with zone maps (weir_split_filters); the catalog comes from a zero-row
 * query and, on DuckDB, bounds and null-freedom from its statistics.
 * A few expectations need queries of their own: ordered ones (window
 * functions), the most common value, uniqueness (a bitmap of an integer
 * column bounded by the statistics, else one GROUP BY), another
 * table's row count, and string checks on a column whose values repeat
 * (once per distinct value, see weir_group_values; that GROUP BY also
 * serves the column's distinct sets and null counts). The median of an
 * integer column bounded to a small range is taken from the counts of its
 * values, a GROUP BY inside the batch's statement, not a sort. Samples of
 * unexpected values are fetched only for expectations that failed. When the
 * batched query fails (a kwarg the engine cannot use), it is split in halves
 * until the error is pinned to the expectations that cause it.
 *
 * dbt's built-in generic tests are planned the same way for transform/
 * (weir_quality_dbt_checks, dbt.c), with dbt's own failure counts.
 *
 * Kwargs may hold Jinja ({{ ds }}, var()), rendered by weir_suite_render.
 * Around validation: Data Docs (weir_quality_docs_write) and profiles with
 * a suggested suite (weir_quality_profile, weir_quality_suggest).
 *
 * Results are GX's validation result shape as a jansson object (see
 * weir_quality_validate). Memory: a weir_suite owns everything it points
 * to; results are new references the caller json_decref()s.
 */
#ifndef WEIR_QUALITY_H
#define WEIR_QUALITY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config/project.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/vec.h"
#include "engine/engine.h"
#include "store/store.h"

/* GX's result_format levels, least detail first. */
typedef enum {
    WEIR_RF_BOOLEAN_ONLY,
    WEIR_RF_BASIC,
    WEIR_RF_SUMMARY,
    WEIR_RF_COMPLETE
} weir_result_format;

/* Returns "BOOLEAN_ONLY", "BASIC", ... */
const char *weir_result_format_name(weir_result_format f);
/* Parses a level name (case-insensitive); 0 or WEIR_EINVALID. */
int weir_result_format_parse(const char *s, weir_result_format *out);

typedef struct weir_qx_type weir_qx_type; /* an expectation type (types.c) */

/* One expectation of a suite, its kwargs checked and parsed. */
typedef struct weir_expectation {
    char *type;             /* as written; "" when missing */
    const weir_qx_type *def;/* NULL for an unknown type */
    json_t *config;         /* {"expectation_type", "kwargs", "meta"}: for results */
    json_t *kwargs;         /* borrowed from config */
    char *where;            /* "file:line:col" (YAML) or "file: expectations[i]" */
    char *error;            /* why the expectation cannot run, or NULL */

    /* parsed kwargs; NULL / 0 when the type has none */
    const char *column;
    const char *column_a, *column_b;
    const char **columns;   /* column_list / column_set, n_columns items */
    size_t n_columns;
    double mostly;          /* 1.0 unless given */
    char *row_condition;    /* SQL, or NULL */
    int has_format;         /* result_format given in kwargs */
    weir_result_format format;
    int partial_count;      /* partial_unexpected_count; 20 by default */
    int catch_exceptions;   /* -1 when not given */
    int templated;          /* kwargs hold Jinja: unchecked until weir_suite_render */
    json_t *kw_places;      /* YAML: kwarg name -> [line, col], for render errors; or NULL */
} weir_expectation;

typedef struct weir_suite {
    char *name;
    char *file;             /* as given to the loader */
    char *table;            /* "table" or meta.table, or NULL */
    json_t *meta;           /* the suite's meta (an object, maybe empty) */
    weir_expectation *items;
    size_t n_items;
    size_t n_errors;        /* expectations with an error */
} weir_suite;

/*
 * Parses a suite from text; name is the file name used in locations and
 * decides the syntax (".json": JSON, otherwise YAML). On success returns 0
 * and *out is a new suite (free with weir_suite_free); problems of single
 * expectations are in their error field and also added to diags (which may
 * be NULL). Returns WEIR_EINVALID with *out NULL when the file cannot be a
 * suite (syntax, not a mapping, no expectation list); the problems are in
 * diags, each starting "file:line:col:" when the place is known.
 */
int weir_suite_parse(const char *name, const char *text, size_t len, weir_suite **out,
                     weir_diags *diags);
/* Reads and parses the file at path; a file that cannot be read is one diag. */
int weir_suite_load_file(const char *path, weir_suite **out, weir_diags *diags);
/*
 * Builds a suite from a JSON object already parsed (name for locations).
 * The object is not consumed.
 */
int weir_suite_from_json(const char *name, const json_t *root, weir_suite **out,
                         weir_diags *diags);
void weir_suite_free(weir_suite *s);

/*
 * Finds the suite called name in the project's expectations folders: the
 * file NAME.json, NAME.yml or NAME.yaml, or else the file whose suite name
 * is name. *path is a new string. WEIR_ENOTFOUND ("no suite 'x' in
 * 'expectations'") when there is none.
 */
int weir_suite_find(const weir_project *p, const char *name, char **path, weir_error *err);

/* What templated kwargs see (see weir_suite_render). */
typedef struct weir_suite_params {
    const char *ds;                  /* the run's date YYYY-MM-DD, or NULL */
    const char *data_interval_start; /* NULL: ds */
    const char *data_interval_end;   /* NULL: the day after ds */
    const json_t *vars;              /* var(): an object (the project's vars), or NULL */
} weir_suite_params;

/*
 * Renders the Jinja in the kwargs of s's expectations (row_condition
 * included) with ds, ds_nodash, data_interval_start, data_interval_end and
 * var(), then checks those kwargs as loading checks plain ones. Loading
 * leaves templated expectations unchecked (x->templated); validating one
 * that was never rendered is an error of that expectation. An expectation
 * whose template fails (an undefined name, a missing var) keeps the
 * message in x->error, also added to diags (may be NULL) at the kwarg's
 * "file:line:col" when the suite is YAML. Returns 0, or WEIR_EINVALID when
 * some expectation failed (the others are rendered).
 */
int weir_suite_render(weir_suite *s, const weir_suite_params *params, weir_diags *diags);

/*
 * The project's vars (weir.yml's vars:) as a new JSON object (empty when
 * there are none), for weir_suite_params.vars.
 */
json_t *weir_quality_project_vars(const weir_project *p);

/* The names of every expectation type weir knows, and their number. */
extern const char *const weir_expectation_type_names[];
extern const size_t weir_expectation_type_count;

/*
 * Costly string checks (regexes, LIKE, sets, lengths, formats) on a column
 * whose values repeat can be evaluated once per distinct value, weighted by
 * its count, instead of once per row: one GROUP BY per column. AUTO does so
 * when the engine's statistics say the values repeat (on average four
 * times or more); ALWAYS and NEVER are for tests and the benchmark.
 */
typedef enum { WEIR_GROUP_AUTO, WEIR_GROUP_NEVER, WEIR_GROUP_ALWAYS } weir_group_values;

/*
 * How the metrics of a suite become queries. ONE: a single aggregate with
 * a FILTER clause per metric (one scan). SPLIT: one subquery per distinct
 * filter, as a WHERE the engine can push into its scan and prune with
 * min/max statistics. AUTO picks per engine: SPLIT on DuckDB, ONE
 * elsewhere. The results are the same.
 */
typedef enum { WEIR_SPLIT_AUTO, WEIR_SPLIT_NEVER, WEIR_SPLIT_ALWAYS } weir_split_filters;

typedef struct weir_validate_options {
    const char *table;       /* the table to check; NULL: the suite's */
    const char *ds;          /* the run's date, kept in the result's meta */
    const char *run_name;    /* NULL: "manual" */
    weir_result_format format; /* for expectations without result_format */
    bool catch_exceptions;   /* default for expectations without one */
    bool batch;              /* false: every expectation with its own queries */
    weir_group_values group_values;
    weir_split_filters split;
    /*
     * Connections the independent queries run on (the batch, each GROUP
     * BY, each bitmap): 0 or 1 keeps to c, 2 adds a second one in a thread
     * (weir validate does; see bench/quality/README.md for what it gains). A second connection does not see c's
     * uncommitted changes: validating inside an open transaction needs 1.
     */
    int connections;
} weir_validate_options;

#define WEIR_VALIDATE_OPTIONS_INIT \
    { NULL, NULL, NULL, WEIR_RF_BASIC, true, true, WEIR_GROUP_AUTO, WEIR_SPLIT_AUTO, 0 }

/*
 * What one validation cost, for tests, the benchmark and `weir -vv`: the
 * queries run and, when sql is not NULL, each statement (appended, copied).
 */
typedef struct weir_validate_stats {
    size_t queries;
    size_t fallbacks;        /* queries run to find what a failed batch could not compute */
    weir_strvec *sql;
} weir_validate_stats;

/*
 * Validates suite s on the table on connection c and sets *out to a new
 * GX validation result:
 *   { "success", "statistics": { "evaluated_expectations",
 *     "successful_expectations", "unsuccessful_expectations",
 *     "success_percent" }, "results": [ { "success", "expectation_config",
 *     "result": {...}, "exception_info": {...}, "meta" } ], "meta": {...},
 *     "evaluation_parameters": {} }
 * A failed expectation is not an error: the return is 0 and "success" says
 * it. Returns WEIR_EINVALID when no table is named, WEIR_ENOTFOUND when the
 * table does not exist, or the engine's error when an expectation with
 * catch_exceptions false raised one (then *out is NULL). opts and stats may
 * be NULL.
 */
int weir_quality_validate(weir_conn *c, const weir_suite *s, const weir_validate_options *opts,
                          json_t **out, weir_validate_stats *stats, weir_error *err);

/*
 * dbt's built-in generic tests on one relation (see dbt.c), for
 * transform/'s `weir test` and `weir build`: the failure count dbt's own
 * query gives (after `where` and `limit`) and whether it meets warn_if
 * and error_if. The SQL pieces are as dbt interpolates them: column_name,
 * the where config, the accepted values as a SQL list, the parent
 * relation and field.
 */
typedef enum {
    WEIR_DBT_NOT_NULL,
    WEIR_DBT_UNIQUE,
    WEIR_DBT_ACCEPTED_VALUES,
    WEIR_DBT_RELATIONSHIPS
} weir_dbt_test_kind;

typedef struct weir_dbt_check {
    weir_dbt_test_kind kind;
    const char *column;     /* SQL: dbt's column_name */
    const char *where;      /* SQL, or NULL / "" for none */
    const char *values;     /* accepted_values: "'a', 'b'" (quoted as the test says) */
    const char *to;         /* relationships: the parent relation */
    const char *field;      /* relationships: the parent's column */
    long long limit;        /* < 0: none */
    const char *warn_if, *error_if; /* NULL: "!= 0" */
    /* results */
    long long failures;
    bool should_warn, should_error;
} weir_dbt_check;

/*
 * Computes every check on relation (SQL, quoted as the tests read it).
 * batch false: each its own query, as dbt runs it (for comparisons and
 * the benchmark). batch true, by split: SPLIT (AUTO on DuckDB) is one
 * statement with a subquery per test, a WHERE its scan can prune, and
 * uniqueness of an integer column proven by a bitmap before any GROUP BY;
 * NEVER (AUTO elsewhere) is one aggregate with a FILTER per test
 * (not_null, accepted_values, relationships as NOT EXISTS) and one GROUP
 * BY GROUPING SETS for the unique tests. Every way gives the same
 * failures and thresholds. stats (may be NULL) counts the statements and
 * keeps the main ones' SQL. Returns 0, or the engine's error (a batch that
 * fails names no single test: run them on their own to find which), or
 * WEIR_EINVALID when a check lacks its arguments.
 */
int weir_quality_dbt_checks(weir_conn *c, const char *relation, weir_dbt_check *checks, size_t n,
                            bool batch, weir_split_filters split, weir_validate_stats *stats,
                            weir_error *err);

/* Appends the query dbt runs for check x (the rows it counts as failures). */
void weir_quality_dbt_check_sql(const char *relation, const weir_dbt_check *x, weir_buf *out);

/*
 * Writes a result atomically to DIR/validations/<suite>/<run time>.json
 * (DIR is the project's target folder), the run time coming from the
 * result's meta; *path (may be NULL) receives the new file's path.
 */
int weir_quality_write_result(const char *target_dir, const json_t *result, char **path,
                              weir_error *err);

/*
 * Keeps a result in the store: one row in validations (the whole result)
 * and one row per expectation in check_results (kind 'expectation').
 * run_id is the run it belongs to, or 0 for none. *id (may be NULL)
 * receives the validation's id.
 */
int weir_quality_store_result(weir_store *st, const json_t *result, int64_t run_id,
                              const char *path, int64_t *id, weir_error *err);

/*
 * Profiles table on c in one scan and sets *out to a new object:
 *   { "table", "row_count", "columns": [ { "name", "type", "non_null",
 *     "nulls", "null_percent", "distinct_approx", "min", "max", and where
 *     they apply "mean", "stdev", "min_length", "max_length",
 *     "top_values" (most frequent first), "unique" (checked exactly for
 *     the columns the estimate says may be unique) } ] }
 * Returns WEIR_ENOTFOUND when the table does not exist, or the engine's
 * error.
 */
int weir_quality_profile(weir_conn *c, const char *table, json_t **out, weir_error *err);

/*
 * A suite suggested from a profile (a new GX suite object, named
 * suite_name or the table): row count and columns, and per column its
 * type, nulls (mostly when some are), uniqueness, a value set (few
 * distinct values) or a range, text lengths. Every suggestion holds on
 * the profiled data; the bounds are a start for the user to edit.
 */
json_t *weir_quality_suggest(const json_t *profile, const char *suite_name);

/*
 * Writes the Data Docs site under DIR/data_docs/ (DIR: the project's
 * target folder): index.html listing every suite with its last run and a
 * strip of its history, suites/SUITE.html with the suite's runs and how
 * each expectation fared, runs/SUITE/TIME.html per validation (pass/fail
 * per expectation, observed values, samples of unexpected values). The
 * validations come from st (the history kept in the store) when it is not
 * NULL, else from the result files under DIR/validations/. Pages are
 * self-contained HTML (inline styles, no script, nothing fetched).
 * *index_path (may be NULL) receives the index's path, a new string.
 */
int weir_quality_docs_write(const char *target_dir, weir_store *st, char **index_path,
                            weir_error *err);

#endif
