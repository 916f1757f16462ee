/*
 * workspace.h: what commands that work on a project share: finding and
 * loading the project (--project-dir, default the current folder) and
 * opening its warehouse.
 */
#ifndef WEIR_CLI_WORKSPACE_H
#define WEIR_CLI_WORKSPACE_H

#include "config/project.h"
#include "engine/engine.h"
#include "store/store.h"

/*
 * Loads the project in dir (NULL: "."). On failure prints every problem as
 * "file:line:col: error: ..." on stderr and returns WEIR_EXIT_USAGE (an
 * invalid project); on success returns WEIR_CLI_GO with *out set.
 */
int weir_cli_load_project(const char *dir, weir_project **out);

/*
 * Opens the project's warehouse. On failure prints the error and returns
 * WEIR_EXIT_FAILED; on success returns WEIR_CLI_GO with *out set.
 */
int weir_cli_open_warehouse(const weir_project *p, weir_engine **out);

/*
 * Opens the project's metadata store (SQLite; other kinds are refused by
 * name). On failure prints the error and returns WEIR_EXIT_FAILED; on
 * success returns WEIR_CLI_GO with *out set.
 */
int weir_cli_open_store(const weir_project *p, weir_store **out);

#endif
