/*
 * params.c: templated kwargs. A suite may write Jinja in any string of an
 * expectation's kwargs (and so in row_condition):
 *
 *   - {expectation_type: expect_table_row_count_to_be_between,
 *      kwargs: {min_value: "{{ var('min_rows') }}",
 *               row_condition: "day = DATE '{{ ds }}'"}}
 *
 * Loading leaves such an expectation unchecked (x->templated);
 * weir_suite_render (suite.c) renders its kwargs here with ds,
 * data_interval_start/end and the project's vars, then checks them as
 * loading would have. This file alone of quality/ includes template/.
 * A string that is one {{ expression }} and renders as a number, boolean or none takes that type, so that `mostly: "{{
 * var('m') }}"` is a number; any other string stays a string.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/date.h"
#include "core/str.h"
#include "quality/render.h"
#include "template/template.h"

int weir_qx_has_template(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *item;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return strstr(s, "{{") || strstr(s, "{%");
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            if (weir_qx_has_template(item))
                return 1;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, item)
            if (weir_qx_has_template(item))
                return 1;
    }
    return 0;
}

struct weir_qx_render {
    weir_template_env *env;
    weir_tvalue vars;   /* a dict */
    weir_tvalue ctx;    /* ds, data_interval_start, data_interval_end */
};
typedef struct weir_qx_render render_ctx;

static int h_var(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    render_ctx *rc = ud;
    const weir_tvalue *name, *dflt;
    if (!weir_args_get(a, 0, "name", &name) || weir_tvalue_kind_of(name) != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "var() takes a variable name");
    const weir_tvalue *v = weir_tvalue_dict_get(&rc->vars, weir_tvalue_str(name));
    if (v) {
        *out = weir_tvalue_copy(v);
        return 0;
    }
    if (weir_args_get(a, 1, "default", &dflt)) {
        *out = weir_tvalue_copy(dflt);
        return 0;
    }
    return weir_error_set(err, WEIR_ENOTFOUND, "required var '%s' not found (set it under "
                          "'vars:' in weir.yml)", weir_tvalue_str(name));
}

/* The rendered text as JSON: typed when the source is one expression. */
static json_t *typed(const char *src, const char *text)
{
    const char *p = src;
    size_t n;
    while (isspace((unsigned char)*p))
        p++;
    n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    int one = n >= 4 && strncmp(p, "{{", 2) == 0 && strncmp(p + n - 2, "}}", 2) == 0 &&
              !strstr(p + 2, "{{") && !strstr(p, "{%");
    if (one) {
        long long i;
        double d;
        if (weir_str_to_i64(text, &i) == 0)
            return (json_integer((json_int_t)i));
        if (weir_str_to_double(text, &d) == 0 && isfinite(d))
            return json_real(d);
        if (strcmp(text, "True") == 0 || strcmp(text, "true") == 0)
            return json_true();
        if (strcmp(text, "False") == 0 || strcmp(text, "false") == 0)
            return json_false();
        if (strcmp(text, "None") == 0 || strcmp(text, "") == 0)
            return json_null();
    }
    return json_string(text);
}

/* Renders every templated string of v in place; *v may be replaced. */
static int render_value(render_ctx *rc, const char *file, json_t **v, weir_error *err)
{
    size_t i;
    const char *k;
    json_t *item;
    if (json_is_string(*v) && weir_qx_has_template(*v)) {
        const char *src = json_string_value(*v);
        weir_buf out = WEIR_BUF_INIT;
        int r = weir_template_render_string(rc->env, file, src, strlen(src), &rc->ctx, &out, err);
        if (r == 0) {
            json_decref(*v);
            *v = typed(src, out.ptr);
        }
        weir_buf_release(&out);
        return r;
    }
    if (json_is_array(*v)) {
        json_array_foreach(*v, i, item) {
            json_t *c = json_incref(item);
            if (render_value(rc, file, &c, err)) {
                json_decref(c);
                return -1;
            }
            json_array_set_new(*v, i, c);
        }
    } else if (json_is_object(*v)) {
        json_object_foreach(*v, k, item) {
            json_t *c = json_incref(item);
            if (render_value(rc, file, &c, err)) {
                json_decref(c);
                return -1;
            }
            json_object_set_new(*v, k, c);
        }
    }
    return 0;
}

static void set_str(weir_tvalue *dict, const char *k, const char *v)
{
    weir_tvalue_dict_set(dict, k, v ? weir_tvalue_string(v) : weir_tvalue_none());
}

weir_qx_render *weir_qx_render_new(const char *ds, const char *start, const char *end,
                                   const json_t *vars)
{
    render_ctx *rc = weir_xcalloc(1, sizeof(*rc));
    char s1[WEIR_DATE_STRLEN], s2[WEIR_DATE_STRLEN];
    weir_date d;
    /* a daily interval by default: [ds, ds + 1 day) */
    if (ds && weir_date_parse(ds, &d) == 0) {
        if (!start)
            start = weir_date_format(d, s1);
        if (!end)
            end = weir_date_format(weir_date_add_days(d, 1), s2);
    }
    rc->env = weir_template_env_new();
    weir_template_env_set_strict(rc->env, 1);
    rc->vars = json_is_object(vars) ? weir_tvalue_from_json(vars) : weir_tvalue_dict();
    rc->ctx = weir_tvalue_dict();
    set_str(&rc->ctx, "ds", ds);
    set_str(&rc->ctx, "data_interval_start", start);
    set_str(&rc->ctx, "data_interval_end", end);
    if (ds) {
        /* Airflow's ds_nodash */
        weir_buf nd = WEIR_BUF_INIT;
        for (const char *c = ds; *c; c++)
            if (*c != '-')
                weir_buf_addch(&nd, *c);
        weir_tvalue_dict_set(&rc->ctx, "ds_nodash", weir_tvalue_string_buf(&nd));
        weir_buf_release(&nd);
    }
    weir_template_env_add_function(rc->env, "var", h_var, rc);
    return rc;
}

void weir_qx_render_free(weir_qx_render *rc)
{
    if (!rc)
        return;
    weir_tvalue_free(rc->ctx);
    weir_tvalue_free(rc->vars);
    weir_template_env_free(rc->env);
    free(rc);
}

int weir_qx_render_kwargs(weir_qx_render *rc, json_t *kw, weir_buf *msg)
{
    const char *key;
    json_t *v;
    json_object_foreach(kw, key, v) {
        weir_error err = WEIR_ERROR_INIT;
        json_t *c = json_incref(v);
        if (render_value(rc, key, &c, &err)) {
            weir_buf_addf(msg, "kwarg '%s': cannot render: %s", key, weir_error_str(&err));
            weir_error_release(&err);
            json_decref(c);
            return -1;
        }
        json_object_set_new(kw, key, c);
    }
    return 0;
}
