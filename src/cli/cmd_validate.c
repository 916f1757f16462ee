/*
 * cmd_validate.c: `weir validate SUITE` checks a table against an
 * expectation suite (quality/quality.h), prints a report per expectation
 * (or GX's validation result as JSON), writes the result under
 * target/validations/ and keeps it in the store. Exit 1 when the suite
 * fails.
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "cli/workspace.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/fs.h"
#include "core/json.h"
#include "quality/quality.h"
#include "store/store.h"

/* "column 'id'", "columns 'a', 'b'" or "" from an expectation's kwargs. */
static void describe_columns(const json_t *kw, weir_buf *out)
{
    const char *c = json_string_value(json_object_get(kw, "column"));
    const json_t *list = json_object_get(kw, "column_list");
    if (!list)
        list = json_object_get(kw, "column_set");
    if (c) {
        weir_buf_addf(out, "(%s)", c);
    } else if (json_object_get(kw, "column_A")) {
        weir_buf_addf(out, "(%s, %s)", json_string_value(json_object_get(kw, "column_A")),
                      json_string_value(json_object_get(kw, "column_B")));
    } else if (json_is_array(list) && json_object_get(kw, "column_list") &&
               json_array_size(list) <= 4) {
        size_t i;
        json_t *v;
        weir_buf_addch(out, '(');
        json_array_foreach(list, i, v)
            weir_buf_addf(out, "%s%s", i ? ", " : "", json_string_value(v));
        weir_buf_addch(out, ')');
    }
}

static void print_text(const weir_suite *s, const json_t *res, const char *path)
{
    const json_t *stats = json_object_get(res, "statistics");
    const json_t *results = json_object_get(res, "results");
    const json_t *meta = json_object_get(res, "meta");
    weir_buf line = WEIR_BUF_INIT, v = WEIR_BUF_INIT;
    size_t i;
    json_t *one;
    printf("suite '%s' on '%s': %lld of %lld expectations passed\n", s->name,
           json_string_value(json_object_get(json_object_get(meta, "batch_spec"), "table_name")),
           (long long)json_integer_value(json_object_get(stats, "successful_expectations")),
           (long long)json_integer_value(json_object_get(stats, "evaluated_expectations")));
    json_array_foreach(results, i, one) {
        const json_t *r = json_object_get(one, "result");
        const json_t *exc = json_object_get(one, "exception_info");
        const char *msg = json_string_value(json_object_get(exc, "exception_message"));
        const weir_expectation *x = &s->items[i];
        weir_buf_reset(&line);
        weir_buf_adds(&line, x->type);
        describe_columns(x->kwargs, &line);
        printf("  %-5s %s", msg ? "ERROR" : json_is_true(json_object_get(one, "success")) ? "ok"
                                                                                       : "FAIL",
               line.ptr);
        if (msg) {
            printf(": %s\n", msg);
            continue;
        }
        const json_t *obs = json_object_get(r, "observed_value");
        const json_t *unexp = json_object_get(r, "unexpected_count");
        if (obs) {
            weir_buf_reset(&v);
            weir_json_dump(obs, 0, &v);
            if (v.len > 200) {
                weir_buf_truncate(&v, 197);
                weir_buf_adds(&v, "...");
            }
            printf(": observed %s", v.ptr);
        } else if (unexp) {
            const json_t *pc = json_object_get(r, "unexpected_percent");
            printf(": %lld unexpected of %lld", (long long)json_integer_value(unexp),
                   (long long)json_integer_value(json_object_get(r, "element_count")));
            if (json_is_number(pc))
                printf(" (%.4g%%)", json_number_value(pc));
            const json_t *sample = json_object_get(r, "partial_unexpected_list");
            int all_null = 1;
            size_t k;
            json_t *sv;
            json_array_foreach(sample, k, sv)
                all_null &= json_is_null(sv);
            /* a list of nulls says nothing the count does not */
            if (json_array_size(sample) && !all_null) {
                weir_buf_reset(&v);
                weir_json_dump(sample, 0, &v);
                if (v.len > 200) {
                    weir_buf_truncate(&v, 197);
                    weir_buf_adds(&v, "...");
                }
                printf(", e.g. %s", v.ptr);
            }
        }
        putchar('\n');
    }
    printf("%s", json_is_true(json_object_get(res, "success")) ? "suite passed" : "suite FAILED");
    if (path)
        printf("; result in %s", path);
    putchar('\n');
    weir_buf_release(&line);
    weir_buf_release(&v);
}

static int run(const weir_command *cmd, int argc, char **argv)
{
    const char *dir = NULL, *format = "text", *table = NULL, *date = NULL, *rf = NULL;
    int no_store = 0, docs = 0;
    const weir_option opts[] = {
        { "table", 't', WEIR_OPT_STRING, &table, "T", "the table to check (default: the suite's)" },
        { "date", 'd', WEIR_OPT_STRING, &date, "D",
          "the run's date (YYYY-MM-DD): {{ ds }} in kwargs, kept with the result" },
        { "result-format", 0, WEIR_OPT_STRING, &rf, "LEVEL",
          "BOOLEAN_ONLY, BASIC (default), SUMMARY or COMPLETE" },
        { "no-store", 0, WEIR_OPT_FLAG, &no_store, NULL, "do not keep the result in the store" },
        { "docs", 0, WEIR_OPT_FLAG, &docs, NULL,
          "then write Data Docs (HTML) of every validation to target/data_docs/" },
        { "project-dir", 'C', WEIR_OPT_STRING, &dir, "DIR", "the project (default: the current folder)" },
        { "format", 'f', WEIR_OPT_STRING, &format, "FMT", "'text' (default) or 'json'" },
    };
    weir_strvec pos = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_validate_options vo = WEIR_VALIDATE_OPTIONS_INIT;
    weir_out_format of;
    weir_project *p = NULL;
    weir_suite *s = NULL;
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_store *st = NULL;
    json_t *res = NULL;
    char *path = NULL, *out_path = NULL;
    weir_buf target = WEIR_BUF_INIT;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &pos);
    if (rc != WEIR_CLI_GO || (rc = weir_cli_one_arg(cmd, format, &of, &pos, "suite")) != WEIR_CLI_GO)
        goto cleanup;
    weir_date d;
    if (date && weir_date_parse(date, &d)) {
        rc = weir_cli_usage_error(cmd, "bad date '%s' (expected YYYY-MM-DD)", date);
        goto cleanup;
    }
    if (rf && weir_result_format_parse(rf, &vo.format)) {
        rc = weir_cli_usage_error(cmd, "unknown result format '%s' (expected BOOLEAN_ONLY, "
                                  "BASIC, SUMMARY or COMPLETE)", rf);
        goto cleanup;
    }
    if ((rc = weir_cli_load_project(dir, &p)) != WEIR_CLI_GO)
        goto cleanup;
    if (weir_suite_find(p, pos.items[0], &path, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    {
        /* name the file as the user would: relative to the project folder given */
        weir_buf text = WEIR_BUF_INIT, shown = WEIR_BUF_INIT;
        size_t dl = strlen(p->dir);
        if (strncmp(path, p->dir, dl) == 0 && path[dl] == '/' && p->display_dir &&
            strcmp(p->display_dir, ".") != 0)
            weir_path_join(&shown, p->display_dir, path + dl + 1);
        else
            weir_buf_adds(&shown, strncmp(path, p->dir, dl) == 0 && path[dl] == '/'
                                      ? path + dl + 1 : path);
        rc = weir_fs_read_file(path, &text, WEIR_FS_READ_LIMIT, &err);
        if (rc == 0)
            rc = weir_suite_parse(shown.ptr, text.ptr, text.len, &s, &diags);
        else
            weir_diags_add_error(&diags, &err);
        weir_buf_release(&text);
        weir_buf_release(&shown);
    }
    if (rc == 0) {
        /* templated kwargs: {{ ds }}, data_interval_start/end, var() */
        weir_suite_params sp = { date, NULL, NULL, NULL };
        json_t *vars = weir_quality_project_vars(p);
        sp.vars = vars;
        weir_suite_render(s, &sp, &diags);
        json_decref(vars);
    }
    weir_diags_sort(&diags);
    weir_diags_print(&diags, stderr);
    if (rc) {
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    if ((rc = weir_cli_open_warehouse(p, &e)) != WEIR_CLI_GO)
        goto cleanup;
    vo.table = table;
    vo.ds = date;
    /* no transaction is open here, so a second connection sees what c sees
     * (bench/quality: 3.3x -> 3.0x a scan on a table, 3.5x -> 2.1x on Parquet) */
    vo.connections = 2;
    if (weir_conn_new(e, &c, &err) || weir_quality_validate(c, s, &vo, &res, NULL, &err)) {
        weir_cli_error(&err);
        rc = err.code == WEIR_EINVALID ? WEIR_EXIT_USAGE : WEIR_EXIT_FAILED;
        goto cleanup;
    }
    weir_path_join(&target, p->dir, "target");
    if (weir_quality_write_result(target.ptr, res, &out_path, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    if (!no_store && p->store.kind == WEIR_STORE_SQLITE) {
        if (weir_store_open(p->store.path, NULL, &st, &err) ||
            weir_quality_store_result(st, res, 0, out_path, NULL, &err)) {
            /* the result is on disk: say the store missed it, do not fail */
            fprintf(stderr, "weir: warning: %s\n", weir_error_str(&err));
            weir_error_clear(&err);
        }
    }
    if (docs) {
        /* the store holds the history; without one, the result files do */
        char *index = NULL;
        if (!st && !no_store && p->store.kind == WEIR_STORE_SQLITE &&
            weir_store_open(p->store.path, NULL, &st, &err))
            weir_error_clear(&err);
        if (weir_quality_docs_write(target.ptr, st, &index, &err)) {
            weir_cli_error(&err);
            rc = WEIR_EXIT_FAILED;
            goto cleanup;
        }
        size_t dl = strlen(p->dir);
        fprintf(stderr, "Data Docs in %s\n",
                strncmp(index, p->dir, dl) == 0 && index[dl] == '/' ? index + dl + 1 : index);
        free(index);
    }
    if (of == WEIR_OUT_JSON) {
        weir_buf b = WEIR_BUF_INIT;
        weir_json_dump(res, 2, &b);
        printf("%s\n", b.ptr);
        weir_buf_release(&b);
    } else {
        const char *shown = out_path;
        size_t dl = strlen(p->dir);
        if (strncmp(shown, p->dir, dl) == 0 && shown[dl] == '/')
            shown += dl + 1;
        print_text(s, res, shown);
    }
    rc = json_is_true(json_object_get(res, "success")) ? WEIR_EXIT_OK : WEIR_EXIT_FAILED;
cleanup:
    json_decref(res);
    weir_store_free(st);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_suite_free(s);
    weir_project_free(p);
    weir_diags_release(&diags);
    weir_buf_release(&target);
    free(path);
    free(out_path);
    weir_error_release(&err);
    weir_strvec_release(&pos);
    return rc;
}

const weir_command weir_cmd_validate = {
    "validate",
    "check a table against an expectation suite",
    "weir validate [--table T] [--date D] [--docs] [--project-dir DIR] [--format text|json] SUITE",
    "Validates a Great Expectations suite (expectations/SUITE.json, .yml or\n"
    "a file whose suite name is SUITE) on its table in the warehouse, in as few\n"
    "scans as possible. Prints one line per expectation (ok, FAIL or ERROR with\n"
    "what was observed), or with --format json GX's validation result. The\n"
    "result is written to target/validations/SUITE/<time>.json and kept in\n"
    "the store; with --docs, Data Docs of every validation kept (index, one page\n"
    "per suite with its history, one per run) are written to target/data_docs/.\n"
    "'weir -vv validate ...' shows the queries it runs.\n"
    "Kwargs may hold Jinja: {{ ds }}, {{ ds_nodash }}, {{ data_interval_start }},\n"
    "{{ data_interval_end }} (from --date; the interval is that day) and\n"
    "{{ var('x') }} (weir.yml's vars), e.g. row_condition: \"day = '{{ ds }}'\".\n"
    "exit status: 0 every expectation passed, 1 the suite failed or could not\n"
    "run, 2 bad usage or an invalid suite file.\n",
    run,
};
