/*
 * cli.h: what every command of the `weir` binary shares.
 *
 * One command, one file (cmd_*.c), each exporting a weir_command that
 * main.c lists in its commands[] table. A command gets its own arguments
 * (after the command name) and returns an exit code:
 *     WEIR_EXIT_OK (0)      success
 *     WEIR_EXIT_FAILED (1)  the work failed (a query error, a failed run)
 *     WEIR_EXIT_USAGE (2)   bad usage or an invalid project
 * Options every command accepts (--help, --quiet, --verbose, --log-format)
 * are handled by weir_cli_parse(), which commands call with their own table.
 */
#ifndef WEIR_CLI_H
#define WEIR_CLI_H

#include <stdio.h>

#include "cli/args.h"
#include "core/error.h"
#include "core/vec.h"

enum { WEIR_EXIT_OK = 0, WEIR_EXIT_FAILED = 1, WEIR_EXIT_USAGE = 2 };

typedef enum { WEIR_OUT_TEXT, WEIR_OUT_JSON } weir_out_format;

typedef struct weir_command {
    const char *name;
    const char *summary; /* one line, for `weir --help` */
    const char *usage;   /* "weir query [options] SQL" */
    const char *help;    /* paragraphs after the usage line; may be NULL */
    int (*run)(const struct weir_command *cmd, int argc, char **argv);
} weir_command;

/*
 * Parses a command's arguments with its options plus the common ones.
 * Returns WEIR_CLI_GO to go on; otherwise the exit code the command returns
 * at once: 0 after printing --help, 2 after a usage error. positional
 * receives the other arguments (copied; the caller releases it).
 */
#define WEIR_CLI_GO (-1)
int weir_cli_parse(const weir_command *cmd, const weir_option *opts, size_t n_opts, int argc,
                   char **argv, weir_strvec *positional);

/* Prints an error to stderr: "file:line:col: error: ..." when it names a
 * place in a user's file, else "weir: error: ...". */
void weir_cli_error(const weir_error *err);
/* Prints a usage error for cmd to stderr and returns WEIR_EXIT_USAGE. */
int weir_cli_usage_error(const weir_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Parses "--format" values "text"/"json" (and "table" as text). */
int weir_cli_parse_out_format(const weir_command *cmd, const char *s, weir_out_format *out);

/*
 * What a command taking --format and one positional argument (`weir
 * profile TABLE`, `weir validate SUITE`) checks after weir_cli_parse():
 * format into *out, then that positional holds exactly one argument, which
 * names a `what` ("table") for the command to work on. Returns WEIR_CLI_GO,
 * or WEIR_EXIT_USAGE after printing "unknown format ...", "expected one
 * WHAT, got N" or "missing the WHAT to COMMAND".
 */
int weir_cli_one_arg(const weir_command *cmd, const char *format, weir_out_format *out,
                     const weir_strvec *positional, const char *what);

/*
 * Runs the subcommand argv[0] of group ("pipeline", "monitor") from subs,
 * whose names are "GROUP SUB"; prints the list of subcommands for --help
 * (exit 0) or no argument (exit 2), and a "did you mean" for an unknown one.
 */
int weir_cli_dispatch(const char *group, const weir_command *subs, size_t n, int argc,
                      char **argv);

/* Prints v as indented JSON and a newline on stdout, and drops the
 * reference (so json_pack(...) can be passed directly). */
struct json_t;
void weir_cli_print_json(struct json_t *v);

/* The commands, defined in cmd_*.c. */
extern const weir_command weir_cmd_version;
extern const weir_command weir_cmd_init;
extern const weir_command weir_cmd_check;
extern const weir_command weir_cmd_query;
extern const weir_command weir_cmd_compile;
extern const weir_command weir_cmd_ls;
extern const weir_command weir_cmd_run;
extern const weir_command weir_cmd_test;
extern const weir_command weir_cmd_seed;
extern const weir_command weir_cmd_snapshot;
extern const weir_command weir_cmd_build;
extern const weir_command weir_cmd_docs;
extern const weir_command weir_cmd_source;
extern const weir_command weir_cmd_validate;
extern const weir_command weir_cmd_profile;
extern const weir_command weir_cmd_pipeline;
extern const weir_command weir_cmd_serve;
extern const weir_command weir_cmd_monitor;

#endif
