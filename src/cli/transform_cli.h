/*
 * transform_cli.h: what the dbt-style commands (compile, run, test, seed,
 * snapshot, build, ls) share: their options, loading and compiling the
 * project, selecting nodes, and running them (src/transform/).
 */
#ifndef WEIR_CLI_TRANSFORM_CLI_H
#define WEIR_CLI_TRANSFORM_CLI_H

#include "cli/cli.h"

typedef enum {
    WEIR_TF_CMD_COMPILE,
    WEIR_TF_CMD_LS,
    WEIR_TF_CMD_DOCS,
    WEIR_TF_CMD_FRESHNESS, /* source freshness */
    WEIR_TF_CMD_EXECUTE /* run, test, seed, snapshot, build */
} weir_tf_cmd_mode;

/*
 * Runs a dbt-style command: mode says which, what (weir_run_what bits)
 * which kinds of nodes an EXECUTE runs. Returns the process exit code.
 */
int weir_cli_transform(const weir_command *cmd, int argc, char **argv, weir_tf_cmd_mode mode,
                       unsigned what);

#endif
