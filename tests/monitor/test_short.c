/*
 * Tests of monitor/forecast on short histories: a few weeks of a nearly
 * noiseless series must not turn 2% wobbles into anomalies (the interval
 * floors and the small-sample widening of forecast.c), must still catch a
 * -40% day, and intervals must hold about their nominal share of held-out
 * days over many seeds. Below the documented minimum the verdict is
 * insufficient history.
 */
#include "harness.h"

#include "core/prng.h"
#include "monitor/forecast.h"

/* A weekly shape like a weekday-heavy table's, with slow growth. */
static const double shape[7] = { 1.0, 1.04, 1.02, 1.0, 0.88, 0.2, 0.15 };

static void series_of(weir_series *s, size_t n, double noise, uint64_t seed)
{
    weir_prng r;
    weir_prng_seed(&r, seed);
    weir_date d0;
    weir_date_from_ymd(2024, 1, 1, &d0); /* a Monday */
    weir_series_release(s);
    for (size_t t = 0; t < n; t++) {
        double mean = 10000 * shape[t % 7] * (1 + 0.002 * (double)t / 7);
        weir_series_set(s, d0 + (weir_date)t, mean * exp(noise * weir_prng_gaussian(&r)));
    }
}

static weir_verdict verdict_on_last(const weir_series *s, weir_severity *sev)
{
    weir_check c;
    weir_error e = WEIR_ERROR_INIT;
    CHECK_OK(weir_monitor_check(s, NULL, NULL, weir_series_end(s), &c, NULL, &e), &e);
    if (sev)
        *sev = c.severity;
    return c.verdict;
}

TEST(short_histories_do_not_alarm_on_2pct_but_do_on_a_40pct_drop)
{
    static const int weeks[] = { 3, 5, 7, 10 };
    static const double noises[] = { 0.001, 0.005 };
    for (size_t w = 0; w < WEIR_ARRAY_SIZE(weeks); w++)
        for (size_t q = 0; q < WEIR_ARRAY_SIZE(noises); q++)
            for (uint64_t seed = 1; seed <= 10; seed++) {
                weir_series s = WEIR_SERIES_INIT;
                size_t n = (size_t)weeks[w] * 7;
                /* the judged day is the day after n days of history; every weekday in turn */
                n += seed % 7;
                series_of(&s, n + 1, noises[q], seed);
                double y = s.values[n];
                weir_severity sev;
                s.values[n] = y * 1.02;
                if (verdict_on_last(&s, NULL) != WEIR_VERDICT_OK)
                    weir_test_fail(__FILE__, __LINE__, "%d weeks, noise %g, seed %d: +2%% alarmed",
                                   weeks[w], noises[q], (int)seed);
                s.values[n] = y * 0.98;
                if (verdict_on_last(&s, NULL) != WEIR_VERDICT_OK)
                    weir_test_fail(__FILE__, __LINE__, "%d weeks, noise %g, seed %d: -2%% alarmed",
                                   weeks[w], noises[q], (int)seed);
                s.values[n] = y * 0.6;
                if (verdict_on_last(&s, &sev) != WEIR_VERDICT_ANOMALY)
                    weir_test_fail(__FILE__, __LINE__, "%d weeks, noise %g, seed %d: -40%% missed",
                                   weeks[w], noises[q], (int)seed);
                CHECK_INT(sev, ==, WEIR_SEVERITY_HIGH);
                weir_series_release(&s);
            }
}

/* The share of the 7 days after n days of history inside their interval at level, over seeds. */
static double short_coverage(size_t n, double noise, double level, int seeds, double *h1, double *h7)
{
    size_t inside = 0, total = 0;
    *h1 = *h7 = 0;
    for (int seed = 1; seed <= seeds; seed++) {
        weir_series s = WEIR_SERIES_INIT;
        series_of(&s, n + 7, noise, (uint64_t)seed * 7919);
        weir_forecaster f = WEIR_FORECASTER_INIT;
        weir_forecast fc = WEIR_FORECAST_INIT;
        weir_error e = WEIR_ERROR_INIT;
        CHECK_OK(weir_forecaster_fit(&f, &s, NULL, NULL, NULL, n, &e), &e);
        CHECK_OK(weir_forecaster_predict(&f, &s, NULL, n, 7, level, &fc, &e), &e);
        for (size_t k = 0; k < 7; k++) {
            double y = s.values[n + k];
            inside += y >= fc.lo[k] && y <= fc.hi[k];
            total++;
        }
        *h1 += (fc.hi[0] - fc.lo[0]) / fc.mean[0] / seeds;
        *h7 += (fc.hi[6] - fc.lo[6]) / fc.mean[6] / seeds;
        weir_forecast_release(&fc);
        weir_forecaster_release(&f);
        weir_series_release(&s);
    }
    return (double)inside / (double)total;
}

TEST(short_history_intervals_hold_their_nominal_coverage)
{
    static const int weeks[] = { 3, 5, 7, 10 };
    for (size_t w = 0; w < WEIR_ARRAY_SIZE(weeks); w++) {
        size_t n = (size_t)weeks[w] * 7;
        double h1, h7;
        /* 5% noise: above the floors, so the width is the errors' own */
        double c95 = short_coverage(n, 0.05, 0.95, 150, &h1, &h7);
        if (!(c95 >= 0.90 && c95 <= 0.99))
            weir_test_fail(__FILE__, __LINE__, "%d weeks: 95%% intervals held %.3f",
                           weeks[w], c95);
        /* and not by being absurdly wide: about 2 x 1.96 x 5%, with some widening */
        if (!(h1 > 0.17 && h1 < 0.32 && h7 >= h1 * 0.9))
            weir_test_fail(__FILE__, __LINE__, "%d weeks: 95%% intervals %.3f, %.3f wide",
                           weeks[w], h1, h7);
        double c80 = short_coverage(n, 0.05, 0.80, 150, &h1, &h7);
        if (!(c80 >= 0.72 && c80 <= 0.88))
            weir_test_fail(__FILE__, __LINE__, "%d weeks: 80%% intervals held %.3f",
                           weeks[w], c80);
    }
}

TEST(short_history_intervals_widen_with_the_horizon_and_fewer_weeks)
{
    weir_series s = WEIR_SERIES_INIT;
    double prev = INFINITY;
    static const int weeks[] = { 3, 5, 10, 52 };
    for (size_t w = 0; w < WEIR_ARRAY_SIZE(weeks); w++) {
        size_t n = (size_t)weeks[w] * 7;
        series_of(&s, n, 0.001, 3);
        weir_forecaster f = WEIR_FORECASTER_INIT;
        weir_forecast fc = WEIR_FORECAST_INIT;
        weir_error e = WEIR_ERROR_INIT;
        CHECK_OK(weir_forecaster_fit(&f, &s, NULL, NULL, NULL, n, &e), &e);
        CHECK_OK(weir_forecaster_predict(&f, &s, NULL, n, 21, 0.99, &fc, &e), &e);
        /* the same weekday further ahead is never narrower, and three weeks out wider */
        for (size_t k = 0; k + 7 < 21; k++) {
            double a = (fc.hi[k] - fc.lo[k]) / fc.mean[k];
            double b = (fc.hi[k + 7] - fc.lo[k + 7]) / fc.mean[k + 7];
            CHECK(b >= a - 1e-12);
        }
        CHECK((fc.hi[20] - fc.lo[20]) / fc.mean[20] > (fc.hi[6] - fc.lo[6]) / fc.mean[6]);
        /* a nearly noiseless series: the floor sets the width, narrower with more weeks */
        double half = (fc.hi[0] - fc.lo[0]) / 2 / fc.mean[0];
        CHECK(half > 0.02);
        CHECK(half < prev);
        prev = half;
        weir_forecast_release(&fc);
        weir_forecaster_release(&f);
    }
    weir_series_release(&s);
}

TEST(below_three_weeks_is_insufficient_history)
{
    weir_series s = WEIR_SERIES_INIT;
    series_of(&s, 21, 0.01, 5);
    s.values[20] *= 0.3;
    /* 20 days before the judged day: not enough, whatever the drop */
    CHECK_INT(verdict_on_last(&s, NULL), ==, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    weir_monitor_options o;
    weir_monitor_options_init(&o);
    CHECK_INT(o.min_history, ==, 21);
    /* 21 days: judged */
    series_of(&s, 22, 0.01, 5);
    s.values[21] *= 0.3;
    CHECK_INT(verdict_on_last(&s, NULL), ==, WEIR_VERDICT_ANOMALY);
    /* missing days do not count towards the minimum */
    s.values[3] = NAN;
    CHECK_INT(verdict_on_last(&s, NULL), ==, WEIR_VERDICT_INSUFFICIENT_HISTORY);
    weir_series_release(&s);
}

TEST(t_quantiles_match_the_tables)
{
    CHECK_DBL(weir_monitor_t_quantile(0.975, 1), 12.7062, 1e-3);
    CHECK_DBL(weir_monitor_t_quantile(0.995, 2), 9.9248, 1e-3);
    CHECK_DBL(weir_monitor_t_quantile(0.995, 3), 5.8409, 0.06);
    CHECK_DBL(weir_monitor_t_quantile(0.975, 5), 2.5706, 0.005);
    CHECK_DBL(weir_monitor_t_quantile(0.995, 10), 3.1693, 0.005);
    CHECK_DBL(weir_monitor_t_quantile(0.975, 30), 2.0423, 0.001);
    CHECK_DBL(weir_monitor_t_quantile(0.025, 30), -2.0423, 0.001);
    CHECK_DBL(weir_monitor_t_quantile(0.995, 1e6), 2.5758, 0.001);
    CHECK(isnan(weir_monitor_t_quantile(0.9, 0)));
}

/* Poisson-like counts: mean plus its square root of noise, rounded. */
static void counts_of(weir_series *s, size_t n, uint64_t seed)
{
    weir_prng r;
    weir_prng_seed(&r, seed);
    weir_date d0;
    weir_date_from_ymd(2024, 1, 1, &d0); /* a Monday */
    weir_series_release(s);
    for (size_t t = 0; t < n; t++) {
        double mean = 400 * shape[t % 7];
        weir_series_set(s, d0 + (weir_date)t, round(mean + sqrt(mean) * weir_prng_gaussian(&r)));
    }
}

TEST(low_count_days_are_never_judged_tighter_than_their_poisson_noise)
{
    /*
     * Weekdays of ~400 rows, weekends of ~60-80: the weekend's relative
     * noise is twice the weekdays'. With counts on, a Sunday's 99% interval
     * is at least +-2.576 sqrt(expected), and ordinary Sundays do not alarm
     * (a demo weekend of 50 rows against 44 expected did before).
     */
    weir_monitor_options o;
    weir_monitor_options_init(&o);
    o.counts = true;
    int alarms = 0, seeds = 60;
    for (int seed = 1; seed <= seeds; seed++) {
        weir_series s = WEIR_SERIES_INIT;
        counts_of(&s, 7 * 7 + 7, (uint64_t)seed * 104729); /* 8 weeks; the last day a Sunday */
        weir_check c;
        weir_error e = WEIR_ERROR_INIT;
        CHECK_OK(weir_monitor_check(&s, NULL, &o, weir_series_end(&s), &c, NULL, &e), &e);
        CHECK(c.verdict == WEIR_VERDICT_OK || c.verdict == WEIR_VERDICT_ANOMALY);
        double half = (c.hi - c.lo) / 2;
        if (c.lo > 0 && half < 2.5758 * sqrt(c.expected) * 0.999)
            weir_test_fail(__FILE__, __LINE__, "seed %d: Sunday interval +-%.1f around %.1f is "
                           "tighter than its Poisson noise", seed, half, c.expected);
        alarms += c.verdict == WEIR_VERDICT_ANOMALY;
        /* a halved Sunday is still caught */
        s.values[s.len - 1] = round(c.expected / 2);
        CHECK_OK(weir_monitor_check(&s, NULL, &o, weir_series_end(&s), &c, NULL, &e), &e);
        CHECK(c.verdict == WEIR_VERDICT_ANOMALY);
        weir_series_release(&s);
    }
    /* at 99%, about 0.6 false alarms in 60 days are expected; 4 is far too many */
    CHECK_INT(alarms, <=, 3);
}
