/*
 * series.c: the daily series and calendar types of forecast.h, model names,
 * and the accuracy metrics (sMAPE, MASE) and normal quantile the models and
 * the benchmark share.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "monitor/forecast.h"

void weir_series_init(weir_series *s)
{
    memset(s, 0, sizeof(*s));
}

void weir_series_release(weir_series *s)
{
    free(s->values);
    free(s->flags);
    weir_series_init(s);
}

static void series_reserve(weir_series *s, size_t need)
{
    if (need <= s->cap)
        return;
    size_t cap = s->cap ? s->cap * 2 : 64;
    if (cap < need)
        cap = need;
    s->values = weir_xrealloc(s->values, weir_size_mul(cap, sizeof(double)));
    s->flags = weir_xrealloc(s->flags, cap);
    s->cap = cap;
}

void weir_series_set(weir_series *s, weir_date d, double value)
{
    if (s->len == 0) {
        series_reserve(s, 1);
        s->start = d;
        s->len = 1;
        s->values[0] = value;
        s->flags[0] = 0;
        return;
    }
    if (d < s->start) {
        size_t shift = (size_t)(s->start - d);
        series_reserve(s, s->len + shift);
        memmove(s->values + shift, s->values, s->len * sizeof(double));
        memmove(s->flags + shift, s->flags, s->len);
        for (size_t i = 0; i < shift; i++) {
            s->values[i] = NAN;
            s->flags[i] = 0;
        }
        s->len += shift;
        s->start = d;
    }
    size_t i = (size_t)(d - s->start);
    if (i >= s->len) {
        series_reserve(s, i + 1);
        for (size_t j = s->len; j <= i; j++) {
            s->values[j] = NAN;
            s->flags[j] = 0;
        }
        s->len = i + 1;
    }
    s->values[i] = value;
}

double weir_series_get(const weir_series *s, weir_date d)
{
    if (s->len == 0 || d < s->start || (size_t)(d - s->start) >= s->len)
        return NAN;
    return s->values[d - s->start];
}

void weir_series_flag(weir_series *s, weir_date d, unsigned flags)
{
    assert(s->len > 0 && d >= s->start && (size_t)(d - s->start) < s->len);
    s->flags[d - s->start] |= (unsigned char)flags;
}

weir_date weir_series_end(const weir_series *s)
{
    return s->start + (weir_date)s->len - 1;
}

void weir_series_copy(weir_series *dst, const weir_series *src)
{
    weir_series_release(dst);
    if (src->len == 0)
        return;
    series_reserve(dst, src->len);
    memcpy(dst->values, src->values, src->len * sizeof(double));
    memcpy(dst->flags, src->flags, src->len);
    dst->len = src->len;
    dst->start = src->start;
}

/* --- calendar ---------------------------------------------------------- */

void weir_calendar_init(weir_calendar *c)
{
    memset(c, 0, sizeof(*c));
}

void weir_calendar_release(weir_calendar *c)
{
    for (size_t i = 0; i < c->events.len; i++)
        free(c->events.items[i].name);
    weir_vec_release(&c->events);
}

int weir_calendar_add(weir_calendar *c, weir_date from, weir_date to,
                      weir_event_kind kind, const char *name, weir_error *err)
{
    char a[WEIR_DATE_STRLEN], b[WEIR_DATE_STRLEN];
    if (to < from)
        return weir_error_set(err, WEIR_EINVALID, "event '%s' ends (%s) before it starts (%s)",
                              name ? name : "", weir_date_format(to, b),
                              weir_date_format(from, a));
    if ((int)kind < 0 || kind >= WEIR_EVENT__COUNT)
        return weir_error_set(err, WEIR_EINVALID, "event '%s' has an unknown kind",
                              name ? name : "");
    weir_calendar_event ev = { from, to, kind, weir_xstrdup(name ? name : weir_event_kind_name(kind)) };
    weir_vec_push(&c->events, ev);
    return 0;
}

const weir_calendar_event *weir_calendar_find(const weir_calendar *c, weir_date d)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->events.len; i++)
        if (d >= c->events.items[i].from && d <= c->events.items[i].to)
            return &c->events.items[i];
    return NULL;
}

static const char *const kind_names[WEIR_EVENT__COUNT] = { "holiday", "closure", "launch", "other" };

const char *weir_event_kind_name(weir_event_kind k)
{
    return (int)k >= 0 && k < WEIR_EVENT__COUNT ? kind_names[k] : "other";
}

int weir_event_kind_parse(const char *s, weir_event_kind *out)
{
    for (int i = 0; i < WEIR_EVENT__COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (weir_event_kind)i;
            return 0;
        }
    return WEIR_EINVALID;
}

/* --- model names ------------------------------------------------------- */

static const struct {
    const char *name;
    weir_model_spec spec;
} spec_names[] = {
    { "snaive", { WEIR_MODEL_SNAIVE, false, false, false } },
    { "hw_add", { WEIR_MODEL_HOLT_WINTERS, false, false, false } },
    { "hw_add_damped", { WEIR_MODEL_HOLT_WINTERS, false, true, false } },
    { "hw_mul", { WEIR_MODEL_HOLT_WINTERS, true, false, false } },
    { "hw_mul_damped", { WEIR_MODEL_HOLT_WINTERS, true, true, false } },
    { "hw_add_log", { WEIR_MODEL_HOLT_WINTERS, false, false, true } },
    { "hw_add_damped_log", { WEIR_MODEL_HOLT_WINTERS, false, true, true } },
    { "decomp", { WEIR_MODEL_DECOMPOSITION, false, false, false } },
    { "decomp_log", { WEIR_MODEL_DECOMPOSITION, false, false, true } },
    { "snaive_log", { WEIR_MODEL_SNAIVE, false, false, true } },
};

const char *weir_model_spec_name(const weir_model_spec *spec)
{
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(spec_names); i++) {
        const weir_model_spec *x = &spec_names[i].spec;
        if (x->kind == spec->kind && x->log == spec->log &&
            (spec->kind != WEIR_MODEL_HOLT_WINTERS ||
             (x->multiplicative == spec->multiplicative && x->damped == spec->damped)))
            return spec_names[i].name;
    }
    return "unknown";
}

int weir_model_spec_parse(const char *name, weir_model_spec *out)
{
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(spec_names); i++)
        if (strcmp(name, spec_names[i].name) == 0) {
            *out = spec_names[i].spec;
            return 0;
        }
    return WEIR_EINVALID;
}

const char *weir_verdict_name(weir_verdict v)
{
    switch (v) {
    case WEIR_VERDICT_OK: return "ok";
    case WEIR_VERDICT_ANOMALY: return "anomaly";
    case WEIR_VERDICT_INSUFFICIENT_HISTORY: return "insufficient history";
    case WEIR_VERDICT_MISSING: return "missing";
    }
    return "unknown";
}

const char *weir_severity_name(weir_severity s)
{
    switch (s) {
    case WEIR_SEVERITY_NONE: return "none";
    case WEIR_SEVERITY_LOW: return "low";
    case WEIR_SEVERITY_MEDIUM: return "medium";
    case WEIR_SEVERITY_HIGH: return "high";
    }
    return "unknown";
}

/* --- metrics ----------------------------------------------------------- */

double weir_monitor_smape(const double *actual, const double *forecast, size_t n)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double a = actual[i], f = forecast[i];
        if (!isfinite(a) || !isfinite(f))
            continue;
        double d = fabs(a) + fabs(f);
        sum += d > 0 ? 200.0 * fabs(a - f) / d : 0;
        k++;
    }
    return k ? sum / (double)k : NAN;
}

double weir_monitor_mase(const double *actual, const double *forecast, size_t n,
                         double scale)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(actual[i]) || !isfinite(forecast[i]))
            continue;
        sum += fabs(actual[i] - forecast[i]);
        k++;
    }
    if (!k)
        return NAN;
    return scale > 0 ? sum / (double)k / scale : (sum > 0 ? INFINITY : 0);
}

double weir_monitor_snaive_mae(const double *y, size_t n)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 7; i < n; i++)
        if (isfinite(y[i]) && isfinite(y[i - 7])) {
            sum += fabs(y[i] - y[i - 7]);
            k++;
        }
    return k ? sum / (double)k : NAN;
}

/* Acklam's rational approximation, refined by one Halley step (|error| < 1e-15). */
double weir_monitor_normal_quantile(double p)
{
    static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01 };
    static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00, 2.938163982698783e+00 };
    static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00 };
    if (!(p > 0 && p < 1))
        return p <= 0 ? -INFINITY : INFINITY;
    double q, x;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
        q = p - 0.5;
        double r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double e = 0.5 * erfc(-x / sqrt(2)) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

double weir_monitor_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1))
        return p <= 0 ? -INFINITY : INFINITY;
    if (!(df > 0))
        return NAN;
    /* exact for one and two degrees of freedom */
    if (df == 1)
        return tan(M_PI * (p - 0.5));
    if (df == 2)
        return (2 * p - 1) / sqrt(2 * p * (1 - p));
    /*
     * Otherwise the Cornish-Fisher expansion in 1/df around the normal
     * quantile (Abramowitz and Stegun 26.7.5): within 1% at 3 degrees of
     * freedom and the 99.5th percentile, closer from there on.
     */
    double z = weir_monitor_normal_quantile(p), z2 = z * z;
    double g1 = (z2 + 1) * z / 4;
    double g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
    double g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
    double g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
    return z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
}
