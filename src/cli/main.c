/*
 * main.c: the `weir` binary's entry point and its command table.
 *
 * `weir [global options] COMMAND [options] [args]`. Global options may also
 * follow the command (every command accepts them). Unknown commands get a
 * "did you mean"; `weir help COMMAND` equals `weir COMMAND --help`.
 */
#include "core/compat.h"

#include "cli/cli.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"

static const weir_command *const commands[] = {
    &weir_cmd_init,
    &weir_cmd_check,
    &weir_cmd_query,
    &weir_cmd_compile,
    &weir_cmd_run,
    &weir_cmd_test,
    &weir_cmd_seed,
    &weir_cmd_snapshot,
    &weir_cmd_build,
    &weir_cmd_ls,
    &weir_cmd_docs,
    &weir_cmd_source,
    &weir_cmd_validate,
    &weir_cmd_profile,
    &weir_cmd_pipeline,
    &weir_cmd_monitor,
    &weir_cmd_serve,
    &weir_cmd_version,
};

static void print_help(FILE *out)
{
    fputs("usage: weir [--quiet | --verbose] [--log-format text|json] COMMAND [ARGS]\n"
          "\n"
          "weir turns a short YAML file and SQL models into a scheduled, tested,\n"
          "monitored data pipeline.\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("  help       show help for a command\n"
          "\n"
          "global options:\n"
          "  -q, --quiet            only errors on stderr\n"
          "  -v, --verbose          more detail on stderr (-v -v for debug)\n"
          "      --log-format FMT   'text' (default) or 'json' lines on stderr\n"
          "  -h, --help             this help; 'weir COMMAND --help' for a command\n"
          "      --version          same as 'weir version'\n"
          "\n"
          "exit status: 0 success, 1 the work failed, 2 bad usage or an invalid project\n",
          out);
}

static const weir_command *find_command(const char *name)
{
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    const char *names[WEIR_ARRAY_SIZE(commands) + 1];
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(commands); i++)
        names[i] = commands[i]->name;
    names[WEIR_ARRAY_SIZE(commands)] = "help";
    const char *s = weir_str_suggest(name, names, WEIR_ARRAY_SIZE(names));
    if (s)
        fprintf(stderr, "weir: error: unknown command '%s' (did you mean '%s'?)\n", name, s);
    else
        fprintf(stderr, "weir: error: unknown command '%s' (see 'weir --help')\n", name);
    return WEIR_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    int i = 1;
    /* Global options before the command; the same ones after it are handled
     * by weir_cli_parse. */
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_help(stdout);
            return WEIR_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            return weir_cmd_version.run(&weir_cmd_version, 0, argv + argc);
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            weir_log_set_level(WEIR_LOG_ERROR);
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            weir_log_level l = weir_log_get_level();
            weir_log_set_level(l < WEIR_LOG_TRACE ? (weir_log_level)(l + 1) : l);
        } else if (strncmp(a, "--log-format", 12) == 0) {
            const char *v = a[12] == '=' ? a + 13 : (a[12] == '\0' && i + 1 < argc ? argv[++i] : NULL);
            weir_log_format f;
            if (!v || weir_log_parse_format(v, &f)) {
                fprintf(stderr, "weir: error: --log-format expects 'text' or 'json'\n");
                return WEIR_EXIT_USAGE;
            }
            weir_log_set_format(f);
        } else {
            fprintf(stderr, "weir: error: unknown option '%s' (see 'weir --help')\n", a);
            return WEIR_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_help(stderr);
        return WEIR_EXIT_USAGE;
    }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        if (i + 1 >= argc) {
            print_help(stdout);
            return WEIR_EXIT_OK;
        }
        const weir_command *c = find_command(argv[i + 1]);
        if (!c)
            return unknown_command(argv[i + 1]);
        char *help_argv[] = { "--help", NULL };
        return c->run(c, 1, help_argv);
    }
    const weir_command *c = find_command(name);
    if (!c)
        return unknown_command(name);
    return c->run(c, argc - i - 1, argv + i + 1);
}
