/*
 * forecast.c: model choice by rolling-origin backtest, calendar effects,
 * prediction intervals, and the daily check and scan (see forecast.h).
 *
 * The models (models.c) see only a transformed array in which every point
 * they must not learn from is NaN. Everything that needs the calendar or the
 * original scale happens here:
 *   1. fit the model on the days before the backtest window;
 *   2. run it once over the window, forecasting H days from every origin;
 *   3. learn calendar effects from the one-step forecasts of past event days;
 *   4. score the forecasts (sMAPE, MASE) and keep their errors' robust
 *      scales per horizon (and weekday factors from the one-step errors
 *      before the window): those are the interval widths.
 * The chosen model then runs over all the history: the regression is
 * refitted, Holt-Winters keeps its smoothing parameters (its state follows
 * every point anyway), and calendar effects are learnt again.
 * Detection on top of these forecasts is in detect.c.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "monitor/forecast.h"
#include "monitor/models.h"

#define MAX_H 64
#define MIN_FIT_POINTS 14
#define EFFECT_MIN_SAMPLES 3
#define EVENT_LENIENCY 1.3
/*
 * Short histories. A scale learnt from a few weeks of errors is itself
 * uncertain, and a few weeks have not shown what a data team sees over
 * months (month ends, a slow client, a partial load now and then); a
 * near-noiseless test series would otherwise get intervals of +-0.4% and
 * call every 2% wobble a high anomaly. So every interval is at least
 *  - LEVEL_FLOOR_LONG + LEVEL_FLOOR_SHORT / sqrt(weeks of usable history)
 *    of the forecast, as one sigma (about +-5% at 99% with 3 weeks, +-3.3%
 *    with 10, +-2.2% with a year, +-1.8% with three);
 *  - NOISE_FLOOR times the noise that week-on-week changes show (MAD of
 *    weekly differences over sqrt 2): a model is not trusted to be much
 *    better than the data's own noise;
 * and its quantile is Student's t with as many degrees of freedom as the
 * scale rests on errors (5.8 instead of 2.58 at 99% with 4 errors, 2.63
 * with 91, plus the in-sample one-step errors before the window less the
 * parameters fitted on them).
 * Below opts->min_history usable days (default MIN_HISTORY_DEFAULT: three
 * of each weekday) the verdict is insufficient history.
 */
#define LEVEL_FLOOR_LONG 0.005
#define LEVEL_FLOOR_SHORT 0.025
#define NOISE_FLOOR 0.5
#define MIN_HISTORY_DEFAULT 21
/* How much faster than pooled shorter horizons a horizon's errors are assumed to grow. */
#define HORIZON_GROWTH 0.1
/* How the level floor's variance grows a day ahead (x1.1 a week out, x1.3 three weeks). */
#define FLOOR_GROWTH (0.25 / 7)

void weir_monitor_options_init(weir_monitor_options *o)
{
    o->level = 0.99;
    o->min_history = MIN_HISTORY_DEFAULT;
    o->horizon = 7;
    o->backtest_days = 91;
    o->candidates = WEIR_CAND_DEFAULT;
    o->refit_days = 7;
    o->shift_days = 7;
    o->fit_window = 1100;
    o->counts = false;
}

static const weir_model_spec cand_specs[WEIR_CAND__COUNT] = {
    { WEIR_MODEL_SNAIVE, false, false, false },
    { WEIR_MODEL_HOLT_WINTERS, false, false, false },
    { WEIR_MODEL_HOLT_WINTERS, false, true, false },
    { WEIR_MODEL_HOLT_WINTERS, true, false, false },
    { WEIR_MODEL_HOLT_WINTERS, true, true, false },
    { WEIR_MODEL_HOLT_WINTERS, false, false, true },
    { WEIR_MODEL_DECOMPOSITION, false, false, false },
    { WEIR_MODEL_DECOMPOSITION, false, false, true },
};

/* --- calendar effects ---------------------------------------------------- */

typedef struct effect {
    double value; /* ratio (multiplicative) or offset (additive) */
    int n;
} effect;

typedef struct effects {
    size_t n_names;
    effect *by_name;                  /* [n_names][2]: name x day type */
    effect by_kind[WEIR_EVENT__COUNT][2];
    double scale;                     /* error scale on event days, as errors */
} effects;

/* Everything a fitted forecaster keeps besides the model parameters. */
typedef struct fpriv {
    model_params mp;
    effects eff;
    size_t H;
    double sig[MAX_H]; /* error scale per horizon (relative or absolute) */
    double sig_n[MAX_H]; /* how many errors each sig rests on (backtest and in-sample) */
    double dow[7];     /* weekday factors on sig */
    double floor_rel;  /* least sigma relative to the forecast (short histories) */
    double floor_noise;/* least sigma in error units: NOISE_FLOOR x the weekly noise */
    size_t fit_window;
    bool counts;       /* the values count events: never tighter than Poisson noise */
} fpriv;

/* Per-call view of a series: events per day and the model's input array. */
typedef struct view {
    const weir_series *s;
    const weir_calendar *cal;
    size_t end;      /* the model may learn from [0, end) */
    size_t nev;      /* ev covers [0, nev) */
    int *ev;         /* calendar event index per day, -1 for none */
    int *name_id;    /* per calendar event: index of its name's first event */
    double *z;       /* [0, end): usable points, transformed; NaN otherwise */
    double *year_cos, *year_sin; /* [0, nev): the yearly angle, for the regression */
    bool mult;       /* every usable value is > 0: relative errors, ratio effects */
    bool nonneg;     /* every usable value is >= 0: the log transform is possible */
} view;

static bool usable_flag(unsigned char f)
{
    return !(f & (WEIR_POINT_ANOMALY | WEIR_POINT_EXCLUDED));
}

static void view_release(view *v)
{
    free(v->ev);
    free(v->name_id);
    free(v->z);
    free(v->year_cos);
    memset(v, 0, sizeof(*v));
}

static void view_init(view *v, const weir_series *s, const weir_calendar *cal,
                      size_t end, size_t horizon)
{
    memset(v, 0, sizeof(*v));
    v->s = s;
    v->cal = cal;
    v->end = end;
    v->nev = end + horizon;
    v->ev = weir_xmalloc(weir_size_mul(v->nev + 1, sizeof(int)));
    for (size_t t = 0; t < v->nev; t++)
        v->ev[t] = -1;
    size_t ne = cal ? cal->events.len : 0;
    v->name_id = weir_xmalloc(weir_size_mul(ne + 1, sizeof(int)));
    for (size_t i = 0; i < ne; i++) {
        const weir_calendar_event *e = &cal->events.items[i];
        v->name_id[i] = (int)i;
        for (size_t j = 0; j < i; j++)
            if (strcmp(cal->events.items[j].name, e->name) == 0) {
                v->name_id[i] = v->name_id[j];
                break;
            }
        /* first event in calendar order wins, as in weir_calendar_find */
        for (weir_date d = e->from; d <= e->to; d++) {
            int64_t t = (int64_t)d - s->start;
            if (t >= 0 && (uint64_t)t < v->nev && v->ev[t] < 0)
                v->ev[t] = (int)i;
        }
    }
    v->mult = true;
    v->nonneg = true;
    for (size_t t = 0; t < end; t++) {
        double y = s->values[t];
        if (isfinite(y) && usable_flag(s->flags[t])) {
            if (y <= 0)
                v->mult = false;
            if (y < 0)
                v->nonneg = false;
        }
    }
    v->z = weir_xmalloc(weir_size_mul(end + 1, sizeof(double)));
}

/* Computes the yearly basis once, for the regression (the other models need none). */
static void view_need_year(view *v, const weir_model_spec *spec)
{
    if (spec->kind != WEIR_MODEL_DECOMPOSITION || v->year_cos)
        return;
    v->year_cos = weir_xmalloc(weir_size_mul(2 * v->nev + 1, sizeof(double)));
    v->year_sin = v->year_cos + v->nev;
    model_year_basis(v->s->start, v->nev, v->year_cos, v->year_sin);
}

/* Fills v->z for spec's transform; returns the number of usable points. */
static size_t view_transform(view *v, bool log_transform)
{
    size_t k = 0;
    for (size_t t = 0; t < v->end; t++) {
        double y = v->s->values[t];
        if (isfinite(y) && usable_flag(v->s->flags[t]) && v->ev[t] < 0) {
            v->z[t] = log_transform ? log1p(y) : y;
            k++;
        } else {
            v->z[t] = NAN;
        }
    }
    return k;
}

static double median(double *x, size_t n)
{
    return model_median(x, n);
}

/* 1.4826 * median(|x|): sigma for Gaussian errors, robust to outliers. */
static double robust_scale(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = fabs(x[i]);
    return n ? 1.4826 * median(x, n) : NAN;
}

/*
 * Sigma from the mean absolute value winsorised at 3 robust (MAD) sigmas:
 * for Gaussian errors about twice as efficient as the MAD, and still deaf
 * to wild errors. (A cap found by iterating from the plain mean was
 * cheaper but let heavy tails in: recall of -40% days fell from 0.84 to
 * 0.75 in the benchmark.) x is reordered.
 */
static double efficient_scale(double *x, size_t n)
{
    if (!n)
        return NAN;
    double cap = 3 * robust_scale(x, n); /* leaves |x| in x, reordered */
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += WEIR_MIN(x[i], cap);
    return sum / (double)n * 1.2533141373155001;
}

/* Robust scale of weekly differences of z over [from, end), for clipping. */
static double weekly_diff_scale(const double *z, size_t from, size_t end)
{
    size_t n = 0, m = 0;
    double *d = weir_xmalloc(weir_size_mul(end - from + 1, sizeof(double)));
    double level = 0;
    for (size_t t = from; t < end; t++) {
        if (isfinite(z[t])) {
            level += fabs(z[t]);
            m++;
        }
        if (t >= from + 7 && isfinite(z[t]) && isfinite(z[t - 7]))
            d[n++] = z[t] - z[t - 7];
    }
    double s = robust_scale(d, n) / sqrt(2.0);
    free(d);
    level = m ? level / (double)m : 0;
    double floor_ = 1e-6 * level + 1e-9;
    return isfinite(s) && s > floor_ ? s : floor_;
}

/*
 * The noise week-on-week changes show over [from, end): the MAD of the
 * differences (relative when v->mult) between usable non-event days a week
 * apart, over sqrt 2. Around the median, so a steady trend is not noise.
 * 0 when there are too few pairs.
 */
static double weekly_noise(const view *v, size_t from, size_t end)
{
    const weir_series *s = v->s;
    double *d = weir_xmalloc(weir_size_mul(end - from + 1, sizeof(double)));
    size_t n = 0;
    for (size_t t = from + 7; t < end; t++) {
        double a = s->values[t], b = s->values[t - 7];
        if (!isfinite(a) || !isfinite(b) || !usable_flag(s->flags[t]) ||
            !usable_flag(s->flags[t - 7]) || v->ev[t] >= 0 || v->ev[t - 7] >= 0)
            continue;
        if (v->mult && b <= 0)
            continue;
        d[n++] = v->mult ? (a - b) / b : a - b;
    }
    double sc = 0;
    if (n >= 7) {
        double med = median(d, n);
        for (size_t i = 0; i < n; i++)
            d[i] -= med;
        sc = robust_scale(d, n) / sqrt(2.0);
    }
    free(d);
    return isfinite(sc) ? sc : 0;
}

static int day_type(weir_date d)
{
    return weir_date_weekday(d) >= 6;
}

typedef struct ev_sample {
    int name, kind, dt;
    double v;
} ev_sample;

static void effect_from(const ev_sample *smp, size_t n, int name, int kind, int dt,
                        double *tmp, effect *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((name < 0 || smp[i].name == name) && (kind < 0 || smp[i].kind == kind) &&
            (dt < 0 || smp[i].dt == dt))
            tmp[k++] = smp[i].v;
    out->n = (int)k;
    out->value = k ? median(tmp, k) : NAN;
}

static void effects_release(effects *e)
{
    free(e->by_name);
    memset(e, 0, sizeof(*e));
}

/*
 * Learns calendar effects from the days in [from, to) that are events, have
 * a usable value and a finite one-step forecast base[t] (original scale).
 */
static void effects_learn(const view *v, const double *base, size_t from, size_t to,
                          effects *eff)
{
    effects_release(eff);
    size_t ne = v->cal ? v->cal->events.len : 0;
    eff->n_names = ne;
    eff->by_name = weir_xcalloc(ne * 2 + 1, sizeof(effect));
    ev_sample *smp = weir_xmalloc(weir_size_mul(to - from + 1, sizeof(ev_sample)));
    double *tmp = weir_xmalloc(weir_size_mul(to - from + 1, sizeof(double)));
    size_t n = 0;
    for (size_t t = from; t < to; t++) {
        int e = v->ev[t];
        double y = v->s->values[t], f = base[t];
        if (e < 0 || !isfinite(y) || !usable_flag(v->s->flags[t]) || !isfinite(f))
            continue;
        if (v->mult && f <= 0)
            continue;
        ev_sample x = { v->name_id[e], (int)v->cal->events.items[e].kind,
                        day_type(v->s->start + (weir_date)t), v->mult ? y / f : y - f };
        smp[n++] = x;
    }
    for (size_t i = 0; i < ne; i++)
        if (v->name_id[i] == (int)i)
            for (int dt = 0; dt < 2; dt++)
                effect_from(smp, n, (int)i, -1, dt, tmp, &eff->by_name[i * 2 + dt]);
    for (int k = 0; k < WEIR_EVENT__COUNT; k++)
        for (int dt = 0; dt < 2; dt++)
            effect_from(smp, n, -1, k, dt, tmp, &eff->by_kind[k][dt]);
    /* the spread of event days around their effect, as an error scale */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const effect *x = &eff->by_name[smp[i].name * 2 + smp[i].dt];
        if (x->n < EFFECT_MIN_SAMPLES)
            x = &eff->by_kind[smp[i].kind][smp[i].dt];
        if (x->n < EFFECT_MIN_SAMPLES)
            continue;
        tmp[m++] = v->mult ? smp[i].v / x->value - 1 : smp[i].v - x->value;
    }
    eff->scale = m >= 5 ? efficient_scale(tmp, m) : NAN;
    free(smp);
    free(tmp);
}

/* The effect on index t, or NULL when t is no event or its effect is unknown. */
static const effect *effect_at(const view *v, const effects *eff, size_t t, bool *is_event)
{
    int e = t < v->nev ? v->ev[t] : -1;
    *is_event = e >= 0;
    if (e < 0)
        return NULL;
    int dt = day_type(v->s->start + (weir_date)t);
    int kind = (int)v->cal->events.items[e].kind;
    const effect *x = &eff->by_name[v->name_id[e] * 2 + dt];
    if (x->n >= EFFECT_MIN_SAMPLES)
        return x;
    /*
     * No fallback to the kind over both day types: a holiday's weekdays and
     * weekends differ too much (school closed on both: weekdays drop, weekends
     * barely move). An unknown effect gets a wide interval instead.
     */
    x = &eff->by_kind[kind][dt];
    return x->n >= EFFECT_MIN_SAMPLES ? x : NULL;
}

static double apply_effect(const view *v, const effect *x, double f)
{
    if (!x)
        return f;
    return v->mult ? f * x->value : f + x->value;
}

/* --- backtest ------------------------------------------------------------ */

typedef struct evaluation {
    model_params mp;   /* fitted before the backtest window */
    double smape, mase, coverage;
    size_t n;
    double sig[MAX_H];
    double sig_n[MAX_H]; /* errors each sig rests on (backtest and in-sample) */
    double dow[7];
} evaluation;

static double back(bool log_transform, double z)
{
    return log_transform ? expm1(z) : z;
}

static size_t window_start(size_t end, size_t fit_window)
{
    return end > fit_window ? end - fit_window : 0;
}

static size_t count_usable(const double *z, size_t from, size_t end)
{
    size_t k = 0;
    for (size_t t = from; t < end; t++)
        k += isfinite(z[t]) != 0;
    return k;
}

static void model_data_for(const view *v, size_t wstart, size_t end, model_data *md)
{
    md->z = v->z;
    md->n = end;
    md->start = v->s->start;
    md->wstart = wstart;
    md->scale = weekly_diff_scale(v->z, wstart, end);
    md->year_cos = v->year_cos;
    md->year_sin = v->year_sin;
    md->n_year = v->year_cos ? v->nev : 0;
}

/* An error in the units intervals are computed in: relative or absolute. */
static double rel_error(const view *v, double y, double f)
{
    if (v->mult)
        return (y - f) / (f > 1e-12 ? f : 1e-12);
    return y - f;
}

/*
 * How much wider than the normal quantile an interval at level must be when
 * its scale rests on n errors: Student's t with n - 1 degrees of freedom
 * (at least 2) over the normal quantile.
 */
static double small_sample(double level, double n)
{
    double p = 0.5 + level / 2;
    double df = n - 1 >= 2 ? n - 1 : 2;
    return weir_monitor_t_quantile(p, df) / weir_monitor_normal_quantile(p);
}

/*
 * The error scale per horizon from the non-event errors err[i] at horizon
 * hh[i], of group which (-1: all), made non-decreasing, and (when cnt is not
 * NULL) how many errors each scale rests on, for the small-sample widening
 * (never more than a shorter horizon's, so intervals widen with h).
 * A horizon with too few errors of its own pools the shorter horizons and
 * widens by HORIZON_GROWTH a day past the last horizon that had enough
 * (pooled shorter horizons are easier than the horizon itself); with too few
 * even then it grows like sqrt(h) from the last estimate.
 */
static void horizon_scales(const double *err, const int *hh, const bool *evd, const int *grp,
                           int which, size_t n, size_t H, double *tmp, double *sig,
                           double *cnt)
{
    double prev = 0, prev_n = 0;
    size_t last_ok = 0;
    for (size_t h = 0; h < H; h++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (hh[i] == (int)h && !evd[i] && (which < 0 || grp[i] == which))
                tmp[k++] = err[i];
        double sc = k >= 5 ? efficient_scale(tmp, k) : NAN;
        if (isfinite(sc)) {
            last_ok = h;
        } else {
            k = 0;
            for (size_t i = 0; i < n; i++)
                if (hh[i] <= (int)h && !evd[i] && (which < 0 || grp[i] == which))
                    tmp[k++] = err[i];
            sc = k >= 3 ? efficient_scale(tmp, k) : NAN;
            if (isfinite(sc) && h > last_ok)
                sc *= sqrt(1 + HORIZON_GROWTH * (double)(h - last_ok));
        }
        if (!isfinite(sc)) {
            sc = h ? prev * sqrt((double)(h + 1) / (double)(last_ok + 1)) : NAN;
            k = (size_t)prev_n;
        }
        if (h && sc < prev)
            sc = prev;
        /* a longer horizon's scale is no better known than a shorter one's */
        if (h && (double)k > prev_n)
            k = (size_t)prev_n;
        sig[h] = sc;
        prev = sc;
        prev_n = (double)k;
        if (cnt)
            cnt[h] = (double)k;
    }
}

/*
 * About how many numbers a model fitted to its history: initial weekday
 * values, level, trend, smoothing weights, regression coefficients.
 */
static double fitted_params(const weir_model_spec *spec, const model_params *mp)
{
    switch (spec->kind) {
    case WEIR_MODEL_SNAIVE:
        return 7;
    case WEIR_MODEL_HOLT_WINTERS:
        return 7 + 2 + 3 + (spec->damped ? 1 : 0);
    case WEIR_MODEL_DECOMPOSITION:
        return (double)mp->p + 1;
    }
    return 14;
}

/*
 * Backtests spec over the last B days before v->end with horizon H: fits on
 * [.., end - B), forecasts from every origin in [end - B, end). Expects v->z
 * transformed for spec. Returns -1 when the fit is impossible.
 */
static int evaluate(view *v, const weir_model_spec *spec, size_t B, size_t H,
                    size_t fit_window, evaluation *out)
{
    view_need_year(v, spec);
    size_t end = v->end, fit_end = end - B;
    size_t wstart = window_start(end, fit_window);
    model_data md;
    if (count_usable(v->z, wstart, fit_end) < MIN_FIT_POINTS)
        return -1;
    model_data_for(v, wstart, fit_end, &md);
    if (model_fit(spec, &md, fit_end, &out->mp) < 0)
        return -1;
    const model_params mp = out->mp;
    md.n = end;
    double *fc = weir_xmalloc(weir_size_mul(B * H + 1, sizeof(double)));
    double *ins = weir_xmalloc(weir_size_mul(end + 1, sizeof(double)));
    model_run(spec, &mp, &md, fit_end, end - 1, H, fc, ins);
    for (size_t t = 0; t < end - 1; t++)
        ins[t] = back(spec->log, ins[t]);
    effects eff = { 0 };
    effects_learn(v, ins, wstart, fit_end, &eff);

    size_t cap = B * H + 1;
    double *ya = weir_xmalloc(weir_size_mul(cap, sizeof(double)));
    double *fa = weir_xmalloc(weir_size_mul(cap, sizeof(double)));
    double *err = weir_xmalloc(weir_size_mul(cap, sizeof(double)));
    int *hh = weir_xmalloc(weir_size_mul(cap, sizeof(int)));
    int *ph = weir_xmalloc(weir_size_mul(cap, sizeof(int)));
    int *grp = weir_xmalloc(weir_size_mul(cap, sizeof(int)));
    bool *evd = weir_xmalloc(cap);
    double *tmp = weir_xmalloc(weir_size_mul(cap, sizeof(double)));
    size_t n = 0;
    for (size_t o = fit_end; o < end; o++)
        for (size_t h = 0; h < H && o + h < end; h++) {
            size_t t = o + h;
            double y = v->s->values[t];
            if (!isfinite(y) || !usable_flag(v->s->flags[t]))
                continue;
            bool is_event;
            const effect *x = effect_at(v, &eff, t, &is_event);
            /*
             * An event whose effect is not known yet (the first days of the
             * first spring break) is no test of a model: every model misses
             * it alike, and by so much that a few such days would decide the
             * choice and make every MASE look worse than the baseline's
             * in-sample error. It is judged with a wide interval instead.
             */
            if (is_event && !x)
                continue;
            double f = apply_effect(v, x, back(spec->log, fc[(o - fit_end) * H + h]));
            if (!isfinite(f))
                f = 0;
            ya[n] = y;
            fa[n] = f;
            err[n] = rel_error(v, y, f);
            hh[n] = (int)h;
            grp[n] = (int)(((o - fit_end) / 7) % 2);
            ph[n] = weir_date_weekday(v->s->start + (weir_date)t) - 1;
            evd[n] = is_event;
            n++;
        }
    out->n = n;
    out->smape = weir_monitor_smape(ya, fa, n);
    /* MASE's scale: the weekly naive MAE on the usable non-event fit days */
    double *lin = weir_xmalloc(weir_size_mul(fit_end + 1, sizeof(double)));
    for (size_t t = 0; t < fit_end; t++)
        lin[t] = isfinite(v->z[t]) ? v->s->values[t] : NAN;
    out->mase = weir_monitor_mase(ya, fa, n, weir_monitor_snaive_mae(lin, fit_end));
    free(lin);

    /* error scale per horizon (non-event days), non-decreasing */
    horizon_scales(err, hh, evd, grp, -1, n, H, tmp, out->sig, out->sig_n);
    /*
     * Weekday factors: how much wider one weekday's errors are than the
     * rest (weekends of counts are noisier, relatively). From the one-step
     * in-sample errors of up to a year before the window (many more points
     * than the backtest has per weekday), shrunk towards 1.
     */
    {
        size_t from = fit_end > wstart + 365 ? fit_end - 365 : wstart;
        size_t m = fit_end - from + 1;
        double *ie = weir_xmalloc(weir_size_mul(m, sizeof(double)));
        double *it = weir_xmalloc(weir_size_mul(m, sizeof(double)));
        int *ip = weir_xmalloc(weir_size_mul(m, sizeof(int)));
        size_t k = 0;
        for (size_t t = from; t < fit_end; t++)
            if (isfinite(v->z[t]) && isfinite(ins[t])) {
                ie[k] = rel_error(v, v->s->values[t], ins[t]);
                ip[k++] = weir_date_weekday(v->s->start + (weir_date)t) - 1;
            }
        memcpy(it, ie, k * sizeof(double));
        /* mean absolute errors winsorised at 3 sigmas: robust, yet efficient */
        double wcap = 3 * robust_scale(it, k), all = 0;
        for (size_t i = 0; i < k; i++)
            all += WEIR_MIN(fabs(ie[i]), wcap);
        all = k ? all / (double)k : 0;
        /*
         * These errors measure the same scale (the weekday factors rescale
         * it by them), so they count towards the errors the scales rest on,
         * less the parameters fitted on them, as residuals' degrees of
         * freedom do, and more (three per parameter: short fits are
         * optimistic beyond their parameter count): a long history whose
         * backtest window is mostly summer holidays is not a short one,
         * while the few fitted-on errors of a ten-week history add nothing
         * (counting them all let 95% intervals on 3-7 weeks hold only 90%).
         * Counted over the whole fit window, though only the last year set
         * the weekday factors.
         */
        size_t k_all = k;
        for (size_t t = wstart; t < from; t++)
            k_all += isfinite(v->z[t]) && isfinite(ins[t]);
        double fitted = 3 * fitted_params(spec, &out->mp);
        for (size_t h = 0; h < H; h++)
            out->sig_n[h] += (double)k_all > fitted ? (double)k_all - fitted : 0;
        for (int d = 0; d < 7; d++) {
            size_t q = 0;
            double sum = 0;
            for (size_t i = 0; i < k; i++)
                if (ip[i] == d) {
                    sum += WEIR_MIN(fabs(ie[i]), wcap);
                    q++;
                }
            double f = q >= 8 && all > 0 ? sum / (double)q / all : 1.0;
            f = (f * (double)q + 1.0 * 30) / ((double)q + 30);
            out->dow[d] = f < 0.5 ? 0.5 : (f > 3 ? 3 : f);
        }
        free(ie);
        free(it);
        free(ip);
    }
    /*
     * Coverage of 95% intervals, cross-fitted so it is a real check: the
     * scales learnt on alternate weeks of origins judge the other weeks.
     */
    double z95 = 1.959963984540054, sig_half[2][MAX_H], n_half[2][MAX_H];
    horizon_scales(err, hh, evd, grp, 0, n, H, tmp, sig_half[0], n_half[0]);
    horizon_scales(err, hh, evd, grp, 1, n, H, tmp, sig_half[1], n_half[1]);
    size_t inside = 0, counted = 0;
    for (size_t i = 0; i < n; i++) {
        double sg = sig_half[1 - grp[i]][hh[i]];
        if (evd[i] || !isfinite(sg))
            continue;
        counted++;
        if (fabs(err[i]) <= z95 * small_sample(0.95, n_half[1 - grp[i]][hh[i]]) * sg * out->dow[ph[i]])
            inside++;
    }
    out->coverage = counted ? (double)inside / (double)counted : NAN;

    free(ya);
    free(fa);
    free(err);
    free(grp);
    free(hh);
    free(ph);
    free(evd);
    free(tmp);
    free(fc);
    free(ins);
    effects_release(&eff);
    return 0;
}

/* --- fitting ------------------------------------------------------------- */

void weir_forecaster_init(weir_forecaster *f)
{
    memset(f, 0, sizeof(*f));
    f->chosen = -1;
}

void weir_forecaster_release(weir_forecaster *f)
{
    fpriv *p = f->priv;
    if (p) {
        effects_release(&p->eff);
        free(p);
    }
    weir_forecaster_init(f);
}

static int check_options(const weir_monitor_options *o, weir_error *err)
{
    if (!(o->level > 0 && o->level < 1))
        return weir_error_set(err, WEIR_EINVALID, "level %g is not between 0 and 1", o->level);
    if (o->horizon < 1 || o->horizon > MAX_H)
        return weir_error_set(err, WEIR_EINVALID, "horizon %d is not between 1 and %d",
                              o->horizon, MAX_H);
    if (o->backtest_days < 1 || o->fit_window < 28 || o->refit_days < 1)
        return weir_error_set(err, WEIR_EINVALID, "backtest days, fit window and refit days must be positive");
    return 0;
}

int weir_forecaster_fit(weir_forecaster *f, const weir_series *s,
                        const weir_calendar *cal, const weir_model_spec *spec,
                        const weir_monitor_options *opts, size_t end,
                        weir_error *err)
{
    weir_monitor_options defaults;
    if (!opts) {
        weir_monitor_options_init(&defaults);
        opts = &defaults;
    }
    weir_forecaster_release(f);
    int rc = check_options(opts, err);
    if (rc < 0)
        return rc;
    if (end > s->len)
        return weir_error_set(err, WEIR_EINVALID, "fit end %zu is past the series' %zu days",
                              end, s->len);
    size_t H = (size_t)opts->horizon;
    size_t min_hist = opts->min_history > MIN_FIT_POINTS ? (size_t)opts->min_history : MIN_FIT_POINTS;
    size_t fit_window = (size_t)opts->fit_window;
    view v;
    view_init(&v, s, cal, end, H);
    fpriv *p = NULL;
    size_t usable = view_transform(&v, false);
    if (usable < min_hist) {
        rc = weir_error_set(err, WEIR_MONITOR_ESHORT,
                            "insufficient history: %zu usable days, %zu needed", usable, min_hist);
        goto cleanup;
    }
    size_t B = WEIR_MIN((size_t)opts->backtest_days, end / 3);
    if (B < 1)
        B = 1;

    evaluation best_ev = { 0 }, ev;
    int best = -1;
    weir_model_spec chosen;
    if (spec) {
        chosen = *spec;
        if ((spec->log && !v.nonneg) || (spec->multiplicative && !v.mult)) {
            rc = weir_error_set(err, WEIR_EINVALID, "model '%s' needs positive values",
                                weir_model_spec_name(spec));
            goto cleanup;
        }
        view_transform(&v, spec->log);
        if (evaluate(&v, spec, B, H, fit_window, &best_ev) < 0) {
            rc = weir_error_set(err, WEIR_MONITOR_ESHORT, "insufficient history to fit '%s'",
                                weir_model_spec_name(spec));
            goto cleanup;
        }
        f->scores[0].spec = *spec;
        f->scores[0].smape = best_ev.smape;
        f->scores[0].mase = best_ev.mase;
        f->scores[0].coverage = best_ev.coverage;
        f->scores[0].n = best_ev.n;
        f->n_scores = 1;
        f->chosen = -1;
    } else {
        int cur_log = 0;
        for (int c = 0; c < WEIR_CAND__COUNT; c++) {
            const weir_model_spec *cs = &cand_specs[c];
            if (!(opts->candidates & (1u << c)))
                continue;
            if ((cs->log && !v.nonneg) || (cs->multiplicative && !v.mult))
                continue;
            /* the regression on the log scale when possible: one of the two */
            if (cs->kind == WEIR_MODEL_DECOMPOSITION && !cs->log && v.nonneg &&
                (opts->candidates & WEIR_CAND_DECOMP_LOG))
                continue;
            if (cs->log != cur_log) {
                view_transform(&v, cs->log);
                cur_log = cs->log;
            }
            if (evaluate(&v, cs, B, H, fit_window, &ev) < 0)
                continue;
            weir_model_score *sc = &f->scores[f->n_scores];
            sc->spec = *cs;
            sc->smape = ev.smape;
            sc->mase = ev.mase;
            sc->coverage = ev.coverage;
            sc->n = ev.n;
            /*
             * The seasonal naive baseline comes first: another model replaces
             * it only with a strictly lower MASE (or an equal one and a lower
             * sMAPE), so nothing worse than the baseline in the same backtest
             * is ever chosen.
             */
            bool better = best < 0;
            if (!better) {
                const weir_model_score *b = &f->scores[best];
                double m1 = isfinite(sc->mase) ? sc->mase : INFINITY;
                double m0 = isfinite(b->mase) ? b->mase : INFINITY;
                better = m1 < m0 || (m1 == m0 && sc->smape < b->smape);
            }
            if (better) {
                best = (int)f->n_scores;
                best_ev = ev;
            }
            f->n_scores++;
        }
        if (best < 0) {
            rc = weir_error_set(err, WEIR_MONITOR_ESHORT, "insufficient history to fit any model");
            goto cleanup;
        }
        chosen = f->scores[best].spec;
        f->chosen = best;
        view_transform(&v, chosen.log);
    }

    /*
     * Refit the regression on all the history (its coefficients do not
     * adapt otherwise); Holt-Winters keeps the smoothing parameters of the
     * backtest, its state runs over all the history anyway.
     */
    p = weir_xcalloc(1, sizeof(*p));
    p->fit_window = fit_window;
    p->mp = best_ev.mp;
    size_t wstart = window_start(end, fit_window);
    model_data md;
    view_need_year(&v, &chosen);
    model_data_for(&v, wstart, end, &md);
    if (chosen.kind == WEIR_MODEL_DECOMPOSITION &&
        model_fit(&chosen, &md, end, &p->mp) < 0) {
        rc = weir_error_set(err, WEIR_MONITOR_ESHORT, "insufficient history to fit '%s'",
                            weir_model_spec_name(&chosen));
        goto cleanup;
    }
    double *ins = weir_xmalloc(weir_size_mul(end + 1, sizeof(double)));
    double dummy;
    model_run(&chosen, &p->mp, &md, end, end, 1, &dummy, ins);
    for (size_t t = 0; t < end; t++)
        ins[t] = back(chosen.log, ins[t]);
    effects_learn(&v, ins, wstart, end, &p->eff);
    free(ins);

    p->H = H;
    double sig_floor = v.mult ? 1e-6 : 1e-9 + 1e-6 * md.scale;
    for (size_t h = 0; h < H; h++) {
        double sc = best_ev.sig[h];
        if (!isfinite(sc))
            sc = v.mult ? 0.1 : md.scale;
        p->sig[h] = sc > sig_floor ? sc : sig_floor;
    }
    memcpy(p->sig_n, best_ev.sig_n, sizeof(p->sig_n));
    memcpy(p->dow, best_ev.dow, sizeof(p->dow));
    p->floor_rel = LEVEL_FLOOR_LONG + LEVEL_FLOOR_SHORT / sqrt((double)usable / 7.0);
    p->floor_noise = NOISE_FLOOR * weekly_noise(&v, wstart, end);
    p->counts = opts->counts;
    if (!isfinite(p->eff.scale))
        p->eff.scale = 2 * p->sig[0];

    f->spec = chosen;
    f->end = end;
    f->start = s->start;
    f->multiplicative_errors = v.mult;
    f->sigma1 = p->sig[0];
    f->backtest_days = B;
    f->priv = p;
    p = NULL;
    rc = 0;
cleanup:
    if (p) {
        effects_release(&p->eff);
        free(p);
    }
    view_release(&v);
    return rc;
}

void weir_forecaster_describe(const weir_forecaster *f, weir_buf *out)
{
    if (!f->priv) {
        weir_buf_adds(out, "no model fitted\n");
        return;
    }
    const fpriv *p = f->priv;
    weir_buf_addf(out, "model %s, chosen by a rolling-origin backtest (origins the last %zu days, "
                  "horizons 1-%zu; errors %s)\n",
                  weir_model_spec_name(&f->spec), f->backtest_days, p->H,
                  f->multiplicative_errors ? "relative" : "absolute");
    for (size_t i = 0; i < f->n_scores; i++) {
        const weir_model_score *sc = &f->scores[i];
        weir_buf_addf(out, "  %c %-16s sMAPE %6.2f%%  MASE %6.3f  95%% coverage %3.0f%%  (%zu forecasts)\n",
                      (int)i == f->chosen ? '*' : ' ', weir_model_spec_name(&sc->spec), sc->smape,
                      sc->mase, 100 * sc->coverage, sc->n);
    }
}

/* --- prediction ---------------------------------------------------------- */

void weir_forecast_release(weir_forecast *fc)
{
    free(fc->mean);
    free(fc->lo);
    free(fc->hi);
    free(fc->scale);
    free(fc->event);
    free(fc->event_unknown);
    memset(fc, 0, sizeof(*fc));
}

int weir_forecaster_predict(const weir_forecaster *f, const weir_series *s,
                            const weir_calendar *cal, size_t origin, size_t h,
                            double level, weir_forecast *out, weir_error *err)
{
    const fpriv *p = f->priv;
    weir_forecast_release(out);
    if (!p)
        return weir_error_set(err, WEIR_EINVALID, "forecaster is not fitted");
    if (!(level > 0 && level < 1))
        return weir_error_set(err, WEIR_EINVALID, "level %g is not between 0 and 1", level);
    if (origin > s->len || h < 1 || s->start != f->start)
        return weir_error_set(err, WEIR_EINVALID, "forecast origin %zu is outside the series",
                              origin);
    view v;
    view_init(&v, s, cal, origin, h);
    view_transform(&v, f->spec.log);
    /* keep the fitted error mode even if new points changed the sign picture */
    v.mult = f->multiplicative_errors;
    view_need_year(&v, &f->spec);
    model_data md;
    model_data_for(&v, window_start(origin, p->fit_window), origin, &md);
    double *fc = weir_xmalloc(weir_size_mul(h, sizeof(double)));
    model_run(&f->spec, &p->mp, &md, origin, origin, h, fc, NULL);

    out->start = s->start + (weir_date)origin;
    out->h = h;
    out->level = level;
    out->mean = weir_xmalloc(weir_size_mul(h, sizeof(double)));
    out->lo = weir_xmalloc(weir_size_mul(h, sizeof(double)));
    out->hi = weir_xmalloc(weir_size_mul(h, sizeof(double)));
    out->scale = weir_xmalloc(weir_size_mul(h, sizeof(double)));
    out->event = weir_xcalloc(h, sizeof(bool));
    out->event_unknown = weir_xcalloc(h, sizeof(bool));
    double zq = weir_monitor_normal_quantile(0.5 + level / 2);
    for (size_t k = 0; k < h; k++) {
        size_t t = origin + k;
        double base = back(f->spec.log, fc[k]);
        if (!isfinite(base))
            base = 0;
        bool is_event;
        const effect *x = effect_at(&v, &p->eff, t, &is_event);
        double mean = apply_effect(&v, x, base);
        if (v.nonneg && mean < 0)
            mean = 0; /* counts are never negative, whatever a trend says */
        double sig = k < p->H ? p->sig[k] : p->sig[p->H - 1] * sqrt((double)(k + 1) / (double)p->H);
        if (sig < p->floor_noise)
            sig = p->floor_noise;
        sig *= p->dow[weir_date_weekday(s->start + (weir_date)t) - 1];
        if (is_event) {
            /*
             * Event days are judged more leniently: their effect is learnt
             * from few days, and a missed holiday alarm costs less than a
             * false one.
             */
            double es = EVENT_LENIENCY * p->eff.scale;
            sig = sqrt(sig * sig + es * es);
        }
        double abs_sig = v.mult ? sig * fabs(mean) : sig;
        /* the level floor widens a little with the horizon too: more can change */
        double lfloor = p->floor_rel * fabs(mean) * sqrt(1 + FLOOR_GROWTH * (double)k);
        if (abs_sig < lfloor)
            abs_sig = lfloor;
        /*
         * A count of independent events varies by about its square root from
         * day to day whatever the model: a low-volume day (a weekend, a
         * holiday) cannot be forecast tighter than that, even when the
         * high-volume days made the relative errors small.
         */
        if (p->counts && abs_sig < sqrt(fabs(mean) > 1 ? fabs(mean) : 1))
            abs_sig = sqrt(fabs(mean) > 1 ? fabs(mean) : 1);
        /*
         * The quantile, not the scale, carries the small-sample widening:
         * scores stay in sigmas of the errors (what the scan's exclusion
         * threshold and the severities are stated in).
         */
        double q = zq * small_sample(level, p->sig_n[k < p->H ? k : p->H - 1]);
        double lo = mean - q * abs_sig, hi = mean + q * abs_sig;
        if (is_event && !x) {
            /* an event never seen before: anything from zero to twice the usual */
            out->event_unknown[k] = true;
            double wide = fabs(mean) + q * abs_sig;
            lo = WEIR_MIN(lo, v.nonneg ? 0 : mean - wide);
            hi = mean + wide;
            abs_sig = (hi - lo) / (2 * q);
        }
        if (v.nonneg && lo < 0)
            lo = 0;
        out->mean[k] = mean;
        out->lo[k] = lo;
        out->hi[k] = hi;
        out->scale[k] = abs_sig;
        out->event[k] = is_event;
    }
    free(fc);
    view_release(&v);
    return 0;
}
