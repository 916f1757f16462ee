/*
 * Tests of quality/'s planner and executor. The cases live in
 * tests/data/quality/cases_*.yml, which are suites themselves: each
 * expectation carries its documented outcome in meta.expect. Every case file
 * is validated twice, batched (one aggregate query for the table) and with
 * every expectation on its own, and both must agree with each other and with
 * meta.expect; meta.sql, an independent hand-written query, must give the
 * same unexpected_count.
 */
#include "harness.h"

#include "core/fs.h"
#include "core/json.h"
#include "engine/engine.h"
#include "quality/quality.h"
#include "store/store.h"

typedef struct fixture {
    weir_engine *e;
    weir_conn *c;
} fixture;

static void setup(fixture *f)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf sql = WEIR_BUF_INIT;
    CHECK_OK(weir_engine_open(":memory:", NULL, &f->e, &err), &err);
    CHECK_OK(weir_conn_new(f->e, &f->c, &err), &err);
    CHECK_OK(weir_fs_read_file(weir_test_data("quality/setup.sql"), &sql, 1 << 20, &err), &err);
    CHECK_OK(weir_conn_exec(f->c, sql.ptr, &err), &err);
    weir_buf_release(&sql);
}

static void teardown(fixture *f)
{
    weir_conn_free(f->c);
    weir_engine_free(f->e);
}

/* want is a subset of got; numbers compare with a tolerance. */
static int subset(const json_t *want, const json_t *got)
{
    if (json_is_number(want))
        return json_is_number(got) &&
               fabs(json_number_value(want) - json_number_value(got)) <=
                   1e-9 * fmax(1.0, fabs(json_number_value(want)));
    if (json_is_object(want)) {
        const char *k;
        json_t *v;
        if (!json_is_object(got))
            return 0;
        json_object_foreach((json_t *)want, k, v)
            if (!subset(v, json_object_get(got, k)))
                return 0;
        return 1;
    }
    if (json_is_array(want)) {
        size_t i;
        json_t *v;
        if (!json_is_array(got) || json_array_size(got) != json_array_size(want))
            return 0;
        json_array_foreach(want, i, v)
            if (!subset(v, json_array_get(got, i)))
                return 0;
        return 1;
    }
    return got && json_equal(want, got);
}

static char *dump(const json_t *v)
{
    weir_buf b = WEIR_BUF_INIT;
    if (v)
        weir_json_dump(v, 0, &b);
    else
        weir_buf_adds(&b, "(none)");
    return weir_buf_detach(&b, NULL);
}

static int64_t query_int(weir_conn *c, const char *sql)
{
    weir_result *r = NULL;
    weir_error err = WEIR_ERROR_INIT;
    int64_t v = -1;
    CHECK_OK(weir_conn_query(c, sql, &r, &err), &err);
    weir_result_int64(r, 0, 0, &v);
    weir_result_free(r);
    return v;
}

/* Checks one result against its case; appends problems to fails. */
static void check_case(fixture *f, const weir_expectation *x, size_t i, const json_t *one,
                       weir_buf *fails)
{
    const json_t *meta = json_object_get(x->config, "meta");
    const json_t *want = json_object_get(meta, "expect");
    const json_t *sql = json_object_get(meta, "sql");
    const json_t *exc = json_object_get(one, "exception_info");
    const char *msg = json_string_value(json_object_get(exc, "exception_message"));
    const char *werr = json_string_value(json_object_get(want, "error"));
    char *got = dump(one);
    size_t before = fails->len;
    if (!want) {
        weir_buf_addf(fails, "case %zu (%s): no meta.expect\n", i, x->type);
    } else if (werr) {
        if (!msg || !strstr(msg, werr) || json_is_true(json_object_get(one, "success")))
            weir_buf_addf(fails, "case %zu (%s): expected error containing \"%s\"\n", i,
                          x->type, werr);
    } else {
        if (msg)
            weir_buf_addf(fails, "case %zu (%s): unexpected error\n", i, x->type);
        else if (json_is_true(json_object_get(want, "success")) !=
                 json_is_true(json_object_get(one, "success")))
            weir_buf_addf(fails, "case %zu (%s): expected success %s\n", i, x->type,
                          json_is_true(json_object_get(want, "success")) ? "true" : "false");
        const json_t *wr = json_object_get(want, "result");
        if (wr && !subset(wr, json_object_get(one, "result"))) {
            char *w = dump(wr);
            weir_buf_addf(fails, "case %zu (%s): result lacks %s\n", i, x->type, w);
            free(w);
        }
        if (json_is_object(wr) && json_object_size(wr) == 0 &&
            json_object_size(json_object_get(one, "result")) != 0)
            weir_buf_addf(fails, "case %zu (%s): expected an empty result\n", i, x->type);
    }
    if (json_is_string(sql)) {
        int64_t n = query_int(f->c, json_string_value(sql));
        const json_t *u = json_object_get(json_object_get(one, "result"), "unexpected_count");
        if (!json_is_integer(u) || json_integer_value(u) != n)
            weir_buf_addf(fails, "case %zu (%s): the naive query counts %lld unexpected\n", i,
                          x->type, (long long)n);
    }
    if (fails->len != before)
        weir_buf_addf(fails, "  got: %s\n", got);
    free(got);
}

/*
 * Drops the SQL excerpt DuckDB appends to an error ("\n\nLINE 1: ..."):
 * plans that differ in shape quote different SQL around the same error.
 */
static void strip_sql_excerpts(json_t *validation)
{
    size_t i;
    json_t *one;
    json_array_foreach(json_object_get(validation, "results"), i, one) {
        json_t *exc = json_object_get(one, "exception_info");
        const char *m = json_string_value(json_object_get(exc, "exception_message"));
        const char *cut = m ? strstr(m, "\n\nLINE ") : NULL;
        if (cut)
            json_object_set_new(exc, "exception_message", json_stringn(m, (size_t)(cut - m)));
    }
}

static void run_cases(const char *file)
{
    fixture f;
    weir_suite *s = NULL;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_validate_options batched = WEIR_VALIDATE_OPTIONS_INIT, alone = WEIR_VALIDATE_OPTIONS_INIT;
    weir_validate_stats sb = { 0, 0, NULL }, sa = { 0, 0, NULL };
    json_t *rb = NULL, *ra = NULL;
    weir_buf fails = WEIR_BUF_INIT;
    setup(&f);
    CHECK_OK(weir_suite_load_file(weir_test_data(file), &s, &diags), &err);
    alone.batch = false;
    alone.group_values = WEIR_GROUP_NEVER;
    alone.split = WEIR_SPLIT_NEVER; /* the plainest plan: FILTERs, no statistics' shortcuts */
    CHECK_OK(weir_quality_validate(f.c, s, &batched, &rb, &sb, &err), &err);
    CHECK_OK(weir_quality_validate(f.c, s, &alone, &ra, &sa, &err), &err);
    strip_sql_excerpts(rb);
    strip_sql_excerpts(ra);
    const json_t *lb = json_object_get(rb, "results"), *la = json_object_get(ra, "results");
    CHECK_INT(json_array_size(lb), ==, s->n_items);
    CHECK_INT(json_array_size(la), ==, s->n_items);
    for (size_t i = 0; i < s->n_items; i++) {
        const json_t *b = json_array_get(lb, i), *a = json_array_get(la, i);
        if (!json_equal(b, a)) {
            char *db = dump(b), *da = dump(a);
            weir_buf_addf(&fails, "case %zu (%s): batched and alone differ\n  batched: %s\n"
                          "  alone:   %s\n", i, s->items[i].type, db, da);
            free(db);
            free(da);
        }
        check_case(&f, &s->items[i], i, b, &fails);
    }
    /*
     * A case file holds expectations the engine refuses, so its batch fell
     * back to one expectation at a time. Batch the cases that compute
     * without error on their own: that batch must not fall back, and must
     * give exactly the results of each expectation alone.
     */
    json_t *root = json_pack("{s:s, s:s, s:[]}", "name", "clean", "table", s->table,
                             "expectations");
    json_t *map = json_array();
    for (size_t i = 0; i < s->n_items; i++) {
        const json_t *a = json_array_get(la, i);
        if (json_is_true(json_object_get(json_object_get(a, "exception_info"), "raised_exception")))
            continue;
        json_array_append(json_object_get(root, "expectations"), s->items[i].config);
        json_array_append_new(map, json_integer((json_int_t)i));
    }
    weir_suite *clean = NULL;
    json_t *rc = NULL;
    weir_validate_stats sc = { 0, 0, NULL };
    CHECK_OK(weir_suite_from_json("clean.json", root, &clean, &diags), &err);
    CHECK_OK(weir_quality_validate(f.c, clean, &batched, &rc, &sc, &err), &err);
    CHECK_INT(sc.fallbacks, ==, 0);
    for (size_t k = 0; k < clean->n_items; k++) {
        size_t i = (size_t)json_integer_value(json_array_get(map, k));
        const json_t *b = json_array_get(json_object_get(rc, "results"), k);
        const json_t *a = json_array_get(la, i);
        if (!json_equal(b, a)) {
            char *db = dump(b), *da = dump(a);
            weir_buf_addf(&fails, "case %zu (%s): clean batch and alone differ\n  batched: %s\n"
                          "  alone:   %s\n", i, s->items[i].type, db, da);
            free(db);
            free(da);
        }
    }
    /*
     * String checks evaluated once per distinct value (forced here: the
     * test tables are too small for the statistics to ask for it) give
     * the very results of the per-row checks, errors included.
     */
    weir_validate_options grouped = WEIR_VALIDATE_OPTIONS_INIT;
    weir_validate_stats sg = { 0, 0, NULL };
    json_t *rg = NULL;
    grouped.group_values = WEIR_GROUP_ALWAYS;
    CHECK_OK(weir_quality_validate(f.c, s, &grouped, &rg, &sg, &err), &err);
    strip_sql_excerpts(rg);
    for (size_t i = 0; i < s->n_items; i++) {
        const json_t *g = json_array_get(json_object_get(rg, "results"), i);
        const json_t *a = json_array_get(la, i);
        if (!json_equal(g, a)) {
            char *dg = dump(g), *da = dump(a);
            weir_buf_addf(&fails, "case %zu (%s): grouped and alone differ\n  grouped: %s\n"
                          "  alone:   %s\n", i, s->items[i].type, dg, da);
            free(dg);
            free(da);
        }
    }
    json_decref(rg);
    /* so do the one-aggregate plan (other engines' rule) and two connections */
    for (int mode = 0; mode < 2; mode++) {
        weir_validate_options one = WEIR_VALIDATE_OPTIONS_INIT;
        json_t *ro = NULL;
        if (mode == 0)
            one.split = WEIR_SPLIT_NEVER;
        else
            one.connections = 2;
        CHECK_OK(weir_quality_validate(f.c, s, &one, &ro, NULL, &err), &err);
        strip_sql_excerpts(ro);
        for (size_t i = 0; i < s->n_items; i++) {
            const json_t *o = json_array_get(json_object_get(ro, "results"), i);
            const json_t *a = json_array_get(la, i);
            if (!json_equal(o, a)) {
                char *d1 = dump(o), *da = dump(a);
                weir_buf_addf(&fails, "case %zu (%s): %s and alone differ\n  one:   %s\n"
                              "  alone: %s\n", i, s->items[i].type,
                              mode ? "two connections" : "one aggregate", d1, da);
                free(d1);
                free(da);
            }
        }
        json_decref(ro);
    }
    if (fails.len)
        weir_test_fail(__FILE__, __LINE__, "%s:\n%s", file, fails.ptr);
    /* batching is the point: far fewer queries than one per expectation */
    CHECK_INT(sc.queries * 2, <, sa.queries);
    json_decref(rc);
    json_decref(root);
    json_decref(map);
    weir_suite_free(clean);
    const json_t *st = json_object_get(rb, "statistics");
    CHECK_INT(json_integer_value(json_object_get(st, "evaluated_expectations")), ==, s->n_items);
    CHECK(json_is_false(json_object_get(rb, "success")));
    json_decref(rb);
    json_decref(ra);
    weir_suite_free(s);
    weir_diags_release(&diags);
    weir_buf_release(&fails);
    teardown(&f);
}

TEST(cases_on_a_table_with_nulls)
{
    run_cases("quality/cases_t.yml");
}

TEST(cases_on_an_empty_table)
{
    run_cases("quality/cases_empty.yml");
}

TEST(cases_on_timestamps_and_decimals)
{
    run_cases("quality/cases_tt.yml");
}

static weir_suite *suite_of(const char *json)
{
    weir_suite *s = NULL;
    weir_diags d = WEIR_DIAGS_INIT;
    CHECK_INT(weir_suite_parse("s.json", json, strlen(json), &s, &d), ==, 0);
    weir_diags_release(&d);
    return s;
}

TEST(one_scan_for_a_batchable_suite)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_validate_stats st = { 0, 0, NULL };
    json_t *r = NULL;
    setup(&f);
    weir_suite *s = suite_of(
        "{\"name\": \"ok\", \"table\": \"t\", \"expectations\": ["
        "{\"expectation_type\": \"expect_table_row_count_to_be_between\", \"kwargs\": {\"min_value\": 1}},"
        "{\"expectation_type\": \"expect_column_values_to_not_be_null\", \"kwargs\": {\"column\": \"id\"}},"
        "{\"expectation_type\": \"expect_column_values_to_be_unique\", \"kwargs\": {\"column\": \"id\"}},"
        "{\"expectation_type\": \"expect_column_values_to_be_between\", \"kwargs\": {\"column\": \"v\", \"min_value\": 0}},"
        "{\"expectation_type\": \"expect_column_values_to_match_regex\", \"kwargs\": {\"column\": \"s\", \"regex\": \"^[a-z]\"}},"
        "{\"expectation_type\": \"expect_column_mean_to_be_between\", \"kwargs\": {\"column\": \"v\", \"min_value\": 0}},"
        "{\"expectation_type\": \"expect_column_distinct_values_to_be_in_set\", \"kwargs\": {\"column\": \"s\", \"value_set\": [\"a\", \"b\", \"c\", \"abc\", \"x1\"]}},"
        "{\"expectation_type\": \"expect_column_pair_values_a_to_be_greater_than_b\", \"kwargs\": {\"column_A\": \"x\", \"column_B\": \"y\", \"mostly\": 0.1}},"
        "{\"expectation_type\": \"expect_table_columns_to_match_set\", \"kwargs\": {\"column_set\": [\"id\"], \"exact_match\": false}}"
        "]}");
    CHECK_OK(weir_quality_validate(f.c, s, NULL, &r, &st, &err), &err);
    CHECK(json_is_true(json_object_get(r, "success")));
    /* the catalog, the engine's statistics (no scan), one aggregate query for
     * everything, one GROUP BY for uniqueness */
    CHECK_INT(st.queries, ==, 4);
    CHECK_INT(st.fallbacks, ==, 0);
    json_decref(r);
    weir_suite_free(s);
    teardown(&f);
}

TEST(a_failing_expression_is_isolated)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_validate_stats st = { 0, 0, NULL };
    json_t *r = NULL;
    setup(&f);
    weir_suite *s = suite_of(
        "{\"name\": \"mixed\", \"table\": \"t\", \"expectations\": ["
        "{\"expectation_type\": \"expect_column_values_to_not_be_null\", \"kwargs\": {\"column\": \"id\"}},"
        "{\"expectation_type\": \"expect_column_values_to_match_regex\", \"kwargs\": {\"column\": \"s\", \"regex\": \"(\"}},"
        "{\"expectation_type\": \"expect_column_max_to_be_between\", \"kwargs\": {\"column\": \"v\", \"max_value\": 8}}"
        "]}");
    CHECK_OK(weir_quality_validate(f.c, s, NULL, &r, &st, &err), &err);
    const json_t *res = json_object_get(r, "results");
    CHECK(json_is_true(json_object_get(json_array_get(res, 0), "success")));
    CHECK(json_is_true(json_object_get(json_object_get(json_array_get(res, 1), "exception_info"),
                                       "raised_exception")));
    CHECK(json_is_true(json_object_get(json_array_get(res, 2), "success")));
    /* halves: [0] and [1, 2], then [1] and [2] */
    CHECK_INT(st.fallbacks, ==, 4);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "statistics"),
                                                 "unsuccessful_expectations")), ==, 1);
    json_decref(r);
    weir_suite_free(s);
    teardown(&f);
}

TEST(catch_exceptions_false_stops_the_validation)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    json_t *r = NULL;
    setup(&f);
    weir_suite *s = suite_of(
        "{\"name\": \"strict\", \"table\": \"t\", \"expectations\": ["
        "{\"expectation_type\": \"expect_column_values_to_not_be_null\", \"kwargs\": {\"column\": \"nope\", \"catch_exceptions\": false}}"
        "]}");
    CHECK_INT(weir_quality_validate(f.c, s, NULL, &r, NULL, &err), !=, 0);
    CHECK(r == NULL);
    CHECK_CONTAINS(weir_error_str(&err), "column 'nope' does not exist in 't'");
    weir_error_release(&err);
    weir_suite_free(s);
    teardown(&f);
}

TEST(missing_table_and_no_table)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_validate_options o = WEIR_VALIDATE_OPTIONS_INIT;
    json_t *r = NULL;
    setup(&f);
    weir_suite *s = suite_of("{\"name\": \"x\", \"expectations\": []}");
    CHECK_INT(weir_quality_validate(f.c, s, NULL, &r, NULL, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(weir_error_str(&err), "suite 'x' names no table");
    weir_error_clear(&err);
    o.table = "nope";
    CHECK_INT(weir_quality_validate(f.c, s, &o, &r, NULL, &err), ==, WEIR_ENOTFOUND);
    CHECK_CONTAINS(weir_error_str(&err), "cannot read table 'nope'");
    weir_error_clear(&err);
    /* an empty suite on a real table passes with success_percent null */
    o.table = "t";
    CHECK_OK(weir_quality_validate(f.c, s, &o, &r, NULL, &err), &err);
    CHECK(json_is_true(json_object_get(r, "success")));
    CHECK(json_is_null(json_object_get(json_object_get(r, "statistics"), "success_percent")));
    json_decref(r);
    weir_suite_free(s);
    teardown(&f);
}

TEST(result_is_written_and_stored)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_validate_options o = WEIR_VALIDATE_OPTIONS_INIT;
    weir_store *st = NULL;
    weir_buf path = WEIR_BUF_INIT, text = WEIR_BUF_INIT;
    json_t *r = NULL, *back = NULL;
    char *file = NULL;
    int64_t id = 0, n = 0;
    setup(&f);
    weir_suite *s = suite_of(
        "{\"expectation_suite_name\": \"orders/daily\", \"table\": \"t\", \"expectations\": ["
        "{\"expectation_type\": \"expect_column_values_to_not_be_null\", \"kwargs\": {\"column\": \"id\"}},"
        "{\"expectation_type\": \"expect_column_values_to_not_be_null\", \"kwargs\": {\"column\": \"v\"}},"
        "{\"expectation_type\": \"expect_column_values_to_not_be_null\", \"kwargs\": {\"column\": \"zz\"}}"
        "]}");
    o.ds = "2024-01-02";
    CHECK_OK(weir_quality_validate(f.c, s, &o, &r, NULL, &err), &err);
    CHECK_OK(weir_quality_write_result(weir_test_tmpdir(), r, &file, &err), &err);
    CHECK_CONTAINS(file, "/validations/orders_daily/");
    CHECK_OK(weir_json_load_file(file, &back, &err), &err);
    CHECK(json_equal(back, r));
    weir_path_join(&path, weir_test_tmpdir(), "store.db");
    CHECK_OK(weir_store_open(path.ptr, NULL, &st, &err), &err);
    CHECK_OK(weir_quality_store_result(st, r, 0, file, &id, &err), &err);
    CHECK_INT(id, >, 0);
    CHECK_OK(weir_store_query_int(st, "SELECT count(*) FROM validations WHERE success = 0 AND "
                                  "evaluated = 3 AND successful = 1 AND ds = '2024-01-02'", &n, &err), &err);
    CHECK_INT(n, ==, 1);
    CHECK_OK(weir_store_query_int(st, "SELECT count(*) FROM check_results WHERE kind = "
                                  "'expectation' AND status = 'fail' AND failures = 2 AND "
                                  "target = 't.v'", &n, &err), &err);
    CHECK_INT(n, ==, 1);
    CHECK_OK(weir_store_query_int(st, "SELECT count(*) FROM check_results WHERE status = 'error' "
                                  "AND message LIKE '%zz%'", &n, &err), &err);
    CHECK_INT(n, ==, 1);
    weir_store_free(st);
    json_decref(r);
    json_decref(back);
    free(file);
    weir_buf_release(&path);
    weir_buf_release(&text);
    weir_suite_free(s);
    teardown(&f);
}

TEST(planned_sql_matches_the_golden_file)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_strvec sql = WEIR_VEC_INIT;
    weir_validate_stats st = { 0, 0, &sql };
    weir_buf got = WEIR_BUF_INIT, want = WEIR_BUF_INIT;
    weir_suite *s = NULL;
    json_t *r = NULL;
    setup(&f);
    CHECK_OK(weir_suite_load_file(weir_test_data("quality/plan.yml"), &s, &d), &err);
    CHECK_INT(s->n_errors, ==, 0);
    CHECK_OK(weir_quality_validate(f.c, s, NULL, &r, &st, &err), &err);
    for (size_t i = 0; i < sql.len; i++)
        weir_buf_addf(&got, "%s;\n", sql.items[i]);
    const char *golden = weir_test_data("quality/plan.sql");
    if (getenv("WEIR_UPDATE_GOLDEN"))
        CHECK_OK(weir_fs_write_atomic(golden, got.ptr, got.len, &err), &err);
    CHECK_OK(weir_fs_read_file(golden, &want, 1 << 20, &err), &err);
    CHECK_STR(got.ptr, want.ptr);
    /* the catalog, the statistics, the batch, then only what cannot be batched */
    /* on DuckDB each filter is a WHERE of its own, in the form pushed into the scan */
    CHECK_CONTAINS(sql.items[2], "(SELECT count(*) AS weir_m3 FROM \"t\" WHERE (\"s\" NOT IN ('a', 'b', 'it''s')))");
    CHECK_INT(st.fallbacks, ==, 0);
    json_decref(r);
    weir_suite_free(s);
    weir_diags_release(&d);
    weir_strvec_release(&sql);
    weir_buf_release(&got);
    weir_buf_release(&want);
    teardown(&f);
}

TEST(ordered_values_need_a_table)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_validate_options o = WEIR_VALIDATE_OPTIONS_INIT;
    json_t *r = NULL;
    setup(&f);
    CHECK_OK(weir_conn_exec(f.c, "CREATE VIEW tv AS SELECT * FROM t", &err), &err);
    weir_suite *s = suite_of(
        "{\"name\": \"v\", \"expectations\": ["
        "{\"expectation_type\": \"expect_column_values_to_be_increasing\", \"kwargs\": {\"column\": \"id\"}},"
        "{\"expectation_type\": \"expect_column_values_to_not_be_null\", \"kwargs\": {\"column\": \"id\"}}"
        "]}");
    o.table = "tv";
    CHECK_OK(weir_quality_validate(f.c, s, &o, &r, NULL, &err), &err);
    const json_t *res = json_object_get(r, "results");
    CHECK_CONTAINS(json_string_value(json_object_get(json_object_get(json_array_get(res, 0),
                                                                     "exception_info"),
                                                     "exception_message")),
                   "insertion order (rowid), which 'tv' has not");
    CHECK(json_is_true(json_object_get(json_array_get(res, 1), "success")));
    json_decref(r);
    weir_suite_free(s);
    teardown(&f);
}

TEST(repeated_values_are_checked_once_each)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_strvec sql = WEIR_VEC_INIT;
    weir_validate_stats st = { 0, 0, &sql };
    weir_validate_options never = WEIR_VALIDATE_OPTIONS_INIT;
    json_t *r = NULL, *rn = NULL;
    setup(&f);
    CHECK_OK(weir_conn_exec(f.c, "CREATE TABLE rep AS SELECT i, ['ok1', 'ok2', 'bad'][1 + i % 3] "
                            "|| CASE WHEN i = 7 THEN '!' ELSE '' END AS code FROM range(3000) t(i)",
                            &err), &err);
    weir_suite *s = suite_of(
        "{\"name\": \"rep\", \"table\": \"rep\", \"expectations\": ["
        "{\"expectation_type\": \"expect_column_values_to_match_regex\", \"kwargs\": {\"column\": \"code\", \"regex\": \"^ok\"}},"
        "{\"expectation_type\": \"expect_column_values_to_be_in_set\", \"kwargs\": {\"column\": \"code\", \"value_set\": [\"ok1\", \"ok2\", \"bad\"]}},"
        "{\"expectation_type\": \"expect_column_value_lengths_to_equal\", \"kwargs\": {\"column\": \"code\", \"value\": 3}},"
        "{\"expectation_type\": \"expect_column_values_to_match_regex\", \"kwargs\": {\"column\": \"code\", \"regex\": \"^ok\", \"row_condition\": \"i < 10\"}}"
        "]}");
    CHECK_OK(weir_quality_validate(f.c, s, NULL, &r, &st, &err), &err);
    /* the statistics show 3 or 4 values in 3000 rows: one GROUP BY for the three checks */
    int grouped = 0;
    for (size_t i = 0; i < sql.len; i++)
        if (strstr(sql.items[i], "count(*) AS weir__n FROM \"rep\" GROUP BY \"code\""))
            grouped++;
    CHECK_INT(grouped, ==, 1);
    never.group_values = WEIR_GROUP_NEVER;
    CHECK_OK(weir_quality_validate(f.c, s, &never, &rn, NULL, &err), &err);
    CHECK(json_equal(json_object_get(r, "results"), json_object_get(rn, "results")));
    const json_t *res = json_object_get(r, "results");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_array_get(res, 0), "result"),
                                                 "unexpected_count")), ==, 1000);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_array_get(res, 1), "result"),
                                                 "unexpected_count")), ==, 1);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(json_array_get(res, 2), "result"),
                                                 "unexpected_count")), ==, 1);
    json_decref(r);
    json_decref(rn);
    weir_strvec_release(&sql);
    weir_suite_free(s);
    teardown(&f);
}

TEST(odd_names_are_quoted_everywhere)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_validate_options o = WEIR_VALIDATE_OPTIONS_INIT;
    json_t *r = NULL;
    setup(&f);
    CHECK_OK(weir_conn_exec(f.c, "CREATE SCHEMA \"my schema\"; CREATE TABLE \"my schema\".\"odd "
                            "table\" AS SELECT i AS \"my col\", 'v''' || (i % 2) AS \"a\"\"b\" "
                            "FROM range(5) t(i)", &err), &err);
    weir_suite *s = suite_of(
        "{\"name\": \"odd\", \"expectations\": ["
        "{\"expectation_type\": \"expect_column_values_to_be_unique\", \"kwargs\": {\"column\": \"a\\\"b\"}},"
        "{\"expectation_type\": \"expect_column_values_to_be_in_set\", \"kwargs\": {\"column\": \"a\\\"b\", \"value_set\": [\"v'0\"], \"result_format\": {\"result_format\": \"COMPLETE\", \"unexpected_index_column_names\": [\"my col\"]}}},"
        "{\"expectation_type\": \"expect_column_values_to_match_regex\", \"kwargs\": {\"column\": \"a\\\"b\", \"regex\": \"^v'\"}},"
        "{\"expectation_type\": \"expect_column_values_to_be_increasing\", \"kwargs\": {\"column\": \"my col\"}},"
        "{\"expectation_type\": \"expect_column_pair_values_a_to_be_greater_than_b\", \"kwargs\": {\"column_A\": \"my col\", \"column_B\": \"my col\", \"or_equal\": true}},"
        "{\"expectation_type\": \"expect_column_most_common_value_to_be_in_set\", \"kwargs\": {\"column\": \"a\\\"b\", \"value_set\": [\"v'0\"]}}"
        "]}");
    o.table = "\"my schema\".\"odd table\"";
    CHECK_OK(weir_quality_validate(f.c, s, &o, &r, NULL, &err), &err);
    const json_t *res = json_object_get(r, "results");
    for (size_t i = 0; i < json_array_size(res); i++)
        CHECK(json_is_false(json_object_get(json_object_get(json_array_get(res, i),
                                                            "exception_info"),
                                            "raised_exception")));
    const json_t *in_set = json_object_get(json_array_get(res, 1), "result");
    CHECK_INT(json_integer_value(json_object_get(in_set, "unexpected_count")), ==, 2);
    const json_t *idx = json_object_get(in_set, "unexpected_index_list");
    CHECK_INT(json_array_size(idx), ==, 2);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(idx, 0), "my col")), ==, 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(idx, 0), "a\"b")), "v'1");
    CHECK(json_is_true(json_object_get(json_array_get(res, 2), "success")));
    CHECK(json_is_true(json_object_get(json_array_get(res, 3), "success")));
    CHECK(json_is_true(json_object_get(json_array_get(res, 4), "success")));
    json_decref(r);
    weir_suite_free(s);
    teardown(&f);
}

TEST(uniqueness_on_a_view_is_bounded_then_proven_by_a_bitmap)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    weir_strvec sql = WEIR_VEC_INIT;
    weir_validate_stats st = { 0, 0, &sql };
    weir_validate_options plain = WEIR_VALIDATE_OPTIONS_INIT;
    json_t *r = NULL, *rp = NULL;
    setup(&f);
    /* a source without statistics (as a Parquet view): bounds from one min/max query */
    CHECK_OK(weir_conn_exec(f.c, "CREATE VIEW tv AS SELECT unnest(range(1, 11)) AS id, "
                            "unnest([1, 2, 3, 4, 5, 6, 7, 8, NULL, NULL]) AS v, "
                            "unnest([1, 2, 0, 1, 2, 0, 1, 2, 0, 1]) AS m", &err), &err);
    weir_suite *s = suite_of(
        "{\"name\": \"u\", \"table\": \"tv\", \"expectations\": ["
        "{\"expectation_type\": \"expect_column_values_to_be_unique\", \"kwargs\": {\"column\": \"id\"}},"
        "{\"expectation_type\": \"expect_column_values_to_be_unique\", \"kwargs\": {\"column\": \"m\", \"result_format\": \"SUMMARY\"}},"
        "{\"expectation_type\": \"expect_column_values_to_be_unique\", \"kwargs\": {\"column\": \"v\", \"row_condition\": \"id > 2\"}}"
        "]}");
    CHECK_OK(weir_quality_validate(f.c, s, NULL, &r, &st, &err), &err);
    plain.split = WEIR_SPLIT_NEVER;
    CHECK_OK(weir_quality_validate(f.c, s, &plain, &rp, NULL, &err), &err);
    CHECK(json_equal(json_object_get(r, "results"), json_object_get(rp, "results")));
    const json_t *res = json_object_get(r, "results");
    CHECK(json_is_true(json_object_get(json_array_get(res, 0), "success")));
    CHECK(!json_is_true(json_object_get(json_array_get(res, 1), "success")));
    CHECK(json_is_true(json_object_get(json_array_get(res, 2), "success")));
    int bounded = 0, bitmaps = 0;
    for (size_t i = 0; i < sql.len; i++) {
        bounded += strstr(sql.items[i], "SELECT min(\"id\"), max(\"id\"), min(\"m\"), "
                                        "max(\"m\"), min(\"v\"), max(\"v\")") != NULL;
        bitmaps += strstr(sql.items[i], "bitstring_agg") != NULL;
    }
    CHECK_INT(bounded, ==, 1);
    CHECK_INT(bitmaps, ==, 3);
    json_decref(r);
    json_decref(rp);
    weir_strvec_release(&sql);
    weir_suite_free(s);
    teardown(&f);
}

TEST(median_of_a_small_integer_range_comes_from_counts)
{
    fixture f;
    weir_error err = WEIR_ERROR_INIT;
    /* odd and even counts, negatives, NULLs, one value, no value, a filter */
    static const char *const data[] = {
        "[3, 1, 2]", "[4, 1, 2, 3]", "[-5, -1, -2, -2, NULL, 7]", "[7]", "[NULL, NULL]",
        "[0, 0, 0, 1, 1, 1]", "[1, 100, 100, 2, 120, 3, 3, 3]",
    };
    static const char *const types[] = { "TINYINT", "INTEGER", "BIGINT" };
    setup(&f);
    for (size_t t = 0; t < WEIR_ARRAY_SIZE(types); t++)
        for (size_t i = 0; i < WEIR_ARRAY_SIZE(data); i++)
            for (int cond = 0; cond < 2; cond++) {
                weir_buf sql = WEIR_BUF_INIT, js = WEIR_BUF_INIT;
                weir_strvec qs = WEIR_VEC_INIT;
                weir_validate_stats st = { 0, 0, &qs };
                json_t *r = NULL;
                weir_result *res = NULL;
                double want = 0;
                weir_buf_addf(&sql, "CREATE OR REPLACE TABLE med AS SELECT CAST(unnest(%s) AS %s) AS v, "
                              "unnest(range(len(%s))) AS i", data[i], types[t], data[i]);
                CHECK_OK(weir_conn_exec(f.c, sql.ptr, &err), &err);
                weir_buf_reset(&sql);
                weir_buf_addf(&sql, "SELECT median(v) FROM med%s", cond ? " WHERE i % 2 = 0" : "");
                CHECK_OK(weir_conn_query(f.c, sql.ptr, &res, &err), &err);
                int null = weir_result_is_null(res, 0, 0);
                if (!null)
                    CHECK_INT(weir_result_double(res, 0, 0, &want), ==, 0);
                weir_result_free(res);
                weir_buf_addf(&js, "{\"name\": \"m\", \"table\": \"med\", \"expectations\": ["
                              "{\"expectation_type\": \"expect_column_median_to_be_between\", "
                              "\"kwargs\": {\"column\": \"v\", \"min_value\": 0%s}}]}",
                              cond ? ", \"row_condition\": \"i % 2 = 0\"" : "");
                weir_suite *s = suite_of(js.ptr);
                CHECK_OK(weir_quality_validate(f.c, s, NULL, &r, &st, &err), &err);
                json_t *obs = json_object_get(json_object_get(json_array_get(json_object_get(r, "results"), 0),
                                                              "result"), "observed_value");
                if (null ? !json_is_null(obs) : !(json_is_real(obs) && json_real_value(obs) == want))
                    weir_test_fail(__FILE__, __LINE__, "%s %s%s: median() %g%s, from counts %s", types[t],
                                   data[i], cond ? " (filtered)" : "", want, null ? " (NULL)" : "",
                                   dump(obs));
                int counted = 0;
                for (size_t k = 0; k < qs.len; k++)
                    counted += strstr(qs.items[k], "count(*) AS weir__n") != NULL &&
                               strstr(qs.items[k], "median(") == NULL;
                /* all NULL: no bounds in the statistics, so median() */
                CHECK_INT(counted, ==, strcmp(data[i], "[NULL, NULL]") ? 1 : 0);
                json_decref(r);
                weir_suite_free(s);
                weir_strvec_release(&qs);
                weir_buf_release(&sql);
                weir_buf_release(&js);
            }
    teardown(&f);
}
