/*
 * cmd_check.c: `weir check` loads and validates everything in a project and
 * prints every problem as "file:line:col: error: message" (exit 2 when there
 * is any error), or a JSON report with --format json.
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "config/project.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "monitor/monitor.h"
#include "quality/quality.h"
#include "orchestrate/pipeline.h"

static const char *level_name(weir_diag_level l)
{
    return l == WEIR_DIAG_ERROR ? "error" : l == WEIR_DIAG_WARNING ? "warning" : "note";
}

static void print_json(const char *name, const weir_diags *d)
{
    json_t *problems = json_array();
    for (size_t i = 0; i < d->list.len; i++) {
        const weir_diag *dg = &d->list.items[i];
        json_t *o = json_pack("{s:s, s:s}", "level", level_name(dg->level), "message", dg->msg);
        json_object_set_new(o, "file", dg->file ? json_string(dg->file) : json_null());
        json_object_set_new(o, "line", dg->line ? json_integer(dg->line) : json_null());
        json_object_set_new(o, "column", dg->col ? json_integer(dg->col) : json_null());
        json_array_append_new(problems, o);
    }
    json_t *report = json_pack("{s:o, s:b, s:I, s:I, s:o}", "project",
                               name ? json_string(name) : json_null(), "ok", d->errors == 0,
                               "errors", (json_int_t)d->errors, "warnings",
                               (json_int_t)d->warnings, "problems", problems);
    weir_cli_print_json(report);
}

static int has_diag(const weir_diags *d, const weir_diag *x)
{
    for (size_t i = 0; i < d->list.len; i++) {
        const weir_diag *y = &d->list.items[i];
        if (y->line == x->line && y->col == x->col && strcmp(y->msg, x->msg) == 0 &&
            !y->file == !x->file && (!y->file || strcmp(y->file, x->file) == 0))
            return 1;
    }
    return 0;
}

/*
 * Loads every suite under the expectations folders as quality/ does, so
 * that a wrong expectation (an unknown type, a missing or mistyped kwarg,
 * min above max) is reported here and not first at `weir validate`. The
 * YAML syntax was checked by weir_project_check already: problems it found
 * are not repeated.
 */
static void check_suites(const weir_project *p, weir_diags *diags)
{
    static const char *const exts[] = { ".json", ".yml", ".yaml" };
    size_t n = strlen(p->dir);
    for (size_t d = 0; d < p->paths.expectations.len; d++) {
        weir_strvec files = WEIR_VEC_INIT;
        weir_error err = WEIR_ERROR_INIT;
        if (weir_fs_list(p->paths.expectations.items[d], exts, 3, 1, &files, &err) == 0) {
            for (size_t i = 0; i < files.len; i++) {
                const char *path = files.items[i];
                weir_buf shown = WEIR_BUF_INIT, text = WEIR_BUF_INIT;
                weir_diags mine = WEIR_DIAGS_INIT;
                weir_suite *s = NULL;
                if (strncmp(path, p->dir, n) == 0 && path[n] == '/' &&
                    strcmp(p->display_dir, ".") != 0)
                    weir_path_join(&shown, p->display_dir, path + n + 1);
                else
                    weir_buf_adds(&shown, strncmp(path, p->dir, n) == 0 && path[n] == '/'
                                              ? path + n + 1 : path);
                if (weir_fs_read_file(path, &text, WEIR_FS_READ_LIMIT, &err) == 0)
                    weir_suite_parse(shown.ptr, text.ptr, text.len, &s, &mine);
                weir_error_clear(&err);
                for (size_t k = 0; k < mine.list.len; k++) {
                    const weir_diag *x = &mine.list.items[k];
                    if (!has_diag(diags, x))
                        weir_diags_add(diags, x->level, x->file, x->line, x->col, "%s", x->msg);
                }
                weir_suite_free(s);
                weir_diags_release(&mine);
                weir_buf_release(&shown);
                weir_buf_release(&text);
            }
        }
        weir_error_release(&err);
        weir_strvec_release(&files);
    }
}

static int run(const weir_command *cmd, int argc, char **argv)
{
    const char *dir = ".", *format = "text";
    const weir_option opts[] = {
        { "project-dir", 'C', WEIR_OPT_STRING, &dir, "DIR", "the project (default: the current folder)" },
        { "format", 0, WEIR_OPT_STRING, &format, "FMT", "'text' (default) or 'json'" },
    };
    weir_strvec pos = WEIR_VEC_INIT;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_project *p = NULL;
    weir_out_format out;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &pos);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = weir_cli_parse_out_format(cmd, format, &out)) != 0)
        goto cleanup;
    if (pos.len) {
        rc = weir_cli_usage_error(cmd, "unexpected argument '%s' (the project is --project-dir DIR)",
                                  pos.items[0]);
        goto cleanup;
    }
    /* keep_invalid: a weir.yml with mistakes still gives a project (with
     * defaults where it was wrong), so the other files are checked too and
     * one run shows every problem. */
    weir_project_options lo = { 0 };
    lo.keep_invalid = 1;
    weir_project_load_opts(dir, &lo, &p, &diags);
    if (p) {
        weir_project_check(p, &diags);
        check_suites(p, &diags);
        weir_pipeline_check_project(p, &diags);
        weir_monitor_check_project(p, &diags);
    }
    weir_diags_sort(&diags);
    if (out == WEIR_OUT_JSON) {
        print_json(p ? p->name : NULL, &diags);
    } else {
        weir_diags_print(&diags, stderr);
        if (diags.errors)
            fprintf(stderr, "%zu error%s, %zu warning%s\n", diags.errors, diags.errors == 1 ? "" : "s",
                    diags.warnings, diags.warnings == 1 ? "" : "s");
        else if (p)
            printf("project '%s': ok%s\n", p->name, diags.warnings ? " (with warnings)" : "");
    }
    rc = diags.errors ? WEIR_EXIT_USAGE : WEIR_EXIT_OK;
cleanup:
    weir_project_free(p);
    weir_diags_release(&diags);
    weir_strvec_release(&pos);
    return rc;
}

const weir_command weir_cmd_check = {
    "check",
    "load and validate everything in a project",
    "weir check [--project-dir DIR] [--format text|json]",
    "Loads weir.yml (or dbt_project.yml) and every YAML file under the\n"
    "project's sources, pipelines, models, expectations and monitors folders, and\n"
    "reports every problem of every file as 'file:line:col: error: message'.\n"
    "Expectation suites (JSON or YAML) are also checked expectation by\n"
    "expectation: types, required kwargs, kwarg types, bounds.\n"
    "Exits 0 when the project is valid (warnings allowed), 2 otherwise.\n",
    run,
};
