/*
 * engine.h: the one door to a SQL warehouse.
 *
 * Everything above engine/ talks to DuckDB (and later PostgreSQL through
 * libpq) through this header only; nothing else includes duckdb.h or
 * libpq-fe.h. Each backend is a table of functions in its own file
 * (src/engine/duckdb.c, ...), chosen when the engine is opened (curl's vtls
 * pattern); see backend.h for the table.
 *
 * Objects and threads:
 *  - weir_engine: an open database, shared by every thread of the process.
 *  - weir_conn: one connection, used by one thread at a time (one per worker).
 *    The only call allowed from another thread is weir_conn_interrupt().
 *  - weir_result: the rows of one query, materialised (or streamed in
 *    batches, see weir_conn_query_stream). Owned by the caller until
 *    weir_result_free(); it does not depend on its connection staying open.
 *  - weir_stmt: a prepared statement with bound parameters.
 *  - weir_appender: bulk loading into one table, row by row.
 *
 * Errors: functions return 0 or a negative WEIR_E* code and fill the
 * weir_error. SQL errors keep the engine's message intact (e.g. "Catalog
 * Error: Table with name nope does not exist!"); a query stopped by
 * weir_conn_interrupt() fails with WEIR_EINTERRUPTED.
 *
 * Values: a weir_value is a small tagged union used to bind parameters,
 * append rows, and read cells. Its strings are borrowed, never owned.
 */
#ifndef WEIR_ENGINE_H
#define WEIR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"

typedef struct weir_engine weir_engine;
typedef struct weir_conn weir_conn;
typedef struct weir_result weir_result;
typedef struct weir_stmt weir_stmt;
typedef struct weir_appender weir_appender;

/*
 * The category of a column or value. Engines have many more types; each
 * maps onto one of these:
 *   INT       every integer width, signed or not, up to 128 bits
 *   DOUBLE    float and double
 *   DECIMAL   fixed point; text keeps the scale exactly, double is nearest
 *   STRING    varchar, text
 *   TIMESTAMP with or without time zone (values are UTC microseconds)
 *   OTHER     lists, structs, maps, unions, enums, uuids, bits, ...: read
 *             them with weir_result_text()
 */
typedef enum {
    WEIR_TYPE_NULL = 0,
    WEIR_TYPE_BOOL,
    WEIR_TYPE_INT,
    WEIR_TYPE_DOUBLE,
    WEIR_TYPE_DECIMAL,
    WEIR_TYPE_STRING,
    WEIR_TYPE_DATE,
    WEIR_TYPE_TIMESTAMP,
    WEIR_TYPE_TIME,
    WEIR_TYPE_INTERVAL,
    WEIR_TYPE_BLOB,
    WEIR_TYPE_OTHER
} weir_type;

/* "null", "bool", "int", "double", "decimal", "string", "date", ... */
const char *weir_type_name(weir_type t);

/*
 * A value. type says which member holds it:
 *   NULL: nothing          BOOL: u.b          INT: u.i
 *   DOUBLE: u.d            DATE: u.date       TIMESTAMP: u.ts
 *   TIME: u.i (microseconds since midnight)
 *   STRING, BLOB: str/len (borrowed bytes, not necessarily NUL-terminated)
 * When read from a result, DECIMAL, INTERVAL, OTHER and integers beyond
 * 64 bits carry their exact text in str/len (and DECIMAL its nearest double
 * in u.d); so may infinite dates and timestamps.
 */
typedef struct weir_value {
    weir_type type;
    union {
        bool b;
        int64_t i;
        double d;
        weir_date date;
        weir_ts ts;
    } u;
    const char *str;
    size_t len;
} weir_value;

static inline weir_value weir_value_null(void)
{
    weir_value v = { WEIR_TYPE_NULL, { 0 }, NULL, 0 };
    return v;
}
static inline weir_value weir_value_bool(bool b)
{
    weir_value v = { WEIR_TYPE_BOOL, { .b = b }, NULL, 0 };
    return v;
}
static inline weir_value weir_value_int(int64_t i)
{
    weir_value v = { WEIR_TYPE_INT, { .i = i }, NULL, 0 };
    return v;
}
static inline weir_value weir_value_double(double d)
{
    weir_value v = { WEIR_TYPE_DOUBLE, { .d = d }, NULL, 0 };
    return v;
}
static inline weir_value weir_value_date(weir_date d)
{
    weir_value v = { WEIR_TYPE_DATE, { .date = d }, NULL, 0 };
    return v;
}
static inline weir_value weir_value_ts(weir_ts t)
{
    weir_value v = { WEIR_TYPE_TIMESTAMP, { .ts = t }, NULL, 0 };
    return v;
}
/* s may be NULL, which gives a NULL value. */
weir_value weir_value_str(const char *s);
static inline weir_value weir_value_strn(const char *s, size_t n)
{
    weir_value v = { WEIR_TYPE_STRING, { 0 }, s, n };
    return v;
}

/* --- engines ------------------------------------------------------------ */

typedef struct weir_engine_options {
    const char *backend; /* "duckdb" (NULL: chosen from the target) */
    int threads;         /* worker threads inside the engine; 0: its default */
    bool read_only;
    const char *memory_limit; /* e.g. "2GB"; NULL: the engine's default */
} weir_engine_options;

#define WEIR_ENGINE_OPTIONS_INIT { NULL, 0, false, NULL }

/*
 * Opens a database: a DuckDB file (created with its parent folders when
 * missing, unless read-only) or ":memory:". opts may be NULL. Sessions use
 * UTC as their time zone. Fails with a message naming the file when it
 * cannot be opened, is locked by another process (WEIR_EBUSY), or is not a
 * database.
 */
int weir_engine_open(const char *target, const weir_engine_options *opts,
                     weir_engine **out, weir_error *err);
/* Closes the database. Every connection must be closed first. NULL is fine. */
void weir_engine_free(weir_engine *e);

/* The backend's name ("duckdb") and the linked library's version ("v1.4.4"). */
const char *weir_engine_backend_name(const weir_engine *e);
const char *weir_engine_version(const weir_engine *e);
/* The version of the DuckDB library weir is linked with, without opening one. */
const char *weir_engine_duckdb_version(void);

/* --- dialects ------------------------------------------------------------ */

/*
 * What SQL generation needs to know about an engine's SQL. Obtain with
 * weir_engine_dialect() or weir_dialect_find(); the functions below take it.
 */
typedef struct weir_dialect {
    const char *name;          /* "duckdb", "postgres" */
    bool supports_merge;       /* MERGE INTO ... */
    bool transactional_ddl;    /* CREATE/DROP/ALTER roll back with the transaction */
    bool supports_create_or_replace_table;
} weir_dialect;

const weir_dialect *weir_engine_dialect(const weir_engine *e);
/* The dialect called name, or NULL. */
const weir_dialect *weir_dialect_find(const char *name);

/* Appends ident as a quoted identifier: a"b -> "a""b". */
void weir_sql_quote_ident(const weir_dialect *d, weir_buf *out, const char *ident);
/* Appends schema.name quoted ("s"."t"); schema may be NULL or empty. */
void weir_sql_quote_qualified(const weir_dialect *d, weir_buf *out, const char *schema,
                              const char *name);
/* Appends s as a string literal: it's -> 'it''s'. */
void weir_sql_quote_literal(const weir_dialect *d, weir_buf *out, const char *s);
/*
 * Appends the statements that replace table schema.name with the rows of
 * select_sql atomically (readers see the old table until the commit):
 * for DuckDB
 *   BEGIN TRANSACTION; DROP TABLE IF EXISTS x__new; CREATE TABLE x__new AS ...;
 *   DROP TABLE IF EXISTS x; ALTER TABLE x__new RENAME TO x; COMMIT;
 * one statement a line. For display; weir_conn_swap_table() runs it.
 */
void weir_sql_swap_table(const weir_dialect *d, weir_buf *out, const char *schema,
                         const char *name, const char *select_sql);

/* --- connections ------------------------------------------------------- */

/* Opens a connection (one per thread). Free with weir_conn_free(). */
int weir_conn_new(weir_engine *e, weir_conn **out, weir_error *err);
/* Closes the connection, rolling back an open transaction. NULL is fine. */
void weir_conn_free(weir_conn *c);
weir_engine *weir_conn_engine(const weir_conn *c);

/* Runs one or more statements and discards their rows. */
int weir_conn_exec(weir_conn *c, const char *sql, weir_error *err);
/*
 * Runs sql and materialises its rows into *out (the caller frees it with
 * weir_result_free). When sql holds several statements, the rows are the
 * last one's. On error *out is NULL.
 */
int weir_conn_query(weir_conn *c, const char *sql, weir_result **out, weir_error *err);
/*
 * Runs one statement and returns its rows in batches, for results too big
 * to hold: *out holds the first batch (empty when there are no rows);
 * weir_result_fetch() replaces it with the next. Errors can also come from
 * a fetch. The connection must not run anything else until the result is
 * freed.
 */
int weir_conn_query_stream(weir_conn *c, const char *sql, weir_result **out,
                           weir_error *err);

/* BEGIN / COMMIT / ROLLBACK on this connection. */
int weir_conn_begin(weir_conn *c, weir_error *err);
int weir_conn_commit(weir_conn *c, weir_error *err);
int weir_conn_rollback(weir_conn *c, weir_error *err);

/*
 * Replaces schema.name (schema may be NULL) by the rows of select_sql in one
 * transaction, as weir_sql_swap_table() shows. On failure the transaction
 * is rolled back and the old table is left as it was.
 */
int weir_conn_swap_table(weir_conn *c, const char *schema, const char *name,
                         const char *select_sql, weir_error *err);

/*
 * Asks the query running on c to stop; it then fails with
 * WEIR_EINTERRUPTED. Safe to call from any thread, and harmless when
 * nothing runs (an interrupt that arrives before a query starts is lost).
 */
void weir_conn_interrupt(weir_conn *c);
/* Percentage done of the running query, or -1 when unknown. Any thread. */
double weir_conn_progress(weir_conn *c);

/* --- prepared statements ---------------------------------------------- */

/* Prepares one statement with $1, $2 or ? placeholders. */
int weir_conn_prepare(weir_conn *c, const char *sql, weir_stmt **out, weir_error *err);
void weir_stmt_free(weir_stmt *s);
/* Number of parameters the statement takes. */
size_t weir_stmt_param_count(const weir_stmt *s);
/*
 * Binds parameter idx (1-based) to v; strings are copied. Returns
 * WEIR_EINVALID for a bad index or a value the engine cannot take.
 * Bindings stay until rebound or weir_stmt_clear().
 */
int weir_stmt_bind(weir_stmt *s, size_t idx, weir_value v, weir_error *err);
int weir_stmt_clear(weir_stmt *s, weir_error *err);
/* Runs the statement; out may be NULL to discard the rows. */
int weir_stmt_execute(weir_stmt *s, weir_result **out, weir_error *err);

/* --- bulk append ------------------------------------------------------- */

/*
 * Starts appending to schema.table (schema may be NULL). Append every
 * column of a row in order with weir_appender_add(), then
 * weir_appender_end_row(). Rows are buffered and written by
 * weir_appender_flush() or weir_appender_close(). Errors name the row
 * (1-based, counted since weir_appender_new).
 */
int weir_appender_new(weir_conn *c, const char *schema, const char *table,
                      weir_appender **out, weir_error *err);
int weir_appender_add(weir_appender *a, weir_value v, weir_error *err);
int weir_appender_end_row(weir_appender *a, weir_error *err);
int weir_appender_flush(weir_appender *a, weir_error *err);
/* Flushes, then frees the appender (even when the flush fails). */
int weir_appender_close(weir_appender *a, weir_error *err);
/*
 * Frees the appender. Complete rows still buffered may be written (DuckDB
 * writes them when an appender is destroyed) and errors are not reported:
 * use weir_appender_close() to know. NULL is fine.
 */
void weir_appender_free(weir_appender *a);
/* Rows completed with weir_appender_end_row() so far. */
size_t weir_appender_rows(const weir_appender *a);

static inline int weir_appender_add_int(weir_appender *a, int64_t i, weir_error *err)
{
    return weir_appender_add(a, weir_value_int(i), err);
}
static inline int weir_appender_add_str(weir_appender *a, const char *s, weir_error *err)
{
    return weir_appender_add(a, weir_value_str(s), err);
}

/* --- results ----------------------------------------------------------- */

void weir_result_free(weir_result *r);

/* Rows (of the current batch, for a streamed result) and columns. */
size_t weir_result_rows(const weir_result *r);
size_t weir_result_cols(const weir_result *r);
const char *weir_result_col_name(const weir_result *r, size_t col);
weir_type weir_result_col_type(const weir_result *r, size_t col);
/* The engine's own type name: "INTEGER", "DECIMAL(18,3)", "VARCHAR[]", ... */
const char *weir_result_col_type_name(const weir_result *r, size_t col);
/* Digits after the point of a DECIMAL column, else 0. */
int weir_result_col_scale(const weir_result *r, size_t col);
/* Index of the column called name (case-insensitive), or -1. */
long weir_result_col_index(const weir_result *r, const char *name);

/*
 * For a streamed result: replaces the rows with the next batch and returns
 * 1, or returns 0 when there are no more rows (then the result is empty),
 * or a negative code. A materialised result has no next batch: returns 0.
 */
int weir_result_fetch(weir_result *r, weir_error *err);

/*
 * Cells. Rows and columns are 0-based and must be in range.
 * weir_result_value fills *out; its borrowed strings stay valid until the
 * next weir_result_value call on r or until r is fetched or freed.
 */
bool weir_result_is_null(const weir_result *r, size_t row, size_t col);
void weir_result_value(weir_result *r, size_t row, size_t col, weir_value *out);

/*
 * Typed getters. Each returns 0, or WEIR_EINVALID when the cell is NULL or
 * cannot be converted (*out is then 0). Conversions: int64 from INT (when
 * it fits), BOOL, an integral DOUBLE or DECIMAL, a STRING holding an
 * integer; double from any number and numeric strings; bool from BOOL and
 * INT; date from DATE, TIMESTAMP (its day) and ISO strings; ts from
 * TIMESTAMP, DATE (midnight) and ISO strings.
 */
int weir_result_int64(weir_result *r, size_t row, size_t col, int64_t *out);
int weir_result_double(weir_result *r, size_t row, size_t col, double *out);
int weir_result_bool(weir_result *r, size_t row, size_t col, bool *out);
int weir_result_date(weir_result *r, size_t row, size_t col, weir_date *out);
int weir_result_ts(weir_result *r, size_t row, size_t col, weir_ts *out);
/*
 * Borrowed bytes of a STRING or BLOB cell (not NUL-terminated; valid while
 * r lives and is not fetched). WEIR_EINVALID for NULL or other types.
 */
int weir_result_str(weir_result *r, size_t row, size_t col, const char **ptr, size_t *len);

/*
 * Appends any cell as text, the way DuckDB's CLI prints it: dates
 * YYYY-MM-DD, timestamps "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC, "+00" for
 * TIMESTAMP WITH TIME ZONE), decimals with their scale, doubles in their
 * shortest exact form (0.1, 1.0, 1e+20), lists and structs as [1, 2] and
 * {'a': 1}. A NULL appends nothing and returns 1; otherwise returns 0.
 */
int weir_result_text(weir_result *r, size_t row, size_t col, weir_buf *out);

/* Appends a value as weir_result_text() would print it. */
void weir_value_text(const weir_value *v, weir_buf *out);

#endif
