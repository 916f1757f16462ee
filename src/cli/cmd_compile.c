/*
 * cmd_compile.c: `weir compile`: render the project's models and tests to SQL (dbt's `dbt compile`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_COMPILE, 0);
}

const weir_command weir_cmd_compile = {
    "compile",
    "render the project's models and tests to SQL",
    "weir compile [--project-dir DIR] [-s SPEC] [--exclude SPEC] [--vars YAML] [--inline SQL]",
    "Renders every model, test and snapshot of a dbt project (dbt_project.yml or\n"
    "weir.yml) and writes target/manifest.json and target/compiled/. With\n"
    "--inline SQL, renders SQL in the project's context and prints it.\n",
    run,
};
