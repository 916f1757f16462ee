/*
 * cmd_snapshot.c: `weir snapshot`: record changes of the selected snapshots (dbt's `dbt snapshot`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_EXECUTE, WEIR_RUN_SNAPSHOTS);
}

const weir_command weir_cmd_snapshot = {
    "snapshot",
    "record changes of the selected snapshots",
    "weir snapshot [--project-dir DIR] [-s SPEC] [--exclude SPEC] [--vars YAML] [--threads N]",
    "Runs snapshots (timestamp and check strategies): changed rows get a closed\n"
    "version (dbt_valid_to) and a new current one.\n",
    run,
};
