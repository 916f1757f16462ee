/*
 * cmd_query.c: `weir query SQL` runs SQL on the project's warehouse and
 * prints the result as an aligned table, CSV or JSON (cli/output.h).
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/workspace.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"

static weir_col_kind col_kind(weir_type t)
{
    switch (t) {
    case WEIR_TYPE_INT:
    case WEIR_TYPE_DOUBLE:
    case WEIR_TYPE_DECIMAL:
        return WEIR_COL_NUMBER;
    case WEIR_TYPE_BOOL:
        return WEIR_COL_BOOL;
    default:
        return WEIR_COL_TEXT;
    }
}

static void fill_grid(weir_result *r, weir_grid *g)
{
    weir_buf cell = WEIR_BUF_INIT;
    size_t nc = weir_result_cols(r), nr = weir_result_rows(r);
    for (size_t c = 0; c < nc; c++)
        weir_grid_add_column(g, weir_result_col_name(r, c), col_kind(weir_result_col_type(r, c)));
    for (size_t row = 0; row < nr; row++) {
        for (size_t c = 0; c < nc; c++) {
            weir_buf_reset(&cell);
            int is_null = weir_result_text(r, row, c, &cell);
            weir_grid_add_cell(g, is_null ? NULL : cell.ptr);
        }
        weir_grid_end_row(g);
    }
    weir_buf_release(&cell);
}

static int run(const weir_command *cmd, int argc, char **argv)
{
    const char *dir = NULL, *format = "table";
    const weir_option opts[] = {
        { "project-dir", 'C', WEIR_OPT_STRING, &dir, "DIR", "the project (default: the current folder)" },
        { "format", 'f', WEIR_OPT_STRING, &format, "FMT", "'table' (default), 'csv' or 'json'" },
    };
    weir_strvec pos = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf sql = WEIR_BUF_INIT;
    weir_project *p = NULL;
    weir_engine *e = NULL;
    weir_conn *c = NULL;
    weir_result *r = NULL;
    weir_grid g = WEIR_GRID_INIT;
    weir_grid_style style;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &pos);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if (weir_grid_parse_format(format, &style)) {
        rc = weir_cli_usage_error(cmd, "unknown format '%s' (expected 'table', 'csv' or 'json')", format);
        goto cleanup;
    }
    if (pos.len != 1) {
        rc = weir_cli_usage_error(cmd, pos.len ? "expected one SQL argument (quote it), got %zu"
                                               : "missing SQL to run%.0zu", pos.len);
        goto cleanup;
    }
    if (strcmp(pos.items[0], "-") == 0) {
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            weir_buf_add(&sql, chunk, n);
    } else {
        weir_buf_adds(&sql, pos.items[0]);
    }
    if ((rc = weir_cli_load_project(dir, &p)) != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = weir_cli_open_warehouse(p, &e)) != WEIR_CLI_GO)
        goto cleanup;
    int64_t t0 = weir_monotonic_us();
    if (weir_conn_new(e, &c, &err) || weir_conn_query(c, sql.ptr, &r, &err)) {
        weir_cli_error(&err);
        rc = WEIR_EXIT_FAILED;
        goto cleanup;
    }
    weir_info("query: %zu row%s in %.1f ms", weir_result_rows(r), weir_result_rows(r) == 1 ? "" : "s",
              (double)(weir_monotonic_us() - t0) / 1000.0);
    fill_grid(r, &g);
    weir_grid_print(&g, style, stdout);
    rc = WEIR_EXIT_OK;
cleanup:
    weir_grid_release(&g);
    weir_result_free(r);
    weir_conn_free(c);
    weir_engine_free(e);
    weir_project_free(p);
    weir_buf_release(&sql);
    weir_error_release(&err);
    weir_strvec_release(&pos);
    return rc;
}

const weir_command weir_cmd_query = {
    "query",
    "run SQL on the project's warehouse",
    "weir query [--project-dir DIR] [--format table|csv|json] SQL",
    "Runs SQL (one or more statements; the last one's rows are printed) on the\n"
    "warehouse named in weir.yml. SQL '-' reads the statements from stdin.\n"
    "  table  aligned columns for a terminal, numbers right-aligned\n"
    "  csv    a header row, then RFC 4180 rows; NULL is an empty field\n"
    "  json   an array of objects; numbers as numbers, NULL as null\n"
    "A SQL error prints the engine's message and exits 1.\n",
    run,
};
