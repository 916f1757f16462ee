/*
 * cmd_docs.c: `weir docs generate`: the project's documentation as one
 * static page, target/index.html (dbt's `dbt docs generate`).
 */
#include "core/compat.h"

#include "cli/transform_cli.h"
#include "transform/transform.h"

static int run(const weir_command *cmd, int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "generate"))
        return weir_cli_transform(cmd, argc - 1, argv + 1, WEIR_TF_CMD_DOCS, 0);
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")))
        return weir_cli_transform(cmd, argc, argv, WEIR_TF_CMD_DOCS, 0);
    return weir_cli_usage_error(cmd, argc ? "unknown docs command '%s' (expected 'generate')"
                                          : "missing docs command%s (expected 'generate')",
                                argc ? argv[0] : "");
}

const weir_command weir_cmd_docs = {
    "docs",
    "write the project's documentation site",
    "weir docs generate [--project-dir DIR] [--vars YAML]",
    "Writes target/index.html: every model, seed, snapshot and source with its\n"
    "columns, descriptions, tests and compiled SQL, and the lineage graph as a\n"
    "picture. Also writes target/manifest.json and, when suites were validated,\n"
    "their Data Docs (target/data_docs/, the history kept in the store), linked\n"
    "from the site.\n",
    run,
};
