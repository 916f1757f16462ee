/*
 * Tests of quality/'s suite loader: GX's two spellings (0.x and 1.x), JSON
 * and YAML, problems reported at file:line:col, bad expectations kept with
 * their error while the others load, finding a suite in a project.
 */
#include "harness.h"

#include "core/fs.h"
#include "core/str.h"
#include "quality/quality.h"

static char *diags_text(const weir_diags *d)
{
    weir_buf b = WEIR_BUF_INIT;
    for (size_t i = 0; i < d->list.len; i++) {
        weir_diag_format(&d->list.items[i], &b);
        weir_buf_addch(&b, '\n');
    }
    return weir_buf_detach(&b, NULL);
}

TEST(json_in_gx_0x_spelling)
{
    const char *text =
        "{\"expectation_suite_name\": \"orders.warning\", \"data_asset_type\": null,"
        " \"meta\": {\"great_expectations_version\": \"0.18.8\", \"table\": \"main.orders\"},"
        " \"expectations\": [{\"expectation_type\": \"expect_column_values_to_not_be_null\","
        " \"kwargs\": {\"column\": \"id\", \"mostly\": 0.95}, \"meta\": {\"notes\": \"ids\"}}]}";
    weir_suite *s = NULL;
    weir_diags d = WEIR_DIAGS_INIT;
    CHECK_INT(weir_suite_parse("orders.json", text, strlen(text), &s, &d), ==, 0);
    CHECK_INT(d.list.len, ==, 0);
    CHECK_STR(s->name, "orders.warning");
    CHECK_STR(s->table, "main.orders");
    CHECK_INT(s->n_items, ==, 1);
    CHECK_STR(s->items[0].column, "id");
    CHECK_DBL(s->items[0].mostly, 0.95, 1e-12);
    CHECK(s->items[0].error == NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(s->items[0].config, "meta"),
                                                "notes")), "ids");
    weir_suite_free(s);
    weir_diags_release(&d);
}

TEST(yaml_in_gx_1x_spelling)
{
    const char *text =
        "name: orders\n"
        "table: orders\n"
        "expectations:\n"
        "  - type: expect_column_values_to_be_between\n"
        "    kwargs:\n"
        "      column: amount\n"
        "      min_value: 0\n"
        "      max_value: 1.5e3\n"
        "      strict_min: true\n"
        "  - type: expect_column_values_to_be_in_set\n"
        "    kwargs: {column: status, value_set: [\"1\", 2, true, null]}\n";
    weir_suite *s = NULL;
    weir_diags d = WEIR_DIAGS_INIT;
    CHECK_INT(weir_suite_parse("orders.yml", text, strlen(text), &s, &d), ==, 0);
    CHECK_INT(d.list.len, ==, 0);
    CHECK_STR(s->name, "orders");
    CHECK_INT(s->n_items, ==, 2);
    json_t *k = s->items[0].kwargs;
    CHECK(json_is_integer(json_object_get(k, "min_value")));
    CHECK(json_is_real(json_object_get(k, "max_value")));
    CHECK(json_is_true(json_object_get(k, "strict_min")));
    json_t *set = json_object_get(s->items[1].kwargs, "value_set");
    CHECK(json_is_string(json_array_get(set, 0))); /* quoted stays a string */
    CHECK(json_is_integer(json_array_get(set, 1)));
    CHECK(json_is_true(json_array_get(set, 2)));
    CHECK(json_is_null(json_array_get(set, 3)));
    /* results name the type as the suite did (GX 1.x: "type") */
    CHECK_STR(json_string_value(json_object_get(s->items[0].config, "type")),
              "expect_column_values_to_be_between");
    CHECK(json_object_get(s->items[0].config, "expectation_type") == NULL);
    weir_suite_free(s);
    weir_diags_release(&d);
}

TEST(bad_expectations_are_reported_at_their_place_and_kept)
{
    const char *text =
        "expectation_suite_name: bad\n"
        "expectations:\n"
        "  - expectation_type: expect_column_values_to_be_between\n"
        "    kwargs:\n"
        "      column: amount\n"
        "      min_value: 10\n"
        "      max_value: 1\n"
        "  - expectation_type: expect_column_values_to_be_unique\n"
        "    kwargs: {colunm: id}\n"
        "  - expectation_type: expect_column_values_to_not_be_null\n"
        "    kwargs: {column: id, mostly: lots}\n"
        "  - expectation_type: expect_colum_to_exist\n"
        "    kwargs: {column: id}\n"
        "  - expectation_type: expect_column_values_to_not_be_null\n"
        "    kwargs: {column: id, extra: 1}\n";
    weir_suite *s = NULL;
    weir_diags d = WEIR_DIAGS_INIT;
    CHECK_INT(weir_suite_parse("x/bad.yml", text, strlen(text), &s, &d), ==, 0);
    char *all = diags_text(&d);
    CHECK_CONTAINS(all, "x/bad.yml:6:18: error: expectation 'expect_column_values_to_be_between': "
                        "kwarg 'min_value': 10 is greater than max_value 1");
    CHECK_CONTAINS(all, "x/bad.yml:8:5: error: expectation 'expect_column_values_to_be_unique': "
                        "missing required kwarg 'column'");
    CHECK_CONTAINS(all, "x/bad.yml:9:22: warning: expectation 'expect_column_values_to_be_unique': "
                        "kwarg 'colunm': unknown for this type, ignored (did you mean 'column'?)");
    CHECK_CONTAINS(all, "x/bad.yml:11:34: error:");
    CHECK_CONTAINS(all, "kwarg 'mostly': expected a number between 0 and 1, got a string");
    CHECK_CONTAINS(all, "x/bad.yml:12:5: error: expectation 'expect_colum_to_exist': unknown "
                        "expectation type 'expect_colum_to_exist'; did you mean "
                        "'expect_column_to_exist'?");
    CHECK_CONTAINS(all, "x/bad.yml:15:33: warning: expectation "
                        "'expect_column_values_to_not_be_null': kwarg 'extra': unknown");
    CHECK_INT(s->n_items, ==, 5);
    CHECK_INT(s->n_errors, ==, 4);
    CHECK(s->items[4].error == NULL);
    CHECK_STR(s->items[0].where, "x/bad.yml:6:18");
    CHECK(s->table == NULL);
    free(all);
    weir_suite_free(s);
    weir_diags_release(&d);
}

TEST(files_that_are_not_suites)
{
    static const char *const cases[][3] = {
        { "a.json", "{\"expectations\": [", "a.json:1:" },
        { "b.json", "[1, 2]", "a suite must be a mapping" },
        { "c.yml", "name: c\n", "c.yml:1:1: error: missing 'expectations'" },
        { "d.yml", "name: d\nexpectations: {a: 1}\n", "d.yml:2:15: error: 'expectations' must be a list" },
        { "e.yml", "name: [e\n", "e.yml:" },
        { "f.yml", "", "f.yml:1:1: error: a suite must be a mapping" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        weir_suite *s = NULL;
        weir_diags d = WEIR_DIAGS_INIT;
        CHECK_INT(weir_suite_parse(cases[i][0], cases[i][1], strlen(cases[i][1]), &s, &d), ==,
                  WEIR_EINVALID);
        CHECK(s == NULL);
        char *all = diags_text(&d);
        CHECK_CONTAINS(all, cases[i][2]);
        free(all);
        weir_diags_release(&d);
    }
}

TEST(every_type_is_known)
{
    CHECK_INT(weir_expectation_type_count, ==, 47);
    for (size_t i = 0; i < weir_expectation_type_count; i++) {
        char text[512];
        weir_suite *s = NULL;
        snprintf(text, sizeof(text), "{\"expectations\": [{\"type\": \"%s\", \"kwargs\": {}}]}",
                 weir_expectation_type_names[i]);
        CHECK_INT(weir_suite_parse("t.json", text, strlen(text), &s, NULL), ==, 0);
        /* no type is unknown, and every one but the between ones needs something */
        CHECK(s->items[0].def != NULL);
        weir_suite_free(s);
    }
}

TEST(find_a_suite_in_a_project)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_diags d = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    weir_buf path = WEIR_BUF_INIT;
    char *found = NULL;
    const char *dir = weir_test_tmpdir();
    weir_path_join(&path, dir, "weir.yml");
    CHECK_OK(weir_fs_write_atomic(path.ptr, "name: p\n", 8, &err), &err);
    weir_buf_reset(&path);
    weir_path_join(&path, dir, "expectations/sub");
    CHECK_OK(weir_fs_mkdir_p(path.ptr, &err), &err);
    weir_buf_adds(&path, "/named.json");
    const char *j = "{\"expectation_suite_name\": \"by_name\", \"expectations\": []}";
    CHECK_OK(weir_fs_write_atomic(path.ptr, j, strlen(j), &err), &err);
    weir_buf_reset(&path);
    weir_path_join(&path, dir, "expectations/orders.yml");
    CHECK_OK(weir_fs_write_atomic(path.ptr, "expectations: []\n", 17, &err), &err);
    CHECK_INT(weir_project_load(dir, &p, &d), ==, 0);
    CHECK_OK(weir_suite_find(p, "orders", &found, &err), &err);
    CHECK(weir_str_ends_with(found, "/expectations/orders.yml"));
    free(found);
    CHECK_OK(weir_suite_find(p, "by_name", &found, &err), &err);
    CHECK(weir_str_ends_with(found, "/expectations/sub/named.json"));
    free(found);
    CHECK_INT(weir_suite_find(p, "nope", &found, &err), ==, WEIR_ENOTFOUND);
    CHECK_CONTAINS(weir_error_str(&err), "no suite 'nope'");
    weir_error_release(&err);
    weir_project_free(p);
    weir_buf_release(&path);
    weir_diags_release(&d);
}

TEST(templated_kwargs_are_rendered_then_checked)
{
    const char *text =
        "name: daily\n"
        "table: t\n"
        "expectations:\n"
        "  - type: expect_column_values_to_not_be_null\n"
        "    kwargs:\n"
        "      column: \"{{ var('col') }}\"\n"
        "      mostly: \"{{ var('share') }}\"\n"
        "      row_condition: \"day >= '{{ data_interval_start }}' AND day < '{{ data_interval_end }}'\"\n"
        "  - type: expect_column_values_to_be_between\n"
        "    kwargs: {column: x, min_value: \"{{ ds_nodash }}\", max_value: 99999999}\n"
        "  - type: expect_column_values_to_be_between\n"
        "    kwargs:\n"
        "      column: x\n"
        "      min_value: \"{{ var('missing') }}\"\n";
    weir_suite *s = NULL;
    weir_diags d = WEIR_DIAGS_INIT;
    CHECK_INT(weir_suite_parse("daily.yml", text, strlen(text), &s, &d), ==, 0);
    /* unchecked until rendered: a string is no number for 'mostly' yet */
    CHECK_INT(d.list.len, ==, 0);
    CHECK(s->items[0].templated);
    json_t *vars = json_pack("{s:s, s:f}", "col", "v", "share", 0.25);
    weir_suite_params sp = { "2024-02-28", NULL, NULL, vars };
    CHECK_INT(weir_suite_render(s, &sp, &d), ==, WEIR_EINVALID);
    CHECK(!s->items[0].templated);
    CHECK(s->items[0].error == NULL);
    CHECK_STR(s->items[0].column, "v");
    CHECK_DBL(s->items[0].mostly, 0.25, 1e-12);
    CHECK_STR(s->items[0].row_condition, "day >= '2024-02-28' AND day < '2024-02-29'");
    /* one expression rendering as a number takes its type */
    CHECK(json_is_integer(json_object_get(s->items[1].kwargs, "min_value")));
    CHECK_INT(json_integer_value(json_object_get(s->items[1].kwargs, "min_value")), ==, 20240228);
    /* a missing var is that expectation's error, at its kwarg */
    CHECK(s->items[2].error != NULL);
    CHECK_CONTAINS(s->items[2].error, "required var 'missing' not found");
    CHECK_INT(d.list.len, ==, 1);
    CHECK_STR(s->items[2].where, "daily.yml:14:18");
    json_decref(vars);
    weir_suite_free(s);
    weir_diags_release(&d);
}
