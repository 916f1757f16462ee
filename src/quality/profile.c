/*
 * profile.c: `weir profile TABLE`: per-column statistics in one scan, and
 * a suite suggested from them that a user edits rather than writes.
 *
 * The statistics are one aggregate query over the table: for every column
 * its non-null count, an approximate distinct count (HyperLogLog), min and
 * max; mean and standard deviation of numbers; shortest and longest text;
 * the most frequent values (approx_top_k). Only uniqueness, which a
 * suggestion must not get wrong, is then checked exactly, for the columns
 * whose approximate count says they may be unique.
 */
#include "core/compat.h"

#include "core/json.h"
#include "core/str.h"
#include "quality/internal.h"
#include "quality/quality.h"

/* Columns with at most this many distinct values get a value set. */
#define SET_MAX 12

typedef enum { K_NUMBER, K_TEXT, K_TIME, K_BOOL, K_OTHER } kind;

static kind kind_of(const char *t)
{
    static const char *const nums[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                                        "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT",
                                        "DOUBLE", "REAL" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(nums); i++)
        if (strcmp(t, nums[i]) == 0)
            return K_NUMBER;
    if (weir_str_starts_with(t, "DECIMAL"))
        return K_NUMBER;
    if (weir_str_starts_with(t, "VARCHAR"))
        return K_TEXT;
    if (strcmp(t, "DATE") == 0 || weir_str_starts_with(t, "TIMESTAMP"))
        return K_TIME;
    if (strcmp(t, "BOOLEAN") == 0)
        return K_BOOL;
    return K_OTHER;
}

static json_t *cell(weir_result *res, size_t row, size_t col)
{
    weir_buf t = WEIR_BUF_INIT;
    json_t *v;
    if (weir_result_text(res, row, col, &t)) {
        weir_buf_release(&t);
        return json_null();
    }
    v = json_loadb(t.ptr, t.len, JSON_DECODE_ANY, NULL);
    if (!v)
        v = json_string(t.ptr);
    weir_buf_release(&t);
    return v;
}

int weir_quality_profile(weir_conn *c, const char *table, json_t **out, weir_error *err)
{
    const weir_dialect *d = weir_engine_dialect(weir_conn_engine(c));
    weir_buf rel = WEIR_BUF_INIT, sql = WEIR_BUF_INIT, q = WEIR_BUF_INIT;
    weir_result *res = NULL, *cat = NULL;
    json_t *cols = json_array(), *prof = NULL;
    int rc;
    *out = NULL;
    weir_qx_quote_relation(d, table, &rel);
    weir_buf_addf(&sql, "SELECT * FROM %s LIMIT 0", rel.ptr);
    if ((rc = weir_conn_query(c, sql.ptr, &cat, err))) {
        weir_error_wrap(err, "cannot read table '%s'", table);
        if (strstr(err->msg.ptr, "does not exist"))
            err->code = rc = WEIR_ENOTFOUND;
        goto cleanup;
    }
    size_t nc = weir_result_cols(cat);
    /* one scan: per column 8 cells, after the row count */
    weir_buf_reset(&sql);
    weir_buf_adds(&sql, "SELECT count(*)");
    for (size_t i = 0; i < nc; i++) {
        const char *type = weir_result_col_type_name(cat, i);
        kind k = kind_of(type);
        weir_buf_reset(&q);
        weir_sql_quote_ident(d, &q, weir_result_col_name(cat, i));
        const char *c0 = q.ptr;
        weir_buf_addf(&sql, ", count(%s), approx_count_distinct(%s)", c0, c0);
        if (k == K_NUMBER || k == K_TIME || k == K_TEXT || k == K_BOOL)
            weir_buf_addf(&sql, ", CAST(to_json(min(%s)) AS VARCHAR), "
                          "CAST(to_json(max(%s)) AS VARCHAR)", c0, c0);
        else
            weir_buf_adds(&sql, ", NULL, NULL");
        if (k == K_NUMBER)
            weir_buf_addf(&sql, ", avg(%s), stddev_samp(%s)", c0, c0);
        else
            weir_buf_adds(&sql, ", NULL, NULL");
        if (k == K_TEXT)
            weir_buf_addf(&sql, ", CAST(to_json([min(length(%s)), max(length(%s))]) AS VARCHAR)",
                          c0, c0);
        else
            weir_buf_adds(&sql, ", NULL");
        if (k == K_TEXT || k == K_BOOL || k == K_NUMBER)
            weir_buf_addf(&sql, ", CAST(to_json(approx_top_k(%s, %d)) AS VARCHAR)", c0,
                          SET_MAX + 1);
        else
            weir_buf_adds(&sql, ", NULL");
    }
    weir_buf_addf(&sql, " FROM %s", rel.ptr);
    if ((rc = weir_conn_query(c, sql.ptr, &res, err)))
        goto cleanup;
    int64_t rows = 0;
    weir_result_int64(res, 0, 0, &rows);
    for (size_t i = 0; i < nc; i++) {
        size_t b = 1 + i * 8;
        int64_t nonnull = 0, approx = 0;
        weir_result_int64(res, 0, b, &nonnull);
        weir_result_int64(res, 0, b + 1, &approx);
        json_t *col = json_object();
        json_object_set_new(col, "name", json_string(weir_result_col_name(cat, i)));
        json_object_set_new(col, "type", json_string(weir_result_col_type_name(cat, i)));
        json_object_set_new(col, "non_null", json_integer(nonnull));
        json_object_set_new(col, "nulls", json_integer(rows - nonnull));
        json_object_set_new(col, "null_percent",
                            rows ? json_real(100.0 * (double)(rows - nonnull) / (double)rows)
                                 : json_null());
        /* an estimate can exceed the values it counts */
        json_object_set_new(col, "distinct_approx", json_integer(WEIR_MIN(approx, nonnull)));
        json_object_set_new(col, "min", cell(res, 0, b + 2));
        json_object_set_new(col, "max", cell(res, 0, b + 3));
        double m;
        if (weir_result_double(res, 0, b + 4, &m) == 0 && !weir_result_is_null(res, 0, b + 4))
            json_object_set_new(col, "mean", json_real(m));
        if (weir_result_double(res, 0, b + 5, &m) == 0 && !weir_result_is_null(res, 0, b + 5))
            json_object_set_new(col, "stdev", json_real(m));
        json_t *len = cell(res, 0, b + 6);
        if (json_is_array(len)) {
            json_object_set(col, "min_length", json_array_get(len, 0));
            json_object_set(col, "max_length", json_array_get(len, 1));
        }
        json_decref(len);
        json_t *top = cell(res, 0, b + 7);
        if (json_is_array(top))
            json_object_set(col, "top_values", top);
        json_decref(top);
        json_array_append_new(cols, col);
    }
    /* uniqueness, exactly, where the estimate allows it */
    size_t i;
    json_t *col;
    json_array_foreach(cols, i, col) {
        int64_t nonnull = json_integer_value(json_object_get(col, "non_null"));
        int64_t approx = json_integer_value(json_object_get(col, "distinct_approx"));
        if (nonnull == 0 || (double)approx < 0.9 * (double)nonnull)
            continue;
        weir_result *u = NULL;
        int64_t dup = 1;
        weir_buf_reset(&q);
        weir_sql_quote_ident(d, &q, json_string_value(json_object_get(col, "name")));
        weir_buf_reset(&sql);
        weir_buf_addf(&sql, "SELECT count(*) - count(DISTINCT %s) FROM %s WHERE %s IS NOT NULL",
                      q.ptr, rel.ptr, q.ptr);
        if (weir_conn_query(c, sql.ptr, &u, err) == 0) {
            weir_result_int64(u, 0, 0, &dup);
            json_object_set_new(col, "unique", json_boolean(dup == 0));
        } else {
            weir_error_clear(err);
        }
        weir_result_free(u);
    }
    prof = json_object();
    json_object_set_new(prof, "table", json_string(table));
    json_object_set_new(prof, "row_count", json_integer(rows));
    json_object_set_new(prof, "columns", cols);
    cols = NULL;
    *out = prof;
cleanup:
    json_decref(cols);
    weir_result_free(res);
    weir_result_free(cat);
    weir_buf_release(&rel);
    weir_buf_release(&sql);
    weir_buf_release(&q);
    return rc;
}

static void add(json_t *list, const char *type, json_t *kwargs)
{
    json_array_append_new(list, json_pack("{s:s, s:o, s:{}}", "expectation_type", type, "kwargs",
                                          kwargs, "meta"));
}

json_t *weir_quality_suggest(const json_t *profile, const char *suite_name)
{
    const char *table = json_string_value(json_object_get(profile, "table"));
    int64_t rows = json_integer_value(json_object_get(profile, "row_count"));
    json_t *list = json_array(), *names = json_array();
    size_t i;
    json_t *col;
    json_array_foreach(json_object_get(profile, "columns"), i, col)
        json_array_append(names, json_object_get(col, "name"));
    /* the row count within half and twice today's: a start for a daily table */
    add(list, "expect_table_row_count_to_be_between",
        json_pack("{s:I, s:I}", "min_value", (json_int_t)(rows / 2), "max_value",
                  (json_int_t)(rows * 2 > rows ? rows * 2 : rows)));
    add(list, "expect_table_columns_to_match_ordered_list",
        json_pack("{s:o}", "column_list", names));
    json_array_foreach(json_object_get(profile, "columns"), i, col) {
        const char *name = json_string_value(json_object_get(col, "name"));
        const char *type = json_string_value(json_object_get(col, "type"));
        int64_t nonnull = json_integer_value(json_object_get(col, "non_null"));
        int64_t nulls = json_integer_value(json_object_get(col, "nulls"));
        int64_t distinct = json_integer_value(json_object_get(col, "distinct_approx"));
        kind k = kind_of(type);
        add(list, "expect_column_values_to_be_of_type",
            json_pack("{s:s, s:s}", "column", name, "type_", type));
        if (rows > 0 && nulls == 0) {
            add(list, "expect_column_values_to_not_be_null", json_pack("{s:s}", "column", name));
        } else if (rows > 0 && nonnull * 2 >= rows) {
            /* the share of non-null values seen, rounded down to a percent */
            double share = floor(100.0 * (double)nonnull / (double)rows) / 100.0;
            add(list, "expect_column_values_to_not_be_null",
                json_pack("{s:s, s:f}", "column", name, "mostly", share));
        }
        if (json_is_true(json_object_get(col, "unique")))
            add(list, "expect_column_values_to_be_unique", json_pack("{s:s}", "column", name));
        json_t *top = json_object_get(col, "top_values");
        if ((k == K_TEXT || k == K_BOOL || (k == K_NUMBER && distinct <= 5)) && nonnull > 0 &&
            json_array_size(top) > 0 && json_array_size(top) <= SET_MAX && distinct <= SET_MAX) {
            /* every value seen: approx_top_k keeps all of them when they are this few */
            json_t *set = json_deep_copy(top);
            add(list, "expect_column_values_to_be_in_set",
                json_pack("{s:s, s:o}", "column", name, "value_set", set));
        } else if ((k == K_NUMBER || k == K_TIME) && nonnull > 0) {
            add(list, "expect_column_values_to_be_between",
                json_pack("{s:s, s:O, s:O}", "column", name, "min_value",
                          json_object_get(col, "min"), "max_value", json_object_get(col, "max")));
        }
        if (k == K_TEXT && nonnull > 0 && json_is_integer(json_object_get(col, "min_length")))
            add(list, "expect_column_value_lengths_to_be_between",
                json_pack("{s:s, s:O, s:O}", "column", name, "min_value",
                          json_object_get(col, "min_length"), "max_value",
                          json_object_get(col, "max_length")));
    }
    return json_pack("{s:s, s:s, s:o, s:{s:s}}", "expectation_suite_name",
                     suite_name ? suite_name : table, "table", table, "expectations", list,
                     "meta", "notes", "suggested by weir profile: edit the bounds to what the "
                     "data must hold, not what it held once");
}
