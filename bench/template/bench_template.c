/*
 * bench_template.c: how long the template engine takes to compile and
 * render 10,000 distinct dbt-model-sized templates (about 2 KB each, with
 * loops, macros from a project macro file, filters and ref() calls).
 *
 * Usage: bench_template [N] [THREADS]   (defaults: 10000, 1)
 * Prints the figures; asserts nothing (the target is < 0.5 s on 2 cores).
 */
#include "core/compat.h"

#include "template/template.h"

static const char *const macros =
    "{% macro cents_to_dollars(col, scale=2) -%}\n"
    "    ({{ col }} / 100)::numeric(16, {{ scale }})\n"
    "{%- endmacro %}\n"
    "{% macro surrogate_key(fields) -%}\n"
    "md5({%- for f in fields %}coalesce(cast({{ f }} as varchar), ''){% if not loop.last %}"
    " || '-' || {% endif %}{%- endfor %})\n"
    "{%- endmacro %}\n"
    "{% macro star(cols, except=[]) -%}\n"
    "{%- for c in cols if c not in except %}{{ c }}{{ ', ' if not loop.last }}{% endfor -%}\n"
    "{%- endmacro %}\n";

/* Appends model i: the same shape with different names and counts. */
static void make_model(weir_buf *b, int i)
{
    int ncols = 6 + i % 5;
    weir_buf_addf(b, "{{ config(materialized='%s', tags=['t%d', 'daily']) }}\n",
                  i % 3 ? "table" : "incremental", i % 17);
    weir_buf_adds(b, "{%- set cols = [");
    for (int c = 0; c < ncols; c++)
        weir_buf_addf(b, "%s'col_%d_%d'", c ? ", " : "", i, c);
    weir_buf_adds(b, "] -%}\n");
    weir_buf_addf(b, "{%%- set methods = ['m%d', 'card', 'cash', 'gift_card', 'coupon'] -%%}\n", i);
    weir_buf_addf(b,
        "-- model %d: generated for the benchmark; this text stands in for the\n"
        "-- comments and SQL that surround Jinja in a real model file.\n"
        "with source_rows as (\n"
        "    select {{ star(cols, except=['col_%d_1']) }}\n"
        "    from {{ ref('stg_orders_%d') }}\n"
        "    where loaded_at >= '{{ var(\"start_date\", \"2024-01-01\") }}'\n"
        "),\n"
        "payments as (\n"
        "    select order_id, payment_method, amount\n"
        "    from {{ ref('stg_payments') }}\n"
        "    where status != 'failed'\n"
        "),\n"
        "pivoted as (\n"
        "    select\n"
        "        order_id,\n"
        "        {%% for m in methods -%%}\n"
        "        sum(case when payment_method = '{{ m }}' then {{ cents_to_dollars('amount') }} "
        "else 0 end) as {{ m | lower }}_amount{{ ',' if not loop.last }}\n"
        "        {%% endfor -%%}\n"
        "    from payments\n"
        "    group by 1\n"
        ")\n"
        "select\n"
        "    {{ surrogate_key(['order_id', cols[0]]) }} as order_key,\n"
        "    {%% for c in cols -%%}\n"
        "    source_rows.{{ c }} as {{ c | replace('col_', 'c_') | upper }},\n"
        "    {%% endfor -%%}\n"
        "    pivoted.*\n"
        "from source_rows\n"
        "left join pivoted on pivoted.order_id = source_rows.{{ cols | first }}\n"
        "{%% if is_incremental() %%}\n"
        "where source_rows.updated_at > (select max(updated_at) from {{ this }})\n"
        "{%% endif %%}\n"
        "{%% set total = namespace(n=0) %%}{%% for c in cols %%}{%% set total.n = total.n + loop.index %%}{%% endfor %%}\n"
        "-- {{ cols | length }} columns, checksum {{ total.n }}, {{ methods | join('/') | title }}\n"
        "-- padding: lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod\n"
        "-- tempor incididunt ut labore et dolore magna aliqua. ut enim ad minim veniam, quis\n"
        "-- nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.\n"
        "-- duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu\n",
        i, i, i);
}

static int h_ref(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(err);
    weir_buf b = WEIR_BUF_INIT;
    weir_buf_addf(&b, "\"analytics\".\"main\".\"%s\"",
                  a->npos ? weir_tvalue_str(&a->pos[a->npos - 1]) : "");
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

static int h_empty(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
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
    WEIR_UNUSED(err);
    *out = a->npos > 1 ? weir_tvalue_copy(&a->pos[1]) : weir_tvalue_none();
    return 0;
}

static int h_false(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(a);
    WEIR_UNUSED(err);
    *out = weir_tvalue_bool(0);
    return 0;
}

typedef struct {
    weir_template_env *env;
    char **src;
    size_t *len;
    int from, to;
    size_t bytes_in, bytes_out, calls;
    double compile_s, render_s;
    int failures;
} job;

static double now(void);

static void *run(void *p)
{
    job *j = p;
    weir_buf out = WEIR_BUF_INIT;
    weir_tvalue ctx = weir_tvalue_dict();
    weir_tvalue_dict_set(&ctx, "this", weir_tvalue_string("\"analytics\".\"main\".\"this\""));
    for (int i = j->from; i < j->to; i++) {
        weir_error err = WEIR_ERROR_INIT;
        weir_template *t;
        weir_tvalue calls;
        weir_buf_reset(&out);
        j->bytes_in += j->len[i];
        double t0 = now();
        int rc = weir_template_compile(j->env, "model.sql", j->src[i], j->len[i], &t, &err);
        double t1 = now();
        if (!rc)
            rc = weir_template_render(t, &ctx, &out, &calls, &err);
        j->compile_s += t1 - t0;
        j->render_s += now() - t1;
        if (rc) {
            if (!j->failures++)
                fprintf(stderr, "model %d: %s\n", i, weir_error_str(&err));
        } else {
            j->calls += weir_tvalue_list_len(&calls);
            weir_tvalue_free(calls);
        }
        j->bytes_out += out.len;
        weir_template_free(t);
        weir_error_release(&err);
    }
    weir_tvalue_free(ctx);
    weir_buf_release(&out);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (n <= 0 || threads <= 0 || threads > 64) {
        fprintf(stderr, "usage: bench_template [N] [THREADS]\n");
        return 2;
    }
    weir_template_env *env = weir_template_env_new();
    weir_template_env_add_function(env, "ref", h_ref, NULL);
    weir_template_env_add_function(env, "config", h_empty, NULL);
    weir_template_env_add_function(env, "var", h_var, NULL);
    weir_template_env_add_function(env, "is_incremental", h_false, NULL);
    weir_template_env_trace_calls(env, "ref");
    weir_error err = WEIR_ERROR_INIT;
    if (weir_template_env_load_macros(env, NULL, "macros/util.sql", macros, strlen(macros), &err)) {
        fprintf(stderr, "%s\n", weir_error_str(&err));
        return 1;
    }
    /* the sources are made before the clock starts */
    char **src = calloc((size_t)n, sizeof(char *));
    size_t *len = calloc((size_t)n, sizeof(size_t));
    for (int i = 0; i < n; i++) {
        weir_buf b = WEIR_BUF_INIT;
        make_model(&b, i);
        src[i] = weir_buf_detach(&b, &len[i]);
    }
    job jobs[64];
    pthread_t th[64];
    double t0 = now();
    for (int k = 0; k < threads; k++) {
        memset(&jobs[k], 0, sizeof(jobs[k]));
        jobs[k].env = env;
        jobs[k].src = src;
        jobs[k].len = len;
        jobs[k].from = (int)((long)n * k / threads);
        jobs[k].to = (int)((long)n * (k + 1) / threads);
        pthread_create(&th[k], NULL, run, &jobs[k]);
    }
    size_t in = 0, out = 0, calls = 0;
    double cs = 0, rs = 0;
    int failures = 0;
    for (int k = 0; k < threads; k++) {
        pthread_join(th[k], NULL);
        in += jobs[k].bytes_in;
        out += jobs[k].bytes_out;
        calls += jobs[k].calls;
        failures += jobs[k].failures;
        cs += jobs[k].compile_s;
        rs += jobs[k].render_s;
    }
    double secs = now() - t0;
    printf("bench/template: %d templates (avg %.0f bytes in, %.0f bytes out, %zu ref calls), "
           "%d thread(s): %.3f s total, compile + render, %.1f us per template%s\n",
           n, (double)in / n, (double)out / n, calls, threads, secs, secs * 1e6 / n,
           failures ? " (with failures)" : "");
    printf("bench/template: of the threads' time, compile %.3f s, render %.3f s\n", cs, rs);
    weir_template_env_free(env);
    for (int i = 0; i < n; i++)
        free(src[i]);
    free(src);
    free(len);
    return failures ? 1 : 0;
}
