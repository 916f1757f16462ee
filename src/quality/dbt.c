/*
 * dbt.c: dbt's built-in generic tests (not_null, unique, accepted_values,
 * relationships) on one relation, computed together with the failure
 * counts dbt's own queries give.
 *
 * dbt runs each test as its own query and counts the rows that query
 * returns: the null rows (not_null), the duplicated values (unique: one
 * per value seen more than once), the values outside the list
 * (accepted_values: one per distinct value, NULL never counted), the
 * child rows whose key has no parent (relationships), each over the rows
 * its `where` config keeps, capped by `limit`, then compared with
 * warn_if / error_if. Every plan below ends in that same arithmetic, as
 * SQL: least(count, limit), then `count warn_if` and `count error_if`, so
 * the thresholds mean exactly what they mean in dbt's wrapper query.
 *
 * On DuckDB (the rule quality/'s suites follow, see validate.c): ONE
 * statement, a subquery per test, each a WHERE the scan can prove empty
 * from zone maps and statistics without reading a row (not_null on a
 * column without NULLs costs nothing; the same count as a FILTER of an
 * aggregate reads every row), and uniqueness of an integer column proven
 * by a bitmap over its bounds (bitstring_agg: 0.2 s on 10M rows where the
 * GROUP BY of 10M distinct values takes seconds); only a bitmap that finds
 * duplicates leaves its test to dbt's own GROUP BY, for the exact count.
 *
 * Elsewhere (a row store, a remote warehouse, where a scan is what costs):
 * not_null, accepted_values and relationships are one aggregate over the
 * relation, count(*) or count(distinct) with a FILTER per test and
 * relationships as a NOT EXISTS on the parent (an anti-join, which never
 * multiplies the relation's rows); the unique tests are one GROUP BY
 * GROUPING SETS, a set per distinct column.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "quality/quality.h"

static const char *cond_or(const char *s)
{
    return s ? s : "!= 0";
}

/* "(select * from R where W) dbt_subquery", or R: the relation dbt's SQL reads. */
static void dbt_target(const char *relation, const weir_dbt_check *x, weir_buf *out)
{
    if (x->where && *x->where)
        weir_buf_addf(out, "(select * from %s where %s) dbt_subquery", relation, x->where);
    else
        weir_buf_adds(out, relation);
}

void weir_quality_dbt_check_sql(const char *relation, const weir_dbt_check *x, weir_buf *out)
{
    weir_buf rel = WEIR_BUF_INIT;
    const char *col = x->column ? x->column : "";
    dbt_target(relation, x, &rel);
    switch (x->kind) {
    case WEIR_DBT_NOT_NULL:
        weir_buf_addf(out, "select %s\nfrom %s\nwhere %s is null", col, rel.ptr, col);
        break;
    case WEIR_DBT_UNIQUE:
        weir_buf_addf(out,
                      "select %s as unique_field, count(*) as n_records\nfrom %s\nwhere %s is not null\n"
                      "group by %s\nhaving count(*) > 1",
                      col, rel.ptr, col, col);
        break;
    case WEIR_DBT_ACCEPTED_VALUES:
        weir_buf_addf(out,
                      "with all_values as (\n    select %s as value_field, count(*) as n_records\n"
                      "    from %s\n    group by %s\n)\nselect *\nfrom all_values\nwhere value_field not in (%s)",
                      col, rel.ptr, col, x->values ? x->values : "");
        break;
    case WEIR_DBT_RELATIONSHIPS:
        weir_buf_addf(out,
                      "with child as (\n    select %s as from_field\n    from %s\n    where %s is not null\n),\n"
                      "parent as (\n    select %s as to_field\n    from %s\n)\n"
                      "select from_field\nfrom child\nleft join parent on child.from_field = parent.to_field\n"
                      "where parent.to_field is null",
                      col, rel.ptr, col, x->field ? x->field : "", x->to ? x->to : "");
        break;
    }
    weir_buf_release(&rel);
}

/* The filter "(W) and " of a test with a where config, or nothing. */
static void where_and(const weir_dbt_check *x, weir_buf *out)
{
    if (x->where && *x->where)
        weir_buf_addf(out, "(%s) and ", x->where);
}

/* Per test k: dbt's count after limit, and the two thresholds. */
static void outer_select(const weir_dbt_check *xs, const size_t *idx, size_t n, weir_buf *out)
{
    weir_buf_adds(out, "select ");
    for (size_t i = 0; i < n; i++) {
        const weir_dbt_check *x = &xs[idx[i]];
        weir_buf f = WEIR_BUF_INIT;
        if (x->limit >= 0)
            weir_buf_addf(&f, "least(r%zu, %lld)", i, x->limit);
        else
            weir_buf_addf(&f, "r%zu", i);
        weir_buf_addf(out, "%s%s, %s %s, %s %s", i ? ",\n  " : "", f.ptr, f.ptr, cond_or(x->warn_if),
                      f.ptr, cond_or(x->error_if));
        weir_buf_release(&f);
    }
}

/* not_null, accepted_values, relationships: one aggregate. */
static void aggregate_sql(const char *relation, const weir_dbt_check *xs, const size_t *idx, size_t n,
                          weir_buf *out)
{
    outer_select(xs, idx, n, out);
    weir_buf_adds(out, "\nfrom (\n  select ");
    for (size_t i = 0; i < n; i++) {
        const weir_dbt_check *x = &xs[idx[i]];
        if (i)
            weir_buf_adds(out, ",\n    ");
        if (x->kind == WEIR_DBT_NOT_NULL) {
            weir_buf_adds(out, "count(*) filter (where ");
            where_and(x, out);
            weir_buf_addf(out, "(%s) is null)", x->column);
        } else if (x->kind == WEIR_DBT_ACCEPTED_VALUES) {
            /* one per distinct value: what dbt's GROUP BY counts */
            weir_buf_addf(out, "count(distinct (%s)) filter (where ", x->column);
            where_and(x, out);
            weir_buf_addf(out, "(%s) not in (%s))", x->column, x->values);
        } else {
            weir_buf_adds(out, "count(*) filter (where ");
            where_and(x, out);
            weir_buf_addf(out,
                          "(%s) is not null and not exists (select 1 from (select %s as __weir_to_field "
                          "from %s) __weir_parent where __weir_parent.__weir_to_field = (%s)))",
                          x->column, x->field, x->to, x->column);
        }
        weir_buf_addf(out, " as r%zu", i);
    }
    weir_buf_addf(out, "\n  from %s\n) __weir_tests", relation);
}

/* unique: one GROUP BY with a grouping set per distinct column. */
static void unique_sql(const char *relation, const weir_dbt_check *xs, const size_t *idx, size_t n,
                       weir_buf *out)
{
    weir_strvec cols = WEIR_VEC_INIT;
    size_t *set_of = weir_xcalloc(n ? n : 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        const char *c = xs[idx[i]].column;
        size_t k = 0;
        while (k < cols.len && strcmp(cols.items[k], c))
            k++;
        if (k == cols.len)
            weir_strvec_push(&cols, c);
        set_of[i] = k;
    }
    outer_select(xs, idx, n, out);
    weir_buf_adds(out, "\nfrom (\n  select ");
    for (size_t i = 0; i < n; i++) {
        weir_buf_addf(out, "%scount(*) filter (where ", i ? ",\n    " : "");
        if (cols.len > 1) {
            /* grouping() sets the bit of every argument not in the row's set */
            size_t m = cols.len;
            unsigned long long mask = ((1ULL << m) - 1ULL) & ~(1ULL << (m - 1 - set_of[i]));
            weir_buf_addf(out, "__weir_set = %llu and ", mask);
        }
        weir_buf_addf(out, "n%zu > 1) as r%zu", i, i);
    }
    weir_buf_adds(out, "\n  from (\n    select ");
    if (cols.len > 1) {
        weir_buf_adds(out, "grouping(");
        for (size_t k = 0; k < cols.len; k++)
            weir_buf_addf(out, "%s(%s)", k ? ", " : "", cols.items[k]);
        weir_buf_adds(out, ") as __weir_set, ");
    }
    for (size_t i = 0; i < n; i++) {
        const weir_dbt_check *x = &xs[idx[i]];
        weir_buf_addf(out, "%scount(*) filter (where ", i ? ", " : "");
        where_and(x, out);
        weir_buf_addf(out, "(%s) is not null) as n%zu", x->column, i);
    }
    weir_buf_addf(out, "\n    from %s\n    group by ", relation);
    if (cols.len > 1)
        weir_buf_adds(out, "grouping sets (");
    for (size_t k = 0; k < cols.len; k++)
        weir_buf_addf(out, cols.len > 1 ? "%s((%s))" : "%s(%s)", k ? ", " : "", cols.items[k]);
    if (cols.len > 1)
        weir_buf_adds(out, ")");
    weir_buf_adds(out, "\n  ) __weir_groups\n) __weir_tests");
    free(set_of);
    weir_strvec_release(&cols);
}

/* Runs sql (one row: count, warn, error per test); unknown[i] (may be NULL) says a count came back NULL. */
static int run_sql(weir_conn *c, const char *sql, weir_dbt_check *xs, const size_t *idx, size_t n,
                   unsigned char *unknown, weir_validate_stats *stats, weir_error *err)
{
    weir_result *r = NULL;
    int rc;
    if (stats) {
        stats->queries++;
        if (stats->sql)
            weir_strvec_push(stats->sql, sql);
    }
    weir_log(WEIR_LOG_DEBUG, "quality: %s", sql);
    if ((rc = weir_conn_query(c, sql, &r, err)))
        return rc;
    if (weir_result_rows(r) != 1 || weir_result_cols(r) != 3 * n) {
        weir_result_free(r);
        return weir_error_set(err, WEIR_ERROR, "dbt tests: expected 1 row of %zu columns", 3 * n);
    }
    for (size_t i = 0; i < n; i++) {
        weir_dbt_check *x = &xs[idx[i]];
        int64_t f = 0;
        bool w = false, e = false;
        if (unknown)
            unknown[i] = weir_result_is_null(r, 0, 3 * i);
        weir_result_int64(r, 0, 3 * i, &f);
        /* a threshold that is NULL is not met, as in dbt's wrapper */
        weir_result_bool(r, 0, 3 * i + 1, &w);
        weir_result_bool(r, 0, 3 * i + 2, &e);
        x->failures = f;
        x->should_warn = w;
        x->should_error = e;
    }
    weir_result_free(r);
    return 0;
}

/* dbt's wrapper around one test's own query. */
static int run_own(weir_conn *c, const char *relation, weir_dbt_check *x,
                   weir_validate_stats *stats, weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT, inner = WEIR_BUF_INIT;
    size_t zero = 0;
    int rc;
    weir_quality_dbt_check_sql(relation, x, &inner);
    weir_buf_addf(&sql, "select count(*) as r0, count(*) %s, count(*) %s\nfrom (\n%s\n", cond_or(x->warn_if),
                  cond_or(x->error_if), inner.ptr);
    if (x->limit >= 0)
        weir_buf_addf(&sql, "limit %lld\n", x->limit);
    weir_buf_adds(&sql, ") dbt_internal_test");
    rc = run_sql(c, sql.ptr, x, &zero, 1, NULL, stats, err);
    weir_buf_release(&sql);
    weir_buf_release(&inner);
    return rc;
}

/* Bitmaps of integer values have at most this many bits (16 MiB), as validate.c's. */
#define DBT_BITMAP_MAX_BITS ((int64_t)1 << 27)

/* t as a static string when it names an integer type a bitmap can take, else NULL. */
static const char *int_type(const char *t)
{
    static const char *const ints[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT",
                                        "USMALLINT", "UINTEGER" };
    for (size_t i = 0; t && i < WEIR_ARRAY_SIZE(ints); i++)
        if (!strcmp(t, ints[i]))
            return ints[i];
    return NULL;
}

/*
 * The bounds of the unique tests' integer columns, for their bitmaps:
 * the columns' types from a zero-row query, then one min/max query over
 * the integer ones. has[i] is set for the tests with usable bounds.
 */
static void unique_bounds(weir_conn *c, const char *relation, const weir_dbt_check *xs, size_t n,
                          unsigned char *has, int64_t *lo, int64_t *hi, const char **type,
                          weir_validate_stats *stats)
{
    weir_buf sql = WEIR_BUF_INIT;
    weir_result *r = NULL;
    weir_error err = WEIR_ERROR_INIT;
    WEIR_VEC(size_t) ints = WEIR_VEC_INIT;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (xs[i].kind == WEIR_DBT_UNIQUE)
            weir_buf_addf(&sql, "%s(%s) AS weir_u%zu", k++ ? ", " : "SELECT ", xs[i].column, i);
    if (!k)
        goto cleanup;
    weir_buf_addf(&sql, " FROM %s LIMIT 0", relation);
    if (stats)
        stats->queries++;
    if (weir_conn_query(c, sql.ptr, &r, &err))
        goto cleanup; /* no bitmaps: each test's GROUP BY says what is wrong */
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (xs[i].kind == WEIR_DBT_UNIQUE) {
            type[i] = int_type(weir_result_col_type_name(r, k++));
            if (type[i])
                weir_vec_push(&ints, i);
        }
    weir_result_free(r);
    r = NULL;
    if (!ints.len)
        goto cleanup;
    weir_buf_reset(&sql);
    for (size_t j = 0; j < ints.len; j++)
        weir_buf_addf(&sql, "%smin(%s), max(%s)", j ? ", " : "SELECT ", xs[ints.items[j]].column,
                      xs[ints.items[j]].column);
    weir_buf_addf(&sql, " FROM %s", relation);
    if (stats)
        stats->queries++;
    if (weir_conn_query(c, sql.ptr, &r, &err) == 0 && weir_result_rows(r) == 1)
        for (size_t j = 0; j < ints.len; j++) {
            size_t i = ints.items[j];
            has[i] = !weir_result_is_null(r, 0, 2 * j) && weir_result_int64(r, 0, 2 * j, &lo[i]) == 0 &&
                     weir_result_int64(r, 0, 2 * j + 1, &hi[i]) == 0 && lo[i] <= hi[i] &&
                     (uint64_t)hi[i] - (uint64_t)lo[i] < (uint64_t)DBT_BITMAP_MAX_BITS;
        }
cleanup:
    weir_result_free(r);
    weir_vec_release(&ints);
    weir_buf_release(&sql);
    weir_error_release(&err);
}

/* DuckDB: one statement, a subquery per test (see the top of the file). */
static int duckdb_checks(weir_conn *c, const char *relation, weir_dbt_check *xs, size_t n,
                         weir_validate_stats *stats, weir_error *err)
{
    weir_buf sql = WEIR_BUF_INIT;
    size_t *idx = weir_xcalloc(n, sizeof(size_t));
    unsigned char *has = weir_xcalloc(n, 1), *unknown = weir_xcalloc(n, 1);
    int64_t *lo = weir_xcalloc(n, sizeof(int64_t)), *hi = weir_xcalloc(n, sizeof(int64_t));
    const char **type = weir_xcalloc(n, sizeof(char *));
    int rc;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    unique_bounds(c, relation, xs, n, has, lo, hi, type, stats);
    outer_select(xs, idx, n, &sql);
    weir_buf_adds(&sql, "\nfrom (\n  select ");
    for (size_t i = 0; i < n; i++) {
        const weir_dbt_check *x = &xs[i];
        if (i)
            weir_buf_adds(&sql, ",\n    ");
        switch (x->kind) {
        case WEIR_DBT_NOT_NULL:
            weir_buf_addf(&sql, "(select count(*) from %s where ", relation);
            where_and(x, &sql);
            weir_buf_addf(&sql, "(%s) is null)", x->column);
            break;
        case WEIR_DBT_ACCEPTED_VALUES:
            weir_buf_addf(&sql, "(select count(*) from (select %s as weir__v from %s", x->column, relation);
            if (x->where && *x->where)
                weir_buf_addf(&sql, " where %s", x->where);
            weir_buf_addf(&sql, " group by 1) where weir__v not in (%s))", x->values);
            break;
        case WEIR_DBT_RELATIONSHIPS:
            weir_buf_addf(&sql, "(select count(*) from %s where ", relation);
            where_and(x, &sql);
            weir_buf_addf(&sql,
                          "(%s) is not null and not exists (select 1 from (select %s as __weir_to_field "
                          "from %s) __weir_parent where __weir_parent.__weir_to_field = (%s)))",
                          x->column, x->field, x->to, x->column);
            break;
        case WEIR_DBT_UNIQUE:
            if (has[i]) {
                /* 0 when the bitmap proves every value distinct, else NULL: see below */
                weir_buf_addf(&sql,
                              "(select case when coalesce(bit_count(bitstring_agg(%s, cast(%" PRId64
                              " as %s), cast(%" PRId64 " as %s))), 0) = count(*) then 0 end from %s where ",
                              x->column, lo[i], type[i], hi[i], type[i], relation);
            } else {
                weir_buf_addf(&sql, "(select count(*) from (select 1 from %s where ", relation);
            }
            where_and(x, &sql);
            weir_buf_addf(&sql, "(%s) is not null", x->column);
            if (!has[i])
                weir_buf_addf(&sql, " group by (%s) having count(*) > 1)", x->column);
            weir_buf_adds(&sql, ")");
            break;
        }
        weir_buf_addf(&sql, " as r%zu", i);
    }
    weir_buf_adds(&sql, "\n) __weir_tests");
    rc = run_sql(c, sql.ptr, xs, idx, n, unknown, stats, err);
    /* a bitmap that found duplicates: dbt's own GROUP BY counts them */
    for (size_t i = 0; i < n && !rc; i++)
        if (unknown[i])
            rc = run_own(c, relation, &xs[i], stats, err);
    weir_buf_release(&sql);
    free(idx);
    free(has);
    free(unknown);
    free(lo);
    free(hi);
    free(type);
    return rc;
}

int weir_quality_dbt_checks(weir_conn *c, const char *relation, weir_dbt_check *checks, size_t n,
                            bool batch, weir_split_filters split, weir_validate_stats *stats,
                            weir_error *err)
{
    WEIR_VEC(size_t) agg = WEIR_VEC_INIT, uniq = WEIR_VEC_INIT;
    weir_buf sql = WEIR_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        checks[i].failures = 0;
        checks[i].should_warn = checks[i].should_error = false;
        if (!checks[i].column || !*checks[i].column ||
            (checks[i].kind == WEIR_DBT_ACCEPTED_VALUES && (!checks[i].values || !*checks[i].values)) ||
            (checks[i].kind == WEIR_DBT_RELATIONSHIPS && (!checks[i].to || !checks[i].field))) {
            rc = weir_error_set(err, WEIR_EINVALID, "dbt test %zu on %s lacks its arguments", i, relation);
            goto cleanup;
        }
    }
    if (!batch) {
        for (size_t i = 0; i < n && !rc; i++)
            rc = run_own(c, relation, &checks[i], stats, err);
        goto cleanup;
    }
    if (n && (split == WEIR_SPLIT_ALWAYS ||
              (split == WEIR_SPLIT_AUTO &&
               !strcmp(weir_engine_dialect(weir_conn_engine(c))->name, "duckdb")))) {
        rc = duckdb_checks(c, relation, checks, n, stats, err);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (checks[i].kind == WEIR_DBT_UNIQUE)
            weir_vec_push(&uniq, i);
        else
            weir_vec_push(&agg, i);
    }
    if (agg.len) {
        aggregate_sql(relation, checks, agg.items, agg.len, &sql);
        if ((rc = run_sql(c, sql.ptr, checks, agg.items, agg.len, NULL, stats, err)))
            goto cleanup;
    }
    /* grouping() is a bitmask of its arguments: at most 32 sets a statement */
    for (size_t i = 0; i < uniq.len && !rc; i += 32) {
        size_t k = uniq.len - i < 32 ? uniq.len - i : 32;
        weir_buf_reset(&sql);
        unique_sql(relation, checks, uniq.items + i, k, &sql);
        rc = run_sql(c, sql.ptr, checks, uniq.items + i, k, NULL, stats, err);
    }
cleanup:
    weir_vec_release(&agg);
    weir_vec_release(&uniq);
    weir_buf_release(&sql);
    return rc;
}
