/*
 * internal.h: what the files of quality/ share and nothing else sees: the
 * table of expectation types (types.c), used by the suite loader (suite.c)
 * to check kwargs and by the planner (validate.c) to compile SQL, and how
 * a table's name is written in SQL (validate.c, profile.c).
 */
#ifndef WEIR_QUALITY_INTERNAL_H
#define WEIR_QUALITY_INTERNAL_H

#include "core/buf.h"
#include "quality/quality.h"

/* How an expectation is computed. */
typedef enum {
    QX_TABLE,  /* on the table: row counts, the catalog */
    QX_MAP,    /* per value of one column: unexpected counts */
    QX_MULTI,  /* per row over several columns: unexpected counts */
    QX_AGG     /* one aggregate of a column: observed_value */
} qx_kind;

/* Every type weir implements. */
typedef enum {
    /* table */
    X_ROW_COUNT_BETWEEN,
    X_ROW_COUNT_EQUAL,
    X_ROW_COUNT_EQUAL_OTHER,
    X_COLUMN_COUNT_EQUAL,
    X_COLUMN_COUNT_BETWEEN,
    X_COLUMNS_ORDERED,
    X_COLUMNS_SET,
    X_COLUMN_EXISTS,
    /* column map */
    X_NOT_NULL,
    X_NULL,
    X_UNIQUE,
    X_IN_SET,
    X_NOT_IN_SET,
    X_BETWEEN,
    X_INCREASING,
    X_DECREASING,
    X_LENGTHS_BETWEEN,
    X_LENGTHS_EQUAL,
    X_REGEX,
    X_NOT_REGEX,
    X_REGEX_LIST,
    X_NOT_REGEX_LIST,
    X_LIKE,
    X_NOT_LIKE,
    X_STRFTIME,
    X_DATEUTIL,
    X_JSON,
    X_OF_TYPE,
    X_IN_TYPE_LIST,
    /* column aggregate */
    X_MIN,
    X_MAX,
    X_MEAN,
    X_MEDIAN,
    X_SUM,
    X_STDEV,
    X_QUANTILES,
    X_UNIQUE_COUNT,
    X_UNIQUE_PROPORTION,
    X_MOST_COMMON,
    X_DISTINCT_IN_SET,
    X_DISTINCT_CONTAIN,
    X_DISTINCT_EQUAL,
    /* multi-column */
    X_PAIR_EQUAL,
    X_PAIR_GREATER,
    X_COMPOUND_UNIQUE,
    X_SELECT_UNIQUE,
    X_MULTI_SUM
} qx_id;

struct weir_qx_type {
    const char *name;
    qx_id id;
    qx_kind kind;
    /*
     * The kwargs of the type besides the common ones (result_format,
     * catch_exceptions, include_config, row_condition, condition_parser,
     * meta), as "name:T" words, "!" before a required one. T is one of
     *   c column name        C non-empty list of column names
     *   n number             v number, string or null (a bound)
     *   i integer >= 0       b boolean        s string     S list of strings
     *   L list of scalars    l the same, or null      p number in [0, 1]
     *   q quantile_ranges    x anything (accepted, ignored)
     */
    const char *kwargs;
};

/* The type called name, or NULL. */
const weir_qx_type *weir_qx_type_find(const char *name);

/*
 * Checks x's kwargs against its type and fills the parsed fields. On a
 * problem returns -1 with the message in msg (no location), else 0;
 * warnings (kwargs weir does not know) go to warn, one per line.
 */
int weir_qx_check(weir_expectation *x, weir_buf *msg, weir_buf *warn);

/* Appends a JSON scalar as a SQL literal ('x', 12, 1.5, true, NULL). */
void weir_qx_literal(const weir_dialect *d, const json_t *v, weir_buf *out);

/* Appends a table name as SQL, each dotted part quoted ("s"."t"); a name
 * with quotes, parentheses or spaces is taken as SQL as written. Used by
 * the planner (validate.c) and the profiler (profile.c). */
void weir_qx_quote_relation(const weir_dialect *d, const char *name, weir_buf *out);

#endif
