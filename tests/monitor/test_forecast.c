/*
 * Tests of monitor/forecast: the models on hand-computable series, interval
 * coverage on noise of known variance, detection of injected anomalies on a
 * school-like series whose holidays must not alarm, and the verdicts for
 * short and gappy histories.
 */
#include "harness.h"

#include "core/prng.h"
#include "monitor/forecast.h"
#include "monitor/models.h"
#include "monitor/synth.h"

static weir_date day0(void)
{
    weir_date d;
    weir_date_from_ymd(2024, 1, 1, &d); /* a Monday */
    return d;
}

static void fill(weir_series *s, size_t n, double (*fn)(size_t, void *), void *ctx)
{
    weir_series_release(s);
    for (size_t t = 0; t < n; t++)
        weir_series_set(s, day0() + (weir_date)t, fn(t, ctx));
}

static double constant(size_t t, void *ctx)
{
    WEIR_UNUSED(t);
    WEIR_UNUSED(ctx);
    return 100.0;
}

static const double pattern[7] = { 500, 520, 510, 490, 400, 80, 60 };

static double weekly(size_t t, void *ctx)
{
    WEIR_UNUSED(ctx);
    return pattern[t % 7];
}

static double trend(size_t t, void *ctx)
{
    WEIR_UNUSED(ctx);
    return 1000.0 + 2.0 * (double)t;
}

static double noisy(size_t t, void *ctx)
{
    WEIR_UNUSED(t);
    return 1000.0 + 20.0 * weir_prng_gaussian(ctx);
}

static const char *const all_specs[] = { "snaive", "hw_add", "hw_add_damped", "hw_mul",
                                         "hw_mul_damped", "hw_add_log", "decomp", "decomp_log" };

static void forecast_with(const weir_series *s, const char *name, size_t h, weir_forecast *fc)
{
    weir_model_spec spec;
    weir_monitor_options o;
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_error e = WEIR_ERROR_INIT;
    weir_monitor_options_init(&o);
    CHECK_INT(weir_model_spec_parse(name, &spec), ==, 0);
    CHECK_OK(weir_forecaster_fit(&f, s, NULL, &spec, &o, s->len, &e), &e);
    CHECK_OK(weir_forecaster_predict(&f, s, NULL, s->len, h, 0.95, fc, &e), &e);
    weir_forecaster_release(&f);
}

TEST(constant_series_gives_constant_forecast_and_tight_interval)
{
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 200, constant, NULL);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(all_specs); i++) {
        weir_forecast fc = WEIR_FORECAST_INIT;
        forecast_with(&s, all_specs[i], 14, &fc);
        for (size_t k = 0; k < fc.h; k++) {
            CHECK_DBL(fc.mean[k], 100.0, 1e-4);
            /*
             * no errors at all, yet not a zero-width interval: the floor for
             * unseen variation (forecast.c) keeps about +-2% at 95% after
             * 28 weeks
             */
            CHECK(fc.hi[k] - fc.lo[k] < 6);
            CHECK(fc.hi[k] - fc.lo[k] > 2);
            CHECK(fc.lo[k] <= fc.mean[k] && fc.mean[k] <= fc.hi[k]);
        }
        weir_forecast_release(&fc);
    }
    weir_series_release(&s);
}

TEST(pure_weekly_pattern_is_forecast_exactly)
{
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 150, weekly, NULL);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(all_specs); i++) {
        weir_forecast fc = WEIR_FORECAST_INIT;
        forecast_with(&s, all_specs[i], 21, &fc);
        for (size_t k = 0; k < fc.h; k++)
            CHECK_DBL(fc.mean[k], pattern[(150 + k) % 7], 1e-3 * pattern[(150 + k) % 7]);
        weir_forecast_release(&fc);
    }
    /* and the automatic choice finds a model that is exact too */
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    weir_error e = WEIR_ERROR_INIT;
    CHECK_OK(weir_forecaster_fit(&f, &s, NULL, NULL, NULL, s.len, &e), &e);
    CHECK(f.chosen >= 0);
    CHECK(f.n_scores >= 4);
    CHECK(f.scores[f.chosen].mase < 1e-3);
    CHECK_OK(weir_forecaster_predict(&f, &s, NULL, s.len, 7, 0.99, &fc, &e), &e);
    for (size_t k = 0; k < 7; k++)
        CHECK_DBL(fc.mean[k], pattern[(150 + k) % 7], 1e-3 * pattern[(150 + k) % 7]);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_series_release(&s);
}

TEST(linear_trend_is_followed)
{
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 300, trend, NULL);
    static const char *const trending[] = { "hw_add", "hw_mul", "decomp" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(trending); i++) {
        weir_forecast fc = WEIR_FORECAST_INIT;
        forecast_with(&s, trending[i], 14, &fc);
        for (size_t k = 0; k < fc.h; k++)
            CHECK_DBL(fc.mean[k], trend(300 + k, NULL), 0.005 * trend(300 + k, NULL));
        weir_forecast_release(&fc);
    }
    /* the seasonal naive baseline lags a week behind, as it should */
    weir_forecast fc = WEIR_FORECAST_INIT;
    forecast_with(&s, "snaive", 7, &fc);
    CHECK_DBL(fc.mean[0], trend(293, NULL), 1e-9);
    weir_forecast_release(&fc);
    weir_series_release(&s);
}

/* Scans the last n days and returns the share of days inside the interval. */
static double coverage(const weir_series *s, double level, size_t n)
{
    weir_monitor_options o;
    weir_monitor_options_init(&o);
    o.level = level;
    o.shift_days = 0;
    weir_check *c = NULL;
    size_t nc = 0, inside = 0;
    weir_error e = WEIR_ERROR_INIT;
    weir_date end = weir_series_end(s);
    CHECK_OK(weir_monitor_scan(s, NULL, &o, end - (weir_date)n + 1, end, &c, &nc, NULL, &e), &e);
    CHECK_INT(nc, ==, n);
    for (size_t i = 0; i < nc; i++)
        inside += c[i].verdict == WEIR_VERDICT_OK;
    free(c);
    return (double)inside / (double)nc;
}

TEST(interval_coverage_on_gaussian_noise)
{
    weir_prng r;
    weir_prng_seed(&r, 7);
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 3 * 365, noisy, &r);
    double c95 = coverage(&s, 0.95, 365);
    double c99 = coverage(&s, 0.99, 365);
    double c80 = coverage(&s, 0.80, 365);
    CHECK(c95 >= 0.92 && c95 <= 0.98);
    CHECK(c99 >= 0.97);
    CHECK(c80 >= 0.74 && c80 <= 0.86);

    /* the interval's half-width matches the noise: 1.96 * 20 at 95% */
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    weir_error e = WEIR_ERROR_INIT;
    CHECK_OK(weir_forecaster_fit(&f, &s, NULL, NULL, NULL, s.len, &e), &e);
    CHECK_OK(weir_forecaster_predict(&f, &s, NULL, s.len, 7, 0.95, &fc, &e), &e);
    double half = 0;
    for (size_t k = 0; k < 7; k++) {
        half += (fc.hi[k] - fc.lo[k]) / 2 / 7;
        CHECK_DBL(fc.mean[k], 1000, 15);
    }
    /* a little wider than the noise alone: the forecast has errors too */
    CHECK(half > 1.96 * 20 * 0.95 && half < 1.96 * 20 * 1.3);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_series_release(&s);
}

typedef struct injected {
    size_t drop, spike, shift, shift_len;
} injected;

/* A school-like series with a -40% Wednesday, a doubled day and a 5-day level shift. */
static void school(weir_series *s, weir_calendar *cal, injected *inj, uint64_t seed)
{
    weir_synth_options so;
    weir_synth_options_init(&so);
    so.seed = seed;
    weir_synth_school(&so, s, cal);
    size_t n = s->len;
    inj->drop = n - 120;
    while (weir_date_weekday(s->start + (weir_date)inj->drop) != 3 ||
           weir_calendar_find(cal, s->start + (weir_date)inj->drop))
        inj->drop++;
    inj->spike = n - 75;
    while (weir_calendar_find(cal, s->start + (weir_date)inj->spike))
        inj->spike++;
    inj->shift = n - 30;
    while (weir_date_weekday(s->start + (weir_date)inj->shift) != 1 ||
           weir_calendar_find(cal, s->start + (weir_date)inj->shift))
        inj->shift++;
    inj->shift_len = 5;
    s->values[inj->drop] = round(s->values[inj->drop] * 0.6);
    s->values[inj->spike] *= 2;
    for (size_t t = inj->shift; t < inj->shift + inj->shift_len; t++)
        s->values[t] = round(s->values[t] * 0.6);
}

TEST(school_series_injected_anomalies_found_holidays_quiet)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        weir_series s = WEIR_SERIES_INIT;
        weir_calendar cal = WEIR_CALENDAR_INIT;
        injected inj;
        school(&s, &cal, &inj, seed);
        weir_monitor_options o;
        weir_monitor_options_init(&o);
        weir_check *c = NULL;
        size_t nc = 0;
        weir_error e = WEIR_ERROR_INIT;
        weir_date end = weir_series_end(&s);
        CHECK_OK(weir_monitor_scan(&s, &cal, &o, end - 364, end, &c, &nc, NULL, &e), &e);
        size_t false_alarms = 0, holiday_days = 0;
        for (size_t i = 0; i < nc; i++) {
            size_t t = (size_t)(c[i].date - s.start);
            bool inj_day = t == inj.drop || t == inj.spike ||
                           (t >= inj.shift && t < inj.shift + inj.shift_len);
            if (inj_day) {
                CHECK_INT(c[i].verdict, ==, WEIR_VERDICT_ANOMALY);
                CHECK(c[i].severity >= WEIR_SEVERITY_MEDIUM);
                CHECK(t == inj.spike ? c[i].score > 0 : c[i].score < 0);
                continue;
            }
            if (c[i].event) {
                holiday_days++;
                /* named holidays are expected to be low: never an alarm */
                CHECK_INT(c[i].verdict, !=, WEIR_VERDICT_ANOMALY);
            }
            false_alarms += c[i].verdict == WEIR_VERDICT_ANOMALY;
        }
        CHECK(holiday_days > 60);
        /* 99% intervals: about 3.6 expected by chance in 365 days */
        CHECK_INT(false_alarms, <=, 10);
        free(c);
        weir_series_release(&s);
        weir_calendar_release(&cal);
    }
}

TEST(lasting_level_shift_alarms_then_becomes_the_new_normal)
{
    weir_synth_options so;
    weir_synth_options_init(&so);
    so.seed = 4;
    so.school = false;
    weir_series s = WEIR_SERIES_INIT;
    weir_synth_school(&so, &s, NULL);
    for (size_t t = s.len - 60; t < s.len; t++)
        s.values[t] = round(s.values[t] * 0.5);
    weir_check *c = NULL;
    size_t nc = 0;
    weir_error e = WEIR_ERROR_INIT;
    weir_date end = weir_series_end(&s);
    CHECK_OK(weir_monitor_scan(&s, NULL, NULL, end - 69, end, &c, &nc, NULL, &e), &e);
    size_t before = 0, first_week = 0, late = 0;
    for (size_t i = 0; i < nc; i++) {
        bool a = c[i].verdict == WEIR_VERDICT_ANOMALY;
        if (i < 10)
            before += a;
        else if (i < 17)
            first_week += a && c[i].score < 0;
        else if (i >= 40)
            late += a;
    }
    CHECK_INT(before, ==, 0);
    CHECK_INT(first_week, ==, 7);
    CHECK_INT(late, <=, 1);
    free(c);
    weir_series_release(&s);
}

TEST(holidays_alarm_when_the_calendar_does_not_name_them)
{
    weir_series s = WEIR_SERIES_INIT;
    weir_calendar cal = WEIR_CALENDAR_INIT;
    injected inj;
    school(&s, &cal, &inj, 5);
    weir_monitor_options o;
    weir_monitor_options_init(&o);
    weir_check *c = NULL;
    size_t nc = 0, on_holidays = 0;
    weir_error e = WEIR_ERROR_INIT;
    weir_date end = weir_series_end(&s);
    CHECK_OK(weir_monitor_scan(&s, NULL, &o, end - 364, end, &c, &nc, NULL, &e), &e);
    for (size_t i = 0; i < nc; i++)
        if (weir_calendar_find(&cal, c[i].date) && c[i].verdict == WEIR_VERDICT_ANOMALY)
            on_holidays++;
    CHECK_INT(on_holidays, >=, 4);
    free(c);
    weir_series_release(&s);
    weir_calendar_release(&cal);
}

/*
 * The demo's situation: four months of a school-day series whose first
 * school break began two days ago (named in the calendar, its effect not
 * known yet). The break's days must not decide the backtest: the baseline
 * scores a MASE near 1 (it used to be above 3, every model "worse than the
 * baseline"), and the model chosen is never worse than the baseline.
 */
TEST(choice_is_not_decided_by_an_event_with_no_known_effect)
{
    for (uint64_t seed = 1; seed <= 12; seed++) {
        weir_prng r;
        weir_prng_seed(&r, seed);
        weir_series s = WEIR_SERIES_INIT;
        weir_calendar cal = WEIR_CALENDAR_INIT;
        weir_error e = WEIR_ERROR_INIT;
        size_t n = 84 + seed % 7, brk = n - 2;
        for (size_t t = 0; t < n; t++) {
            double v = 300 * (1 + 0.003 * (double)t) * (t % 7 >= 5 ? 0.12 : 1.0) *
                       (t >= brk ? 0.08 : 1.0) * (0.92 + 0.16 * weir_prng_uniform(&r));
            weir_series_set(&s, day0() + (weir_date)t, round(v));
        }
        CHECK_OK(weir_calendar_add(&cal, day0() + (weir_date)brk, day0() + (weir_date)brk + 11,
                                   WEIR_EVENT_HOLIDAY, "spring_break", &e), &e);
        weir_forecaster f = WEIR_FORECASTER_INIT;
        CHECK_OK(weir_forecaster_fit(&f, &s, &cal, NULL, NULL, n, &e), &e);
        CHECK(f.chosen >= 0);
        CHECK_INT(f.backtest_days, ==, n / 3);
        const weir_model_score *chosen = &f.scores[f.chosen], *base = NULL;
        for (size_t i = 0; i < f.n_scores; i++)
            if (f.scores[i].spec.kind == WEIR_MODEL_SNAIVE)
                base = &f.scores[i];
        CHECK(base != NULL);
        if (!(base->mase > 0.6 && base->mase < 1.8))
            weir_test_fail(__FILE__, __LINE__, "seed %d: baseline MASE %.3f", (int)seed, base->mase);
        CHECK(chosen->mase <= base->mase);
        CHECK(chosen->mase < 1.5);
        weir_forecaster_release(&f);
        weir_series_release(&s);
        weir_calendar_release(&cal);
    }
}

TEST(check_one_day_and_choice_scores)
{
    weir_series s = WEIR_SERIES_INIT;
    weir_calendar cal = WEIR_CALENDAR_INIT;
    injected inj;
    school(&s, &cal, &inj, 11);
    weir_check c;
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_error e = WEIR_ERROR_INIT;
    weir_date d = s.start + (weir_date)inj.drop;
    CHECK_OK(weir_monitor_check(&s, &cal, NULL, d, &c, &f, &e), &e);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_ANOMALY);
    CHECK(c.deviation < -0.3 && c.deviation > -0.5);
    CHECK_INT(c.severity, ==, WEIR_SEVERITY_HIGH);
    /* the choice beat the seasonal naive baseline and says so */
    CHECK(f.chosen >= 0);
    const weir_model_score *chosen = &f.scores[f.chosen];
    for (size_t i = 0; i < f.n_scores; i++)
        if (f.scores[i].spec.kind == WEIR_MODEL_SNAIVE)
            CHECK(chosen->mase <= f.scores[i].mase);
    CHECK(chosen->smape > 0 && chosen->smape < 15);
    weir_buf why = WEIR_BUF_INIT;
    weir_forecaster_describe(&f, &why);
    CHECK_CONTAINS(why.ptr, "chosen by a rolling-origin backtest");
    CHECK_CONTAINS(why.ptr, "  * ");
    CHECK_CONTAINS(why.ptr, "snaive");
    weir_buf_release(&why);
    /* the day after is fine */
    CHECK_OK(weir_monitor_check(&s, &cal, NULL, d + 1, &c, NULL, &e), &e);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_OK);
    /* a day past the end is missing, with an expectation */
    CHECK_OK(weir_monitor_check(&s, &cal, NULL, weir_series_end(&s) + 2, &c, NULL, &e), &e);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_MISSING);
    CHECK(isfinite(c.expected) && c.expected > 0);
    weir_forecaster_release(&f);
    weir_series_release(&s);
    weir_calendar_release(&cal);
}

TEST(insufficient_history_is_a_verdict_not_an_alarm)
{
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 20, weekly, NULL);
    s.values[19] = 0; /* would be a huge drop */
    weir_check c;
    weir_error e = WEIR_ERROR_INIT;
    CHECK_OK(weir_monitor_check(&s, NULL, NULL, weir_series_end(&s), &c, NULL, &e), &e);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    CHECK_STR(weir_verdict_name(c.verdict), "insufficient history");
    CHECK(isnan(c.expected));
    /* a date before the series too */
    CHECK_OK(weir_monitor_check(&s, NULL, NULL, s.start - 3, &c, NULL, &e), &e);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    /* fitting says so with its own code */
    weir_forecaster f = WEIR_FORECASTER_INIT;
    CHECK_INT(weir_forecaster_fit(&f, &s, NULL, NULL, NULL, s.len, &e), ==, WEIR_MONITOR_ESHORT);
    CHECK_CONTAINS(weir_error_str(&e), "insufficient history");
    weir_error_release(&e);
    /* a scan starts judging once there is enough */
    fill(&s, 60, weekly, NULL);
    weir_check *cs = NULL;
    size_t n = 0;
    CHECK_OK(weir_monitor_scan(&s, NULL, NULL, s.start, weir_series_end(&s), &cs, &n, NULL, &e), &e);
    CHECK_INT(n, ==, 60);
    CHECK_INT(cs[0].verdict, ==, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    CHECK_INT(cs[20].verdict, ==, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    CHECK_INT(cs[21].verdict, ==, WEIR_VERDICT_OK);
    CHECK_INT(cs[59].verdict, ==, WEIR_VERDICT_OK);
    free(cs);
    weir_series_release(&s);
}

TEST(gaps_are_missing_days)
{
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 200, weekly, NULL);
    for (size_t t = 100; t < 120; t++)
        s.values[t] = NAN;
    s.values[150] = NAN;
    weir_check c;
    weir_error e = WEIR_ERROR_INIT;
    CHECK_OK(weir_monitor_check(&s, NULL, NULL, s.start + 150, &c, NULL, &e), &e);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_MISSING);
    CHECK_DBL(c.expected, pattern[150 % 7], 1);
    CHECK_OK(weir_monitor_check(&s, NULL, NULL, s.start + 199, &c, NULL, &e), &e);
    CHECK_INT(c.verdict, ==, WEIR_VERDICT_OK);
    /* set() grows the series in both directions with missing days */
    weir_series_set(&s, s.start - 2, 5);
    CHECK_INT(s.len, ==, 202);
    CHECK(isnan(s.values[1]));
    weir_series_set(&s, weir_series_end(&s) + 3, 6);
    CHECK_INT(s.len, ==, 205);
    CHECK(isnan(weir_series_get(&s, weir_series_end(&s) - 1)));
    weir_series_release(&s);
}

TEST(leading_gap_and_negative_values)
{
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 210, weekly, NULL);
    for (size_t t = 0; t < 60; t++)
        s.values[t] = NAN;
    static const char *const models[] = { "snaive", "hw_add", "hw_mul", "decomp_log" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(models); i++) {
        weir_forecast fc = WEIR_FORECAST_INIT;
        forecast_with(&s, models[i], 7, &fc);
        for (size_t k = 0; k < fc.h; k++)
            CHECK_DBL(fc.mean[k], pattern[(210 + k) % 7], 1e-3 * pattern[(210 + k) % 7]);
        weir_forecast_release(&fc);
    }
    /* below zero: additive errors, no log or multiplicative candidates */
    for (size_t t = 60; t < s.len; t++)
        s.values[t] -= 300;
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    weir_error e = WEIR_ERROR_INIT;
    CHECK_OK(weir_forecaster_fit(&f, &s, NULL, NULL, NULL, s.len, &e), &e);
    CHECK(!f.multiplicative_errors);
    for (size_t i = 0; i < f.n_scores; i++)
        CHECK(!f.scores[i].spec.log && !f.scores[i].spec.multiplicative);
    CHECK_OK(weir_forecaster_predict(&f, &s, NULL, s.len, 7, 0.99, &fc, &e), &e);
    for (size_t k = 0; k < 7; k++)
        CHECK_DBL(fc.mean[k], pattern[(210 + k) % 7] - 300, 0.5);
    weir_model_spec mul = { WEIR_MODEL_HOLT_WINTERS, true, false, false };
    CHECK_INT(weir_forecaster_fit(&f, &s, NULL, &mul, NULL, s.len, &e), ==, WEIR_EINVALID);
    weir_error_release(&e);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_series_release(&s);
}

TEST(flagged_past_anomalies_do_not_poison_the_fit)
{
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 150, weekly, NULL);
    /* last Wednesday was loaded ten times over, and is known to be */
    size_t bad = 150 - 7 + (2 - 150 % 7 + 7) % 7;
    CHECK_INT(bad % 7, ==, 2);
    s.values[bad] *= 10;
    weir_series_flag(&s, s.start + (weir_date)bad, WEIR_POINT_ANOMALY);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(all_specs); i++) {
        weir_forecast fc = WEIR_FORECAST_INIT;
        forecast_with(&s, all_specs[i], 7, &fc);
        for (size_t k = 0; k < fc.h; k++)
            CHECK_DBL(fc.mean[k], pattern[(150 + k) % 7], 1e-3 * pattern[(150 + k) % 7]);
        weir_forecast_release(&fc);
    }
    weir_series_release(&s);
}

TEST(unflagged_outlier_is_clipped_by_robust_models)
{
    weir_prng r;
    weir_prng_seed(&r, 3);
    weir_series s = WEIR_SERIES_INIT;
    fill(&s, 400, noisy, &r);
    s.values[390] = 5000; /* not flagged */
    static const char *const robust[] = { "hw_add", "decomp" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(robust); i++) {
        weir_forecast fc = WEIR_FORECAST_INIT;
        forecast_with(&s, robust[i], 7, &fc);
        for (size_t k = 0; k < fc.h; k++)
            CHECK_DBL(fc.mean[k], 1000, 40);
        weir_forecast_release(&fc);
    }
    weir_series_release(&s);
}

TEST(unknown_event_gets_a_wide_interval)
{
    weir_series s = WEIR_SERIES_INIT;
    weir_calendar cal = WEIR_CALENDAR_INIT;
    weir_error e = WEIR_ERROR_INIT;
    fill(&s, 100, weekly, NULL);
    CHECK_OK(weir_calendar_add(&cal, s.start + 100, s.start + 101, WEIR_EVENT_CLOSURE,
                               "inventory", &e), &e);
    CHECK_INT(weir_calendar_add(&cal, s.start + 5, s.start + 1, WEIR_EVENT_HOLIDAY, "x", &e),
              ==, WEIR_EINVALID);
    weir_error_release(&e);
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    CHECK_OK(weir_forecaster_fit(&f, &s, &cal, NULL, NULL, s.len, &e), &e);
    CHECK_OK(weir_forecaster_predict(&f, &s, &cal, s.len, 3, 0.99, &fc, &e), &e);
    CHECK(fc.event[0] && fc.event_unknown[0] && !fc.event[2]);
    CHECK_DBL(fc.lo[0], 0, 1e-9);
    CHECK(fc.hi[0] >= 2 * fc.mean[0] - 1e-6);
    CHECK(fc.hi[2] - fc.lo[2] < 0.1 * fc.mean[2]);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_series_release(&s);
    weir_calendar_release(&cal);
}

TEST(metrics_quantiles_and_names)
{
    CHECK_DBL(weir_monitor_normal_quantile(0.975), 1.959963984540054, 1e-9);
    CHECK_DBL(weir_monitor_normal_quantile(0.995), 2.5758293035489, 1e-9);
    CHECK_DBL(weir_monitor_normal_quantile(0.5), 0, 1e-12);
    CHECK_DBL(weir_monitor_normal_quantile(0.001), -3.090232306167813, 1e-9);
    double a[] = { 100, 200, NAN, 50 }, f[] = { 110, 180, 5, 50 };
    /* sMAPE: 200*10/210, 200*20/380, 0 over 3 */
    CHECK_DBL(weir_monitor_smape(a, f, 4), (2000.0 / 210 + 4000.0 / 380) / 3, 1e-9);
    CHECK_DBL(weir_monitor_mase(a, f, 4, 10), 1.0, 1e-12);
    double y[14];
    for (int i = 0; i < 14; i++)
        y[i] = i < 7 ? 10 : 13;
    CHECK_DBL(weir_monitor_snaive_mae(y, 14), 3, 1e-12);
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(all_specs); i++) {
        weir_model_spec sp;
        CHECK_INT(weir_model_spec_parse(all_specs[i], &sp), ==, 0);
        CHECK_STR(weir_model_spec_name(&sp), all_specs[i]);
    }
    weir_model_spec sp;
    CHECK_INT(weir_model_spec_parse("prophet", &sp), ==, WEIR_EINVALID);
    weir_event_kind k;
    CHECK_INT(weir_event_kind_parse("launch", &k), ==, 0);
    CHECK_INT(k, ==, WEIR_EVENT_LAUNCH);
    CHECK_STR(weir_event_kind_name(WEIR_EVENT_CLOSURE), "closure");
}

TEST(random_series_never_crash_or_give_nan)
{
    weir_prng r;
    weir_prng_seed(&r, 99);
    for (int trial = 0; trial < 40; trial++) {
        weir_series s = WEIR_SERIES_INIT;
        weir_calendar cal = WEIR_CALENDAR_INIT;
        size_t n = 10 + (size_t)weir_prng_below(&r, 300);
        int shape = trial % 5;
        for (size_t t = 0; t < n; t++) {
            double u = weir_prng_uniform(&r), v;
            switch (shape) {
            case 0: v = u < 0.2 ? NAN : 100 * u; break;          /* gappy noise */
            case 1: v = (double)(weir_prng_below(&r, 3));         /* tiny counts, zeros */
                break;
            case 2: v = 1e9 * (1 + 0.1 * weir_prng_gaussian(&r)); break; /* huge */
            case 3: v = weir_prng_gaussian(&r) - 0.5; break;      /* around zero */
            default: v = t % 7 < 5 ? 1000 : 0; break;             /* closed weekends */
            }
            weir_series_set(&s, day0() + (weir_date)t, v);
            if (weir_prng_uniform(&r) < 0.02)
                s.flags[t] |= WEIR_POINT_ANOMALY;
        }
        for (int k = 0; k < 4; k++) {
            weir_date from = day0() + (weir_date)weir_prng_below(&r, n + 30);
            weir_calendar_add(&cal, from, from + (weir_date)weir_prng_below(&r, 20),
                              (weir_event_kind)(k % WEIR_EVENT__COUNT), k % 2 ? "a" : "b", NULL);
        }
        weir_error e = WEIR_ERROR_INIT;
        weir_check *c = NULL;
        size_t nc = 0;
        CHECK_OK(weir_monitor_scan(&s, &cal, NULL, s.start, weir_series_end(&s), &c, &nc, NULL, &e), &e);
        for (size_t i = 0; i < nc; i++) {
            if (c[i].verdict == WEIR_VERDICT_INSUFFICIENT_HISTORY)
                continue;
            CHECK(isfinite(c[i].expected) && isfinite(c[i].lo) && isfinite(c[i].hi));
            CHECK(c[i].lo <= c[i].expected + 1e-9 * fabs(c[i].expected) && c[i].expected <= c[i].hi + 1e-9 * fabs(c[i].hi));
            if (c[i].verdict != WEIR_VERDICT_MISSING)
                CHECK(!isnan(c[i].score));
        }
        free(c);
        weir_series_release(&s);
        weir_calendar_release(&cal);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

TEST(median_by_selection_matches_sorting)
{
    weir_prng r;
    weir_prng_seed(&r, 1);
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = 1 + (size_t)weir_prng_below(&r, 60);
        double x[64], y[64];
        for (size_t i = 0; i < n; i++)
            x[i] = y[i] = (double)weir_prng_below(&r, trial % 2 ? 5 : 1000);
        qsort(y, n, sizeof(double), cmp_double);
        double want = n % 2 ? y[n / 2] : 0.5 * (y[n / 2 - 1] + y[n / 2]);
        CHECK_DBL(model_median(x, n), want, 0);
    }
    CHECK(isnan(model_median(NULL, 0)));
}

TEST(prng_is_deterministic_and_gaussian)
{
    weir_prng a, b;
    weir_prng_seed(&a, 42);
    weir_prng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        CHECK(weir_prng_next(&a) == weir_prng_next(&b));
    weir_prng_seed(&a, 1);
    double sum = 0, sq = 0;
    int n = 100000;
    for (int i = 0; i < n; i++) {
        double g = weir_prng_gaussian(&a);
        sum += g;
        sq += g * g;
    }
    CHECK_DBL(sum / n, 0, 0.02);
    CHECK_DBL(sq / n, 1, 0.02);
    double ps = 0;
    for (int i = 0; i < 10000; i++)
        ps += weir_prng_poisson(&a, 4.0);
    CHECK_DBL(ps / 10000, 4.0, 0.1);
}
