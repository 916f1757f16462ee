/*
 * bench_quality.c: the figures of issue 6. Generates a 10-million-row
 * table (bench_events; WEIR_BENCH_ROWS overrides the size), then times
 *   1. the 30-expectation suite of suite.yml, planned together;
 *   2. one plain full scan of the same columns;
 *   3. every expectation as its own query (the suite with batching off),
 *      with the time of each.
 * twice: on a DuckDB table in memory (where the scan itself is nearly free
 * and the cost is evaluating the checks) and on the same rows as a Parquet
 * file behind a view (where every scan decodes the file again, as on a
 * lake). Each figure is the best of REPEAT runs (WEIR_BENCH_REPEAT, default
 * 3): a shared machine's noise only ever adds time. WEIR_BENCH_EACH=0 skips
 * the per-expectation timings, WEIR_BENCH_PARQUET=0 the Parquet pass;
 * WEIR_BENCH_PROFILE=1 times each statement of the suite alone ("sql"
 * also prints them).
 *
 * Then dbt's generic tests of a model (12 not_null, unique,
 * accepted_values and relationships tests, some with where / limit) on
 * the same rows: batched through quality/ as `weir test` runs them, and
 * each as its own query as dbt runs them. Prints figures; asserts nothing.
 * Run with `make bench`.
 */
#include "core/compat.h"

#include <sys/resource.h>

#include "core/date.h"
#include "core/json.h"
#include "engine/engine.h"
#include "quality/quality.h"

static double now_s(void)
{
    return (double)weir_monotonic_us() / 1e6;
}

/* CPU seconds of the whole process (every DuckDB thread): the work done,
 * which other jobs on a shared machine disturb far less than the wall clock. */
static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* The least CPU time of the last time_sql / time_suite's runs. */
static double last_cpu;

static void die(const weir_error *err)
{
    fprintf(stderr, "bench: %s\n", weir_error_str(err));
    exit(1);
}

static int repeat = 3;
static int connections = 1;
static weir_split_filters split = WEIR_SPLIT_AUTO;

static double time_sql(weir_conn *c, const char *sql)
{
    weir_error err = WEIR_ERROR_INIT;
    double best = 1e300;
    last_cpu = 1e300;
    for (int i = 0; i < repeat; i++) {
        weir_result *r = NULL;
        double t0 = now_s(), c0 = cpu_s();
        if (weir_conn_query(c, sql, &r, &err))
            die(&err);
        weir_result_free(r);
        best = fmin(best, now_s() - t0);
        last_cpu = fmin(last_cpu, cpu_s() - c0);
    }
    return best;
}

static double time_suite(weir_conn *c, const weir_suite *s, bool batch, weir_validate_stats *st,
                         json_t **res)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_validate_options o = WEIR_VALIDATE_OPTIONS_INIT;
    json_t *r = NULL;
    double t = 1e300;
    last_cpu = 1e300;
    o.batch = batch;
    o.connections = connections;
    o.split = split;
    for (int i = 0; i < repeat; i++) {
        json_decref(r);
        r = NULL;
        if (st)
            st->queries = st->fallbacks = 0;
        double t0 = now_s(), c0 = cpu_s();
        if (weir_quality_validate(c, s, &o, &r, st, &err))
            die(&err);
        t = fmin(t, now_s() - t0);
        last_cpu = fmin(last_cpu, cpu_s() - c0);
    }
    if (res)
        *res = r;
    else
        json_decref(r);
    return t;
}

static void run_pass(weir_conn *c, const weir_suite *s, int each);
static void run_dbt_tests(weir_conn *c);

int main(int argc, char **argv)
{
    const char *suite_path = argc > 1 ? argv[1] : "bench/quality/suite.yml";
    setvbuf(stdout, NULL, _IOLBF, 0); /* figures as they come, even into a file */
    long long rows = getenv("WEIR_BENCH_ROWS") ? atoll(getenv("WEIR_BENCH_ROWS")) : 10000000LL;
    if (getenv("WEIR_BENCH_REPEAT"))
        repeat = WEIR_MAX(1, atoi(getenv("WEIR_BENCH_REPEAT")));
    weir_error err = WEIR_ERROR_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_suite *s = NULL;
    char sql[2048];

    if (weir_suite_load_file(suite_path, &s, &d) || s->n_errors) {
        weir_diags_print(&d, stderr);
        return 1;
    }
    if (weir_engine_open(":memory:", NULL, &e, &err) || weir_conn_new(e, &c, &err))
        die(&err);
    snprintf(sql, sizeof(sql),
             "CREATE TABLE bench_events AS SELECT i AS id, i %% 100000 AS user_id,"
             " CASE WHEN i %% 97 = 0 THEN NULL ELSE ['click', 'view', 'buy', 'share'][1 + i %% 4] END AS kind,"
             " (hash(i) %% 10000) / 100.0 AS amount,"
             " DATE '2024-01-01' + CAST(i %% 366 AS INTEGER) AS day,"
             " 'user' || (i %% 100000) || '@example.com' AS email,"
             " CAST(i %% 7 AS INTEGER) AS score,"
             " CASE WHEN i %% 50 = 0 THEN -1 ELSE i %% 13 END AS bonus,"
             " ['FR', 'DE', 'US', 'BR', 'JP', 'IN'][1 + i %% 6] AS country"
             " FROM range(%lld) t(i)", rows);
    double t0 = now_s();
    if (weir_conn_exec(c, sql, &err))
        die(&err);
    printf("generated bench_events: %lld rows, 9 columns in %.2fs (DuckDB %s; best of %d "
           "runs per figure)\n", rows, now_s() - t0, weir_engine_version(e), repeat);

    char dir[] = "/tmp/weir-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sql, sizeof(sql), "COPY bench_events TO '%s/events.parquet' (FORMAT parquet)", dir);
    if (weir_conn_exec(c, sql, &err))
        die(&err);
    /* the parent of the relationships test: every user but the last 10 */
    if (weir_conn_exec(c, "CREATE TABLE bench_users AS SELECT i AS user_id FROM range(99990) t(i)", &err))
        die(&err);
    int passes = getenv("WEIR_BENCH_PARQUET") && !strcmp(getenv("WEIR_BENCH_PARQUET"), "0") ? 1 : 2;
    for (int pass = 0; pass < passes; pass++) {
        if (pass == 1) {
            snprintf(sql, sizeof(sql), "DROP TABLE bench_events; CREATE VIEW bench_events AS "
                     "SELECT * FROM read_parquet('%s/events.parquet')", dir);
            if (weir_conn_exec(c, sql, &err))
                die(&err);
        }
        printf("\n== %s\n", pass ? "a Parquet file behind a view" : "a DuckDB table in memory");
        run_pass(c, s, pass == 0);
        run_dbt_tests(c);
    }
    snprintf(sql, sizeof(sql), "%s/events.parquet", dir);
    unlink(sql);
    rmdir(dir);
    weir_suite_free(s);
    weir_diags_release(&d);
    weir_conn_free(c);
    weir_engine_free(e);
    return 0;
}

static void run_pass(weir_conn *c, const weir_suite *s, int each)
{
    /* warm up: the first scan pays for nothing we measure */
    time_sql(c, "SELECT count(*) FROM bench_events");

    double scan = time_sql(c, "SELECT count(*), max(id), max(user_id), max(kind), max(amount), "
                              "max(day), max(email), max(score), max(bonus), max(country) "
                              "FROM bench_events");
    double scan_cpu = last_cpu;
    weir_validate_stats sb = { 0, 0, NULL }, sa = { 0, 0, NULL };
    json_t *res = NULL;
    double suite = time_suite(c, s, true, &sb, &res);
    double suite_cpu = last_cpu;
    const json_t *stats = json_object_get(res, "statistics");
    printf("\nsuite '%s': %zu expectations, %lld passed\n", s->name, s->n_items,
           (long long)json_integer_value(json_object_get(stats, "successful_expectations")));
    printf("  suite, planned together    %8.3fs  (%zu queries)\n", suite, sb.queries);
    printf("  one plain full scan        %8.3fs  (suite / scan = %.2fx)\n", scan, suite / scan);
    printf("  CPU time, suite and scan   %8.3fs, %.3fs  (suite / scan = %.2fx)\n", suite_cpu, scan_cpu,
           suite_cpu / scan_cpu);
    connections = 2;
    double two = time_suite(c, s, true, NULL, NULL);
    connections = 1;
    printf("  suite on two connections   %8.3fs  (two / scan = %.2fx)\n", two, two / scan);
    split = WEIR_SPLIT_NEVER;
    double agg1 = time_suite(c, s, true, NULL, NULL);
    split = WEIR_SPLIT_AUTO;
    printf("  suite as one aggregate     %8.3fs  (the plan for engines other than DuckDB; "
           "one / scan = %.2fx)\n", agg1, agg1 / scan);
    double alone = time_suite(c, s, false, &sa, NULL);
    printf("  each expectation alone     %8.3fs  (%zu queries; alone / suite = %.2fx)\n", alone,
           sa.queries, alone / suite);
    json_decref(res);

    if (getenv("WEIR_BENCH_PROFILE") && strcmp(getenv("WEIR_BENCH_PROFILE"), "0") != 0) {
        /* where the suite's time goes: each of its statements timed alone */
        weir_strvec sqls = WEIR_VEC_INIT;
        weir_validate_stats sp = { 0, 0, &sqls };
        int keep = repeat;
        repeat = 1;
        time_suite(c, s, true, &sp, NULL);
        repeat = keep;
        printf("\nthe suite's statements, each timed alone:\n");
        for (size_t i = 0; i < sqls.len; i++) {
            const char *q = sqls.items[i];
            char flat[161];
            size_t n = 0;
            for (const char *p = q; *p && n < sizeof(flat) - 1; p++)
                if (!(isspace((unsigned char)*p) && n && flat[n - 1] == ' '))
                    flat[n++] = isspace((unsigned char)*p) ? ' ' : *p;
            flat[n] = 0;
            double t = time_sql(c, q);
            printf("  %8.3fs  (cpu %6.3fs)  %s%s\n", t, last_cpu, flat, strlen(q) > n ? " ..." : "");
            if (!strcmp(getenv("WEIR_BENCH_PROFILE"), "sql"))
                printf("%s\n\n", q);
        }
        weir_strvec_release(&sqls);
    }

    if (!each || (getenv("WEIR_BENCH_EACH") && strcmp(getenv("WEIR_BENCH_EACH"), "0") == 0))
        return;
    printf("\neach expectation as its own query:\n");
    for (size_t i = 0; i < s->n_items; i++) {
        json_t *root = json_pack("{s:s, s:s, s:[O]}", "name", "one", "table", s->table,
                                 "expectations", s->items[i].config);
        weir_suite *one = NULL;
        weir_validate_stats st = { 0, 0, NULL };
        if (weir_suite_from_json("one", root, &one, NULL))
            exit(1);
        double t = time_suite(c, one, false, &st, NULL);
        const char *col = s->items[i].column ? s->items[i].column : s->items[i].column_a;
        printf("  %8.3fs  %s%s%s%s\n", t, s->items[i].type, col ? "(" : "", col ? col : "",
               col ? ")" : "");
        weir_suite_free(one);
        json_decref(root);
    }
}

/* dbt's generic tests of one model: batched, then each its own query. */
static void run_dbt_tests(weir_conn *c)
{
    weir_dbt_check t[] = {
        { .kind = WEIR_DBT_NOT_NULL, .column = "id", .limit = -1 },
        { .kind = WEIR_DBT_NOT_NULL, .column = "user_id", .limit = -1 },
        { .kind = WEIR_DBT_NOT_NULL, .column = "kind", .limit = -1, .warn_if = "> 0", .error_if = "> 200000" },
        { .kind = WEIR_DBT_NOT_NULL, .column = "day", .limit = -1 },
        { .kind = WEIR_DBT_NOT_NULL, .column = "amount", .where = "day >= DATE '2024-06-01'", .limit = -1 },
        { .kind = WEIR_DBT_UNIQUE, .column = "id", .limit = -1 },
        { .kind = WEIR_DBT_UNIQUE, .column = "email", .where = "day = DATE '2024-03-01'", .limit = -1 },
        { .kind = WEIR_DBT_ACCEPTED_VALUES, .column = "kind", .values = "'click', 'view', 'buy', 'share'", .limit = -1 },
        { .kind = WEIR_DBT_ACCEPTED_VALUES, .column = "country", .values = "'FR', 'DE', 'US', 'BR', 'JP', 'IN'", .limit = -1 },
        { .kind = WEIR_DBT_ACCEPTED_VALUES, .column = "score", .values = "0, 1, 2, 3, 4, 5", .limit = 100 },
        { .kind = WEIR_DBT_RELATIONSHIPS, .column = "user_id", .to = "bench_users", .field = "user_id", .limit = -1 },
        { .kind = WEIR_DBT_NOT_NULL, .column = "email", .limit = -1 },
    };
    size_t n = WEIR_ARRAY_SIZE(t);
    weir_dbt_check own[WEIR_ARRAY_SIZE(t)];
    weir_validate_stats sb = { 0, 0, NULL }, so = { 0, 0, NULL };
    weir_error err = WEIR_ERROR_INIT;
    double tb = 1e300, to = 1e300, cb = 1e300, co = 1e300;
    for (int i = 0; i < repeat; i++) {
        double t0 = now_s(), c0 = cpu_s();
        sb.queries = 0;
        if (weir_quality_dbt_checks(c, "bench_events", t, n, true, WEIR_SPLIT_AUTO, &sb, &err))
            die(&err);
        tb = fmin(tb, now_s() - t0);
        cb = fmin(cb, cpu_s() - c0);
        memcpy(own, t, sizeof(t));
        so.queries = 0;
        t0 = now_s();
        c0 = cpu_s();
        if (weir_quality_dbt_checks(c, "bench_events", own, n, false, WEIR_SPLIT_AUTO, &so, &err))
            die(&err);
        to = fmin(to, now_s() - t0);
        co = fmin(co, cpu_s() - c0);
    }
    int same = 1;
    long long failing = 0;
    for (size_t i = 0; i < n; i++) {
        same &= t[i].failures == own[i].failures && t[i].should_warn == own[i].should_warn &&
                t[i].should_error == own[i].should_error;
        failing += t[i].should_error;
    }
    printf("\ndbt's generic tests of the model: %zu tests, %lld failing\n", n, failing);
    printf("  batched (weir test)        %8.3fs  (%zu queries)\n", tb, sb.queries);
    printf("  each its own query (dbt)   %8.3fs  (%zu queries; own / batched = %.2fx)\n", to,
           so.queries, to / tb);
    printf("  CPU time, batched and own  %8.3fs, %.3fs  (own / batched = %.2fx)\n", cb, co, co / cb);
    printf("  same failures and statuses: %s\n", same ? "yes" : "NO");
}
