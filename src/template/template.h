/*
 * template.h: Jinja2 templates, compiled once and rendered many times.
 *
 * The engine follows Jinja2 as dbt configures it: no autoescape,
 * trim_blocks and lstrip_blocks off, one trailing newline of the source
 * dropped (keep_trailing_newline off), the `do` statement and
 * `break`/`continue` enabled. It knows nothing of dbt: the host registers
 * functions (ref, source, config, var, ...) and values in an environment.
 *
 *   weir_template_env *env = weir_template_env_new();
 *   weir_template_env_add_function(env, "ref", my_ref, my_data);
 *   weir_template *t;
 *   if (weir_template_compile(env, "models/a.sql", src, len, &t, &err)) ...
 *   weir_template_render(t, &ctx, &out, NULL, &err);   // as often as needed
 *   weir_template_free(t);
 *   weir_template_env_free(env);
 *
 * Lifetimes: a template belongs to its environment, which must outlive it.
 * Macros loaded with weir_template_env_load_macros() live in the
 * environment; values that renders hand out may share constant strings with
 * those macro files, so free them before the environment. Values follow
 * value.h's ownership rules.
 *
 * Threads: after setup, one environment may render from many threads at
 * once (each render has its own state) as long as no thread loads macros or
 * sets globals meanwhile, and templates do not mutate shared globals.
 *
 * Errors read "file:line:col: message", and the message continues with the
 * source line and a caret under the column:
 *     models/a.sql:3:12: no filter named 'uper'
 *       select {{ x | uper }}
 *                     ^
 */
#ifndef WEIR_TEMPLATE_H
#define WEIR_TEMPLATE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"
#include "template/value.h"

/* A host function returns this to end the enclosing macro with *out. */
#define WEIR_TEMPLATE_RETURN 1

typedef struct weir_template_env weir_template_env;
typedef struct weir_template weir_template;

/* --- environment -------------------------------------------------------- */

weir_template_env *weir_template_env_new(void);
/* Frees the environment, its globals and macros. NULL is fine. */
void weir_template_env_free(weir_template_env *env);

/* Makes name a global variable; val is consumed. Replaces an earlier one. */
void weir_template_env_set_global(weir_template_env *env, const char *name, weir_tvalue val);
/* Registers a global function (shorthand for set_global of a function). */
void weir_template_env_add_function(weir_template_env *env, const char *name,
                                    weir_host_fn fn, void *ud);
/*
 * Registers a filter: fn receives the filtered value as the first positional
 * argument. Host filters take precedence over the built-in ones.
 */
void weir_template_env_add_filter(weir_template_env *env, const char *name,
                                  weir_host_fn fn, void *ud);
/*
 * Makes `{% tag name(args) %}...{% endtag %}` define a macro named
 * prefix + name (dbt's `test` and `docs` blocks). With no_signature, the
 * tag takes a bare name and no argument list (`{% docs x %}`).
 */
void weir_template_env_add_macro_tag(weir_template_env *env, const char *tag,
                                     const char *prefix, int no_signature);

/* Strict mode: printing, iterating or testing an undefined value is an error. */
void weir_template_env_set_strict(weir_template_env *env, int strict);
/*
 * Lenient mode, as dbt's parse phase: an attribute, item or call of an
 * undefined value is undefined instead of an error (arguments are still
 * evaluated, so traced calls inside are recorded). Off by default.
 */
void weir_template_env_set_lenient(weir_template_env *env, int lenient);
/* Limits: macro call depth (default 200), output bytes (default 64 MiB),
 * evaluation steps per render (default 0: unlimited). */
void weir_template_env_set_limits(weir_template_env *env, int max_depth,
                                  size_t max_output, uint64_t max_steps);
/*
 * Asks renders to record every call of the global function name (e.g.
 * "ref"); see weir_template_render(). May be called for several names.
 */
void weir_template_env_trace_calls(weir_template_env *env, const char *name);

/*
 * Compiles the macros of a file and stores them under namespace ns: with ns
 * NULL or "", as globals (`my_macro()`); otherwise as `ns.my_macro()` (a
 * package's macros). Text outside macros is ignored. Macros see the globals
 * and the render context of the template that calls them.
 */
int weir_template_env_load_macros(weir_template_env *env, const char *ns,
                                  const char *file, const char *src, size_t len,
                                  weir_error *err);
/*
 * Looks up a macro ("name" or "ns.name"); *out is a new reference to a
 * callable value, or WEIR_ENOTFOUND.
 */
int weir_template_env_get_macro(weir_template_env *env, const char *name,
                                weir_tvalue *out, weir_error *err);
/*
 * Calls a callable value (a macro from weir_template_env_get_macro, or any
 * function) with args, under the render context ctx (a dict, borrowed, or
 * NULL). *out receives the result: a macro's output as a string, or the
 * value it returned.
 */
int weir_template_env_call(weir_template_env *env, const weir_tvalue *fn,
                           const weir_args *args, const weir_tvalue *ctx,
                           weir_tvalue *out, weir_error *err);

/* --- templates ---------------------------------------------------------- */

/*
 * Parses src (len bytes; NUL bytes allowed) named file (used in errors).
 * *out is owned by the caller (weir_template_free) and refers to env.
 */
int weir_template_compile(weir_template_env *env, const char *file, const char *src,
                          size_t len, weir_template **out, weir_error *err);
void weir_template_free(weir_template *t);
const char *weir_template_name(const weir_template *t);

/*
 * Renders t with the variables of ctx (a dict, borrowed, or NULL) appended
 * to out. If calls is not NULL, *calls receives a new list with one entry
 * per call of a traced function: [name, [positional args], {keyword args}].
 * On error, out holds what was rendered before it.
 */
int weir_template_render(const weir_template *t, const weir_tvalue *ctx, weir_buf *out,
                         weir_tvalue *calls, weir_error *err);

/* Compiles and renders in one call (`weir compile --inline`). */
int weir_template_render_string(weir_template_env *env, const char *file,
                                const char *src, size_t len, const weir_tvalue *ctx,
                                weir_buf *out, weir_error *err);

/*
 * Formats an error of this module the way a compiler does:
 * "file:line:col: error: message" and the source line with a caret.
 */
void weir_template_format_error(const weir_error *err, weir_buf *out);

#endif
