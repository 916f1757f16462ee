/*
 * test_api.c: the C API of src/template: compile once and render many
 * times, host functions and their arguments, call tracing, macros called
 * from the host, errors, limits, values, and rendering from threads.
 */
#include "harness.h"

#include "core/json.h"
#include "golden.h"
#include "template/template.h"

static weir_tvalue ctx_from(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    weir_tvalue v = weir_tvalue_from_json(j);
    json_decref(j);
    return v;
}

static char *render(weir_template_env *env, const char *src, const char *ctx_json, int *rc,
                    weir_error *err)
{
    weir_tvalue ctx = ctx_json ? ctx_from(ctx_json) : weir_tvalue_undefined();
    weir_buf out = WEIR_BUF_INIT;
    *rc = weir_template_render_string(env, "t.sql", src, strlen(src), &ctx, &out, err);
    weir_tvalue_free(ctx);
    return weir_buf_detach(&out, NULL);
}

TEST(compile_once_render_many)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    weir_template *t;
    const char *src = "{% for c in cols %}{{ c }}{{ ',' if not loop.last }}{% endfor %} {{ n * 2 }}";
    CHECK_OK(weir_template_compile(env, "m.sql", src, strlen(src), &t, &err), &err);
    CHECK_STR(weir_template_name(t), "m.sql");
    for (int i = 0; i < 3; i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"cols\": [\"a%d\", \"b\"], \"n\": %d}", i, i);
        weir_tvalue ctx = ctx_from(json);
        weir_buf out = WEIR_BUF_INIT;
        CHECK_OK(weir_template_render(t, &ctx, &out, NULL, &err), &err);
        char want[64];
        snprintf(want, sizeof(want), "a%d,b %d", i, i * 2);
        CHECK_STR(out.ptr, want);
        weir_buf_release(&out);
        weir_tvalue_free(ctx);
    }
    weir_template_free(t);
    weir_template_env_free(env);
}

static int kw_echo(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(err);
    const weir_tvalue *x, *y;
    int *calls = ud;
    (*calls)++;
    weir_args_get(a, 0, "x", &x);
    weir_args_get(a, 1, "y", &y);
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_addf(&b, "x=");
    if (x)
        weir_tvalue_repr_buf(x, &b);
    weir_buf_addf(&b, " y=");
    if (y)
        weir_tvalue_repr_buf(y, &b);
    weir_buf_addf(&b, " n=%zu/%zu", a->npos, a->nkw);
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

TEST(host_function_positional_and_keyword_args)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    int calls = 0, rc;
    weir_template_env_add_function(env, "f", kw_echo, &calls);
    char *s = render(env, "{{ f(1) }}|{{ f(y='b', x=[1]) }}|{{ f(1, 2) }}", NULL, &rc, &err);
    CHECK_OK(rc, &err);
    CHECK_STR(s, "x=1 y= n=1/0|x=[1] y='b' n=0/2|x=1 y=2 n=2/0");
    CHECK_INT(calls, ==, 3);
    free(s);
    weir_template_env_free(env);
}

TEST(globals_and_strict_mode)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    int rc;
    weir_tvalue target = weir_tvalue_dict();
    weir_tvalue_dict_set(&target, "schema", weir_tvalue_string("analytics"));
    weir_template_env_set_global(env, "target", target);
    char *s = render(env, "{{ target.schema }}.{{ x }}[{{ nope }}]", "{\"x\": \"t\"}", &rc, &err);
    CHECK_OK(rc, &err);
    CHECK_STR(s, "analytics.t[]");
    free(s);
    /* the render context shadows globals */
    s = render(env, "{{ target }}", "{\"target\": 1}", &rc, &err);
    CHECK_STR(s, "1");
    free(s);
    weir_template_env_set_strict(env, 1);
    s = render(env, "{{ nope }}", NULL, &rc, &err);
    CHECK(rc != 0);
    CHECK_CONTAINS(weir_error_str(&err), "t.sql:1:4: 'nope' is undefined");
    free(s);
    weir_error_release(&err);
    weir_template_env_free(env);
}

TEST(traced_calls)
{
    weir_template_env *env = weir_test_template_env();
    weir_error err = WEIR_ERROR_INIT;
    weir_template *t;
    const char *src = "{{ ref('a') }}{% for m in ms %}{{ ref(m) }}{% endfor %}{{ source('s', 't') }}";
    CHECK_OK(weir_template_compile(env, "m.sql", src, strlen(src), &t, &err), &err);
    weir_tvalue ctx = ctx_from("{\"ms\": [\"b\", \"c\"]}"), calls;
    weir_buf out = WEIR_BUF_INIT;
    CHECK_OK(weir_template_render(t, &ctx, &out, &calls, &err), &err);
    CHECK_INT(weir_tvalue_list_len(&calls), ==, 4);
    const weir_tvalue *third = weir_tvalue_list_at(&calls, 2);
    CHECK_STR(weir_tvalue_str(weir_tvalue_list_at(third, 0)), "ref");
    CHECK_STR(weir_tvalue_str(weir_tvalue_list_at(weir_tvalue_list_at(third, 1), 0)), "c");
    weir_tvalue_free(calls);
    weir_tvalue_free(ctx);
    weir_buf_release(&out);
    weir_template_free(t);
    weir_template_env_free(env);
}

TEST(macros_called_from_host)
{
    weir_template_env *env = weir_test_template_env();
    weir_error err = WEIR_ERROR_INIT;
    const char *lib = "{% macro greet(name, punct='!') %}hi {{ name }}{{ punct }} from {{ who }}"
                      "{% endmacro %}\n"
                      "{% macro cols() %}{{ return(['a', 'b']) }}{% endmacro %}";
    CHECK_OK(weir_template_env_load_macros(env, "pkg", "macros/lib.sql", lib, strlen(lib), &err),
             &err);
    weir_tvalue fn, out;
    CHECK_INT(weir_template_env_get_macro(env, "greet", &fn, &err), ==, WEIR_ENOTFOUND);
    weir_error_clear(&err);
    CHECK_OK(weir_template_env_get_macro(env, "pkg.greet", &fn, &err), &err);
    weir_tvalue pos[1] = { weir_tvalue_string("ann") };
    const char *names[1] = { "punct" };
    weir_tvalue kw[1] = { weir_tvalue_string("?") };
    weir_args args = { pos, 1, names, kw, 1 };
    weir_tvalue ctx = ctx_from("{\"who\": \"host\"}");
    CHECK_OK(weir_template_env_call(env, &fn, &args, &ctx, &out, &err), &err);
    CHECK_STR(weir_tvalue_str(&out), "hi ann? from host");
    weir_tvalue_free(out);
    weir_tvalue_free(fn);
    /* a macro that returns a value through return() */
    CHECK_OK(weir_template_env_get_macro(env, "pkg.cols", &fn, &err), &err);
    CHECK_OK(weir_template_env_call(env, &fn, NULL, NULL, &out, &err), &err);
    CHECK_INT(weir_tvalue_kind_of(&out), ==, WEIR_TVALUE_LIST);
    CHECK_INT(weir_tvalue_list_len(&out), ==, 2);
    weir_tvalue_free(out);
    weir_tvalue_free(fn);
    weir_tvalue_free(pos[0]);
    weir_tvalue_free(kw[0]);
    weir_tvalue_free(ctx);
    weir_template_env_free(env);
}

TEST(error_format_with_caret)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    weir_template *t = NULL;
    const char *src = "select 1\nfrom {{ t | nope }}\n";
    int rc = weir_template_compile(env, "models/a.sql", src, strlen(src), &t, &err);
    CHECK_INT(rc, ==, WEIR_EINVALID);
    CHECK(t == NULL);
    CHECK_STR(err.file, "models/a.sql");
    CHECK_INT(err.line, ==, 2);
    CHECK_INT(err.col, ==, 13);
    weir_buf b = WEIR_BUF_INIT;
    weir_template_format_error(&err, &b);
    CHECK_STR(b.ptr, "models/a.sql:2:13: error: no filter named 'nope'\n"
                     "  from {{ t | nope }}\n"
                     "              ^");
    weir_buf_release(&b);
    weir_error_release(&err);
    weir_template_env_free(env);
}

TEST(output_limit)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    int rc;
    weir_template_env_set_limits(env, 0, 1000, 0);
    char *s = render(env, "{% for i in range(10000) %}xxxxxxxx{% endfor %}", NULL, &rc, &err);
    CHECK_INT(rc, ==, WEIR_ETOOBIG);
    CHECK_CONTAINS(weir_error_str(&err), "output exceeds the limit of 1000 bytes");
    free(s);
    weir_error_clear(&err);
    s = render(env, "{{ 'x' * 100000 }}", NULL, &rc, &err);
    CHECK_INT(rc, ==, WEIR_ETOOBIG);
    free(s);
    weir_error_clear(&err);
    /* the caller's own buffer limit also holds */
    weir_template_env_set_limits(env, 0, 1 << 20, 0);
    weir_buf out = WEIR_BUF_INIT;
    out.limit = 10;
    rc = weir_template_render_string(env, "t", "{{ 'y' * 50 }}", 14, NULL, &out, &err);
    CHECK(rc != 0);
    CHECK(out.len <= 10);
    weir_buf_release(&out);
    weir_error_release(&err);
    weir_template_env_free(env);
}

TEST(recursion_and_step_limits)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    int rc;
    weir_template_env_set_limits(env, 50, 0, 0);
    char *s = render(env, "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", NULL, &rc, &err);
    CHECK_INT(rc, ==, WEIR_ETOOBIG);
    CHECK_CONTAINS(weir_error_str(&err), "maximum recursion depth exceeded (50");
    free(s);
    weir_error_clear(&err);
    weir_template_env_set_limits(env, 0, 0, 1000);
    s = render(env, "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
               NULL, &rc, &err);
    CHECK_INT(rc, ==, WEIR_ETOOBIG);
    CHECK_CONTAINS(weir_error_str(&err), "evaluation steps");
    free(s);
    weir_error_release(&err);
    weir_template_env_free(env);
}

TEST(deep_nesting_is_an_error_not_a_crash)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    weir_buf src = WEIR_BUF_INIT;
    weir_buf_adds(&src, "{{ ");
    for (int i = 0; i < 5000; i++)
        weir_buf_adds(&src, "(");
    weir_buf_adds(&src, "1");
    for (int i = 0; i < 5000; i++)
        weir_buf_adds(&src, ")");
    weir_buf_adds(&src, " }}");
    weir_template *t;
    CHECK(weir_template_compile(env, "t", src.ptr, src.len, &t, &err) != 0);
    weir_error_clear(&err);
    weir_buf_reset(&src);
    weir_buf_adds(&src, "{{ ");
    for (int i = 0; i < 5000; i++)
        weir_buf_adds(&src, "not ");
    weir_buf_adds(&src, "1 }}");
    CHECK(weir_template_compile(env, "t", src.ptr, src.len, &t, &err) != 0);
    CHECK_CONTAINS(weir_error_str(&err), "nested too deeply");
    weir_error_clear(&err);
    /* blocks too: 10,000 nested ifs fail cleanly instead of exhausting the stack */
    weir_buf_reset(&src);
    for (int i = 0; i < 10000; i++)
        weir_buf_adds(&src, "{% if 1 %}");
    CHECK(weir_template_compile(env, "t", src.ptr, src.len, &t, &err) != 0);
    CHECK_CONTAINS(weir_error_str(&err), "nested too deeply");
    weir_error_release(&err);
    weir_buf_release(&src);
    weir_template_env_free(env);
}

TEST(newlines_and_nul_bytes)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    weir_buf out = WEIR_BUF_INIT;
    const char crlf[] = "a\r\n{{ 1 }}\rb\r\n";
    CHECK_OK(weir_template_render_string(env, "t", crlf, sizeof(crlf) - 1, NULL, &out, &err),
             &err);
    CHECK_STR(out.ptr, "a\n1\nb");
    weir_buf_reset(&out);
    const char nul[] = "x\0y{{ 2 }}";
    CHECK_OK(weir_template_render_string(env, "t", nul, sizeof(nul) - 1, NULL, &out, &err), &err);
    CHECK_INT(out.len, ==, 4);
    CHECK(memcmp(out.ptr, "x\0y2", 4) == 0);
    weir_buf_release(&out);
    weir_template_env_free(env);
}

TEST(values_api)
{
    weir_tvalue d = weir_tvalue_dict();
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", 39 - i);
        weir_tvalue_dict_set(&d, k, weir_tvalue_int(i));
    }
    CHECK_INT(weir_tvalue_dict_len(&d), ==, 40);
    CHECK_STR(weir_tvalue_str(weir_tvalue_dict_key_at(&d, 0)), "k39");
    CHECK_INT(weir_tvalue_dict_get(&d, "k0")->u.i, ==, 39);
    weir_tvalue k5 = weir_tvalue_string("k5");
    CHECK_OK(weir_tvalue_dict_del(&d, &k5, NULL), NULL);
    CHECK(weir_tvalue_dict_get(&d, "k5") == NULL);
    CHECK(weir_tvalue_dict_get(&d, "k4") != NULL);
    weir_tvalue_free(k5);
    /* a container cannot hold itself */
    weir_tvalue l = weir_tvalue_list();
    weir_tvalue_list_push(&l, weir_tvalue_copy(&d));
    CHECK_INT(weir_tvalue_dict_set(&d, "self", weir_tvalue_copy(&l)), ==, WEIR_EINVALID);
    weir_tvalue_free(l);
    /* JSON round trip keeps order and types */
    json_t *j = json_loads("{\"b\": [1, 2.5, \"x\", null, true], \"a\": {}}", 0, NULL);
    weir_tvalue v = weir_tvalue_from_json(j);
    weir_buf b = WEIR_BUF_INIT;
    weir_tvalue_to_buf(&v, &b);
    CHECK_STR(b.ptr, "{'b': [1, 2.5, 'x', None, True], 'a': {}}");
    json_t *back = weir_tvalue_to_json(&v);
    CHECK(json_equal(j, back));
    json_decref(back);
    json_decref(j);
    weir_tvalue_free(v);
    weir_buf_release(&b);
    weir_tvalue_free(d);
    /* float text as Python prints it */
    double fs[] = { 0.1, 1.0, 1e16, 1.5e-7, 123456789.125, -2.5, 1e300 };
    const char *want[] = { "0.1", "1.0", "1e+16", "1.5e-07", "123456789.125", "-2.5", "1e+300" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(fs); i++) {
        weir_buf fb = WEIR_BUF_INIT;
        weir_tvalue f = weir_tvalue_float(fs[i]);
        weir_tvalue_to_buf(&f, &fb);
        CHECK_STR(fb.ptr, want[i]);
        weir_buf_release(&fb);
    }
}

typedef struct {
    const weir_template *t;
    int failures;
} thread_job;

static void *render_many(void *p)
{
    thread_job *job = p;
    for (int i = 0; i < 200; i++) {
        weir_tvalue ctx = weir_tvalue_dict();
        weir_tvalue_dict_set(&ctx, "n", weir_tvalue_int(i));
        weir_buf out = WEIR_BUF_INIT;
        weir_error err = WEIR_ERROR_INIT;
        if (weir_template_render(job->t, &ctx, &out, NULL, &err))
            job->failures++;
        char want[64];
        snprintf(want, sizeof(want), "main.x %d ab", i);
        if (strcmp(out.ptr, want) != 0)
            job->failures++;
        weir_buf_release(&out);
        weir_error_release(&err);
        weir_tvalue_free(ctx);
    }
    return NULL;
}

TEST(render_from_threads)
{
    weir_template_env *env = weir_test_template_env();
    weir_error err = WEIR_ERROR_INIT;
    weir_tvalue shared = weir_tvalue_list();
    weir_tvalue_list_push(&shared, weir_tvalue_string("a"));
    weir_tvalue_list_push(&shared, weir_tvalue_string("b"));
    weir_template_env_set_global(env, "shared", shared);
    const char *lib = "{% macro tbl(x) %}main.{{ x }}{% endmacro %}";
    CHECK_OK(weir_template_env_load_macros(env, NULL, "lib.sql", lib, strlen(lib), &err), &err);
    weir_template *t;
    const char *src = "{{ tbl('x') }} {{ n }} {{ shared|join }}";
    CHECK_OK(weir_template_compile(env, "m.sql", src, strlen(src), &t, &err), &err);
    pthread_t th[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].t = t;
        jobs[i].failures = 0;
        pthread_create(&th[i], NULL, render_many, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(jobs[i].failures, ==, 0);
    }
    weir_template_free(t);
    weir_template_env_free(env);
}

static int shout(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    weir_buf b = WEIR_BUF_INIT;
    weir_tvalue_to_buf(&a->pos[0], &b);
    weir_buf_adds(&b, "!");
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

TEST(host_filter_overrides_builtin)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    int rc;
    weir_template_env_add_filter(env, "upper", shout, NULL);
    char *s = render(env, "{{ 'a'|upper }} {{ ['x']|map('upper')|join }}", NULL, &rc, &err);
    CHECK_OK(rc, &err);
    CHECK_STR(s, "a! x!");
    free(s);
    weir_template_env_free(env);
}

TEST(lenient_mode_collects_calls)
{
    weir_template_env *env = weir_test_template_env();
    weir_error err = WEIR_ERROR_INIT;
    weir_template *t;
    weir_template_env_set_lenient(env, 1);
    const char *src = "{{ adapter.quote(ref('a')) }}{% if not_there.flag %}{{ ref('b') }}{% endif %}";
    CHECK_OK(weir_template_compile(env, "m.sql", src, strlen(src), &t, &err), &err);
    weir_buf out = WEIR_BUF_INIT;
    weir_tvalue calls;
    CHECK_OK(weir_template_render(t, NULL, &out, &calls, &err), &err);
    CHECK_INT(weir_tvalue_list_len(&calls), ==, 1);
    weir_tvalue_free(calls);
    weir_buf_release(&out);
    weir_template_free(t);
    weir_template_env_free(env);
}

TEST(list_macros)
{
    weir_template_env *env = weir_template_env_new();
    weir_error err = WEIR_ERROR_INIT;
    const char *a = "{% macro one(x, y=1) %}{% endmacro %}\n{% macro two() %}{% endmacro %}";
    const char *b = "\n\n{% macro three(z) %}{% endmacro %}";
    CHECK_OK(weir_template_env_load_macros(env, NULL, "a.sql", a, strlen(a), &err), &err);
    CHECK_OK(weir_template_env_load_macros(env, "pkg", "b.sql", b, strlen(b), &err), &err);
    weir_tvalue list;
    CHECK_OK(weir_template_env_list_macros(env, NULL, &list, &err), &err);
    weir_buf txt = WEIR_BUF_INIT;
    weir_tvalue_to_buf(&list, &txt);
    CHECK_STR(txt.ptr, "[{'name': 'one', 'file': 'a.sql', 'line': 1, 'params': ['x', 'y']}, "
                       "{'name': 'two', 'file': 'a.sql', 'line': 2, 'params': []}]");
    weir_tvalue_free(list);
    weir_buf_reset(&txt);
    CHECK_OK(weir_template_env_list_macros(env, "pkg", &list, &err), &err);
    weir_tvalue_to_buf(&list, &txt);
    CHECK_STR(txt.ptr, "[{'name': 'three', 'file': 'b.sql', 'line': 3, 'params': ['z']}]");
    weir_tvalue_free(list);
    CHECK_INT(weir_template_env_list_macros(env, "nope", &list, &err), ==, WEIR_ENOTFOUND);
    weir_tvalue_free(list);
    weir_error_release(&err);
    weir_buf_release(&txt);
    weir_template_env_free(env);
}
