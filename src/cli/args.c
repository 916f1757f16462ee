/*
 * args.c: the option parser behind every command (see args.h).
 */
#include "core/compat.h"

#include "cli/args.h"
#include "core/buf.h"
#include "core/str.h"

static const weir_option *find_long(const weir_option *opts, size_t n, const char *name,
                                    size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].long_name) == len && strncmp(opts[i].long_name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static const weir_option *find_short(const weir_option *opts, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (opts[i].short_name && opts[i].short_name == c)
            return &opts[i];
    return NULL;
}

static int unknown_long(const char *cmd, const weir_option *opts, size_t n, const char *name,
                        size_t len, weir_error *err)
{
    weir_strvec names = WEIR_VEC_INIT;
    weir_buf word = WEIR_BUF_INIT;
    weir_buf_add(&word, name, len);
    for (size_t i = 0; i < n; i++)
        weir_vec_push(&names, (char *)opts[i].long_name);
    const char *s = weir_str_suggest(word.ptr, (const char *const *)names.items, names.len);
    if (s)
        weir_error_set(err, WEIR_EINVALID, "unknown option '--%s' for '%s' (did you mean '--%s'?)",
                       word.ptr, cmd, s);
    else
        weir_error_set(err, WEIR_EINVALID, "unknown option '--%s' for '%s' (see '%s --help')",
                       word.ptr, cmd, cmd);
    weir_vec_release(&names);
    weir_buf_release(&word);
    return WEIR_EINVALID;
}

static int store(const char *cmd, const weir_option *o, const char *value, weir_error *err)
{
    switch (o->kind) {
    case WEIR_OPT_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case WEIR_OPT_STRING:
        *(const char **)o->dest = value;
        return 0;
    case WEIR_OPT_INT: {
        long long v;
        if (weir_str_to_i64(value, &v))
            return weir_error_set(err, WEIR_EINVALID,
                                  "option '--%s' of '%s' expects a whole number, got '%s'",
                                  o->long_name, cmd, value);
        *(long long *)o->dest = v;
        return 0;
    }
    case WEIR_OPT_LIST:
        weir_strvec_push(o->dest, value);
        return 0;
    }
    return WEIR_ERROR;
}

int weir_args_parse(const char *cmd, const weir_option *opts, size_t n_opts, int argc,
                    char **argv, weir_strvec *positional, weir_error *err)
{
    int only_positional = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            weir_strvec_push(positional, a);
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        const weir_option *o;
        const char *value = NULL;
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(opts, n_opts, name, len);
            if (!o)
                return unknown_long(cmd, opts, n_opts, name, len, err);
            if (eq) {
                if (o->kind == WEIR_OPT_FLAG)
                    return weir_error_set(err, WEIR_EINVALID, "option '--%s' of '%s' takes no value",
                                          o->long_name, cmd);
                value = eq + 1;
            }
        } else {
            o = find_short(opts, n_opts, a[1]);
            if (!o)
                return weir_error_set(err, WEIR_EINVALID, "unknown option '-%c' for '%s' (see '%s --help')",
                                      a[1], cmd, cmd);
            if (a[2]) {
                if (o->kind == WEIR_OPT_FLAG)
                    return weir_error_set(err, WEIR_EINVALID,
                                          "unknown option '%s' for '%s' (options take one dash per letter)",
                                          a, cmd);
                value = a + 2;
            }
        }
        if (o->kind != WEIR_OPT_FLAG && !value) {
            if (i + 1 >= argc)
                return weir_error_set(err, WEIR_EINVALID, "option '--%s' of '%s' needs a value (%s)",
                                      o->long_name, cmd, o->arg_name ? o->arg_name : "VALUE");
            value = argv[++i];
        }
        int rc = store(cmd, o, value, err);
        if (rc)
            return rc;
    }
    return 0;
}

void weir_args_print_options(const weir_option *opts, size_t n_opts, FILE *out)
{
    size_t width = 0;
    weir_buf b = WEIR_BUF_INIT;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n_opts; i++) {
            const weir_option *o = &opts[i];
            weir_buf_reset(&b);
            if (o->short_name)
                weir_buf_addf(&b, "-%c, ", o->short_name);
            else
                weir_buf_adds(&b, "    ");
            weir_buf_addf(&b, "--%s", o->long_name);
            if (o->kind != WEIR_OPT_FLAG)
                weir_buf_addf(&b, " %s", o->arg_name ? o->arg_name : "VALUE");
            if (pass == 0)
                width = b.len > width ? b.len : width;
            else
                fprintf(out, "  %-*s  %s\n", (int)width, b.ptr, o->help);
        }
    }
    weir_buf_release(&b);
}
