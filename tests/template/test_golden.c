/*
 * test_golden.c: runs the golden corpus the .test files of tests/data/template.
 *
 * A .test file holds cases, each starting with a line "=== name" (words
 * after the name are options: "strict" turns strict mode on, "lenient"
 * lenient mode, "nojinja" keeps a case out of the check against Jinja2). Lines
 * starting with "#" right after it are comments (where Jinja2 is subtle,
 * they say why). Then sections, each a "--- kind" line and its content up
 * to the next marker line, without the final line break (an empty last
 * line makes the content end with "\n"):
 *   --- template      the template (file name "tpl" in errors)
 *   --- context       JSON object of variables (optional)
 *   --- macros NS     macros loaded before the template, in namespace NS
 *                     (no NS: global); may repeat
 *   --- output        expected output, exactly
 *   --- error         text the formatted error must contain, line by line
 *   --- calls         expected traced calls as compact JSON
 * Every failing case is reported with its file, line and name.
 */
#include "harness.h"

#include "core/fs.h"
#include "core/json.h"
#include "golden.h"

typedef struct {
    char *name;
    unsigned line;
    int strict, lenient;
    weir_buf tpl, ctx, out, err, calls;
    int has_out, has_err, has_calls;
    weir_strvec macro_ns, macro_src;
} gcase;

static void case_init(gcase *c)
{
    memset(c, 0, sizeof(*c));
    weir_buf_init(&c->tpl, 0);
    weir_buf_init(&c->ctx, 0);
    weir_buf_init(&c->out, 0);
    weir_buf_init(&c->err, 0);
    weir_buf_init(&c->calls, 0);
}

static void case_release(gcase *c)
{
    free(c->name);
    weir_buf_release(&c->tpl);
    weir_buf_release(&c->ctx);
    weir_buf_release(&c->out);
    weir_buf_release(&c->err);
    weir_buf_release(&c->calls);
    weir_strvec_release(&c->macro_ns);
    weir_strvec_release(&c->macro_src);
}

/* Runs one case; returns 0 when it passes, else appends why to report. */
static int run_case(gcase *c, weir_buf *report)
{
    weir_template_env *env = weir_test_template_env();
    weir_template *t = NULL;
    weir_error err = WEIR_ERROR_INIT;
    weir_buf out = WEIR_BUF_INIT, ferr = WEIR_BUF_INIT;
    weir_tvalue ctx = weir_tvalue_undefined(), calls = weir_tvalue_undefined();
    int failed = 0, rc = 0;
    weir_template_env_set_strict(env, c->strict);
    weir_template_env_set_lenient(env, c->lenient);
    weir_template_env_set_limits(env, 0, 1 << 20, 10000000);
    if (c->ctx.len) {
        json_t *j;
        if (weir_json_parse(c->ctx.ptr, c->ctx.len, "context", &j, &err)) {
            weir_buf_addf(report, "  bad context JSON: %s\n", weir_error_str(&err));
            failed = 1;
            goto cleanup;
        }
        ctx = weir_tvalue_from_json(j);
        json_decref(j);
    }
    for (size_t i = 0; i < c->macro_src.len && !rc; i++)
        rc = weir_template_env_load_macros(env, c->macro_ns.items[i], "macros.sql",
                                           c->macro_src.items[i], strlen(c->macro_src.items[i]),
                                           &err);
    if (!rc)
        rc = weir_template_compile(env, "tpl", c->tpl.ptr, c->tpl.len, &t, &err);
    if (!rc)
        rc = weir_template_render(t, &ctx, &out, c->has_calls ? &calls : NULL, &err);
    if (rc) {
        weir_template_format_error(&err, &ferr);
        if (!c->has_err) {
            weir_buf_addf(report, "  unexpected error:\n%s\n", ferr.ptr);
            failed = 1;
        } else {
            /* each expected line must appear in the error */
            char *exp = c->err.ptr;
            while (*exp) {
                char *nl = strchr(exp, '\n');
                size_t n = nl ? (size_t)(nl - exp) : strlen(exp);
                char *line = strndup(exp, n);
                if (!strstr(ferr.ptr, line)) {
                    weir_buf_addf(report, "  error lacks \"%s\":\n%s\n", line, ferr.ptr);
                    failed = 1;
                }
                free(line);
                exp += n + (nl ? 1 : 0);
            }
        }
    } else if (c->has_err) {
        weir_buf_addf(report, "  expected an error, got output:\n[%s]\n", out.ptr);
        failed = 1;
    } else if (!c->has_out && !c->has_calls) {
        weir_buf_addf(report, "  the case has no expected output, error or calls\n");
        failed = 1;
    } else if (c->has_out && strcmp(out.ptr, c->out.ptr) != 0) {
        weir_buf_addf(report, "  output differs\n  expected: [%s]\n  got:      [%s]\n", c->out.ptr,
                      out.ptr);
        failed = 1;
    }
    if (!rc && c->has_calls) {
        json_t *j = weir_tvalue_to_json(&calls);
        weir_buf got = WEIR_BUF_INIT;
        weir_json_dump(j, 0, &got);
        json_decref(j);
        if (strcmp(got.ptr, c->calls.ptr) != 0) {
            weir_buf_addf(report, "  calls differ\n  expected: %s\n  got:      %s\n", c->calls.ptr,
                          got.ptr);
            failed = 1;
        }
        weir_buf_release(&got);
    }
cleanup:
    weir_tvalue_free(ctx);
    weir_tvalue_free(calls);
    weir_template_free(t);
    weir_template_env_free(env);
    weir_error_release(&err);
    weir_buf_release(&out);
    weir_buf_release(&ferr);
    return failed;
}

static void finish_case(gcase *c, const char *path, int *total, int *fails, weir_buf *report)
{
    weir_buf why = WEIR_BUF_INIT;
    (*total)++;
    if (getenv("WEIR_GOLDEN_VERBOSE"))
        fprintf(stderr, "case %s:%u: %s\n", path, c->line, c->name);
    if (run_case(c, &why)) {
        (*fails)++;
        weir_buf_addf(report, "FAIL %s:%u: %s\n%s", path, c->line, c->name, why.ptr);
    }
    weir_buf_release(&why);
    case_release(c);
}

/* Runs the cases of one file; returns the number that failed. */
static int run_file(const char *path, int *total, weir_buf *report)
{
    weir_buf text = WEIR_BUF_INIT;
    weir_error err = WEIR_ERROR_INIT;
    if (weir_fs_read_file(path, &text, 0, &err)) {
        weir_buf_addf(report, "%s: %s\n", path, weir_error_str(&err));
        weir_error_release(&err);
        return 1;
    }
    int fails = 0, in_case = 0, lines_in_sect = 0;
    gcase c;
    weir_buf *sect = NULL, macro = WEIR_BUF_INIT;
    int in_macro = 0;
    unsigned lineno = 0;
    char *p = text.ptr, *end = text.ptr + text.len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        int new_case = n >= 4 && !strncmp(p, "=== ", 4);
        int new_sect = in_case && n >= 4 && !strncmp(p, "--- ", 4);
        if ((new_case || new_sect) && in_macro) {
            free(c.macro_src.items[c.macro_src.len - 1]);
            c.macro_src.items[c.macro_src.len - 1] = weir_buf_detach(&macro, NULL);
            in_macro = 0;
        }
        if (new_case) {
            if (in_case)
                finish_case(&c, path, total, &fails, report);
            case_init(&c);
            in_case = 1;
            sect = NULL;
            c.line = lineno;
            char *name = strndup(p + 4, n - 4);
            char *sp = strchr(name, ' ');
            if (sp) {
                c.strict = strstr(sp, " strict") != NULL;
                c.lenient = strstr(sp, " lenient") != NULL;
                *sp = '\0';
            }
            c.name = name;
        } else if (new_sect) {
            char kind[64] = "", arg1[128] = "";
            char *l = strndup(p + 4, n - 4);
            sscanf(l, "%63s %127s", kind, arg1);
            free(l);
            lines_in_sect = 0;
            sect = NULL;
            if (!strcmp(kind, "template")) sect = &c.tpl;
            else if (!strcmp(kind, "context")) sect = &c.ctx;
            else if (!strcmp(kind, "output")) { sect = &c.out; c.has_out = 1; }
            else if (!strcmp(kind, "error")) { sect = &c.err; c.has_err = 1; }
            else if (!strcmp(kind, "calls")) { sect = &c.calls; c.has_calls = 1; }
            else if (!strcmp(kind, "macros")) {
                weir_strvec_push(&c.macro_ns, arg1);
                weir_strvec_push(&c.macro_src, "");
                weir_buf_reset(&macro);
                sect = &macro;
                in_macro = 1;
            } else
                weir_buf_addf(report, "%s:%u: unknown section '%s'\n", path, lineno, kind);
        } else if (sect) {
            if (lines_in_sect++)
                weir_buf_addch(sect, '\n');
            weir_buf_add(sect, p, n);
        }
        p = nl ? nl + 1 : end;
    }
    if (in_macro) {
        free(c.macro_src.items[c.macro_src.len - 1]);
        c.macro_src.items[c.macro_src.len - 1] = weir_buf_detach(&macro, NULL);
    }
    if (in_case)
        finish_case(&c, path, total, &fails, report);
    weir_buf_release(&macro);
    weir_buf_release(&text);
    return fails;
}

TEST(corpus)
{
    weir_strvec files = WEIR_VEC_INIT;
    weir_error err = WEIR_ERROR_INIT;
    static const char *const exts[] = { ".test" };
    const char *dir = weir_test_data("template");
    CHECK_OK(weir_fs_list(dir, exts, 1, 0, &files, &err), &err);
    CHECK(files.len > 0);
    int total = 0, fails = 0;
    weir_buf report = WEIR_BUF_INIT;
    for (size_t i = 0; i < files.len; i++)
        fails += run_file(files.items[i], &total, &report);
    fprintf(stderr, "%s", report.ptr);
    fprintf(stderr, "template golden corpus: %d cases, %d passed, %d failed\n", total,
            total - fails, fails);
    weir_buf_release(&report);
    weir_strvec_release(&files);
    CHECK_INT(fails, ==, 0);
}
