/*
 * detect.c: verdicts on days (weir_monitor_check, weir_monitor_scan).
 *
 * A day is judged against a one-day-ahead forecast from the days before it:
 * outside the interval at the configured level it is an anomaly, with a
 * signed score in sigmas and a severity; too little history is its own
 * verdict, never an alarm. The scan replays a daily monitor over a range,
 * leaving clear anomalies out of later fits so one bad day does not teach
 * the model that bad days are normal, until a lasting shift proves they are.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "monitor/forecast.h"

/* Scan: a point is left out of later fits only beyond this many sigmas. */
#define EXCLUDE_Z 3.29

static void judge(const weir_forecast *fc, size_t k, double actual, double level,
                  weir_check *out)
{
    double zq = weir_monitor_normal_quantile(0.5 + level / 2);
    out->actual = actual;
    out->expected = fc->mean[k];
    out->lo = fc->lo[k];
    out->hi = fc->hi[k];
    out->deviation = out->expected != 0 ? (actual - out->expected) / out->expected : NAN;
    if (!isfinite(actual)) {
        out->verdict = WEIR_VERDICT_MISSING;
        out->score = NAN;
        out->severity = WEIR_SEVERITY_NONE;
        return;
    }
    double sc = fc->scale[k] > 0 ? fc->scale[k] : 1e-12;
    out->score = (actual - out->expected) / sc;
    if (actual >= out->lo && actual <= out->hi) {
        out->verdict = WEIR_VERDICT_OK;
        out->severity = WEIR_SEVERITY_NONE;
        return;
    }
    out->verdict = WEIR_VERDICT_ANOMALY;
    double r = fabs(out->score) / zq;
    out->severity = r <= 1.5 ? WEIR_SEVERITY_LOW : (r <= 2 ? WEIR_SEVERITY_MEDIUM : WEIR_SEVERITY_HIGH);
}

static void check_blank(weir_check *out, weir_date d, double actual, weir_verdict v)
{
    out->date = d;
    out->actual = actual;
    out->expected = out->lo = out->hi = out->score = out->deviation = NAN;
    out->verdict = v;
    out->severity = WEIR_SEVERITY_NONE;
    out->event = NULL;
}

int weir_monitor_check(const weir_series *s, const weir_calendar *cal,
                       const weir_monitor_options *opts, weir_date d,
                       weir_check *out, weir_forecaster *fitted, weir_error *err)
{
    weir_monitor_options defaults;
    if (!opts) {
        weir_monitor_options_init(&defaults);
        opts = &defaults;
    }
    weir_forecaster local = WEIR_FORECASTER_INIT;
    weir_forecaster *f = fitted ? fitted : &local;
    weir_forecast fc = WEIR_FORECAST_INIT;
    weir_error e = WEIR_ERROR_INIT;
    double actual = weir_series_get(s, d);
    const weir_calendar_event *ev = weir_calendar_find(cal, d);
    int rc = 0;
    check_blank(out, d, actual, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    out->event = ev ? ev->name : NULL;
    if (s->len == 0 || d < s->start) {
        weir_forecaster_release(f);
        goto cleanup;
    }
    /* a date past the series' end is judged as missing, against a forecast */
    size_t t = (size_t)(d - s->start);
    size_t end = WEIR_MIN(t, s->len);
    rc = weir_forecaster_fit(f, s, cal, NULL, opts, end, &e);
    if (rc == WEIR_MONITOR_ESHORT) {
        rc = 0;
        goto cleanup;
    }
    if (rc < 0) {
        if (err)
            weir_error_move(err, &e);
        goto cleanup;
    }
    rc = weir_forecaster_predict(f, s, cal, end, t - end + 1, opts->level, &fc, err);
    if (rc < 0)
        goto cleanup;
    judge(&fc, t - end, actual, opts->level, out);
cleanup:
    weir_forecast_release(&fc);
    weir_forecaster_release(&local);
    weir_error_release(&e);
    return rc;
}

int weir_monitor_scan(const weir_series *s, const weir_calendar *cal,
                      const weir_monitor_options *opts, weir_date from,
                      weir_date to, weir_check **out, size_t *n_out,
                      weir_series *flagged, weir_error *err)
{
    weir_monitor_options defaults;
    if (!opts) {
        weir_monitor_options_init(&defaults);
        opts = &defaults;
    }
    *out = NULL;
    *n_out = 0;
    if (s->len == 0 || from < s->start || to > weir_series_end(s) || to < from)
        return weir_error_set(err, WEIR_EINVALID, "scan range is outside the series");
    /* the fits check the rest of the options */
    if (!(opts->level > 0 && opts->level < 1))
        return weir_error_set(err, WEIR_EINVALID, "level %g is not between 0 and 1", opts->level);
    if (opts->refit_days < 1)
        return weir_error_set(err, WEIR_EINVALID, "refit days must be positive");
    int rc = 0;
    weir_series work = WEIR_SERIES_INIT;
    weir_series_copy(&work, s);
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    weir_error e = WEIR_ERROR_INIT;
    size_t n = (size_t)(to - from) + 1;
    weir_check *checks = weir_xcalloc(n, sizeof(weir_check));
    size_t i0 = (size_t)(from - s->start);
    size_t last_fit = 0;
    bool force = true; /* fit before the next prediction */
    int run_sign = 0;
    size_t run_len = 0;

    for (size_t k = 0; k < n; k++) {
        size_t t = i0 + k;
        weir_check *c = &checks[k];
        double y = work.values[t];
        const weir_calendar_event *ev = weir_calendar_find(cal, s->start + (weir_date)t);
        check_blank(c, s->start + (weir_date)t, y, WEIR_VERDICT_INSUFFICIENT_HISTORY);
        c->event = ev ? ev->name : NULL;
        if (force || t - last_fit >= (size_t)opts->refit_days) {
            rc = weir_forecaster_fit(&f, &work, cal, NULL, opts, t, &e);
            if (rc == WEIR_MONITOR_ESHORT) {
                weir_error_clear(&e);
                continue;
            }
            if (rc < 0) {
                if (err)
                    weir_error_move(err, &e);
                goto cleanup;
            }
            force = false;
            last_fit = t;
        }
        rc = weir_forecaster_predict(&f, &work, cal, t, 1, opts->level, &fc, err);
        if (rc < 0)
            goto cleanup;
        judge(&fc, 0, y, opts->level, c);
        if (c->verdict != WEIR_VERDICT_ANOMALY) {
            if (c->verdict == WEIR_VERDICT_OK)
                run_len = 0;
            continue;
        }
        /*
         * Leave clear anomalies out of later fits. Not every point outside
         * a narrow interval: at low levels that would trim the errors'
         * tails and shrink the intervals further.
         */
        if (fabs(c->score) >= EXCLUDE_Z)
            work.flags[t] |= WEIR_POINT_ANOMALY;
        int sign = c->score > 0 ? 1 : -1;
        run_len = sign == run_sign ? run_len + 1 : 1;
        run_sign = sign;
        if (opts->shift_days > 0 && run_len >= (size_t)opts->shift_days) {
            /* a lasting change: make it the new normal */
            for (size_t j = 0; j < run_len; j++) {
                size_t u = t - j;
                if (checks[k - j].verdict == WEIR_VERDICT_ANOMALY)
                    work.flags[u] &= (unsigned char)~WEIR_POINT_ANOMALY;
                if (j == k)
                    break;
            }
            run_len = 0;
            force = true;
        }
    }
    *out = checks;
    *n_out = n;
    checks = NULL;
    if (flagged) {
        weir_series_release(flagged);
        *flagged = work;
        weir_series_init(&work);
    }
    rc = 0;
cleanup:
    free(checks);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_series_release(&work);
    weir_error_release(&e);
    return rc;
}
