/*
 * workspace.h: what commands that work on a project share: finding and
 * loading the project (--project-dir, default the current folder) and
 * opening its store and warehouse; weir_workspace holds them for the
 * command groups (`weir pipeline`, `weir monitor`) that need all of it.
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

/*
 * A project opened for a command group (`weir pipeline`, `weir monitor`):
 * the project, what the group reads from it, its store and, when asked, its
 * warehouse. Zero-initialise it; each open step returns WEIR_CLI_GO or the
 * exit code the command returns at once (after printing why).
 */
typedef struct weir_workspace {
    weir_project *project;
    weir_store *store;
    weir_engine *engine; /* with weir_workspace_open_warehouse() */
    weir_conn *conn;
} weir_workspace;

/* Loads what a group reads from the project (its pipelines/ or monitors/)
 * into out, filling diags; returns non-zero when it cannot be used. */
typedef int (*weir_workspace_load_fn)(const weir_project *p, void *out, weir_diags *diags);

/*
 * Loads the project in dir (NULL: ".") and, with load, the group's files
 * into out. Problems are printed on stderr (sorted when they stop the
 * command, which then exits WEIR_EXIT_USAGE); warnings alone are printed
 * and the command goes on. The caller releases out.
 */
int weir_workspace_load(weir_workspace *w, const char *dir, weir_workspace_load_fn load,
                        void *out);
/* Opens the project's store (see weir_cli_open_store). */
int weir_workspace_open_store(weir_workspace *w);
/* Opens the project's warehouse and a connection to it. */
int weir_workspace_open_warehouse(weir_workspace *w);
/* Frees what w holds (connection, warehouse, store, project); what load
 * filled is the caller's and must be released first. */
void weir_workspace_release(weir_workspace *w);

#endif
