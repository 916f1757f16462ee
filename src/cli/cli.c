/*
 * cli.c: option handling and messages shared by the commands (see cli.h).
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"

void weir_cli_error(const weir_error *err)
{
    /* An error about a user's file leads with its place, as a compiler's
     * does: "models/a.sql:3:12: error: ..."; others read "weir: error: ...". */
    if (err && err->code && err->file) {
        weir_diag dg = { WEIR_DIAG_ERROR, err->file, err->line, err->col, NULL };
        weir_buf msg = WEIR_BUF_INIT, line = WEIR_BUF_INIT;
        for (size_t i = err->context.len; i > 0; i--)
            weir_buf_addf(&msg, "%s: ", err->context.items[i - 1]);
        weir_buf_add(&msg, err->msg.ptr, err->msg.len);
        dg.msg = msg.ptr;
        weir_diag_format(&dg, &line);
        fprintf(stderr, "%s\n", line.ptr);
        weir_buf_release(&msg);
        weir_buf_release(&line);
        return;
    }
    fprintf(stderr, "weir: error: %s\n", weir_error_str(err));
}

int weir_cli_usage_error(const weir_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("weir: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n", cmd->usage);
    return WEIR_EXIT_USAGE;
}

int weir_cli_parse_out_format(const weir_command *cmd, const char *s, weir_out_format *out)
{
    if (strcmp(s, "text") == 0 || strcmp(s, "table") == 0)
        *out = WEIR_OUT_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = WEIR_OUT_JSON;
    else
        return weir_cli_usage_error(cmd, "unknown format '%s' (expected 'text' or 'json')", s);
    return 0;
}

int weir_cli_one_arg(const weir_command *cmd, const char *format, weir_out_format *out,
                     const weir_strvec *positional, const char *what)
{
    if (weir_cli_parse_out_format(cmd, format, out))
        return WEIR_EXIT_USAGE;
    if (positional->len == 0)
        return weir_cli_usage_error(cmd, "missing the %s to %s", what, cmd->name);
    if (positional->len != 1)
        return weir_cli_usage_error(cmd, "expected one %s, got %zu", what, positional->len);
    return WEIR_CLI_GO;
}

int weir_cli_parse(const weir_command *cmd, const weir_option *opts, size_t n_opts, int argc,
                   char **argv, weir_strvec *positional)
{
    int help = 0, quiet = 0;
    int verbose = 0; /* -v may repeat */
    const char *log_format = NULL;
    weir_option all[64];
    weir_error err = WEIR_ERROR_INIT;
    weir_buf name = WEIR_BUF_INIT;
    int rc = WEIR_CLI_GO;
    size_t n = 0;

    for (size_t i = 0; i < n_opts && n < WEIR_ARRAY_SIZE(all) - 4; i++)
        all[n++] = opts[i];
    size_t n_own = n;
    all[n++] = (weir_option){ "help", 'h', WEIR_OPT_FLAG, &help, NULL, "show this help" };
    all[n++] = (weir_option){ "quiet", 'q', WEIR_OPT_FLAG, &quiet, NULL, "only errors on stderr" };
    all[n++] = (weir_option){ "log-format", 0, WEIR_OPT_STRING, &log_format, "FMT",
                              "'text' or 'json' log lines on stderr" };
    weir_buf_addf(&name, "weir %s", cmd->name);
    weir_strvec args = WEIR_VEC_INIT;
    /* -v may repeat (-v -v for traces): count it before the parser sees it */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            verbose++;
            continue;
        }
        weir_vec_push(&args, argv[i]);
    }
    if (weir_args_parse(name.ptr, all, n, (int)args.len, args.items, positional, &err)) {
        weir_cli_error(&err);
        fprintf(stderr, "usage: %s\n", cmd->usage);
        rc = WEIR_EXIT_USAGE;
        goto cleanup;
    }
    if (help) {
        printf("usage: %s\n\n%s\n", cmd->usage, cmd->summary);
        if (cmd->help)
            printf("\n%s", cmd->help);
        printf("\noptions:\n");
        weir_args_print_options(all, n_own, stdout);
        printf("  -h, --help            show this help\n"
               "  -q, --quiet           only errors on stderr\n"
               "  -v, --verbose         more detail on stderr (-v -v for debug)\n"
               "      --log-format FMT  'text' or 'json' log lines on stderr\n");
        rc = WEIR_EXIT_OK;
        goto cleanup;
    }
    if (quiet)
        weir_log_set_level(WEIR_LOG_ERROR);
    if (verbose)
        weir_log_set_level(verbose >= 3 ? WEIR_LOG_TRACE : (weir_log_level)(WEIR_LOG_WARN + verbose));
    if (log_format) {
        weir_log_format f;
        if (weir_log_parse_format(log_format, &f)) {
            rc = weir_cli_usage_error(cmd, "--log-format expects 'text' or 'json', got '%s'", log_format);
            goto cleanup;
        }
        weir_log_set_format(f);
    }
cleanup:
    weir_vec_release(&args);
    weir_buf_release(&name);
    weir_error_release(&err);
    return rc;
}

void weir_cli_print_json(json_t *v)
{
    weir_buf b = WEIR_BUF_INIT;
    weir_json_dump(v, 2, &b);
    weir_buf_addch(&b, '\n');
    fwrite(b.ptr, 1, b.len, stdout);
    weir_buf_release(&b);
    json_decref(v);
}

static void print_subs(const char *group, const weir_command *subs, size_t n, FILE *f)
{
    size_t skip = strlen(group) + 1;
    fprintf(f, "usage: weir %s SUBCOMMAND [ARGS]\n\nsubcommands:\n", group);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-10s %s\n", subs[i].name + skip, subs[i].summary);
    fprintf(f, "\n'weir %s SUBCOMMAND --help' for one\n", group);
}

int weir_cli_dispatch(const char *group, const weir_command *subs, size_t n, int argc,
                      char **argv)
{
    size_t skip = strlen(group) + 1;
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        print_subs(group, subs, n, argc < 1 ? stderr : stdout);
        return argc < 1 ? WEIR_EXIT_USAGE : WEIR_EXIT_OK;
    }
    const char **names = weir_xcalloc(n ? n : 1, sizeof(*names));
    int rc = WEIR_EXIT_USAGE;
    for (size_t i = 0; i < n; i++) {
        names[i] = subs[i].name + skip;
        if (!strcmp(argv[0], names[i])) {
            rc = subs[i].run(&subs[i], argc - 1, argv + 1);
            goto done;
        }
    }
    const char *s = weir_str_suggest(argv[0], names, n);
    if (s)
        fprintf(stderr, "weir: error: unknown subcommand '%s %s' (did you mean '%s'?)\n", group,
                argv[0], s);
    else
        fprintf(stderr, "weir: error: unknown subcommand '%s %s' (see 'weir %s --help')\n", group,
                argv[0], group);
done:
    free(names);
    return rc;
}
