/*
 * cmd_seed.c: `weir seed`: load the selected CSV seeds into tables (dbt's `dbt seed`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_EXECUTE, WEIR_RUN_SEEDS);
}

const weir_command weir_cmd_seed = {
    "seed",
    "load the selected CSV seeds into tables",
    "weir seed [--project-dir DIR] [-s SPEC] [--exclude SPEC] [--vars YAML] [--threads N]",
    "Loads every CSV under the seed folders into a table, with types inferred as\n"
    "dbt does or given by column_types.\n",
    run,
};
