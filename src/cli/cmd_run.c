/*
 * cmd_run.c: `weir run`: build the selected models in the warehouse (dbt's `dbt run`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_EXECUTE, WEIR_RUN_MODELS);
}

const weir_command weir_cmd_run = {
    "run",
    "build the selected models in the warehouse",
    "weir run [--project-dir DIR] [-s SPEC] [--exclude SPEC] [--vars YAML] [--threads N] [--full-refresh] [--fail-fast]",
    "Builds views, tables and incremental models in dependency order, printing a\n"
    "line per model and a summary; writes target/run_results.json.\n",
    run,
};
