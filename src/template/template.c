/*
 * template.c: the public side of the engine (contract in template.h): the
 * environment with its globals, host filters, macro tags and macro files;
 * compiling (newline normalisation, then parse.c); rendering (eval.c).
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "template/tpl_int.h"

static void free_value_ptr(void *p)
{
    weir_tvalue *v = p;
    weir_tvalue_free(*v);
    free(v);
}

static void map_put_value(weir_map *m, const char *name, weir_tvalue v)
{
    weir_tvalue *slot = weir_xmalloc(sizeof(*slot));
    *slot = v;
    weir_tvalue *old = weir_map_put(m, name, slot);
    if (old)
        free_value_ptr(old);
}

static void release_value_map(weir_map *m)
{
    size_t it = 0;
    const char *k;
    void *v;
    while (weir_map_next(m, &it, &k, &v))
        free_value_ptr(v);
    weir_map_release(m);
}

weir_template_env *weir_template_env_new(void)
{
    weir_template_env *env = weir_xcalloc(1, sizeof(*env));
    weir_map_init(&env->globals);
    weir_map_init(&env->filters);
    weir_map_init(&env->tags);
    weir_map_init(&env->macros);
    weir_map_init(&env->namespaces);
    env->max_depth = 200;
    env->max_output = (size_t)64 << 20;
    static const char *const builtins[] = { "range", "dict", "namespace", "modules" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(builtins); i++) {
        weir_tvalue v;
        if (weir_tpl__builtin_global(builtins[i], &v))
            map_put_value(&env->globals, builtins[i], v);
    }
    return env;
}

void weir_template_env_free(weir_template_env *env)
{
    if (!env)
        return;
    /* macros refer to their files' syntax trees: drop the values first */
    release_value_map(&env->macros);
    release_value_map(&env->namespaces);
    release_value_map(&env->globals);
    release_value_map(&env->filters);
    size_t it = 0;
    const char *k;
    void *v;
    while (weir_map_next(&env->tags, &it, &k, &v)) {
        free(((macro_tag *)v)->prefix);
        free(v);
    }
    weir_map_release(&env->tags);
    for (size_t i = 0; i < env->files.len; i++)
        weir_template_free(env->files.items[i]);
    weir_vec_release(&env->files);
    weir_strvec_release(&env->traced);
    free(env);
}

void weir_template_env_set_global(weir_template_env *env, const char *name, weir_tvalue val)
{
    map_put_value(&env->globals, name, val);
}

void weir_template_env_add_function(weir_template_env *env, const char *name, weir_host_fn fn,
                                    void *ud)
{
    map_put_value(&env->globals, name, weir_tvalue_function(name, fn, ud));
}

void weir_template_env_add_filter(weir_template_env *env, const char *name, weir_host_fn fn,
                                  void *ud)
{
    map_put_value(&env->filters, name, weir_tvalue_function(name, fn, ud));
}

void weir_template_env_add_macro_tag_named(weir_template_env *env, const char *tag,
                                           int no_signature, weir_macro_namer namer, void *ud)
{
    weir_template_env_add_macro_tag(env, tag, "", no_signature);
    macro_tag *mt = weir_map_get(&env->tags, tag);
    mt->namer = namer;
    mt->ud = ud;
}

void weir_template_env_add_macro_tag(weir_template_env *env, const char *tag, const char *prefix,
                                     int no_signature)
{
    macro_tag *mt = weir_xcalloc(1, sizeof(*mt));
    mt->prefix = weir_xstrdup(prefix ? prefix : "");
    mt->no_signature = no_signature;
    macro_tag *old = weir_map_put(&env->tags, tag, mt);
    if (old) {
        free(old->prefix);
        free(old);
    }
}

void weir_template_env_set_strict(weir_template_env *env, int strict)
{
    env->strict = strict;
}

void weir_template_env_set_lenient(weir_template_env *env, int lenient)
{
    env->lenient = lenient;
}

void weir_template_env_set_limits(weir_template_env *env, int max_depth, size_t max_output,
                                  uint64_t max_steps)
{
    if (max_depth > 0)
        env->max_depth = max_depth;
    if (max_output > 0)
        env->max_output = max_output;
    env->max_steps = max_steps;
}

void weir_template_env_trace_calls(weir_template_env *env, const char *name)
{
    weir_strvec_push(&env->traced, name);
}

/* --- compiling ---------------------------------------------------------------- */

static int compile(weir_template_env *env, const char *file, const char *src, size_t len,
                   int shared, weir_template **out, weir_error *err)
{
    weir_template *t = weir_xcalloc(1, sizeof(*t));
    t->env = env;
    t->shared = shared;
    weir_arena_init(&t->arena, 0);
    t->name = weir_xstrdup(file ? file : "<string>");
    /* Jinja2 reads "\r\n" and "\r" as "\n" and, without
     * keep_trailing_newline, drops one newline at the end */
    char *s = weir_arena_alloc(&t->arena, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        const char *cr = memchr(src + i, '\r', len - i);
        size_t run = cr ? (size_t)(cr - (src + i)) : len - i;
        memcpy(s + n, src + i, run);
        n += run;
        i += run;
        if (cr) {
            s[n++] = '\n';
            i += (i + 1 < len && src[i + 1] == '\n') ? 2 : 1;
        }
    }
    if (n && s[n - 1] == '\n')
        n--;
    s[n] = '\0';
    t->src = s;
    t->srclen = n;
    int rc = weir_tpl__parse(t, err);
    if (rc) {
        weir_template_free(t);
        *out = NULL;
        return rc;
    }
    *out = t;
    return 0;
}

int weir_template_compile(weir_template_env *env, const char *file, const char *src, size_t len,
                          weir_template **out, weir_error *err)
{
    return compile(env, file, src, len, 0, out, err);
}

void weir_template_free(weir_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->consts.len; i++)
        weir_tvalue__free_immortal(t->consts.items[i]);
    weir_vec_release(&t->consts);
    weir_arena_release(&t->arena);
    free(t->name);
    free(t);
}

const char *weir_template_name(const weir_template *t)
{
    return t->name;
}

/* --- rendering ---------------------------------------------------------------- */

int weir_template_render(const weir_template *t, const weir_tvalue *ctx, weir_buf *out,
                         weir_tvalue *calls, weir_error *err)
{
    return weir_tpl__render(t, ctx, out, calls, err);
}

int weir_template_render_string(weir_template_env *env, const char *file, const char *src,
                                size_t len, const weir_tvalue *ctx, weir_buf *out,
                                weir_error *err)
{
    weir_template *t;
    int rc = weir_template_compile(env, file, src, len, &t, err);
    if (rc)
        return rc;
    rc = weir_template_render(t, ctx, out, NULL, err);
    weir_template_free(t);
    return rc;
}

/* --- macros ------------------------------------------------------------------- */

int weir_template_env_load_macros(weir_template_env *env, const char *ns, const char *file,
                                  const char *src, size_t len, weir_error *err)
{
    weir_template *t;
    int rc = compile(env, file, src, len, 1, &t, err);
    if (rc)
        return rc;
    weir_vec_push(&env->files, t);
    weir_tvalue *space = NULL;
    if (ns && *ns) {
        space = weir_map_get(&env->namespaces, ns);
        if (!space) {
            map_put_value(&env->namespaces, ns, weir_tvalue_dict());
            space = weir_map_get(&env->namespaces, ns);
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        const node *m = t->body[i];
        if (m->type != N_MACRO)
            continue;
        weir_tvalue fn = weir_tpl__macro_value(t, m);
        if (space)
            weir_tvalue_dict_set(space, m->name, fn);
        else
            map_put_value(&env->macros, m->name, fn);
    }
    return 0;
}

int weir_template_env_get_macro(weir_template_env *env, const char *name, weir_tvalue *out,
                                weir_error *err)
{
    const char *dot = strchr(name, '.');
    const weir_tvalue *v = NULL;
    if (dot) {
        char ns[256];
        snprintf(ns, sizeof(ns), "%.*s", (int)(dot - name < 255 ? dot - name : 255), name);
        weir_tvalue *space = weir_map_get(&env->namespaces, ns);
        if (space)
            v = weir_tvalue_dict_get(space, dot + 1);
    } else
        v = weir_map_get(&env->macros, name);
    if (!v)
        return weir_error_set(err, WEIR_ENOTFOUND, "no macro named '%s'", name);
    *out = weir_tvalue_copy(v);
    return 0;
}

static weir_tvalue macro_info(const weir_tvalue *fn)
{
    const vfunc *f = VFUNC(fn);
    const node *m = f->macro;
    const weir_template *t = f->tpl;
    weir_tvalue d = weir_tvalue_dict(), params = weir_tvalue_list();
    for (size_t i = 0; i < m->n2; i++)
        weir_tvalue_list_push(&params, weir_tvalue_string(m->names[i]));
    weir_tvalue_dict_set(&d, "name", weir_tvalue_string(m->name));
    weir_tvalue_dict_set(&d, "file", weir_tvalue_string(t->name));
    weir_tvalue_dict_set(&d, "line", weir_tvalue_int(m->line));
    weir_tvalue_dict_set(&d, "params", params);
    return d;
}

int weir_template_env_list_macros(weir_template_env *env, const char *ns, weir_tvalue *out,
                                  weir_error *err)
{
    *out = weir_tvalue_list();
    if (ns && *ns) {
        weir_tvalue *space = weir_map_get(&env->namespaces, ns);
        if (!space)
            return weir_error_set(err, WEIR_ENOTFOUND, "no macro namespace '%s'", ns);
        for (size_t i = 0; i < weir_tvalue_dict_len(space); i++)
            weir_tvalue_list_push(out, macro_info(weir_tvalue_dict_value_at(space, i)));
        return 0;
    }
    /* the global map has no order: walk the files instead */
    for (size_t k = 0; k < env->files.len; k++) {
        const weir_template *t = env->files.items[k];
        for (size_t i = 0; i < t->n; i++) {
            const node *m = t->body[i];
            if (m->type != N_MACRO)
                continue;
            weir_tvalue *fn = weir_map_get(&env->macros, m->name);
            if (fn && VFUNC(fn)->macro == m)
                weir_tvalue_list_push(out, macro_info(fn));
        }
    }
    return 0;
}

int weir_template_env_call(weir_template_env *env, const weir_tvalue *fn, const weir_args *args,
                           const weir_tvalue *ctx, weir_tvalue *out, weir_error *err)
{
    weir_args none = { NULL, 0, NULL, NULL, 0 };
    return weir_tpl__env_call(env, fn, args ? args : &none, ctx, out, err);
}

void weir_template_format_error(const weir_error *err, weir_buf *out)
{
    if (!err || !err->code) {
        weir_buf_adds(out, "no error");
        return;
    }
    if (err->file) {
        weir_buf_adds(out, err->file);
        if (err->line)
            weir_buf_addf(out, ":%u:%u", err->line, err->col);
        weir_buf_adds(out, ": ");
    }
    weir_buf_adds(out, "error: ");
    for (size_t i = err->context.len; i > 0; i--)
        weir_buf_addf(out, "%s: ", err->context.items[i - 1]);
    weir_buf_add(out, err->msg.ptr, err->msg.len);
}
