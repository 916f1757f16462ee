/*
 * Unit tests of src/transform: the CSV reader and dbt's seed types, and a
 * small project (tests/data/transform/precedence) loaded and compiled:
 * config precedence, relations, ephemeral CTEs, macros, golden SQL.
 */
#include "harness.h"

#include "config/project.h"
#include "core/fs.h"
#include "transform/csv.h"
#include "transform/transform.h"

static void parse_ok(const char *text, weir_csv *csv)
{
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_csv_parse(text, strlen(text), "t.csv", csv, &err), &err);
    weir_error_release(&err);
}

TEST(csv_crlf_quotes_and_nulls)
{
    weir_csv csv = WEIR_CSV_INIT;
    parse_ok("\xEF\xBB\xBF" "a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n\r\n2,\"\",\"multi\nline\"", &csv);
    CHECK_INT(csv.n_cols, ==, 3);
    CHECK_INT(csv.n_rows, ==, 2);
    CHECK_STR(csv.header[0], "a");
    CHECK_STR(weir_csv_cell(&csv, 0, 1), "x, \"y\"");
    CHECK(weir_csv_cell(&csv, 0, 2) == NULL);
    CHECK_STR(weir_csv_cell(&csv, 1, 1), "");
    CHECK_STR(weir_csv_cell(&csv, 1, 2), "multi\nline");
    weir_csv_release(&csv);
}

TEST(csv_lone_cr_and_no_final_newline)
{
    weir_csv csv = WEIR_CSV_INIT;
    parse_ok("x\r1\r2", &csv);
    CHECK_INT(csv.n_rows, ==, 2);
    CHECK_STR(weir_csv_cell(&csv, 1, 0), "2");
    weir_csv_release(&csv);
}

TEST(csv_other_delimiter)
{
    weir_csv csv = WEIR_CSV_INIT;
    weir_error err = WEIR_ERROR_INIT;
    const char *text = "a;b\n1;\"x;y\"\n";
    CHECK_OK(weir_csv_parse_delim(text, strlen(text), "d.csv", ';', &csv, &err), &err);
    CHECK_INT(csv.n_cols, ==, 2);
    CHECK_STR(weir_csv_cell(&csv, 0, 1), "x;y");
    weir_csv_release(&csv);
    weir_error_release(&err);
}

TEST(csv_errors_are_located)
{
    weir_csv csv = WEIR_CSV_INIT;
    weir_error err = WEIR_ERROR_INIT;
    CHECK_INT(weir_csv_parse("a,b\n1\n", 6, "s.csv", &csv, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "s.csv:2: row has 1 field, the header has 2");
    weir_error_clear(&err);
    CHECK_INT(weir_csv_parse("a,b\nx,\"open\n", 12, "s.csv", &csv, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "s.csv:2:3: unterminated quoted field");
    weir_error_clear(&err);
    CHECK_INT(weir_csv_parse("", 0, "e.csv", &csv, &err), ==, WEIR_EINVALID);
    CHECK_CONTAINS(weir_error_str(&err), "empty file");
    weir_error_release(&err);
}

TEST(csv_types_as_dbt_infers_them)
{
    weir_csv csv = WEIR_CSV_INIT;
    parse_ok("i,big,d,b,day,ts,s,empty,mixed\n"
             "1,3000000000,1.5,true,2024-01-31,2024-01-31 10:00:00,abc,,1\n"
             "-2,1,2,False,2024-02-01,2024-02-01T00:00:00.5,007,,x\n",
             &csv);
    const char *want[] = { "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP",
                           "VARCHAR", "VARCHAR", "VARCHAR" };
    for (size_t i = 0; i < 9; i++)
        CHECK_STR(weir_csv_infer_type(&csv, i), want[i]);
    weir_csv_release(&csv);
}

static weir_transform *load_precedence(weir_project **p)
{
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_transform *tf = NULL;
    CHECK_INT(weir_project_load(weir_test_data("transform/precedence"), p, &diags), ==, 0);
    CHECK_INT(weir_transform_load(*p, NULL, &tf, &diags), ==, 0);
    CHECK_OK(weir_transform_compile(tf, &err), &err);
    weir_diags_release(&diags);
    weir_error_release(&err);
    return tf;
}

static int has_tag(const weir_tnode *n, const char *tag)
{
    json_t *tags = json_object_get(n->config, "tags");
    for (size_t i = 0; i < json_array_size(tags); i++)
        if (!strcmp(json_string_value(json_array_get(tags, i)), tag))
            return 1;
    return 0;
}

TEST(config_precedence)
{
    weir_project *p = NULL;
    weir_transform *tf = load_precedence(&p);
    weir_tnode *a = weir_transform_find(tf, "stg_a"), *b = weir_transform_find(tf, "stg_b"),
               *c = weir_transform_find(tf, "c"), *d = weir_transform_find(tf, "d");
    CHECK(a && b && c && d);
    /* property file beats the folder's +materialized */
    CHECK_STR(json_string_value(json_object_get(a->config, "materialized")), "table");
    /* config() beats the folder */
    CHECK_STR(json_string_value(json_object_get(b->config, "materialized")), "ephemeral");
    /* tags add up through every level */
    CHECK(has_tag(a, "all") && has_tag(a, "staging") && has_tag(a, "props"));
    CHECK(has_tag(c, "all") && has_tag(c, "c") && !has_tag(c, "staging"));
    /* custom schema and alias */
    CHECK_STR(a->relation, "\"main_stg\".\"stg_a\"");
    CHECK_STR(c->relation, "\"main\".\"c_final\"");
    CHECK_STR(json_string_value(json_object_get(d->config, "materialized")), "incremental");
    CHECK_STR(json_string_value(json_object_get(d->config, "unique_key")), "m");
    /* dependencies from ref() */
    CHECK_INT(d->deps.len, ==, 1);
    CHECK_STR(weir_transform_node(tf, d->deps.items[0])->name, "c");
    weir_transform_free(tf);
    weir_project_free(p);
}

TEST(golden_compiled_sql)
{
    weir_project *p = NULL;
    weir_transform *tf = load_precedence(&p);
    const char *names[] = { "c", "d" };
    for (size_t i = 0; i < 2; i++) {
        weir_buf path = WEIR_BUF_INIT, want = WEIR_BUF_INIT;
        weir_error err = WEIR_ERROR_INIT;
        weir_buf_addf(&path, "transform/precedence/expected/%s.sql", names[i]);
        CHECK_OK(weir_fs_read_file(weir_test_data(path.ptr), &want, 0, &err), &err);
        weir_buf_trim(&want);
        weir_tnode *n = weir_transform_find(tf, names[i]);
        weir_buf got = WEIR_BUF_INIT;
        weir_buf_adds(&got, n->compiled_sql);
        weir_buf_trim(&got);
        CHECK_STR(got.ptr, want.ptr);
        weir_buf_release(&got);
        weir_buf_release(&path);
        weir_buf_release(&want);
        weir_error_release(&err);
    }
    weir_transform_free(tf);
    weir_project_free(p);
}

TEST(selection_and_inline)
{
    weir_project *p = NULL;
    weir_transform *tf = load_precedence(&p);
    weir_selection sel;
    weir_error err = WEIR_ERROR_INIT;
    const char *spec[] = { "+d,tag:staging" };
    CHECK_OK(weir_transform_select(tf, spec, 1, NULL, 0, 0, &sel, &err), &err);
    size_t count = 0;
    for (size_t i = 0; i < sel.n; i++)
        count += sel.on[i];
    CHECK_INT(count, ==, 2); /* stg_a and stg_b */
    weir_selection_release(&sel);
    weir_buf out = WEIR_BUF_INIT;
    CHECK_OK(weir_transform_compile_inline(tf, "select * from {{ ref('stg_b') }}", &out, &err), &err);
    CHECK_CONTAINS(out.ptr, "with __dbt__cte__stg_b as (");
    weir_buf_release(&out);
    weir_error_release(&err);
    weir_transform_free(tf);
    weir_project_free(p);
}
