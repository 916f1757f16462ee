/*
 * transform_cli.c: the shared body of the dbt-style commands (see
 * transform_cli.h). Each cmd_*.c file names its command and calls in here.
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "cli/workspace.h"
#include "core/fs.h"
#include "core/log.h"
#include "quality/quality.h"
#include "store/store.h"
#include "transform/transform.h"

static int print_ls(weir_transform *tf, const weir_selection *sel, const char *output,
                    const char *rtype)
{
    for (size_t i = 0; i < weir_transform_count(tf); i++) {
        weir_tnode *n = weir_transform_node(tf, i);
        if (!sel->on[i])
            continue;
        if (rtype && strcmp(rtype, "all") && strcmp(rtype, weir_node_kind_name(n->kind)))
            continue;
        if (!strcmp(output, "name")) {
            printf("%s\n", n->name);
        } else if (!strcmp(output, "path")) {
            printf("%s\n", n->path);
        } else if (!strcmp(output, "json")) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(n->name));
            json_object_set_new(o, "resource_type", json_string(weir_node_kind_name(n->kind)));
            json_object_set_new(o, "unique_id", json_string(n->unique_id));
            json_object_set_new(o, "original_file_path", json_string(n->path));
            json_object_set_new(o, "config", json_deep_copy(n->config));
            char *s = json_dumps(o, JSON_COMPACT);
            printf("%s\n", s);
            free(s);
            json_decref(o);
        } else {
            /* dbt's default: the fqn, sources prefixed */
            if (n->kind == WEIR_NODE_SOURCE)
                fputs("source:", stdout);
            for (size_t k = 0; k < n->n_fqn; k++)
                printf("%s%s", k ? "." : "", n->fqn[k]);
            putchar('\n');
        }
    }
    return 0;
}

/* --inline SQL without run_query() renders without opening the warehouse. */
static int inline_sql_needs_no_engine(const char *inline_sql)
{
    return inline_sql && !strstr(inline_sql, "run_query");
}

/*
 * The Data Docs of the validations kept (the store's history, else the
 * result files under target/validations/), written under target/data_docs/
 * so the docs site links them. Nothing when no suite was ever validated.
 */
static int write_data_docs(const weir_project *p, const char *target_dir)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf vdir = WEIR_BUF_INIT;
    weir_store *st = NULL;
    int rc = WEIR_CLI_GO;
    weir_path_join(&vdir, target_dir, "validations");
    if (p->store.kind == WEIR_STORE_SQLITE && weir_fs_exists(p->store.path) &&
        weir_store_open(p->store.path, NULL, &st, &err)) {
        weir_warn("cannot read the validation history from the store: %s", weir_error_str(&err));
        weir_error_clear(&err);
    }
    if (st || weir_fs_is_dir(vdir.ptr)) {
        char *index = NULL;
        if (weir_quality_docs_write(target_dir, st, &index, &err)) {
            weir_cli_error(&err);
            rc = WEIR_EXIT_FAILED;
        } else {
            printf("wrote %s\n", index);
        }
        free(index);
    }
    weir_store_free(st);
    weir_buf_release(&vdir);
    weir_error_release(&err);
    return rc;
}

int weir_cli_transform(const weir_command *cmd, int argc, char **argv, weir_tf_cmd_mode mode,
                       unsigned what)
{
    const char *dir = NULL, *vars = NULL, *inline_sql = NULL, *output = "selector",
               *rtype = NULL;
    long long threads = 0;
    int full_refresh = 0, fail_fast = 0;
    weir_strvec select = WEIR_VEC_INIT, exclude = WEIR_VEC_INIT, pos = WEIR_VEC_INIT;
    weir_option opts[12];
    size_t no = 0;
    opts[no++] = (weir_option){ "project-dir", 'C', WEIR_OPT_STRING, &dir, "DIR", "the project (default: the current folder)" };
    opts[no++] = (weir_option){ "select", 's', WEIR_OPT_LIST, &select, "SPEC", "nodes to include (dbt selector syntax; repeatable)" };
    opts[no++] = (weir_option){ "models", 'm', WEIR_OPT_LIST, &select, "SPEC", "the same as --select" };
    opts[no++] = (weir_option){ "exclude", 0, WEIR_OPT_LIST, &exclude, "SPEC", "nodes to leave out" };
    opts[no++] = (weir_option){ "vars", 0, WEIR_OPT_STRING, &vars, "YAML", "variables for var(), e.g. '{day: 2024-01-02}'" };
    if (mode == WEIR_TF_CMD_EXECUTE) {
        opts[no++] = (weir_option){ "threads", 0, WEIR_OPT_INT, &threads, "N", "run up to N nodes at once" };
        opts[no++] = (weir_option){ "full-refresh", 0, WEIR_OPT_FLAG, &full_refresh, NULL, "rebuild incremental models and seeds from scratch" };
        opts[no++] = (weir_option){ "fail-fast", 'x', WEIR_OPT_FLAG, &fail_fast, NULL, "stop at the first failure" };
    } else if (mode == WEIR_TF_CMD_COMPILE) {
        opts[no++] = (weir_option){ "inline", 0, WEIR_OPT_STRING, &inline_sql, "SQL", "render SQL with the project's context and print it" };
    } else if (mode != WEIR_TF_CMD_FRESHNESS) {
        opts[no++] = (weir_option){ "output", 'o', WEIR_OPT_STRING, &output, "FMT", "'selector' (default), 'name', 'path' or 'json'" };
        opts[no++] = (weir_option){ "resource-type", 0, WEIR_OPT_STRING, &rtype, "TYPE", "model, seed, test, snapshot, source or all" };
    }
    weir_project *p = NULL;
    weir_transform *tf = NULL;
    weir_engine *e = NULL;
    weir_selection sel = { NULL, 0 };
    weir_error err = WEIR_ERROR_INIT;
    weir_diags diags = WEIR_DIAGS_INIT;
    weir_transform_options topts = WEIR_TRANSFORM_OPTIONS_INIT;
    weir_buf out = WEIR_BUF_INIT;
    int rc = weir_cli_parse(cmd, opts, no, argc, argv, &pos);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    /* `-s a b`: dbt takes several selectors after one flag */
    for (size_t i = 0; i < pos.len; i++) {
        if (!select.len) {
            rc = weir_cli_usage_error(cmd, "unexpected argument '%s'", pos.items[i]);
            goto cleanup;
        }
        weir_strvec_push(&select, pos.items[i]);
    }
    if (threads < 0 || threads > 256) {
        rc = weir_cli_usage_error(cmd, "--threads must be between 1 and 256");
        goto cleanup;
    }
    if ((rc = weir_cli_load_project(dir, &p)) != WEIR_CLI_GO)
        goto cleanup;
    topts.vars_yaml = vars;
    topts.full_refresh = full_refresh;
    int64_t t0 = weir_monotonic_us();
    if (weir_transform_load(p, &topts, &tf, &diags)) {
        weir_diags_print(&diags, stderr);
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    if (diags.list.len)
        weir_diags_print(&diags, stderr);
    weir_debug("%s: read %zu nodes in %.1f ms", cmd->name, weir_transform_count(tf),
               (double)(weir_monotonic_us() - t0) / 1000.0);
    /* compile and run render against the warehouse (run_query(), `execute`
     * true); ls only parses, as dbt's ls does */
    if (mode != WEIR_TF_CMD_LS && !inline_sql_needs_no_engine(inline_sql)) {
        if ((rc = weir_cli_open_warehouse(p, &e)) != WEIR_CLI_GO)
            goto cleanup;
        weir_transform_set_engine(tf, e);
    }
    if (weir_transform_compile(tf, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    weir_debug("%s: loaded and rendered %zu nodes in %.1f ms", cmd->name, weir_transform_count(tf),
               (double)(weir_monotonic_us() - t0) / 1000.0);
    if (inline_sql) {
        if (weir_transform_compile_inline(tf, inline_sql, &out, &err)) {
            weir_cli_error(&err);
            rc = WEIR_EXIT_FAILED;
            goto cleanup;
        }
        printf("%s\n", out.ptr);
        rc = WEIR_EXIT_OK;
        goto cleanup;
    }
    if (weir_transform_select(tf, (const char *const *)select.items, select.len,
                              (const char *const *)exclude.items, exclude.len,
                              mode != WEIR_TF_CMD_EXECUTE || (what & WEIR_RUN_TESTS), &sel, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    if (mode == WEIR_TF_CMD_LS) {
        if (strcmp(output, "selector") && strcmp(output, "name") && strcmp(output, "path") &&
            strcmp(output, "json")) {
            rc = weir_cli_usage_error(cmd, "unknown output '%s' (expected selector, name, path or json)", output);
            goto cleanup;
        }
        print_ls(tf, &sel, output, rtype);
        rc = WEIR_EXIT_OK;
        goto cleanup;
    }
    if (mode == WEIR_TF_CMD_FRESHNESS) {
        weir_run_summary fsum;
        int frc = weir_transform_source_freshness(tf, e, &sel,
                                                  weir_log_enabled(WEIR_LOG_WARN) ? stdout : NULL,
                                                  &fsum, &err);
        if (frc && frc != WEIR_ERROR)
            weir_cli_error(&err);
        rc = frc ? WEIR_EXIT_FAILED : WEIR_EXIT_OK;
        goto cleanup;
    }
    if (weir_transform_write_manifest(tf, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    if (mode == WEIR_TF_CMD_DOCS) {
        if ((rc = write_data_docs(p, weir_transform_target_dir(tf))) != WEIR_CLI_GO)
            goto cleanup;
        if (weir_transform_write_docs(tf, &err)) {
            weir_cli_error(&err);
            rc = WEIR_EXIT_FAILED;
            goto cleanup;
        }
        printf("wrote %s/index.html\n", weir_transform_target_dir(tf));
        rc = WEIR_EXIT_OK;
        goto cleanup;
    }
    if (mode == WEIR_TF_CMD_COMPILE) {
        size_t count = 0;
        for (size_t i = 0; i < sel.n; i++)
            count += sel.on[i] && weir_transform_node(tf, i)->compiled;
        weir_info("compiled %zu node%s into %s/compiled", count, count == 1 ? "" : "s",
                  weir_transform_target_dir(tf));
        rc = WEIR_EXIT_OK;
        goto cleanup;
    }
    weir_run_options ro = { what, threads ? (int)threads : (p->warehouse.threads > 0 ? p->warehouse.threads : 1),
                            full_refresh, fail_fast, cmd->name, weir_log_enabled(WEIR_LOG_WARN) ? stdout : NULL, 0 };
    weir_run_summary sum;
    if (weir_transform_run(tf, e, &sel, &ro, &sum, &err)) {
        if (err.code != WEIR_ERROR || !sum.total)
            weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    rc = WEIR_EXIT_OK;
cleanup:
    weir_buf_release(&out);
    weir_selection_release(&sel);
    /* Freeing a graph of tens of thousands of nodes one malloc at a time
     * takes longer than the rest of `weir ls`; the process ends here, so
     * big graphs are left to the exit (git's UNLEAK). Sanitizer builds
     * always free, so leak checks still see every path. */
#ifndef WEIR_ARENA_DEBUG
    if (tf && weir_transform_count(tf) > 5000)
        tf = NULL;
#endif
    weir_transform_free(tf);
    weir_engine_free(e);
    weir_project_free(p);
    weir_error_release(&err);
    weir_diags_release(&diags);
    weir_strvec_release(&select);
    weir_strvec_release(&exclude);
    weir_strvec_release(&pos);
    return rc;
}
