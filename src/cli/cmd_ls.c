/*
 * cmd_ls.c: `weir ls`: list the nodes a selection picks (dbt's `dbt ls`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_LS, 0);
}

const weir_command weir_cmd_ls = {
    "ls",
    "list the nodes a selection picks",
    "weir ls [--project-dir DIR] [-s SPEC] [--exclude SPEC] [--vars YAML] [--output selector|name|path|json]",
    "Prints the selected models, seeds, snapshots, tests and sources, one a line.\n"
    "Selectors: name, +name, name+, 2+name, @name, tag:T, path:P, config.K:V,\n"
    "source:S, resource_type:R, test_type:generic|singular; a space is a union,\n"
    "a comma an intersection.\n",
    run,
};
