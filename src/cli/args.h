/*
 * args.h: command-line options for weir's commands.
 *
 * Each command declares its options in a table; weir_args_parse() fills the
 * destinations and collects positional arguments. Accepted forms:
 * "--name value", "--name=value", "-n value", "-nvalue", flags "--name" and
 * "-n", and "--" to end options. Errors read like git's:
 *     unknown option '--fromat' for 'weir query' (did you mean '--format'?)
 */
#ifndef WEIR_CLI_ARGS_H
#define WEIR_CLI_ARGS_H

#include <stdio.h>

#include "core/error.h"
#include "core/vec.h"

typedef enum {
    WEIR_OPT_FLAG,   /* int *dest set to 1 */
    WEIR_OPT_STRING, /* const char **dest set to the argument (not copied) */
    WEIR_OPT_INT,    /* long long *dest */
    WEIR_OPT_LIST    /* weir_strvec *dest: each use appends (copied) */
} weir_opt_kind;

typedef struct weir_option {
    const char *long_name; /* without the dashes */
    char short_name;       /* 0 when none */
    weir_opt_kind kind;
    void *dest;
    const char *arg_name;  /* shown in help: "--format FMT" */
    const char *help;
} weir_option;

/*
 * Parses argv[0..argc) (argv[0] is the first argument, not the command
 * name). cmd names the command in messages ("weir query"). Positional
 * arguments are appended to positional (copied). Returns 0, or WEIR_EINVALID
 * with the message in err.
 */
int weir_args_parse(const char *cmd, const weir_option *opts, size_t n_opts, int argc,
                    char **argv, weir_strvec *positional, weir_error *err);

/* Prints the options table, aligned, for --help. */
void weir_args_print_options(const weir_option *opts, size_t n_opts, FILE *out);

#endif
