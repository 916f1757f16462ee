/*
 * cmd_test.c: `weir test`: run the selected data tests (dbt's `dbt test`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_EXECUTE, WEIR_RUN_TESTS);
}

const weir_command weir_cmd_test = {
    "test",
    "run the selected data tests",
    "weir test [--project-dir DIR] [-s SPEC] [--exclude SPEC] [--vars YAML] [--threads N] [--fail-fast]",
    "Runs generic (not_null, unique, accepted_values, relationships, custom) and\n"
    "singular tests; exits 1 when one fails.\n",
    run,
};
