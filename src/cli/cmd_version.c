/*
 * cmd_version.c: `weir version` prints weir's version and those of the
 * libraries that decide what a project can do: DuckDB and SQLite.
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/version.h"
#include "engine/engine.h"
#include "store/store.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    const char *format = "text";
    const weir_option opts[] = {
        { "format", 0, WEIR_OPT_STRING, &format, "FMT", "'text' or 'json'" },
    };
    weir_strvec pos = WEIR_VEC_INIT;
    weir_out_format out;
    int rc = weir_cli_parse(cmd, opts, WEIR_ARRAY_SIZE(opts), argc, argv, &pos);
    if (rc != WEIR_CLI_GO)
        goto cleanup;
    if ((rc = weir_cli_parse_out_format(cmd, format, &out)) != 0)
        goto cleanup;
    if (pos.len) {
        rc = weir_cli_usage_error(cmd, "unexpected argument '%s'", pos.items[0]);
        goto cleanup;
    }
    if (out == WEIR_OUT_JSON) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "weir", WEIR_VERSION, "duckdb",
                              weir_engine_duckdb_version(), "sqlite", weir_store_sqlite_version());
        weir_cli_print_json(o);
    } else {
        printf("weir %s\nduckdb %s\nsqlite %s\n", WEIR_VERSION, weir_engine_duckdb_version(),
               weir_store_sqlite_version());
    }
    rc = WEIR_EXIT_OK;
cleanup:
    weir_strvec_release(&pos);
    return rc;
}

const weir_command weir_cmd_version = {
    "version",
    "show the versions of weir, DuckDB and SQLite",
    "weir version [--format json]",
    NULL,
    run,
};
