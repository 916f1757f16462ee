/*
 * host.c: a small dbt-like host for the template tests (see golden.h).
 */
#include "core/compat.h"

#include "golden.h"

static int h_ref(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    if (a->npos < 1 || a->npos > 2)
        return weir_error_set(err, WEIR_EINVALID, "ref() takes 1 or 2 arguments");
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_addf(&b, "\"main\".\"%s\"", weir_tvalue_str(&a->pos[a->npos - 1]));
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

/* relation(name): a dbt-like relation object, printed quoted, with attributes */
static int h_relation(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    if (a->npos != 1)
        return weir_error_set(err, WEIR_EINVALID, "relation() takes 1 argument");
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_addf(&b, "\"db\".\"main\".\"%s\"", weir_tvalue_str(&a->pos[0]));
    weir_tvalue rel = weir_tvalue_object(b.ptr);
    weir_buf_release(&b);
    weir_tvalue_dict_set(&rel, "database", weir_tvalue_string("db"));
    weir_tvalue_dict_set(&rel, "schema", weir_tvalue_string("main"));
    weir_tvalue_dict_set(&rel, "identifier", weir_tvalue_copy(&a->pos[0]));
    weir_tvalue_dict_set(&rel, "name", weir_tvalue_copy(&a->pos[0]));
    *out = rel;
    return 0;
}

static int h_source(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    if (a->npos != 2)
        return weir_error_set(err, WEIR_EINVALID, "source() takes 2 arguments");
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_addf(&b, "\"%s\".\"%s\"", weir_tvalue_str(&a->pos[0]), weir_tvalue_str(&a->pos[1]));
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

static int h_config(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(a);
    WEIR_UNUSED(err);
    *out = weir_tvalue_string("");
    return 0;
}

static int h_var(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    const weir_tvalue *name, *dflt;
    if (!weir_args_get(a, 0, "name", &name))
        return weir_error_set(err, WEIR_EINVALID, "var() takes a name");
    if (weir_args_get(a, 1, "default", &dflt)) {
        *out = weir_tvalue_copy(dflt);
        return 0;
    }
    return weir_error_set(err, WEIR_ENOTFOUND, "required var '%s' not found",
                          weir_tvalue_str(name));
}

static int h_return(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    *out = a->npos ? weir_tvalue_copy(&a->pos[0]) : weir_tvalue_none();
    return WEIR_TEMPLATE_RETURN;
}

static int h_false(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(a);
    WEIR_UNUSED(err);
    *out = weir_tvalue_bool(0);
    return 0;
}

static int h_raise(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(out);
    return weir_error_set(err, WEIR_EINVALID, "%s", a->npos ? weir_tvalue_str(&a->pos[0]) : "");
}

static int h_identity(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    *out = a->npos ? weir_tvalue_copy(&a->pos[0]) : weir_tvalue_none();
    return 0;
}

static int h_config_get(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    const weir_tvalue *dflt;
    *out = weir_args_get(a, 1, "default", &dflt) ? weir_tvalue_copy(dflt) : weir_tvalue_none();
    return 0;
}

/* dbt's rule: materialization_<name>_<adapter>, the adapter "default" unless given */
static int name_materialization(void *ud, const char *tag, const char *name,
                                const weir_tvalue *options, weir_buf *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    const weir_tvalue *adapter = weir_tvalue_dict_get(options, "adapter");
    if (adapter && weir_tvalue_kind_of(adapter) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "adapter must be a string");
    weir_buf_addf(out, "%s_%s_%s", tag, name, adapter ? weir_tvalue_str(adapter) : "default");
    return 0;
}

weir_template_env *weir_test_template_env(void)
{
    weir_template_env *env = weir_template_env_new();
    weir_template_env_add_function(env, "ref", h_ref, NULL);
    weir_template_env_add_function(env, "source", h_source, NULL);
    weir_template_env_add_function(env, "relation", h_relation, NULL);
    weir_tvalue config = weir_tvalue_function("config", h_config, NULL);
    weir_tvalue_func_set_attr(&config, "get", weir_tvalue_function("get", h_config_get, NULL));
    weir_template_env_set_global(env, "config", config);
    weir_template_env_add_function(env, "var", h_var, NULL);
    weir_template_env_add_function(env, "return", h_return, NULL);
    weir_template_env_add_function(env, "is_incremental", h_false, NULL);
    weir_template_env_add_function(env, "raise_error", h_raise, NULL);
    weir_template_env_add_filter(env, "as_text", h_identity, NULL);
    weir_template_env_add_macro_tag(env, "test", "test_", 0);
    weir_template_env_add_macro_tag(env, "docs", "docs_", 1);
    weir_template_env_add_macro_tag_named(env, "materialization", 1, name_materialization, NULL);
    weir_template_env_trace_calls(env, "ref");
    weir_template_env_trace_calls(env, "source");
    return env;
}
