/*
 * backend.h: the table of functions an engine backend provides (private to
 * src/engine/).
 *
 * engine.c holds what every backend shares: argument checks, row counting
 * in appenders, value conversions, text rendering, quoting and dialects.
 * A backend file (duckdb.c, later postgres.c) defines one
 * weir_engine_backend and the structs behind the opaque types, each
 * starting with the shared part below so that engine.c can read it
 * (libgit2's ODB backends and curl's vtls do the same).
 */
#ifndef WEIR_ENGINE_BACKEND_H
#define WEIR_ENGINE_BACKEND_H

#include "engine/engine.h"

typedef struct weir_engine_backend weir_engine_backend;

struct weir_engine {
    const weir_engine_backend *be;
    char *target;
};

struct weir_conn {
    const weir_engine_backend *be;
    weir_engine *engine;
};

struct weir_stmt {
    const weir_engine_backend *be;
    weir_conn *conn;
    size_t nparams;
};

struct weir_appender {
    const weir_engine_backend *be;
    weir_conn *conn;
    char *table;      /* as the user named it, for messages */
    size_t rows;      /* rows completed */
    size_t flushed;   /* rows written by the last successful flush */
};

/* Column facts every backend fills for its results. */
typedef struct weir_result_col {
    char *name;
    char *type_name;
    weir_type type;
    int scale;
} weir_result_col;

struct weir_result {
    const weir_engine_backend *be;
    size_t nrows, ncols;
    weir_result_col *cols;
    bool streaming;
    weir_buf scratch; /* text of the last cell read with weir_result_value */
};

/* How a query's rows are wanted. */
typedef enum { WEIR_ROWS_NONE, WEIR_ROWS_ALL, WEIR_ROWS_STREAM } weir_rows_mode;

struct weir_engine_backend {
    const char *name;
    const weir_dialect *dialect;
    const char *(*version)(void);

    int (*open)(const char *target, const weir_engine_options *opts, weir_engine **out,
                weir_error *err);
    void (*close)(weir_engine *e);

    int (*connect)(weir_engine *e, weir_conn **out, weir_error *err);
    void (*disconnect)(weir_conn *c);
    /* out is NULL exactly when mode is WEIR_ROWS_NONE. */
    int (*query)(weir_conn *c, const char *sql, weir_rows_mode mode, weir_result **out,
                 weir_error *err);
    void (*interrupt)(weir_conn *c);
    double (*progress)(weir_conn *c);

    int (*prepare)(weir_conn *c, const char *sql, weir_stmt **out, weir_error *err);
    int (*bind)(weir_stmt *s, size_t idx, const weir_value *v, weir_error *err);
    int (*clear)(weir_stmt *s, weir_error *err);
    int (*execute)(weir_stmt *s, weir_result **out, weir_error *err);
    void (*stmt_free)(weir_stmt *s);

    int (*appender_new)(weir_conn *c, const char *schema, const char *table,
                        weir_appender **out, weir_error *err);
    /* On failure, set a message without the row; engine.c adds it. */
    int (*append)(weir_appender *a, const weir_value *v, weir_error *err);
    int (*end_row)(weir_appender *a, weir_error *err);
    int (*flush)(weir_appender *a, weir_error *err);
    void (*appender_free)(weir_appender *a);

    /* Results: the rest of the batch protocol and the cells. */
    int (*fetch)(weir_result *r, weir_error *err);
    bool (*is_null)(const weir_result *r, size_t row, size_t col);
    /* Fills *out; text it needs goes into r->scratch (reset by the caller). */
    void (*value)(weir_result *r, size_t row, size_t col, weir_value *out);
    void (*result_free)(weir_result *r);
};

extern const weir_engine_backend weir_engine_backend_duckdb;
extern const weir_dialect weir_dialect_duckdb;
extern const weir_dialect weir_dialect_postgres;

/* Helpers for backends (engine.c). */
void weir_result_base_init(weir_result *r, const weir_engine_backend *be, size_t ncols);
void weir_result_base_release(weir_result *r);
/* Renders a double the way DuckDB does (Python's repr rules); is_float for REAL. */
void weir_engine_format_double(weir_buf *out, double d, bool is_float);
/* Renders a date / timestamp (micros) / time of day like DuckDB, any year. */
void weir_engine_format_date(weir_buf *out, int32_t days);
void weir_engine_format_ts(weir_buf *out, int64_t micros);
void weir_engine_format_time(weir_buf *out, int64_t micros);
/* "1 year 2 months 3 days 04:05:06.5" */
void weir_engine_format_interval(weir_buf *out, int32_t months, int32_t days, int64_t micros);

#endif
