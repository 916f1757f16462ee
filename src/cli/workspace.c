/*
 * workspace.c: loading the project and opening its store and warehouse
 * for commands (see workspace.h).
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "cli/workspace.h"
#include "core/log.h"
#include "orchestrate/lock.h"

int weir_cli_load_project(const char *dir, weir_project **out)
{
    weir_diags diags = WEIR_DIAGS_INIT;
    int rc = weir_project_load(dir ? dir : ".", out, &diags);
    if (rc == 0) {
        weir_debug("loaded project '%s' from %s", (*out)->name, (*out)->file);
        /* warnings of a loadable project still deserve to be seen */
        weir_diags_print(&diags, stderr);
        weir_diags_release(&diags);
        return WEIR_CLI_GO;
    }
    weir_diags_sort(&diags);
    weir_diags_print(&diags, stderr);
    weir_diags_release(&diags);
    return WEIR_EXIT_USAGE;
}

int weir_cli_open_warehouse(const weir_project *p, weir_engine **out)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_engine_options opts = WEIR_ENGINE_OPTIONS_INIT;
    int rc = WEIR_CLI_GO;
    if (p->warehouse.kind != WEIR_WAREHOUSE_DUCKDB) {
        fprintf(stderr, "weir: error: %s: warehouse type '%s' is not supported by this weir yet "
                        "(use 'duckdb')\n", p->file, p->warehouse.type);
        return WEIR_EXIT_FAILED;
    }
    {
        /* a running `weir serve` (or backfill) holds the file: say so plainly
         * rather than with DuckDB's lock message */
        long pid;
        char what[200];
        if (weir_warehouse_holder(p->dir, &pid, what, sizeof(what))) {
            weir_warehouse_busy_error(&err, pid, what);
            weir_cli_error(&err);
            weir_error_release(&err);
            return WEIR_EXIT_FAILED;
        }
    }
    opts.backend = "duckdb";
    opts.threads = p->warehouse.threads;
    weir_debug("opening warehouse %s (%s)", p->warehouse.path, p->warehouse.type);
    if (weir_engine_open(p->warehouse.path, &opts, out, &err)) {
        weir_error_wrap(&err, "while opening the warehouse of project '%s'", p->name);
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
    }
    weir_error_release(&err);
    return rc;
}

int weir_cli_open_store(const weir_project *p, weir_store **out)
{
    weir_error err = WEIR_ERROR_INIT;
    if (p->store.kind != WEIR_STORE_SQLITE) {
        fprintf(stderr, "weir: error: store type '%s' is not supported by this weir yet\n",
                p->store.type);
        return WEIR_EXIT_FAILED;
    }
    weir_debug("opening store %s", p->store.path);
    if (weir_store_open(p->store.path, NULL, out, &err)) {
        weir_cli_error(&err);
        weir_error_release(&err);
        return WEIR_EXIT_FAILED;
    }
    return WEIR_CLI_GO;
}

int weir_workspace_load(weir_workspace *w, const char *dir, weir_workspace_load_fn load,
                        void *out)
{
    weir_diags diags = WEIR_DIAGS_INIT;
    int rc = weir_cli_load_project(dir, &w->project);
    if (rc != WEIR_CLI_GO)
        return rc;
    if (load(w->project, out, &diags)) {
        weir_diags_sort(&diags);
        weir_diags_print(&diags, stderr);
        weir_diags_release(&diags);
        return WEIR_EXIT_USAGE;
    }
    weir_diags_print(&diags, stderr);
    weir_diags_release(&diags);
    return WEIR_CLI_GO;
}

int weir_workspace_open_store(weir_workspace *w)
{
    return weir_cli_open_store(w->project, &w->store);
}

int weir_workspace_open_warehouse(weir_workspace *w)
{
    weir_error err = WEIR_ERROR_INIT;
    int rc = weir_cli_open_warehouse(w->project, &w->engine);
    if (rc != WEIR_CLI_GO)
        return rc;
    if (weir_conn_new(w->engine, &w->conn, &err)) {
        weir_cli_error(&err);
        weir_error_release(&err);
        return WEIR_EXIT_FAILED;
    }
    return WEIR_CLI_GO;
}

void weir_workspace_release(weir_workspace *w)
{
    weir_conn_free(w->conn);
    weir_engine_free(w->engine);
    weir_store_free(w->store);
    weir_project_free(w->project);
    memset(w, 0, sizeof(*w));
}
