/*
 * types.c: the expectation types weir knows, and the checking of their
 * kwargs.
 *
 * Each type is one row: its GX name, how it is computed (table, column map,
 * multi-column, aggregate) and its kwargs in a small spec language (see
 * internal.h). weir_qx_check() reads a suite's kwargs against the row, so
 * that a wrong expectation is refused with a message that says which kwarg
 * and why, before any SQL is written; validate.c can then trust the types.
 */
#include "core/compat.h"

#include "core/str.h"
#include "quality/internal.h"

#define BOUNDS "min_value:v max_value:v strict_min:b strict_max:b"
#define NBOUNDS "min_value:N max_value:N strict_min:b strict_max:b"
#define DT " parse_strings_as_datetimes:x output_strftime_format:x allow_cross_type_comparisons:x"

static const weir_qx_type types[] = {
    { "expect_table_row_count_to_be_between", X_ROW_COUNT_BETWEEN, QX_TABLE, NBOUNDS },
    { "expect_table_row_count_to_equal", X_ROW_COUNT_EQUAL, QX_TABLE, "!value:i" },
    { "expect_table_row_count_to_equal_other_table", X_ROW_COUNT_EQUAL_OTHER, QX_TABLE,
      "!other_table_name:s" },
    { "expect_table_column_count_to_equal", X_COLUMN_COUNT_EQUAL, QX_TABLE, "!value:i" },
    { "expect_table_column_count_to_be_between", X_COLUMN_COUNT_BETWEEN, QX_TABLE, NBOUNDS },
    { "expect_table_columns_to_match_ordered_list", X_COLUMNS_ORDERED, QX_TABLE,
      "!column_list:C" },
    { "expect_table_columns_to_match_set", X_COLUMNS_SET, QX_TABLE,
      "!column_set:C exact_match:b" },
    { "expect_column_to_exist", X_COLUMN_EXISTS, QX_TABLE, "!column:c column_index:i" },

    { "expect_column_values_to_not_be_null", X_NOT_NULL, QX_MAP, "!column:c mostly:p" },
    { "expect_column_values_to_be_null", X_NULL, QX_MAP, "!column:c mostly:p" },
    { "expect_column_values_to_be_unique", X_UNIQUE, QX_MAP, "!column:c mostly:p" },
    { "expect_column_values_to_be_in_set", X_IN_SET, QX_MAP,
      "!column:c !value_set:L mostly:p" DT },
    { "expect_column_values_to_not_be_in_set", X_NOT_IN_SET, QX_MAP,
      "!column:c !value_set:L mostly:p" DT },
    { "expect_column_values_to_be_between", X_BETWEEN, QX_MAP,
      "!column:c mostly:p " BOUNDS DT },
    { "expect_column_values_to_be_increasing", X_INCREASING, QX_MAP,
      "!column:c strictly:b mostly:p" DT },
    { "expect_column_values_to_be_decreasing", X_DECREASING, QX_MAP,
      "!column:c strictly:b mostly:p" DT },
    { "expect_column_value_lengths_to_be_between", X_LENGTHS_BETWEEN, QX_MAP,
      "!column:c mostly:p " NBOUNDS },
    { "expect_column_value_lengths_to_equal", X_LENGTHS_EQUAL, QX_MAP,
      "!column:c !value:i mostly:p" },
    { "expect_column_values_to_match_regex", X_REGEX, QX_MAP, "!column:c !regex:s mostly:p" },
    { "expect_column_values_to_not_match_regex", X_NOT_REGEX, QX_MAP,
      "!column:c !regex:s mostly:p" },
    { "expect_column_values_to_match_regex_list", X_REGEX_LIST, QX_MAP,
      "!column:c !regex_list:S match_on:s mostly:p" },
    { "expect_column_values_to_not_match_regex_list", X_NOT_REGEX_LIST, QX_MAP,
      "!column:c !regex_list:S mostly:p" },
    { "expect_column_values_to_match_like_pattern", X_LIKE, QX_MAP,
      "!column:c !like_pattern:s mostly:p" },
    { "expect_column_values_to_not_match_like_pattern", X_NOT_LIKE, QX_MAP,
      "!column:c !like_pattern:s mostly:p" },
    { "expect_column_values_to_match_strftime_format", X_STRFTIME, QX_MAP,
      "!column:c !strftime_format:s mostly:p" },
    { "expect_column_values_to_be_dateutil_parseable", X_DATEUTIL, QX_MAP,
      "!column:c mostly:p" },
    { "expect_column_values_to_be_json_parseable", X_JSON, QX_MAP, "!column:c mostly:p" },
    { "expect_column_values_to_be_of_type", X_OF_TYPE, QX_MAP, "!column:c !type_:s mostly:x" },
    { "expect_column_values_to_be_in_type_list", X_IN_TYPE_LIST, QX_MAP,
      "!column:c !type_list:S mostly:x" },

    { "expect_column_min_to_be_between", X_MIN, QX_AGG, "!column:c " BOUNDS DT },
    { "expect_column_max_to_be_between", X_MAX, QX_AGG, "!column:c " BOUNDS DT },
    { "expect_column_mean_to_be_between", X_MEAN, QX_AGG, "!column:c " NBOUNDS },
    { "expect_column_median_to_be_between", X_MEDIAN, QX_AGG, "!column:c " NBOUNDS },
    { "expect_column_sum_to_be_between", X_SUM, QX_AGG, "!column:c " NBOUNDS },
    { "expect_column_stdev_to_be_between", X_STDEV, QX_AGG, "!column:c " NBOUNDS },
    { "expect_column_quantile_values_to_be_between", X_QUANTILES, QX_AGG,
      "!column:c !quantile_ranges:q allow_relative_error:x" },
    { "expect_column_unique_value_count_to_be_between", X_UNIQUE_COUNT, QX_AGG,
      "!column:c " NBOUNDS },
    { "expect_column_proportion_of_unique_values_to_be_between", X_UNIQUE_PROPORTION, QX_AGG,
      "!column:c " NBOUNDS },
    { "expect_column_most_common_value_to_be_in_set", X_MOST_COMMON, QX_AGG,
      "!column:c !value_set:L ties_okay:b" },
    { "expect_column_distinct_values_to_be_in_set", X_DISTINCT_IN_SET, QX_AGG,
      "!column:c value_set:l" DT },
    { "expect_column_distinct_values_to_contain_set", X_DISTINCT_CONTAIN, QX_AGG,
      "!column:c !value_set:L" DT },
    { "expect_column_distinct_values_to_equal_set", X_DISTINCT_EQUAL, QX_AGG,
      "!column:c !value_set:L" DT },

    { "expect_column_pair_values_to_be_equal", X_PAIR_EQUAL, QX_MULTI,
      "!column_A:c !column_B:c ignore_row_if:s mostly:p" },
    { "expect_column_pair_values_a_to_be_greater_than_b", X_PAIR_GREATER, QX_MULTI,
      "!column_A:c !column_B:c or_equal:b ignore_row_if:s mostly:p" DT },
    { "expect_compound_columns_to_be_unique", X_COMPOUND_UNIQUE, QX_MULTI,
      "!column_list:C ignore_row_if:s mostly:p" },
    { "expect_select_column_values_to_be_unique_within_record", X_SELECT_UNIQUE, QX_MULTI,
      "!column_list:C ignore_row_if:s mostly:p" },
    { "expect_multicolumn_sum_to_equal", X_MULTI_SUM, QX_MULTI,
      "!column_list:C !sum_total:n ignore_row_if:s mostly:p" },
};

const char *const weir_expectation_type_names[] = {
    "expect_table_row_count_to_be_between",
    "expect_table_row_count_to_equal",
    "expect_table_row_count_to_equal_other_table",
    "expect_table_column_count_to_equal",
    "expect_table_column_count_to_be_between",
    "expect_table_columns_to_match_ordered_list",
    "expect_table_columns_to_match_set",
    "expect_column_to_exist",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_increasing",
    "expect_column_values_to_be_decreasing",
    "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list",
    "expect_column_values_to_not_match_regex_list",
    "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern",
    "expect_column_values_to_match_strftime_format",
    "expect_column_values_to_be_dateutil_parseable",
    "expect_column_values_to_be_json_parseable",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_be_in_type_list",
    "expect_column_min_to_be_between",
    "expect_column_max_to_be_between",
    "expect_column_mean_to_be_between",
    "expect_column_median_to_be_between",
    "expect_column_sum_to_be_between",
    "expect_column_stdev_to_be_between",
    "expect_column_quantile_values_to_be_between",
    "expect_column_unique_value_count_to_be_between",
    "expect_column_proportion_of_unique_values_to_be_between",
    "expect_column_most_common_value_to_be_in_set",
    "expect_column_distinct_values_to_be_in_set",
    "expect_column_distinct_values_to_contain_set",
    "expect_column_distinct_values_to_equal_set",
    "expect_column_pair_values_to_be_equal",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_compound_columns_to_be_unique",
    "expect_select_column_values_to_be_unique_within_record",
    "expect_multicolumn_sum_to_equal",
};
const size_t weir_expectation_type_count = WEIR_ARRAY_SIZE(weir_expectation_type_names);

/* The table and the name list must stay in step. */
_Static_assert(WEIR_ARRAY_SIZE(types) == WEIR_ARRAY_SIZE(weir_expectation_type_names),
               "types[] and weir_expectation_type_names[] differ");

const weir_qx_type *weir_qx_type_find(const char *name)
{
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(types); i++)
        if (strcmp(types[i].name, name) == 0)
            return &types[i];
    return NULL;
}

static const char *const common_kwargs[] = {
    "result_format", "catch_exceptions", "include_config", "row_condition",
    "condition_parser", "meta",
};

/* Finds kwarg name in spec: returns its type letter, *req whether required. */
static char spec_find(const char *spec, const char *name, int *req)
{
    size_t n = strlen(name);
    const char *p = spec;
    while (*p) {
        while (*p == ' ')
            p++;
        int r = *p == '!';
        if (r)
            p++;
        const char *colon = strchr(p, ':');
        if (!colon)
            break;
        if ((size_t)(colon - p) == n && strncmp(p, name, n) == 0) {
            *req = r;
            return colon[1];
        }
        p = colon + 2;
    }
    return 0;
}

/* The kwarg of spec (or a common one) nearest to name, for "did you mean". */
static const char *suggest_kwarg(const char *spec, const char *name)
{
    static char names[32][48];
    const char *list[32 + WEIR_ARRAY_SIZE(common_kwargs)];
    size_t n = 0;
    const char *p = spec;
    while (*p && n < 32) {
        while (*p == ' ' || *p == '!')
            p++;
        const char *colon = strchr(p, ':');
        if (!colon)
            break;
        size_t len = WEIR_MIN((size_t)(colon - p), sizeof(names[0]) - 1);
        memcpy(names[n], p, len);
        names[n][len] = '\0';
        list[n] = names[n];
        n++;
        p = colon + 2;
    }
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(common_kwargs); i++)
        list[n++] = common_kwargs[i];
    return weir_str_suggest(name, list, n);
}

static int is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v);
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Checks one kwarg value against its type letter. */
static int check_value(const char *name, char t, const json_t *v, weir_buf *msg)
{
    if (json_is_object(v) && json_object_get(v, "$PARAMETER"))
        return weir_buf_addf(msg, "kwarg '%s': evaluation parameters are not supported yet",
                             name), -1;
    switch (t) {
    case 'c':
    case 's':
        if (!json_is_string(v) || (t == 'c' && !*json_string_value(v)))
            goto wrong;
        return 0;
    case 'n':
        if (!json_is_number(v))
            goto wrong;
        return 0;
    case 'N':
        if (!json_is_number(v) && !json_is_null(v))
            goto wrong;
        return 0;
    case 'v':
        if (!json_is_number(v) && !json_is_string(v) && !json_is_null(v))
            goto wrong;
        return 0;
    case 'i':
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            goto wrong;
        return 0;
    case 'b':
        if (!json_is_boolean(v))
            goto wrong;
        return 0;
    case 'p':
        if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
            goto wrong;
        return 0;
    case 'C':
    case 'S': {
        size_t i;
        json_t *it;
        if (!json_is_array(v) || (t == 'C' && json_array_size(v) == 0))
            goto wrong;
        json_array_foreach(v, i, it)
            if (!json_is_string(it) || (t == 'C' && !*json_string_value(it)))
                goto wrong;
        return 0;
    }
    case 'l':
        if (json_is_null(v))
            return 0;
        /* fall through */
    case 'L': {
        size_t i;
        json_t *it;
        if (!json_is_array(v))
            goto wrong;
        json_array_foreach(v, i, it)
            if (!is_scalar(it))
                return weir_buf_addf(msg, "kwarg '%s': item %zu is %s, expected a value", name,
                                     i, json_kind(it)), -1;
        return 0;
    }
    case 'q': {
        json_t *q = json_object_get(v, "quantiles"), *r = json_object_get(v, "value_ranges");
        size_t i;
        json_t *it;
        if (!json_is_object(v) || !json_is_array(q) || !json_is_array(r))
            return weir_buf_addf(msg, "kwarg '%s': expected an object with 'quantiles' and "
                                 "'value_ranges' lists", name), -1;
        if (json_array_size(q) == 0 || json_array_size(q) != json_array_size(r))
            return weir_buf_addf(msg, "kwarg '%s': 'quantiles' has %zu items and "
                                 "'value_ranges' %zu; expected as many, at least one",
                                 name, json_array_size(q), json_array_size(r)), -1;
        json_array_foreach(q, i, it) {
            if (!json_is_number(it) || json_number_value(it) < 0 || json_number_value(it) > 1)
                return weir_buf_addf(msg, "kwarg '%s': quantile %zu is not a number "
                                     "between 0 and 1", name, i), -1;
            json_t *rg = json_array_get(r, i);
            if (!json_is_array(rg) || json_array_size(rg) != 2 ||
                !(json_is_number(json_array_get(rg, 0)) || json_is_null(json_array_get(rg, 0))) ||
                !(json_is_number(json_array_get(rg, 1)) || json_is_null(json_array_get(rg, 1))))
                return weir_buf_addf(msg, "kwarg '%s': value range %zu is not a pair "
                                     "[min, max] of numbers or nulls", name, i), -1;
            if (json_is_number(json_array_get(rg, 0)) && json_is_number(json_array_get(rg, 1)) &&
                json_number_value(json_array_get(rg, 0)) > json_number_value(json_array_get(rg, 1)))
                return weir_buf_addf(msg, "kwarg '%s': value range %zu has its min above "
                                     "its max", name, i), -1;
        }
        return 0;
    }
    default:
        return 0;
    }
wrong:;
    const char *want = t == 'c' ? "a column name" : t == 's' ? "a string"
                     : t == 'n' ? "a number" : t == 'N' ? "a number or null"
                     : t == 'v' ? "a number, a string or null"
                     : t == 'i' ? "a non-negative integer" : t == 'b' ? "true or false"
                     : t == 'p' ? "a number between 0 and 1"
                     : t == 'C' ? "a non-empty list of column names"
                     : t == 'L' || t == 'l' ? "a list of values" : "a list of strings";
    weir_buf_addf(msg, "kwarg '%s': expected %s, got %s", name, want, json_kind(v));
    return -1;
}

static int check_bounds(weir_expectation *x, weir_buf *msg)
{
    json_t *lo = json_object_get(x->kwargs, "min_value"),
           *hi = json_object_get(x->kwargs, "max_value");
    int has_lo = lo && !json_is_null(lo), has_hi = hi && !json_is_null(hi);
    if (!has_lo && !has_hi)
        return weir_buf_adds(msg, "min_value and max_value cannot both be null"), -1;
    if (has_lo && has_hi) {
        if (json_is_number(lo) && json_is_number(hi) &&
            json_number_value(lo) > json_number_value(hi))
            return weir_buf_addf(msg, "kwarg 'min_value': %g is greater than max_value %g",
                                 json_number_value(lo), json_number_value(hi)), -1;
        if (json_is_string(lo) && json_is_string(hi) &&
            strcmp(json_string_value(lo), json_string_value(hi)) > 0)
            return weir_buf_addf(msg, "kwarg 'min_value': '%s' is greater than max_value '%s'",
                                 json_string_value(lo), json_string_value(hi)), -1;
        if (json_is_number(lo) != json_is_number(hi))
            return weir_buf_adds(msg, "kwarg 'max_value': not of the same type as min_value"), -1;
    }
    return 0;
}

static int check_ignore(weir_expectation *x, weir_buf *msg)
{
    const char *v = json_string_value(json_object_get(x->kwargs, "ignore_row_if"));
    static const char *const pair[] = { "both_values_are_missing", "either_value_is_missing",
                                        "neither" };
    static const char *const list[] = { "all_values_are_missing", "any_value_is_missing",
                                        "never" };
    const char *const *ok = x->column_a ? pair : list;
    if (!v)
        return 0;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(v, ok[i]) == 0)
            return 0;
    weir_buf_addf(msg, "kwarg 'ignore_row_if': unknown value '%s' (expected '%s', '%s' or '%s')",
                  v, ok[0], ok[1], ok[2]);
    return -1;
}

/* Rewrites GX's experimental condition syntax col("x") into SQL "x". */
static char *translate_condition(const char *s, const char *parser)
{
    weir_buf out = WEIR_BUF_INIT;
    int gx = parser && weir_str_starts_with(parser, "great_expectations");
    while (*s) {
        if (gx && strncmp(s, "col(", 4) == 0 && (s[4] == '"' || s[4] == '\'')) {
            char q = s[4];
            const char *end = strchr(s + 5, q);
            if (end && end[1] == ')') {
                weir_buf_addch(&out, '"');
                for (const char *p = s + 5; p < end; p++) {
                    if (*p == '"')
                        weir_buf_addch(&out, '"');
                    weir_buf_addch(&out, *p);
                }
                weir_buf_addch(&out, '"');
                s = end + 2;
                continue;
            }
        }
        weir_buf_addch(&out, *s++);
    }
    return weir_buf_detach(&out, NULL);
}

static int check_common(weir_expectation *x, weir_buf *msg)
{
    json_t *k = x->kwargs;
    json_t *rf = json_object_get(k, "result_format");
    if (rf) {
        json_t *lvl = json_is_object(rf) ? json_object_get(rf, "result_format") : rf;
        if (!json_is_string(lvl) || weir_result_format_parse(json_string_value(lvl), &x->format))
            return weir_buf_adds(msg, "kwarg 'result_format': expected 'BOOLEAN_ONLY', 'BASIC', "
                                 "'SUMMARY' or 'COMPLETE'"), -1;
        x->has_format = 1;
        json_t *ir = json_is_object(rf) ? json_object_get(rf, "include_unexpected_rows") : NULL;
        json_t *ix = json_is_object(rf) ? json_object_get(rf, "unexpected_index_column_names")
                                        : NULL;
        if (ir && !json_is_boolean(ir))
            return weir_buf_adds(msg, "kwarg 'result_format': 'include_unexpected_rows' must be "
                                 "true or false"), -1;
        if (ix && check_value("result_format", 'C', ix, msg))
            return weir_buf_reset(msg),
                   weir_buf_adds(msg, "kwarg 'result_format': 'unexpected_index_column_names' "
                                 "must be a non-empty list of column names"), -1;
        json_t *pc = json_is_object(rf) ? json_object_get(rf, "partial_unexpected_count") : NULL;
        if (pc) {
            if (!json_is_integer(pc) || json_integer_value(pc) < 0 ||
                json_integer_value(pc) > 100000)
                return weir_buf_adds(msg, "kwarg 'result_format': 'partial_unexpected_count' "
                                     "must be an integer from 0 to 100000"), -1;
            x->partial_count = (int)json_integer_value(pc);
        }
    }
    json_t *ce = json_object_get(k, "catch_exceptions");
    if (ce) {
        if (!json_is_boolean(ce))
            return check_value("catch_exceptions", 'b', ce, msg);
        x->catch_exceptions = json_is_true(ce);
    }
    json_t *ic = json_object_get(k, "include_config");
    if (ic && !json_is_boolean(ic))
        return check_value("include_config", 'b', ic, msg);
    json_t *cp = json_object_get(k, "condition_parser");
    if (cp && !json_is_string(cp) && !json_is_null(cp))
        return check_value("condition_parser", 's', cp, msg);
    json_t *rc = json_object_get(k, "row_condition");
    if (rc && !json_is_null(rc)) {
        if (!json_is_string(rc))
            return check_value("row_condition", 's', rc, msg);
        if (*json_string_value(rc))
            x->row_condition = translate_condition(json_string_value(rc), json_string_value(cp));
    }
    return 0;
}

int weir_qx_check(weir_expectation *x, weir_buf *msg, weir_buf *warn)
{
    const weir_qx_type *t = x->def;
    const char *key;
    json_t *v;
    x->mostly = 1.0;
    x->partial_count = 20;
    x->catch_exceptions = -1;
    x->format = WEIR_RF_BASIC;
    if (!json_is_object(x->kwargs))
        return weir_buf_adds(msg, "'kwargs' must be a mapping"), -1;
    if (check_common(x, msg))
        return -1;
    /* unknown kwargs: warn (GX versions add kwargs; a typo should still show) */
    json_object_foreach(x->kwargs, key, v) {
        int req;
        int common = 0;
        for (size_t i = 0; i < WEIR_ARRAY_SIZE(common_kwargs); i++)
            common |= strcmp(key, common_kwargs[i]) == 0;
        if (common)
            continue;
        char tl = spec_find(t->kwargs, key, &req);
        if (!tl) {
            const char *sug = suggest_kwarg(t->kwargs, key);
            weir_buf_addf(warn, "kwarg '%s': unknown for this type, ignored", key);
            if (sug)
                weir_buf_addf(warn, " (did you mean '%s'?)", sug);
            weir_buf_addch(warn, '\n');
            continue;
        }
        if (check_value(key, tl, v, msg))
            return -1;
    }
    /* required kwargs */
    const char *p = t->kwargs;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        int req = *p == '!';
        if (req)
            p++;
        const char *colon = strchr(p, ':');
        char name[64];
        size_t n = (size_t)(colon - p);
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        memcpy(name, p, n);
        name[n] = '\0';
        if (req && !json_object_get(x->kwargs, name))
            return weir_buf_addf(msg, "missing required kwarg '%s'", name), -1;
        p = colon + 2;
    }
    json_t *m = json_object_get(x->kwargs, "mostly");
    if (m && json_is_number(m))
        x->mostly = json_number_value(m);
    x->column = json_string_value(json_object_get(x->kwargs, "column"));
    x->column_a = json_string_value(json_object_get(x->kwargs, "column_A"));
    x->column_b = json_string_value(json_object_get(x->kwargs, "column_B"));
    json_t *cl = json_object_get(x->kwargs, "column_list");
    if (!cl)
        cl = json_object_get(x->kwargs, "column_set");
    if (json_is_array(cl)) {
        x->n_columns = json_array_size(cl);
        x->columns = calloc(x->n_columns ? x->n_columns : 1, sizeof(*x->columns));
        for (size_t i = 0; i < x->n_columns; i++)
            x->columns[i] = json_string_value(json_array_get(cl, i));
    }
    switch (t->id) {
    case X_ROW_COUNT_BETWEEN:
    case X_COLUMN_COUNT_BETWEEN:
    case X_BETWEEN:
    case X_LENGTHS_BETWEEN:
    case X_MIN:
    case X_MAX:
    case X_MEAN:
    case X_MEDIAN:
    case X_SUM:
    case X_STDEV:
    case X_UNIQUE_COUNT:
    case X_UNIQUE_PROPORTION:
        return check_bounds(x, msg);
    case X_PAIR_EQUAL:
    case X_PAIR_GREATER:
    case X_COMPOUND_UNIQUE:
    case X_SELECT_UNIQUE:
    case X_MULTI_SUM:
        if (t->id == X_SELECT_UNIQUE && x->n_columns < 2)
            return weir_buf_adds(msg, "kwarg 'column_list': expected at least two columns"), -1;
        return check_ignore(x, msg);
    case X_REGEX_LIST: {
        const char *mo = json_string_value(json_object_get(x->kwargs, "match_on"));
        if (mo && strcmp(mo, "any") && strcmp(mo, "all"))
            return weir_buf_addf(msg, "kwarg 'match_on': expected 'any' or 'all', got '%s'",
                                 mo), -1;
        if (json_array_size(json_object_get(x->kwargs, "regex_list")) == 0)
            return weir_buf_adds(msg, "kwarg 'regex_list': expected at least one regex"), -1;
        return 0;
    }
    case X_NOT_REGEX_LIST:
        if (json_array_size(json_object_get(x->kwargs, "regex_list")) == 0)
            return weir_buf_adds(msg, "kwarg 'regex_list': expected at least one regex"), -1;
        return 0;
    default:
        return 0;
    }
}

void weir_qx_literal(const weir_dialect *d, const json_t *v, weir_buf *out)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        weir_sql_quote_literal(d, out, json_string_value(v));
        break;
    case JSON_INTEGER:
        weir_buf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        weir_buf_addf(out, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        weir_buf_adds(out, "true");
        break;
    case JSON_FALSE:
        weir_buf_adds(out, "false");
        break;
    default:
        weir_buf_adds(out, "NULL");
        break;
    }
}

const char *weir_result_format_name(weir_result_format f)
{
    static const char *const names[] = { "BOOLEAN_ONLY", "BASIC", "SUMMARY", "COMPLETE" };
    return (unsigned)f < 4 ? names[f] : "BASIC";
}

int weir_result_format_parse(const char *s, weir_result_format *out)
{
    for (int i = 0; i < 4; i++)
        if (weir_str_ieq(s, weir_result_format_name((weir_result_format)i))) {
            *out = (weir_result_format)i;
            return 0;
        }
    return WEIR_EINVALID;
}
