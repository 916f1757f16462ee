/*
 * cmd_profile.c: `weir profile TABLE` prints per-column statistics of a
 * table (one scan, quality/quality.h) and a suggested expectation suite in
 * GX's JSON, printed or written with -o for the user to edit.
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "cli/workspace.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "quality/quality.h"

static void short_json(const json_t *v, weir_buf *out, size_t max)
{
    weir_buf_reset(out);
    if (!v) {
        weir_buf_adds(out, "-");
        return;
    }
    char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
    weir_buf_adds(out, d ? d : "null");
    free(d);
    if (out->len > max) {
        weir_buf_truncate(out, max - 3);
        weir_buf_adds(out, "...");
    }
}

static void print_profile(const json_t *prof)
{
    weir_buf a = WEIR_BUF_INIT, b = WEIR_BUF_INIT;
    printf("table '%s': %lld rows, %zu columns\n",
           json_string_value(json_object_get(prof, "table")),
           (long long)json_integer_value(json_object_get(prof, "row_count")),
           json_array_size(json_object_get(prof, "columns")));
    printf("  %-20s %-12s %8s %10s  %-22s %-22s %s\n", "column", "type", "nulls%", "distinct~",
           "min", "max", "notes");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(prof, "columns"), i, c) {
        const json_t *np = json_object_get(c, "null_percent");
        short_json(json_object_get(c, "min"), &a, 22);
        short_json(json_object_get(c, "max"), &b, 22);
        printf("  %-20s %-12s %7.2f%% %10lld  %-22s %-22s", json_string_value(json_object_get(c, "name")),
               json_string_value(json_object_get(c, "type")),
               json_is_number(np) ? json_number_value(np) : 0.0,
               (long long)json_integer_value(json_object_get(c, "distinct_approx")), a.ptr, b.ptr);
        if (json_is_true(json_object_get(c, "unique")))
            printf(" unique");
        if (json_is_number(json_object_get(c, "mean")))
            printf(" mean %.6g", json_number_value(json_object_get(c, "mean")));
        if (json_is_integer(json_object_get(c, "min_length")))
            printf(" length %lld..%lld",
                   (long long)json_integer_value(json_object_get(c, "min_length")),
                   (long long)json_integer_value(json_object_get(c, "max_length")));
        putchar('\n');
    }
    weir_buf_release(&a);
    weir_buf_release(&b);
}

static int run(const weir_command *cmd, int argc, char **argv)
{
    const char *dir = NULL, *format = "text", *out = NULL, *name = NULL;
    const weir_option opts[] = {
        { "output", 'o', WEIR_OPT_STRING, &out, "FILE",
          "write the suggested suite to FILE (e.g. expectations/orders.json)" },
        { "suite-name", 0, WEIR_OPT_STRING, &name, "NAME", "the suggested suite's name (default: the table)" },
        { "project-dir", 'C', WEIR_OPT_STRING, &dir, "DIR", "the project (default: the current folder)" },
        { "format", 'f', WEIR_OPT_STRING, &format, "FMT",
          "'text' (default) or 'json' (the profile and the suite)" },
    };
    weir_strvec pos = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_out_format of;
    weir_project *p = NULL;
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    json_t *prof = NULL, *suite = NULL;
    weir_buf text = WEIR_BUF_INIT;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &pos);
    if (rc != WEIR_CLI_GO || (rc = weir_cli_one_arg(cmd, format, &of, &pos, "table")) != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = weir_cli_load_project(dir, &p)) != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = weir_cli_open_warehouse(p, &e)) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_conn_new(e, &c, &err) || weir_quality_profile(c, pos.items[0], &prof, &err)) {
        weir_cli_error(&err);
        rc = err.code == WEIR_ENOTFOUND ? WEIR_EXIT_USAGE : WEIR_EXIT_FAILED;
        goto cleanup;
    }
    suite = weir_quality_suggest(prof, name);
    weir_json_dump(suite, 2, &text);
    weir_buf_addch(&text, '\n');
    if (out) {
        weir_buf path = WEIR_BUF_INIT;
        /* relative to the project, as the other paths a user gives */
        if (out[0] == '/')
            weir_buf_adds(&path, out);
        else
            weir_path_join(&path, p->dir, out);
        weir_buf d = WEIR_BUF_INIT;
        weir_buf_adds(&d, path.ptr);
        char *slash = strrchr(d.ptr, '/');
        if (slash)
            weir_buf_truncate(&d, (size_t)(slash - d.ptr));
        int wr = weir_fs_mkdir_p(d.ptr, &err) || weir_fs_write_atomic(path.ptr, text.ptr, text.len,
                                                                        &err);
        weir_buf_release(&d);
        weir_buf_release(&path);
        if (wr) {
            weir_cli_error(&err);
            rc = WEIR_EXIT_FAILED;
            goto cleanup;
        }
    }
    if (of == WEIR_OUT_JSON) {
        json_t *o = json_pack("{s:O, s:O}", "profile", prof, "suggested_suite", suite);
        weir_cli_print_json(o);
    } else {
        print_profile(prof);
        if (out)
            printf("suggested suite (%zu expectations) written to %s\n",
                   json_array_size(json_object_get(suite, "expectations")), out);
        else
            printf("\nsuggested suite:\n%s", text.ptr);
    }
    rc = WEIR_EXIT_OK;
cleanup:
    json_decref(prof);
    json_decref(suite);
    weir_buf_release(&text);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_project_free(p);
    weir_error_release(&err);
    weir_strvec_release(&pos);
    return rc;
}

const weir_command weir_cmd_profile = {
    "profile",
    "per-column statistics of a table and a suggested expectation suite",
    "weir profile [-o FILE] [--suite-name NAME] [--project-dir DIR] [--format text|json] TABLE",
    "Profiles TABLE in the warehouse in one scan (non-null and approximate\n"
    "distinct counts, min and max, mean and deviation of numbers, text lengths,\n"
    "the most frequent values; uniqueness checked exactly where it may hold)\n"
    "and suggests an expectation suite that holds on the data as it is, in\n"
    "Great Expectations' JSON: printed, or written to FILE with -o for you to\n"
    "edit into what the data must hold, then run with 'weir validate'.\n",
    run,
};
