/*
 * Tests of engine/ under load: a million appended rows, interrupting a
 * long query from another thread, four threads writing one file database.
 */
#include "harness.h"

#include "core/fs.h"
#include "engine/engine.h"

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int64_t query_int(weir_conn *c, const char *sql, size_t col)
{
    weir_result *r = NULL;
    weir_error err = WEIR_ERROR_INIT;
    int64_t v = 0;
    CHECK_OK(weir_conn_query(c, sql, &r, &err), &err);
    CHECK_INT(weir_result_int64(r, 0, col, &v), ==, 0);
    weir_result_free(r);
    return v;
}

TEST(append_a_million_rows)
{
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_appender *a = NULL;
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_engine_open(":memory:", NULL, &e, &err), &err);
    CHECK_OK(weir_conn_new(e, &c, &err), &err);
    CHECK_OK(weir_conn_exec(c, "CREATE TABLE big (x BIGINT, tag VARCHAR)", &err), &err);
    CHECK_OK(weir_appender_new(c, NULL, "big", &a, &err), &err);
    for (int64_t i = 1; i <= 1000000; i++) {
        CHECK_OK(weir_appender_add_int(a, i, &err), &err);
        CHECK_OK(weir_appender_add_str(a, i % 2 ? "odd" : "even", &err), &err);
        CHECK_OK(weir_appender_end_row(a, &err), &err);
    }
    CHECK_INT(weir_appender_rows(a), ==, 1000000);
    CHECK_OK(weir_appender_close(a, &err), &err);
    CHECK_INT(query_int(c, "SELECT count(*), sum(x) FROM big", 0), ==, 1000000);
    CHECK_INT(query_int(c, "SELECT count(*), sum(x) FROM big", 1), ==, INT64_C(500000500000));
    CHECK_INT(query_int(c, "SELECT count(*) FROM big WHERE tag = 'even'", 0), ==, 500000);
    weir_conn_free(c);
    weir_engine_free(e);
}

typedef struct {
    weir_conn *conn;
    int rc;
    char msg[512];
    volatile int done;
} long_query;

static void *run_long_query(void *arg)
{
    long_query *q = arg;
    weir_error err = WEIR_ERROR_INIT;
    weir_result *r = NULL;
    q->rc = weir_conn_query(q->conn, "SELECT sum(a.range * b.range) FROM range(1000000000) a, "
                                     "range(1000000000) b", &r, &err);
    snprintf(q->msg, sizeof(q->msg), "%s", weir_error_str(&err));
    weir_result_free(r);
    weir_error_release(&err);
    __atomic_store_n(&q->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

TEST(interrupt_a_long_query)
{
    weir_engine *e = NULL;
    weir_error err = WEIR_ERROR_INIT;
    long_query q = { 0 };
    pthread_t th;
    CHECK_OK(weir_engine_open(":memory:", NULL, &e, &err), &err);
    CHECK_OK(weir_conn_new(e, &q.conn, &err), &err);
    CHECK_INT(pthread_create(&th, NULL, run_long_query, &q), ==, 0);
    sleep_ms(300);
    CHECK(!__atomic_load_n(&q.done, __ATOMIC_SEQ_CST));
    double progress = weir_conn_progress(q.conn);
    CHECK(progress >= -1 && progress <= 100);
    int64_t start = weir_monotonic_us();
    /* an interrupt that arrives before the query starts is lost: repeat it */
    while (!__atomic_load_n(&q.done, __ATOMIC_SEQ_CST) &&
           weir_monotonic_us() - start < 5 * WEIR_USEC_PER_SEC) {
        weir_conn_interrupt(q.conn);
        sleep_ms(10);
    }
    int64_t took = weir_monotonic_us() - start;
    pthread_join(th, NULL);
    CHECK_INT(took, <, WEIR_USEC_PER_SEC);
    CHECK_INT(q.rc, ==, WEIR_EINTERRUPTED);
    CHECK_CONTAINS(q.msg, "Interrupted");
    CHECK(weir_conn_progress(q.conn) == -1); /* nothing runs */
    /* the connection is usable afterwards */
    CHECK_INT(query_int(q.conn, "SELECT 7", 0), ==, 7);
    weir_conn_free(q.conn);
    weir_engine_free(e);
}

typedef struct {
    weir_engine *engine;
    int id;
    int rc;
    char msg[512];
} writer;

static void *write_rows(void *arg)
{
    writer *w = arg;
    weir_error err = WEIR_ERROR_INIT;
    weir_conn *c = NULL;
    weir_stmt *s = NULL;
    w->rc = weir_conn_new(w->engine, &c, &err);
    if (!w->rc)
        w->rc = weir_conn_prepare(c, "INSERT INTO shared VALUES ($1, $2)", &s, &err);
    for (int i = 0; i < 500 && !w->rc; i++) {
        w->rc = weir_stmt_bind(s, 1, weir_value_int(w->id), &err);
        if (!w->rc)
            w->rc = weir_stmt_bind(s, 2, weir_value_int(i), &err);
        if (!w->rc)
            w->rc = weir_stmt_execute(s, NULL, &err);
    }
    /* and a batch in a transaction through an appender */
    weir_appender *a = NULL;
    if (!w->rc)
        w->rc = weir_conn_begin(c, &err);
    if (!w->rc)
        w->rc = weir_appender_new(c, NULL, "shared", &a, &err);
    for (int i = 500; i < 10500 && !w->rc; i++) {
        w->rc = weir_appender_add_int(a, w->id, &err);
        if (!w->rc)
            w->rc = weir_appender_add_int(a, i, &err);
        if (!w->rc)
            w->rc = weir_appender_end_row(a, &err);
    }
    if (a) {
        int rc = weir_appender_close(a, &err);
        if (!w->rc)
            w->rc = rc;
    }
    if (!w->rc)
        w->rc = weir_conn_commit(c, &err);
    snprintf(w->msg, sizeof(w->msg), "%s", weir_error_str(&err));
    weir_stmt_free(s);
    weir_conn_free(c);
    weir_error_release(&err);
    return NULL;
}

TEST(four_threads_write_one_file_database)
{
    const char *dir = weir_test_tmpdir();
    weir_buf path = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_path_join(&path, dir, "shared.duckdb");
    CHECK_OK(weir_engine_open(path.ptr, NULL, &e, &err), &err);
    CHECK_OK(weir_conn_new(e, &c, &err), &err);
    CHECK_OK(weir_conn_exec(c, "CREATE TABLE shared (writer INTEGER, i INTEGER)", &err), &err);
    writer w[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        memset(&w[k], 0, sizeof(w[k]));
        w[k].engine = e;
        w[k].id = k;
        CHECK_INT(pthread_create(&th[k], NULL, write_rows, &w[k]), ==, 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < 4; k++)
        if (w[k].rc)
            weir_test_fail(__FILE__, __LINE__, "writer %d: %s", k, w[k].msg);
    CHECK_INT(query_int(c, "SELECT count(*) FROM shared", 0), ==, 4 * 10500);
    CHECK_INT(query_int(c, "SELECT count(DISTINCT (writer, i)) FROM shared", 0), ==, 4 * 10500);
    weir_conn_free(c);
    weir_engine_free(e);

    /* the rows are on disk */
    CHECK_OK(weir_engine_open(path.ptr, NULL, &e, &err), &err);
    CHECK_OK(weir_conn_new(e, &c, &err), &err);
    CHECK_INT(query_int(c, "SELECT sum(i) FROM shared WHERE writer = 3", 0), ==,
              INT64_C(10500) * 10499 / 2);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_buf_release(&path);
}
