/*
 * cmd_source.c: `weir source freshness`: how long ago each source table
 * was loaded, against its freshness thresholds (dbt's `dbt source
 * freshness`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "freshness"))
        return weir_cli_transform(cmd, argc - 1, argv + 1, WEIR_TF_CMD_FRESHNESS, 0);
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")))
        return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_FRESHNESS, 0);
    return weir_cli_usage_error(cmd, argc ? "unknown source command '%s' (expected 'freshness')"
                                          : "missing source command%s (expected 'freshness')",
                                argc ? argv[0] : "");
}

const weir_command weir_cmd_source = {
    "source",
    "check how fresh the sources are",
    "weir source freshness [--project-dir DIR] [-s SPEC] [--exclude SPEC] [--vars YAML]",
    "For each selected source table with a 'freshness:' (warn_after and/or\n"
    "error_after {count, period: minute|hour|day}, loaded_at_field, filter),\n"
    "reads max(loaded_at_field) and compares its age (UTC) with the\n"
    "thresholds: pass, warn, error when stale, or a runtime error. Writes\n"
    "target/sources.json. Exits 1 when a source is in error, 0 otherwise.\n",
    run,
};
