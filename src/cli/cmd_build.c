/*
 * cmd_build.c: `weir build`: seed, run, snapshot and test in dependency order (dbt's `dbt build`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_EXECUTE, WEIR_RUN_BUILD);
}

const weir_command weir_cmd_build = {
    "build",
    "seed, run, snapshot and test in dependency order",
    "weir build [--project-dir DIR] [-s SPEC] [--exclude SPEC] [--vars YAML] [--threads N] [--full-refresh] [--fail-fast]",
    "Runs seeds, models, snapshots and tests in one graph: a model's tests run\n"
    "right after it, and a failing test skips what depends on the model.\n",
    run,
};
