/*
 * Tests of engine/ on DuckDB: types round-tripping, text rendering against
 * DuckDB's own casts, prepared statements, errors, quoting, the atomic
 * table swap, opening bad files.
 */
#include "harness.h"

#include <sys/wait.h>

#include "core/alloc.h"
#include "core/fs.h"
#include "core/str.h"
#include "engine/engine.h"

static weir_engine *open_mem(void)
{
    weir_engine *e = NULL;
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_engine_open(":memory:", NULL, &e, &err), &err);
    return e;
}

static weir_conn *connect(weir_engine *e)
{
    weir_conn *c = NULL;
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_conn_new(e, &c, &err), &err);
    return c;
}

static void exec(weir_conn *c, const char *sql)
{
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_conn_exec(c, sql, &err), &err);
}

static weir_result *query(weir_conn *c, const char *sql)
{
    weir_result *r = NULL;
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_conn_query(c, sql, &r, &err), &err);
    return r;
}

/* The text of a cell, in a static buffer ("NULL" for NULL). */
static const char *text(weir_result *r, size_t row, size_t col)
{
    static weir_buf b = WEIR_BUF_INIT;
    weir_buf_reset(&b);
    if (weir_result_text(r, row, col, &b) == 1)
        weir_buf_adds(&b, "NULL");
    return b.ptr;
}

static int64_t query_int(weir_conn *c, const char *sql)
{
    weir_result *r = query(c, sql);
    int64_t v = 0;
    CHECK_INT(weir_result_rows(r), ==, 1);
    CHECK_INT(weir_result_int64(r, 0, 0, &v), ==, 0);
    weir_result_free(r);
    return v;
}

TEST(types_round_trip)
{
    weir_engine *e = open_mem();
    weir_conn *c = connect(e);
    exec(c, "CREATE TABLE t (i INTEGER, b BIGINT, h HUGEINT, d DOUBLE, m DECIMAL(18,3), "
            "s VARCHAR, dt DATE, ts TIMESTAMP, ok BOOLEAN)");
    exec(c, "INSERT INTO t VALUES "
            "(-2147483648, 9223372036854775807, 170141183460469231731687303715884105727, "
            " 0.1, 123456789012345.678, 'héllo ''w'' \"x\" 日本', DATE '1969-12-31', "
            " TIMESTAMP '2024-02-29 23:59:59.123456', true), "
            "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
            "(7, -1, -5, -2.5e-7, -0.005, '', DATE '2024-02-29', TIMESTAMP '1900-01-01 00:00:00', "
            " false), "
            "(0, 0, 0, 1e20, 0, 'x', DATE '0001-01-01', TIMESTAMP '1969-12-31 23:59:59.999999', "
            " NULL)");
    weir_result *r = query(c, "SELECT * FROM t");
    CHECK_INT(weir_result_rows(r), ==, 4);
    CHECK_INT(weir_result_cols(r), ==, 9);
    CHECK_STR(weir_result_col_name(r, 5), "s");
    CHECK_INT(weir_result_col_index(r, "TS"), ==, 7);
    CHECK_INT(weir_result_col_type(r, 0), ==, WEIR_TYPE_INT);
    CHECK_INT(weir_result_col_type(r, 2), ==, WEIR_TYPE_INT);
    CHECK_INT(weir_result_col_type(r, 3), ==, WEIR_TYPE_DOUBLE);
    CHECK_INT(weir_result_col_type(r, 4), ==, WEIR_TYPE_DECIMAL);
    CHECK_INT(weir_result_col_scale(r, 4), ==, 3);
    CHECK_STR(weir_result_col_type_name(r, 4), "DECIMAL(18,3)");
    CHECK_INT(weir_result_col_type(r, 5), ==, WEIR_TYPE_STRING);
    CHECK_INT(weir_result_col_type(r, 6), ==, WEIR_TYPE_DATE);
    CHECK_INT(weir_result_col_type(r, 7), ==, WEIR_TYPE_TIMESTAMP);
    CHECK_INT(weir_result_col_type(r, 8), ==, WEIR_TYPE_BOOL);

    int64_t i;
    double d;
    bool b;
    weir_date dt;
    weir_ts ts;
    const char *p;
    size_t n;
    CHECK_INT(weir_result_int64(r, 0, 0, &i), ==, 0);
    CHECK_INT(i, ==, INT32_MIN);
    CHECK_INT(weir_result_int64(r, 0, 1, &i), ==, 0);
    CHECK(i == INT64_MAX);
    CHECK_INT(weir_result_int64(r, 0, 2, &i), ==, WEIR_EINVALID); /* beyond 64 bits */
    CHECK_STR(text(r, 0, 2), "170141183460469231731687303715884105727");
    CHECK_INT(weir_result_int64(r, 2, 2, &i), ==, 0);
    CHECK_INT(i, ==, -5);
    CHECK_INT(weir_result_double(r, 0, 3, &d), ==, 0);
    CHECK(d == 0.1);
    CHECK_STR(text(r, 0, 3), "0.1");
    CHECK_STR(text(r, 2, 3), "-2.5e-07");
    CHECK_STR(text(r, 3, 3), "1e+20");
    CHECK_STR(text(r, 0, 4), "123456789012345.678");
    CHECK_INT(weir_result_double(r, 0, 4, &d), ==, 0);
    CHECK_DBL(d, 123456789012345.678, 0.01);
    CHECK_STR(text(r, 2, 4), "-0.005");
    CHECK_STR(text(r, 3, 4), "0.000");
    CHECK_INT(weir_result_str(r, 0, 5, &p, &n), ==, 0);
    CHECK_INT(n, ==, strlen("héllo 'w' \"x\" 日本"));
    CHECK(memcmp(p, "héllo 'w' \"x\" 日本", n) == 0);
    CHECK_STR(text(r, 0, 5), "héllo 'w' \"x\" 日本");
    CHECK_STR(text(r, 2, 5), "");
    CHECK(!weir_result_is_null(r, 2, 5));
    CHECK_INT(weir_result_date(r, 0, 6, &dt), ==, 0);
    CHECK_INT(dt, ==, -1);
    CHECK_STR(text(r, 0, 6), "1969-12-31");
    CHECK_STR(text(r, 2, 6), "2024-02-29");
    CHECK_STR(text(r, 3, 6), "0001-01-01");
    CHECK_INT(weir_result_ts(r, 0, 7, &ts), ==, 0);
    weir_ts want;
    CHECK_OK(weir_ts_parse("2024-02-29T23:59:59.123456Z", &want), NULL);
    CHECK(ts == want);
    CHECK_STR(text(r, 0, 7), "2024-02-29 23:59:59.123456");
    CHECK_STR(text(r, 2, 7), "1900-01-01 00:00:00");
    CHECK_INT(weir_result_ts(r, 3, 7, &ts), ==, 0);
    CHECK_INT(ts, ==, -1);
    CHECK_STR(text(r, 3, 7), "1969-12-31 23:59:59.999999");
    CHECK_INT(weir_result_bool(r, 0, 8, &b), ==, 0);
    CHECK(b);
    CHECK_STR(text(r, 2, 8), "false");
    for (size_t col = 0; col < 9; col++) {
        CHECK(weir_result_is_null(r, 1, col));
        CHECK_STR(text(r, 1, col), "NULL");
        CHECK_INT(weir_result_int64(r, 1, col, &i), ==, WEIR_EINVALID);
    }
    CHECK(weir_result_is_null(r, 3, 8));
    weir_result_free(r);
    weir_conn_free(c);
    weir_engine_free(e);
}

/* weir_result_text must print what DuckDB's own cast to VARCHAR prints. */
TEST(text_matches_duckdb_cast)
{
    static const char *const exprs[] = {
        "1.0::DOUBLE", "1e16::DOUBLE", "1e15::DOUBLE", "0.000123::DOUBLE", "1.5e-7::DOUBLE",
        "12345678901234567890::DOUBLE", "'nan'::DOUBLE", "'-inf'::DOUBLE", "-0.0::DOUBLE",
        "3.14::FLOAT", "1.23456789012::FLOAT", "0.05::DECIMAL(3,2)", "(-5.5)::DECIMAL(4,1)",
        "12345678901234567890.12::DECIMAL(38,2)", "(-0.05)::DECIMAL(38,10)",
        "170141183460469231731687303715884105727::HUGEINT",
        "(-170141183460469231731687303715884105727)::HUGEINT", "18446744073709551615::UBIGINT",
        "42::UTINYINT", "DATE '0099-01-01'", "DATE '-0099-01-01'", "'infinity'::DATE",
        "TIMESTAMP '2024-01-01 10:00:00.5'", "TIMESTAMP '0001-01-01 00:00:00.000001'",
        "'-infinity'::TIMESTAMP", "TIMESTAMP_NS '2024-01-01 00:00:00.123456789'",
        "TIMESTAMP_MS '2024-01-01 00:00:00.123'", "TIMESTAMP_S '2024-01-01 00:00:01'",
        "TIMESTAMPTZ '2024-01-01 10:00:00+02'", "TIME '10:00:00.25'", "TIME '23:59:59'",
        "TIMETZ '10:00:00+02'", "INTERVAL 3 DAY + INTERVAL 2 HOUR", "INTERVAL 14 MONTH",
        "INTERVAL '1.5 seconds'", "-INTERVAL '1 day 2 hours'", "INTERVAL 0 DAY",
        "'\\x41\\xFF\\x5C'::BLOB", "['a', 'b c', NULL]", "{'k': 'v', 'n': 1}",
        "MAP {'a': 1, 'b': 2}", "[[1, 2], [3]]", "{'x': [1, 2]}", "['it''s', '', 'NULL', ' x']",
        "['a,b', '[x]', 'p: q']", "[TIMESTAMP '2024-01-01 10:00:00']", "[DATE '2024-01-01']",
        "{'a': NULL}", "[{'a': 'x y'}]", "MAP {'k': ['v']}", "[1.5::DOUBLE, 2.0]",
        "[1, 2]::INTEGER[2]", "'a'::ENUM('a', 'b')", "union_value(k := 2)",
        "'101'::BIT", "'6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID", "true", "NULL",
        "[]::INTEGER[]", "{'a b': 'x'}",
    };
    weir_engine *e = open_mem();
    weir_conn *c = connect(e);
    weir_buf sql = WEIR_BUF_INIT;
    for (size_t k = 0; k < WEIR_ARRAY_SIZE(exprs); k++) {
        weir_buf_reset(&sql);
        weir_buf_addf(&sql, "SELECT %s, (%s)::VARCHAR", exprs[k], exprs[k]);
        weir_result *r = query(c, sql.ptr);
        weir_buf ours = WEIR_BUF_INIT;
        const char *want = weir_result_is_null(r, 0, 1) ? "NULL" : text(r, 0, 1);
        char *w = weir_xstrdup(want);
        if (weir_result_text(r, 0, 0, &ours) == 1)
            weir_buf_adds(&ours, "NULL");
        if (strcmp(ours.ptr, w) != 0)
            weir_test_fail(__FILE__, __LINE__, "%s: got '%s', DuckDB prints '%s'", exprs[k],
                           ours.ptr, w);
        free(w);
        weir_buf_release(&ours);
        weir_result_free(r);
    }
    weir_buf_release(&sql);
    weir_conn_free(c);
    weir_engine_free(e);
}

TEST(prepared_statements_bind_every_type)
{
    weir_engine *e = open_mem();
    weir_conn *c = connect(e);
    weir_error err = WEIR_ERROR_INIT;
    weir_stmt *s = NULL;
    exec(c, "CREATE TABLE p (i BIGINT, d DOUBLE, s VARCHAR, dt DATE, ts TIMESTAMP, b BOOLEAN)");
    CHECK_OK(weir_conn_prepare(c, "INSERT INTO p VALUES ($1, $2, $3, $4, $5, $6)", &s, &err),
             &err);
    CHECK_INT(weir_stmt_param_count(s), ==, 6);
    weir_date day;
    CHECK_OK(weir_date_parse("1960-02-29", &day), NULL);
    CHECK_OK(weir_stmt_bind(s, 1, weir_value_int(-42), &err), &err);
    CHECK_OK(weir_stmt_bind(s, 2, weir_value_double(2.5), &err), &err);
    CHECK_OK(weir_stmt_bind(s, 3, weir_value_str("O'Brien; DROP TABLE p"), &err), &err);
    CHECK_OK(weir_stmt_bind(s, 4, weir_value_date(day), &err), &err);
    CHECK_OK(weir_stmt_bind(s, 5, weir_value_ts(weir_ts_from_parts(day, 1, 2, 3, 4)), &err), &err);
    CHECK_OK(weir_stmt_bind(s, 6, weir_value_bool(true), &err), &err);
    CHECK_OK(weir_stmt_execute(s, NULL, &err), &err);
    for (size_t k = 1; k <= 6; k++)
        CHECK_OK(weir_stmt_bind(s, k, weir_value_null(), &err), &err);
    CHECK_OK(weir_stmt_execute(s, NULL, &err), &err);
    CHECK_INT(weir_stmt_bind(s, 7, weir_value_int(1), &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "no parameter 7: the statement takes 6");
    weir_error_clear(&err);
    weir_stmt_free(s);

    CHECK_OK(weir_conn_prepare(c, "SELECT * FROM p WHERE i = ? OR ? ORDER BY i NULLS LAST", &s,
                               &err), &err);
    CHECK_OK(weir_stmt_bind(s, 1, weir_value_int(-42), &err), &err);
    CHECK_OK(weir_stmt_bind(s, 2, weir_value_bool(false), &err), &err);
    weir_result *r = NULL;
    CHECK_OK(weir_stmt_execute(s, &r, &err), &err);
    CHECK_INT(weir_result_rows(r), ==, 1);
    CHECK_STR(text(r, 0, 2), "O'Brien; DROP TABLE p");
    CHECK_STR(text(r, 0, 3), "1960-02-29");
    CHECK_STR(text(r, 0, 4), "1960-02-29 01:02:03.000004");
    weir_result_free(r);
    CHECK_OK(weir_stmt_bind(s, 2, weir_value_bool(true), &err), &err);
    CHECK_OK(weir_stmt_execute(s, &r, &err), &err);
    CHECK_INT(weir_result_rows(r), ==, 2);
    CHECK(weir_result_is_null(r, 1, 0));
    weir_result_free(r);
    weir_stmt_free(s);

    CHECK_INT(weir_conn_prepare(c, "SELECT * FROM nope WHERE x = ?", &s, &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "Table with name nope does not exist!");
    CHECK(s == NULL);
    weir_error_release(&err);
    weir_conn_free(c);
    weir_engine_free(e);
}

TEST(sql_errors_keep_duckdb_message)
{
    weir_engine *e = open_mem();
    weir_conn *c = connect(e);
    weir_error err = WEIR_ERROR_INIT;
    weir_result *r = NULL;
    CHECK_INT(weir_conn_query(c, "SELECT * FROM nope", &r, &err), ==, WEIR_ERROR);
    CHECK(r == NULL);
    CHECK(weir_str_starts_with(weir_error_str(&err),
                                        "Catalog Error: Table with name nope does not exist!"));
    weir_error_clear(&err);
    CHECK_INT(weir_conn_exec(c, "SELEC 1", &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "Parser Error: syntax error at or near \"SELEC\"");
    weir_error_clear(&err);
    CHECK_INT(weir_conn_exec(c, "SELECT 1/0::INTEGER, 'x'::INTEGER", &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "Conversion Error");
    weir_error_release(&err);
    /* the connection still works after errors */
    CHECK_INT(query_int(c, "SELECT 41 + 1"), ==, 42);
    weir_conn_free(c);
    weir_engine_free(e);
}

TEST(transactions_commit_and_roll_back)
{
    weir_engine *e = open_mem();
    weir_conn *c = connect(e);
    weir_error err = WEIR_ERROR_INIT;
    exec(c, "CREATE TABLE t (x INTEGER)");
    CHECK_OK(weir_conn_begin(c, &err), &err);
    exec(c, "INSERT INTO t VALUES (1), (2)");
    CHECK_OK(weir_conn_rollback(c, &err), &err);
    CHECK_INT(query_int(c, "SELECT count(*) FROM t"), ==, 0);
    CHECK_OK(weir_conn_begin(c, &err), &err);
    exec(c, "INSERT INTO t VALUES (3)");
    CHECK_OK(weir_conn_commit(c, &err), &err);
    CHECK_INT(query_int(c, "SELECT sum(x) FROM t"), ==, 3);
    CHECK_INT(weir_conn_commit(c, &err), ==, WEIR_ERROR); /* no transaction open */
    CHECK_CONTAINS(weir_error_str(&err), "no transaction is active");
    weir_error_release(&err);
    weir_conn_free(c);
    weir_engine_free(e);
}

TEST(quoting_weird_identifiers_and_literals)
{
    const weir_dialect *d = weir_dialect_find("duckdb");
    weir_buf b = WEIR_BUF_INIT;
    CHECK(d != NULL);
    CHECK(d->supports_merge);
    weir_sql_quote_ident(d, &b, "a\"b");
    CHECK_STR(b.ptr, "\"a\"\"b\"");
    weir_buf_reset(&b);
    weir_sql_quote_literal(d, &b, "it's");
    CHECK_STR(b.ptr, "'it''s'");
    weir_buf_reset(&b);
    weir_sql_quote_qualified(d, &b, "my schema", "select");
    CHECK_STR(b.ptr, "\"my schema\".\"select\"");
    weir_buf_reset(&b);
    weir_sql_quote_qualified(d, &b, NULL, "t");
    CHECK_STR(b.ptr, "\"t\"");

    /* the quoted names really work, and the literal reads back as it was */
    static const char *const names[] = { "a\"b", "select", "with space", "ünï", "x.y", "'q'" };
    weir_engine *e = open_mem();
    weir_conn *c = connect(e);
    for (size_t k = 0; k < WEIR_ARRAY_SIZE(names); k++) {
        weir_buf_reset(&b);
        weir_buf_adds(&b, "CREATE TABLE ");
        weir_sql_quote_ident(d, &b, names[k]);
        weir_buf_adds(&b, " AS SELECT ");
        weir_sql_quote_literal(d, &b, names[k]);
        weir_buf_adds(&b, " AS ");
        weir_sql_quote_ident(d, &b, names[k]);
        exec(c, b.ptr);
        weir_buf_reset(&b);
        weir_buf_adds(&b, "SELECT * FROM ");
        weir_sql_quote_ident(d, &b, names[k]);
        weir_result *r = query(c, b.ptr);
        CHECK_STR(weir_result_col_name(r, 0), names[k]);
        CHECK_STR(text(r, 0, 0), names[k]);
        weir_result_free(r);
    }
    weir_buf_release(&b);
    weir_conn_free(c);
    weir_engine_free(e);
}

TEST(swap_table_is_atomic_for_readers)
{
    const char *dir = weir_test_tmpdir();
    weir_buf path = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_engine *e = NULL;
    weir_path_join(&path, dir, "w.duckdb");
    CHECK_OK(weir_engine_open(path.ptr, NULL, &e, &err), &err);
    weir_conn *w = connect(e), *r = connect(e);
    exec(w, "CREATE SCHEMA s");
    exec(w, "CREATE TABLE s.x AS SELECT 1 AS v");
    exec(w, "CREATE VIEW s.vx AS SELECT v FROM s.x");

    weir_buf sql = WEIR_BUF_INIT;
    weir_sql_swap_table(weir_engine_dialect(e), &sql, "s", "x", "SELECT 2 AS v");
    CHECK_STR(sql.ptr, "BEGIN TRANSACTION;\n"
                       "DROP TABLE IF EXISTS \"s\".\"x__new\";\n"
                       "CREATE TABLE \"s\".\"x__new\" AS SELECT 2 AS v;\n"
                       "DROP TABLE IF EXISTS \"s\".\"x\";\n"
                       "ALTER TABLE \"s\".\"x__new\" RENAME TO \"x\";\n"
                       "COMMIT;\n");
    /* run it by hand up to the commit: the reader sees the old table */
    exec(w, "BEGIN TRANSACTION");
    exec(w, "CREATE TABLE s.x__new AS SELECT 2 AS v");
    exec(w, "DROP TABLE s.x");
    exec(w, "ALTER TABLE s.x__new RENAME TO x");
    CHECK_INT(query_int(r, "SELECT v FROM s.x"), ==, 1);
    exec(w, "COMMIT");
    CHECK_INT(query_int(r, "SELECT v FROM s.x"), ==, 2);
    CHECK_INT(query_int(r, "SELECT v FROM s.vx"), ==, 2);

    /* and through the engine call */
    CHECK_OK(weir_conn_swap_table(w, "s", "x", "SELECT 3 AS v ;\n", &err), &err);
    CHECK_INT(query_int(r, "SELECT v FROM s.vx"), ==, 3);
    /* a failing swap leaves the old table and no open transaction */
    CHECK_INT(weir_conn_swap_table(w, "s", "x", "SELECT v FROM nope", &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "cannot replace table 'x': Catalog Error");
    weir_error_clear(&err);
    CHECK_INT(query_int(w, "SELECT v FROM s.x"), ==, 3);
    CHECK_INT(query_int(w, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'x__new'"),
              ==, 0);
    CHECK_OK(weir_conn_begin(w, &err), &err); /* would fail inside a transaction */
    CHECK_OK(weir_conn_rollback(w, &err), &err);
    /* a swap that creates the table */
    CHECK_OK(weir_conn_swap_table(w, NULL, "fresh", "SELECT 5 AS v", &err), &err);
    CHECK_INT(query_int(r, "SELECT v FROM fresh"), ==, 5);

    weir_buf_release(&sql);
    weir_buf_release(&path);
    weir_conn_free(w);
    weir_conn_free(r);
    weir_engine_free(e);
}

TEST(open_bad_files_gives_clear_errors)
{
    const char *dir = weir_test_tmpdir();
    weir_buf path = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_engine *e = NULL;
    weir_path_join(&path, dir, "not.duckdb");
    const char junk[] = "this is not a database, just some text that is long enough\n";
    CHECK_OK(weir_fs_write_atomic(path.ptr, junk, sizeof(junk) - 1, &err), &err);
    CHECK_INT(weir_engine_open(path.ptr, NULL, &e, &err), ==, WEIR_ERROR);
    CHECK(e == NULL);
    CHECK_CONTAINS(weir_error_str(&err), "cannot open database '");
    CHECK_CONTAINS(weir_error_str(&err), "not a valid DuckDB database file");
    weir_error_clear(&err);

    weir_buf_reset(&path);
    weir_path_join(&path, dir, "missing.duckdb");
    weir_engine_options ro = WEIR_ENGINE_OPTIONS_INIT;
    ro.read_only = true;
    CHECK_INT(weir_engine_open(path.ptr, &ro, &e, &err), ==, WEIR_ENOTFOUND);
    CHECK_CONTAINS(weir_error_str(&err), "missing.duckdb': no such file");
    weir_error_clear(&err);

    weir_engine_options other = WEIR_ENGINE_OPTIONS_INIT;
    other.backend = "oracle";
    CHECK_INT(weir_engine_open(path.ptr, &other, &e, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "engine 'oracle' is not built into this weir");
    weir_error_clear(&err);

    /* a folder that does not exist yet is created */
    weir_buf_reset(&path);
    weir_path_join(&path, dir, "a/b/w.duckdb");
    weir_engine_options opts = WEIR_ENGINE_OPTIONS_INIT;
    opts.threads = 2;
    CHECK_OK(weir_engine_open(path.ptr, &opts, &e, &err), &err);
    CHECK_STR(weir_engine_backend_name(e), "duckdb");
    CHECK_STR(weir_engine_version(e), weir_engine_duckdb_version());
    CHECK(weir_engine_duckdb_version()[0] == 'v');
    weir_conn *c = connect(e);
    CHECK_INT(query_int(c, "SELECT current_setting('threads')"), ==, 2);
    exec(c, "CREATE TABLE t AS SELECT 1 AS x");
    weir_conn_free(c);
    weir_engine_free(e);

    /* read-only refuses writes with DuckDB's message */
    CHECK_OK(weir_engine_open(path.ptr, &ro, &e, &err), &err);
    c = connect(e);
    CHECK_INT(query_int(c, "SELECT x FROM t"), ==, 1);
    CHECK_INT(weir_conn_exec(c, "INSERT INTO t VALUES (2)", &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "read-only");
    weir_error_release(&err);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_buf_release(&path);
}

/* DuckDB lets one process at a time open a file; another gets WEIR_EBUSY. */
TEST(a_database_held_by_another_process_is_busy)
{
    const char *dir = weir_test_tmpdir();
    weir_buf path = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_engine *e = NULL;
    weir_path_join(&path, dir, "held.duckdb");
    CHECK_OK(weir_engine_open(path.ptr, NULL, &e, &err), &err);
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        weir_engine *other = NULL;
        weir_engine_options ro = WEIR_ENGINE_OPTIONS_INIT;
        ro.read_only = true;
        int rc = weir_engine_open(path.ptr, &ro, &other, &err);
        bool clear = rc == WEIR_EBUSY && strstr(weir_error_str(&err), "cannot open database '") &&
                     strstr(weir_error_str(&err), "Could not set lock on file");
        if (!clear)
            printf("  child: %d %s\n", rc, weir_error_str(&err));
        fflush(stdout);
        _exit(clear ? 0 : 1);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    weir_engine_free(e);
    weir_buf_release(&path);
}

TEST(streamed_results_come_in_batches)
{
    weir_engine *e = open_mem();
    weir_conn *c = connect(e);
    weir_error err = WEIR_ERROR_INIT;
    weir_result *r = NULL;
    CHECK_OK(weir_conn_query_stream(c, "SELECT i, i::VARCHAR AS s FROM range(100000) t(i)", &r,
                                    &err), &err);
    CHECK_INT(weir_result_cols(r), ==, 2);
    CHECK_STR(weir_result_col_name(r, 1), "s");
    int64_t count = 0, sum = 0, batches = 0;
    int rc;
    do {
        batches++;
        for (size_t row = 0; row < weir_result_rows(r); row++) {
            int64_t v;
            CHECK_INT(weir_result_int64(r, row, 0, &v), ==, 0);
            sum += v;
            count++;
        }
    } while ((rc = weir_result_fetch(r, &err)) == 1);
    CHECK_INT(rc, ==, 0);
    CHECK_INT(count, ==, 100000);
    CHECK_INT(sum, ==, INT64_C(4999950000));
    CHECK_INT(batches, >, 1);
    CHECK_INT(weir_result_rows(r), ==, 0);
    weir_result_free(r);

    /* a materialised result has no next batch */
    r = query(c, "SELECT 1");
    CHECK_INT(weir_result_fetch(r, &err), ==, 0);
    CHECK_INT(weir_result_rows(r), ==, 1);
    weir_result_free(r);
    /* an empty result */
    r = query(c, "SELECT 1 AS x WHERE false");
    CHECK_INT(weir_result_rows(r), ==, 0);
    CHECK_INT(weir_result_cols(r), ==, 1);
    weir_result_free(r);
    /* errors of streamed queries */
    CHECK_INT(weir_conn_query_stream(c, "SELECT * FROM nope", &r, &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "Table with name nope does not exist!");
    weir_error_release(&err);
    weir_conn_free(c);
    weir_engine_free(e);
}

TEST(appender_errors_name_the_row)
{
    weir_engine *e = open_mem();
    weir_conn *c = connect(e);
    weir_error err = WEIR_ERROR_INIT;
    weir_appender *a = NULL;
    exec(c, "CREATE TABLE t (id INTEGER, name VARCHAR, day DATE, \"at\" TIMESTAMP, ok BOOLEAN, "
            "d DOUBLE)");
    CHECK_INT(weir_appender_new(c, NULL, "nope", &a, &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "cannot append to 'nope': ");
    CHECK_CONTAINS(weir_error_str(&err), "nope");
    weir_error_clear(&err);

    CHECK_OK(weir_appender_new(c, "main", "t", &a, &err), &err);
    for (int k = 0; k < 3; k++) {
        CHECK_OK(weir_appender_add_int(a, k, &err), &err);
        CHECK_OK(weir_appender_add_str(a, k == 1 ? NULL : "n", &err), &err);
        CHECK_OK(weir_appender_add(a, weir_value_date(19000 + k), &err), &err);
        CHECK_OK(weir_appender_add(a, weir_value_ts(k * WEIR_USEC_PER_SEC), &err), &err);
        CHECK_OK(weir_appender_add(a, weir_value_bool(k == 2), &err), &err);
        CHECK_OK(weir_appender_add(a, weir_value_double(k / 2.0), &err), &err);
        CHECK_OK(weir_appender_end_row(a, &err), &err);
    }
    CHECK_INT(weir_appender_rows(a), ==, 3);
    CHECK_INT(weir_appender_add_str(a, "not a number", &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "cannot append row 4 to 't': ");
    CHECK_CONTAINS(weir_error_str(&err), "not a number");
    weir_error_clear(&err);
    weir_appender_free(a);
    CHECK_OK(weir_appender_new(c, NULL, "t", &a, &err), &err);
    CHECK_OK(weir_appender_add_int(a, 9, &err), &err);
    CHECK_INT(weir_appender_end_row(a, &err), ==, WEIR_ERROR); /* too few columns */
    CHECK_CONTAINS(weir_error_str(&err), "cannot append row 1 to 't'");
    weir_error_clear(&err);
    weir_appender_free(a);

    /* constraint errors come at flush time, for the rows since the last flush */
    exec(c, "CREATE TABLE u (id INTEGER PRIMARY KEY)");
    CHECK_OK(weir_appender_new(c, NULL, "u", &a, &err), &err);
    for (int k = 1; k <= 2; k++) {
        CHECK_OK(weir_appender_add_int(a, k, &err), &err);
        CHECK_OK(weir_appender_end_row(a, &err), &err);
    }
    CHECK_OK(weir_appender_flush(a, &err), &err);
    for (int k = 3; k <= 5; k++) {
        CHECK_OK(weir_appender_add_int(a, k == 4 ? 1 : k, &err), &err);
        CHECK_OK(weir_appender_end_row(a, &err), &err);
    }
    CHECK_INT(weir_appender_close(a, &err), ==, WEIR_ERROR);
    CHECK_CONTAINS(weir_error_str(&err), "cannot write rows 3 to 5 to 'u': ");
    CHECK_CONTAINS(weir_error_str(&err), "violates primary key constraint");
    weir_error_clear(&err);
    CHECK_INT(query_int(c, "SELECT count(*) FROM u"), ==, 2);

    weir_result *r = query(c, "SELECT * FROM t ORDER BY id");
    CHECK_INT(weir_result_rows(r), ==, 3);
    CHECK(weir_result_is_null(r, 1, 1));
    CHECK_STR(text(r, 2, 2), "2022-01-10");
    CHECK_STR(text(r, 2, 3), "1970-01-01 00:00:02");
    CHECK_STR(text(r, 2, 4), "true");
    CHECK_STR(text(r, 1, 5), "0.5");
    weir_result_free(r);
    weir_error_release(&err);
    weir_conn_free(c);
    weir_engine_free(e);
}
