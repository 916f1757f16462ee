/*
 * fuzz_template.c: libFuzzer target over the template engine: compile the
 * input as a template, render it with a small context and host functions,
 * and load it as a macro file. Any input must end in output or an error,
 * never a crash, a leak or a hang (the step and size limits bound work).
 */
#include "core/compat.h"

#include "template/template.h"

static int host_echo(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    *out = a->npos ? weir_tvalue_copy(&a->pos[0]) : weir_tvalue_none();
    return 0;
}

static int host_return(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    *out = a->npos ? weir_tvalue_copy(&a->pos[0]) : weir_tvalue_none();
    return WEIR_TEMPLATE_RETURN;
}

static int host_fail(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(a);
    WEIR_UNUSED(out);
    return weir_error_set(err, WEIR_EINVALID, "failed on purpose");
}

static int namer(void *ud, const char *tag, const char *name, const weir_tvalue *options,
                 weir_buf *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    const weir_tvalue *a = weir_tvalue_dict_get(options, "adapter");
    if (a && weir_tvalue_kind_of(a) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "adapter must be a string");
    weir_buf_addf(out, "%s_%s_%s", tag, name, a ? weir_tvalue_str(a) : "default");
    return 0;
}

static weir_template_env *make_env(int strict, int lenient)
{
    weir_template_env *env = weir_template_env_new();
    weir_template_env_add_function(env, "ref", host_echo, NULL);
    weir_template_env_add_function(env, "return", host_return, NULL);
    weir_template_env_add_function(env, "fail", host_fail, NULL);
    weir_template_env_add_filter(env, "as_text", host_echo, NULL);
    weir_template_env_add_macro_tag(env, "test", "test_", 0);
    weir_template_env_add_macro_tag_named(env, "materialization", 1, namer, NULL);
    weir_template_env_trace_calls(env, "ref");
    weir_template_env_set_strict(env, strict);
    weir_template_env_set_lenient(env, lenient);
    weir_template_env_set_limits(env, 40, 1 << 16, 20000);
    return env;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a first byte of '!' turns strict mode on, '?' lenient mode */
    weir_template_env *env = make_env(size > 0 && data[0] == '!', size > 0 && data[0] == '?');
    weir_error err = WEIR_ERROR_INIT;
    weir_template *t = NULL;
    weir_tvalue ctx = weir_tvalue_dict(), calls = weir_tvalue_undefined();
    weir_tvalue l = weir_tvalue_list();
    weir_tvalue_list_push(&l, weir_tvalue_int(1));
    weir_tvalue_list_push(&l, weir_tvalue_string("two"));
    weir_tvalue_dict_set(&ctx, "l", l);
    weir_tvalue_dict_set(&ctx, "s", weir_tvalue_string("Hello, World"));
    weir_tvalue_dict_set(&ctx, "n", weir_tvalue_int(3));
    weir_tvalue_dict_set(&ctx, "f", weir_tvalue_float(2.5));
    weir_tvalue_dict_set(&ctx, "d", weir_tvalue_dict());
    weir_tvalue rel = weir_tvalue_object("\"db\".\"main\".\"t\"");
    weir_tvalue_dict_set(&rel, "schema", weir_tvalue_string("main"));
    weir_tvalue_dict_set(&ctx, "this", rel);
    weir_buf out = WEIR_BUF_INIT, msg = WEIR_BUF_INIT;
    if (weir_template_compile(env, "fuzz", (const char *)data, size, &t, &err) == 0) {
        if (weir_template_render(t, &ctx, &out, &calls, &err))
            weir_template_format_error(&err, &msg);
        weir_template_free(t);
    } else
        weir_template_format_error(&err, &msg);
    weir_error_clear(&err);
    if (weir_template_env_load_macros(env, "ns", "fuzz", (const char *)data, size, &err) == 0) {
        weir_tvalue fn;
        if (weir_template_env_get_macro(env, "ns.m", &fn, &err) == 0) {
            weir_tvalue res;
            weir_tvalue arg = weir_tvalue_int(1);
            weir_args args = { &arg, 1, NULL, NULL, 0 };
            if (weir_template_env_call(env, &fn, &args, &ctx, &res, &err) == 0)
                weir_tvalue_free(res);
            weir_tvalue_free(fn);
        }
    }
    weir_error_release(&err);
    weir_tvalue_free(calls);
    weir_tvalue_free(ctx);
    weir_buf_release(&out);
    weir_buf_release(&msg);
    weir_template_env_free(env);
    return 0;
}
