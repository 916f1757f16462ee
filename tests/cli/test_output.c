/* Tests of cli/output: the table, CSV and JSON forms of a result grid. */
#include "harness.h"

#include "cli/args.h"
#include "cli/output.h"
#include "core/json.h"

static void sample(weir_grid *g)
{
    weir_grid_add_column(g, "day", WEIR_COL_TEXT);
    weir_grid_add_column(g, "events", WEIR_COL_NUMBER);
    weir_grid_add_column(g, "note", WEIR_COL_TEXT);
    weir_grid_add_cell(g, "2024-01-08");
    weir_grid_add_cell(g, "1234");
    weir_grid_add_cell(g, "a, \"quoted\"\nline");
    weir_grid_end_row(g);
    weir_grid_add_cell(g, "2024-01-09");
    weir_grid_add_cell(g, "7");
    weir_grid_add_cell(g, NULL);
    weir_grid_end_row(g);
}

static char *render(const weir_grid *g, weir_grid_style f)
{
    weir_buf b = WEIR_BUF_INIT;
    weir_grid_format(g, f, &b);
    return weir_buf_detach(&b, NULL);
}

TEST(table_aligns_numbers_right)
{
    weir_grid g = WEIR_GRID_INIT;
    sample(&g);
    char *s = render(&g, WEIR_GRID_TABLE);
    CHECK_STR(s, " day        | events | note\n"
                 "------------+--------+-------------------\n"
                 " 2024-01-08 |   1234 | a, \"quoted\"\\nline\n"
                 " 2024-01-09 |      7 | NULL\n"
                 "(2 rows)\n");
    free(s);
    weir_grid_release(&g);
}

TEST(csv_quotes_what_needs_it)
{
    weir_grid g = WEIR_GRID_INIT;
    sample(&g);
    char *s = render(&g, WEIR_GRID_CSV);
    CHECK_STR(s, "day,events,note\n"
                 "2024-01-08,1234,\"a, \"\"quoted\"\"\nline\"\n"
                 "2024-01-09,7,\n");
    free(s);
    weir_grid_release(&g);
}

TEST(json_is_valid_and_typed)
{
    weir_grid g = WEIR_GRID_INIT;
    sample(&g);
    weir_grid_add_cell(&g, "2024-01-10");
    weir_grid_add_cell(&g, "inf");
    weir_grid_add_cell(&g, "");
    weir_grid_end_row(&g);
    char *s = render(&g, WEIR_GRID_JSON);
    json_t *v = NULL;
    CHECK_OK(weir_json_parse(s, strlen(s), "out", &v, NULL), NULL);
    CHECK(json_is_array(v));
    CHECK_INT(json_array_size(v), ==, 3);
    json_t *r0 = json_array_get(v, 0);
    CHECK_INT(json_integer_value(json_object_get(r0, "events")), ==, 1234);
    CHECK_STR(json_string_value(json_object_get(r0, "note")), "a, \"quoted\"\nline");
    CHECK(json_is_null(json_object_get(json_array_get(v, 1), "note")));
    CHECK(json_is_null(json_object_get(json_array_get(v, 2), "events")));
    json_decref(v);
    free(s);
    weir_grid_release(&g);
}

TEST(empty_result)
{
    weir_grid g = WEIR_GRID_INIT;
    weir_grid_add_column(&g, "x", WEIR_COL_NUMBER);
    char *s = render(&g, WEIR_GRID_JSON);
    CHECK_STR(s, "[]\n");
    free(s);
    s = render(&g, WEIR_GRID_TABLE);
    CHECK_STR(s, " x\n"
                 "---\n"
                 "(0 rows)\n");
    free(s);
    weir_grid_release(&g);
}

TEST(args_forms_and_errors)
{
    const char *format = "table", *dir = NULL;
    int flag = 0;
    long long n = 0;
    weir_strvec list = WEIR_VEC_INIT, pos = WEIR_VEC_INIT;
    const weir_option opts[] = {
        { "format", 'f', WEIR_OPT_STRING, &format, "FMT", "" },
        { "project-dir", 0, WEIR_OPT_STRING, &dir, "DIR", "" },
        { "yes", 'y', WEIR_OPT_FLAG, &flag, NULL, "" },
        { "parallel", 'j', WEIR_OPT_INT, &n, "N", "" },
        { "select", 's', WEIR_OPT_LIST, &list, "SEL", "" },
    };
    char *argv[] = { "--format=csv", "a", "--project-dir", "p", "-y", "-j4", "-s", "x", "--select=y",
                     "--", "--not-an-option" };
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_args_parse("weir t", opts, 5, 11, argv, &pos, &err), &err);
    CHECK_STR(format, "csv");
    CHECK_STR(dir, "p");
    CHECK_INT(flag, ==, 1);
    CHECK_INT(n, ==, 4);
    CHECK_INT(list.len, ==, 2);
    CHECK_STR(list.items[1], "y");
    CHECK_INT(pos.len, ==, 2);
    CHECK_STR(pos.items[1], "--not-an-option");

    char *bad1[] = { "--fromat", "csv" };
    CHECK_INT(weir_args_parse("weir t", opts, 5, 2, bad1, &pos, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "unknown option '--fromat' for 'weir t' (did you mean '--format'?)");
    char *bad2[] = { "--format" };
    CHECK_INT(weir_args_parse("weir t", opts, 5, 1, bad2, &pos, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "option '--format' of 'weir t' needs a value (FMT)");
    char *bad3[] = { "-j", "many" };
    CHECK_INT(weir_args_parse("weir t", opts, 5, 2, bad3, &pos, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "option '--parallel' of 'weir t' expects a whole number, got 'many'");
    char *bad4[] = { "--yes=no" };
    CHECK_INT(weir_args_parse("weir t", opts, 5, 1, bad4, &pos, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "option '--yes' of 'weir t' takes no value");
    weir_error_release(&err);
    weir_strvec_release(&list);
    weir_strvec_release(&pos);
}
