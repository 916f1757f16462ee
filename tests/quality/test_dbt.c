/*
 * Tests of quality/dbt.c: dbt's built-in generic tests computed each as
 * its own query (dbt's SQL), as DuckDB's one statement of subqueries with
 * bitmaps, and as one aggregate plus GROUPING SETS (the plan for other
 * engines), on a table with NULLs, duplicates and orphan keys, on an empty
 * table and on a view: every plan must give the same failures and
 * thresholds, and a few are checked against dbt's semantics by hand.
 */
#include "harness.h"

#include "engine/engine.h"
#include "quality/quality.h"

static const char *const setup_sql =
    "CREATE TABLE t AS SELECT * FROM (VALUES"
    " (1, 'a', 10, 1, 'x'), (1, 'b', 20, 2, 'x'), (2, 'a', 30, 9, 'y'),"
    " (NULL, 'z', 40, NULL, 'y'), (3, NULL, 50, 3, NULL), (3, 'z', 60, 8, 'x'),"
    " (4, 'q', 70, 1, 'x'), (NULL, NULL, 80, 7, 'y'), (5, 'a', 90, 2, 'w')"
    ") v(id, status, k, fk, grp);"
    "CREATE TABLE u AS SELECT * FROM (VALUES (1, 'p'), (2, 'q'), (3, 'r'), (1000, 's')) v(id, code);"
    "CREATE TABLE empty AS SELECT * FROM t WHERE false;"
    "CREATE VIEW tv AS SELECT * FROM t;"
    "CREATE TABLE parents AS SELECT * FROM (VALUES (1), (2), (2), (3)) v(pk);";

#define CHECKS(X)                                                                                      \
    X(WEIR_DBT_NOT_NULL, "id", NULL, NULL, -1, NULL, NULL)                                             \
    X(WEIR_DBT_NOT_NULL, "id", "k > 40", NULL, -1, NULL, NULL)                                         \
    X(WEIR_DBT_NOT_NULL, "id", NULL, NULL, 1, NULL, NULL)                                              \
    X(WEIR_DBT_NOT_NULL, "id", NULL, NULL, 0, NULL, NULL)                                              \
    X(WEIR_DBT_NOT_NULL, "id", NULL, NULL, -1, ">= 1", "> 2")                                          \
    X(WEIR_DBT_NOT_NULL, "k", NULL, NULL, -1, NULL, NULL)                                              \
    X(WEIR_DBT_UNIQUE, "id", NULL, NULL, -1, NULL, NULL)                                               \
    X(WEIR_DBT_UNIQUE, "id", "k < 60", NULL, -1, NULL, NULL)                                           \
    X(WEIR_DBT_UNIQUE, "id", "k > 60", NULL, -1, NULL, NULL)                                           \
    X(WEIR_DBT_UNIQUE, "id", NULL, NULL, 1, "> 1", "> 5")                                              \
    X(WEIR_DBT_UNIQUE, "status", NULL, NULL, -1, NULL, NULL)                                           \
    X(WEIR_DBT_UNIQUE, "k", NULL, NULL, -1, NULL, NULL)                                                \
    X(WEIR_DBT_UNIQUE, "grp", "grp <> 'y'", NULL, -1, NULL, NULL)                                      \
    X(WEIR_DBT_UNIQUE, "k % 30", NULL, NULL, -1, NULL, NULL)                                           \
    X(WEIR_DBT_ACCEPTED_VALUES, "status", NULL, "'a', 'b'", -1, NULL, NULL)                            \
    X(WEIR_DBT_ACCEPTED_VALUES, "status", "k >= 30", "'a', 'b', 'z'", -1, NULL, NULL)                  \
    X(WEIR_DBT_ACCEPTED_VALUES, "status", NULL, "'a'", 2, NULL, ">= 2")                                \
    X(WEIR_DBT_ACCEPTED_VALUES, "fk", NULL, "1, 2, 3", -1, NULL, NULL)                                 \
    X(WEIR_DBT_ACCEPTED_VALUES, "fk", NULL, "'1', '2', '3'", -1, NULL, NULL)                           \
    X(WEIR_DBT_RELATIONSHIPS, "fk", NULL, NULL, -1, NULL, NULL)                                        \
    X(WEIR_DBT_RELATIONSHIPS, "fk", "k <= 50", NULL, -1, NULL, NULL)                                   \
    X(WEIR_DBT_RELATIONSHIPS, "fk", NULL, NULL, 2, "> 1", NULL)

static size_t make_checks(weir_dbt_check *out)
{
    size_t n = 0;
#define ONE(kind_, col_, where_, values_, limit_, warn_, error_)                                       \
    memset(&out[n], 0, sizeof(out[n]));                                                                \
    out[n].kind = kind_;                                                                               \
    out[n].column = col_;                                                                              \
    out[n].where = where_;                                                                             \
    out[n].values = values_;                                                                           \
    out[n].to = "parents";                                                                             \
    out[n].field = "pk";                                                                               \
    out[n].limit = limit_;                                                                             \
    out[n].warn_if = warn_;                                                                            \
    out[n].error_if = error_;                                                                          \
    n++;
    CHECKS(ONE)
#undef ONE
    return n;
}

static int any_sql(const weir_strvec *v, const char *needle)
{
    for (size_t i = 0; i < v->len; i++)
        if (strstr(v->items[i], needle))
            return 1;
    return 0;
}

TEST(every_plan_gives_dbt_s_counts)
{
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_error err = WEIR_ERROR_INIT;
    weir_dbt_check own[32], split[32], one[32];
    static const char *const rels[] = { "t", "empty", "tv" };
    CHECK_OK(weir_engine_open(":memory:", NULL, &e, &err), &err);
    CHECK_OK(weir_conn_new(e, &c, &err), &err);
    CHECK_OK(weir_conn_exec(c, setup_sql, &err), &err);
    for (size_t r = 0; r < WEIR_ARRAY_SIZE(rels); r++) {
        size_t n = make_checks(own);
        weir_strvec qs = WEIR_VEC_INIT, q1 = WEIR_VEC_INIT;
        weir_validate_stats ss = { 0, 0, &qs }, s1 = { 0, 0, &q1 };
        memcpy(split, own, sizeof(own));
        memcpy(one, own, sizeof(own));
        CHECK_OK(weir_quality_dbt_checks(c, rels[r], own, n, false, WEIR_SPLIT_AUTO, NULL, &err), &err);
        CHECK_OK(weir_quality_dbt_checks(c, rels[r], split, n, true, WEIR_SPLIT_ALWAYS, &ss, &err), &err);
        CHECK_OK(weir_quality_dbt_checks(c, rels[r], one, n, true, WEIR_SPLIT_NEVER, &s1, &err), &err);
        for (size_t i = 0; i < n; i++) {
            const weir_dbt_check *a = &own[i], *b = &split[i], *d = &one[i];
            if (a->failures != b->failures || a->failures != d->failures ||
                a->should_warn != b->should_warn || a->should_warn != d->should_warn ||
                a->should_error != b->should_error || a->should_error != d->should_error)
                weir_test_fail(__FILE__, __LINE__,
                               "%s, check %zu (%s): own %lld/%d/%d, split %lld/%d/%d, one aggregate %lld/%d/%d",
                               rels[r], i, a->column, a->failures, a->should_warn, a->should_error,
                               b->failures, b->should_warn, b->should_error, d->failures, d->should_warn,
                               d->should_error);
        }
        /* the plans are what they say */
        CHECK_INT(ss.queries, <, n);
        CHECK(any_sql(&qs, "bitstring_agg") == (strcmp(rels[r], "empty") != 0)); /* no bounds, no bitmap */
        CHECK(any_sql(&q1, "grouping sets"));
        CHECK(!any_sql(&q1, "bitstring_agg"));
        if (!strcmp(rels[r], "empty"))
            for (size_t i = 0; i < n; i++)
                CHECK_INT(own[i].failures, ==, 0);
        weir_strvec_release(&qs);
        weir_strvec_release(&q1);
    }
    /* by hand, on t: dbt counts duplicated values, distinct values, orphan rows */
    make_checks(own);
    CHECK_OK(weir_quality_dbt_checks(c, "t", own, 22, true, WEIR_SPLIT_AUTO, NULL, &err), &err);
    CHECK_INT(own[0].failures, ==, 2);  /* two NULL ids */
    CHECK_INT(own[1].failures, ==, 1);  /* one with k > 40 */
    CHECK_INT(own[2].failures, ==, 1);  /* limit 1 */
    CHECK_INT(own[3].failures, ==, 0);  /* limit 0 */
    CHECK(own[4].should_warn && !own[4].should_error);
    CHECK_INT(own[5].failures, ==, 0);
    CHECK_INT(own[6].failures, ==, 2);  /* 1 and 3 repeat */
    CHECK_INT(own[7].failures, ==, 1);  /* k < 60: only 1 repeats */
    CHECK_INT(own[8].failures, ==, 0);  /* k > 60: 4, 5 (and a NULL) */
    CHECK_INT(own[10].failures, ==, 2); /* 'a' and 'z' */
    CHECK_INT(own[11].failures, ==, 0); /* k: every value once, proven by its bitmap */
    CHECK_INT(own[12].failures, ==, 1); /* grp 'x' */
    CHECK_INT(own[13].failures, ==, 3); /* k % 30: 10, 20, 0 three times each */
    CHECK_INT(own[14].failures, ==, 2); /* z, q */
    CHECK_INT(own[17].failures, ==, 3); /* 9, 8, 7 */
    CHECK_INT(own[19].failures, ==, 3); /* orphans 9, 8, 7 */
    CHECK_INT(own[20].failures, ==, 1); /* k <= 50: 9 */
    CHECK_INT(own[21].failures, ==, 2); /* limit 2 */
    CHECK(own[21].should_warn && own[21].should_error);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_error_release(&err);
}

TEST(a_unique_integer_column_needs_no_group_by)
{
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_error err = WEIR_ERROR_INIT;
    weir_strvec qs = WEIR_VEC_INIT;
    weir_validate_stats st = { 0, 0, &qs };
    weir_dbt_check x[2];
    memset(x, 0, sizeof(x));
    x[0].kind = x[1].kind = WEIR_DBT_UNIQUE;
    x[0].column = "id";
    x[1].column = "code";
    x[0].limit = x[1].limit = -1;
    CHECK_OK(weir_engine_open(":memory:", NULL, &e, &err), &err);
    CHECK_OK(weir_conn_new(e, &c, &err), &err);
    CHECK_OK(weir_conn_exec(c, setup_sql, &err), &err);
    CHECK_OK(weir_quality_dbt_checks(c, "u", x, 2, true, WEIR_SPLIT_AUTO, &st, &err), &err);
    CHECK_INT(x[0].failures, ==, 0);
    CHECK_INT(x[1].failures, ==, 0);
    /* the integer column by its bitmap; the text column by its GROUP BY; nothing run again */
    CHECK(any_sql(&qs, "bitstring_agg(id"));
    CHECK(any_sql(&qs, "group by (code)"));
    CHECK_INT(qs.len, ==, 1);
    weir_strvec_release(&qs);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_error_release(&err);
}
