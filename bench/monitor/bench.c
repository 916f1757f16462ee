/*
 * bench.c: the monitor's accuracy and speed figures (make bench-monitor).
 *
 *   build/bench/monitor-bench [--series N] [--speed N] [--short N] [--threads T] [--csv DIR]
 *
 * (a) Accuracy, on N generated seasonal series (school-like with their
 *     holiday calendars, and plain weekly ones), each with anomalies
 *     injected into its last 180 days (a -40% day, a doubled day, a week at
 *     -40%): detection precision and recall of the daily monitor (one-day
 *     ahead, 99% intervals) with the automatic model choice and with the
 *     seasonal naive baseline alone, alarms on named holidays; and forecast
 *     sMAPE / MASE over the clean series' last 8 weeks (horizons 1 to 7)
 *     against the baseline.
 * (b) Speed: fit, choose, forecast (7 days) and check the last day of M
 *     series of three years of daily history on T threads; prints the time.
 * (c) Short histories: N series each of 3, 5, 7 and 10 weeks (generated
 *     like (a)'s, from random dates in the year): the share of the next 7
 *     days inside their 95% intervals, and on nearly noiseless ones (0.5%
 *     noise, large counts) how often the next day alarms when it is 2% off
 *     and when it is 40% down.
 *
 * Figures are printed, never asserted. --csv DIR also writes the accuracy
 * series and labels for an external comparison (bench/monitor/compare.py).
 */
#include "core/compat.h"

#include "core/prng.h"
#include "monitor/forecast.h"
#include "monitor/synth.h"

#define EVAL_DAYS 180
#define HOLDOUT 56
#define H 7

typedef struct item {
    weir_series s;      /* with anomalies */
    weir_series clean;  /* without */
    weir_calendar cal;
    unsigned char *label; /* per day: 1 + type where an anomaly was injected, else 0 */
} item;

static void make_item(item *it, uint64_t seed, int days)
{
    weir_prng r;
    weir_prng_seed(&r, seed * 7919 + 17);
    weir_synth_options so;
    weir_synth_options_init(&so);
    so.seed = seed;
    so.days = days;
    so.base = exp(log(50) + weir_prng_uniform(&r) * (log(50000) - log(50)));
    so.noise = 0.02 + 0.08 * weir_prng_uniform(&r);
    so.growth = -0.1 + 0.5 * weir_prng_uniform(&r);
    so.weekend = 0.1 + 0.8 * weir_prng_uniform(&r);
    so.holiday = 0.15 + 0.5 * weir_prng_uniform(&r);
    so.school = weir_prng_uniform(&r) < 0.75;
    so.country = (int)weir_prng_below(&r, 4);
    weir_series_init(&it->s);
    weir_series_init(&it->clean);
    weir_calendar_init(&it->cal);
    weir_synth_school(&so, &it->clean, &it->cal);
    weir_series_copy(&it->s, &it->clean);
    it->label = calloc(it->s.len, 1);
    size_t n = it->s.len;
    /* three anomalies in the last EVAL_DAYS, apart, not on calendar events */
    for (int k = 0; k < 3; k++) {
        size_t lo = n - EVAL_DAYS + (size_t)k * 60 + 5;
        size_t t = lo + weir_prng_below(&r, 45);
        while (weir_calendar_find(&it->cal, it->s.start + (weir_date)t) && t < n - 10)
            t++;
        int type = (int)((seed + (uint64_t)k) % 3);
        size_t len = type == 2 ? 7 : 1;
        for (size_t j = t; j < t + len && j < n; j++) {
            it->s.values[j] = round(it->s.values[j] * (type == 1 ? 2.0 : 0.6));
            it->label[j] = (unsigned char)(1 + type);
        }
    }
}

static void free_item(item *it)
{
    weir_series_release(&it->s);
    weir_series_release(&it->clean);
    weir_calendar_release(&it->cal);
    free(it->label);
}

static const char *const type_names[3] = { "-40% day", "doubled day", "-40% week" };

typedef struct detection {
    size_t tp, fp, fn, holiday_alarms, holiday_days;
    size_t type_tp[3], type_n[3];
} detection;

static int detect(item *it, const weir_monitor_options *o, detection *d)
{
    weir_check *c = NULL;
    size_t nc = 0;
    weir_error e = WEIR_ERROR_INIT;
    weir_date end = weir_series_end(&it->s);
    if (weir_monitor_scan(&it->s, &it->cal, o, end - EVAL_DAYS + 1, end, &c, &nc, NULL, &e) < 0) {
        fprintf(stderr, "scan: %s\n", weir_error_str(&e));
        weir_error_release(&e);
        return -1;
    }
    for (size_t i = 0; i < nc; i++) {
        size_t t = (size_t)(c[i].date - it->s.start);
        bool alarm = c[i].verdict == WEIR_VERDICT_ANOMALY;
        if (it->label[t]) {
            alarm ? d->tp++ : d->fn++;
            d->type_n[it->label[t] - 1]++;
            d->type_tp[it->label[t] - 1] += alarm;
        }
        else if (alarm)
            d->fp++;
        if (c[i].event) {
            d->holiday_days++;
            d->holiday_alarms += alarm && !it->label[t];
        }
    }
    free(c);
    return 0;
}

typedef struct accuracy {
    double smape, mase;
    size_t n;
    size_t inside, scored; /* held-out days inside their 95% interval */
} accuracy;

/* Rolling-origin accuracy over the clean series' last HOLDOUT days. */
static int holdout_accuracy(item *it, const weir_model_spec *spec, const weir_monitor_options *o,
                            accuracy *acc, weir_model_spec *chosen)
{
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    weir_error e = WEIR_ERROR_INIT;
    size_t n = it->clean.len, fit_end = n - HOLDOUT;
    int rc = -1;
    double *ya = malloc(sizeof(double) * HOLDOUT * H), *fa = malloc(sizeof(double) * HOLDOUT * H);
    size_t k = 0;
    if (weir_forecaster_fit(&f, &it->clean, &it->cal, spec, o, fit_end, &e) < 0)
        goto cleanup;
    *chosen = f.spec;
    for (size_t origin = fit_end; origin + H <= n; origin++) {
        if (weir_forecaster_predict(&f, &it->clean, &it->cal, origin, H, 0.95, &fc, &e) < 0)
            goto cleanup;
        for (size_t h = 0; h < H; h++) {
            double y = it->clean.values[origin + h];
            ya[k] = y;
            fa[k++] = fc.mean[h];
            acc->scored++;
            acc->inside += y >= fc.lo[h] && y <= fc.hi[h];
        }
    }
    double scale = weir_monitor_snaive_mae(it->clean.values, fit_end);
    acc->smape += weir_monitor_smape(ya, fa, k);
    acc->mase += weir_monitor_mase(ya, fa, k, scale);
    acc->n++;
    rc = 0;
cleanup:
    if (rc)
        fprintf(stderr, "holdout: %s\n", weir_error_str(&e));
    free(ya);
    free(fa);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_error_release(&e);
    return rc;
}

static void write_csv(const char *dir, item *items, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/series.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return;
    }
    fprintf(f, "unique_id,ds,y,y_clean,anomaly,event\n");
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < items[i].s.len; t++) {
            char d[WEIR_DATE_STRLEN];
            weir_date day = items[i].s.start + (weir_date)t;
            fprintf(f, "s%zu,%s,%.0f,%.0f,%d,%d\n", i, weir_date_format(day, d), items[i].s.values[t],
                    items[i].clean.values[t], items[i].label[t],
                    weir_calendar_find(&items[i].cal, day) != NULL);
        }
    fclose(f);
    printf("wrote %s\n", path);
}

static void print_detection(const char *name, const detection *d)
{
    double p = d->tp + d->fp ? (double)d->tp / (double)(d->tp + d->fp) : NAN;
    double r = d->tp + d->fn ? (double)d->tp / (double)(d->tp + d->fn) : NAN;
    printf("  %-22s precision %5.3f  recall %5.3f  F1 %5.3f  (tp %zu fp %zu fn %zu; alarms on named holidays %zu of %zu days)\n",
           name, p, r, 2 * p * r / (p + r), d->tp, d->fp, d->fn, d->holiday_alarms, d->holiday_days);
    printf("  %-22s recall by kind:", "");
    for (int k = 0; k < 3; k++)
        printf(" %s %.3f%s", type_names[k],
               d->type_n[k] ? (double)d->type_tp[k] / (double)d->type_n[k] : NAN, k < 2 ? "," : "\n");
}

/* --- speed --------------------------------------------------------------- */

typedef struct speed_job {
    item *items;
    size_t from, to;
    size_t anomalies, insufficient, failed;
    int64_t us;
    double cpu; /* this thread's CPU seconds */
} speed_job;

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *speed_worker(void *arg)
{
    speed_job *j = arg;
    weir_monitor_options o;
    weir_monitor_options_init(&o);
    int64_t t0 = weir_monotonic_us();
    double c0 = thread_cpu_seconds();
    for (size_t i = j->from; i < j->to; i++) {
        item *it = &j->items[i];
        weir_forecaster f = WEIR_FORECASTER_INIT;
        weir_forecast fc = WEIR_FORECAST_INIT;
        weir_check c;
        weir_date last = weir_series_end(&it->s);
        if (weir_monitor_check(&it->s, &it->cal, &o, last, &c, &f, NULL) < 0 ||
            (f.priv && weir_forecaster_predict(&f, &it->s, &it->cal, it->s.len, 7, o.level, &fc, NULL) < 0))
            j->failed++;
        j->anomalies += c.verdict == WEIR_VERDICT_ANOMALY;
        j->insufficient += c.verdict == WEIR_VERDICT_INSUFFICIENT_HISTORY;
        weir_forecast_release(&fc);
        weir_forecaster_release(&f);
    }
    j->us = weir_monotonic_us() - t0;
    j->cpu = thread_cpu_seconds() - c0;
    return NULL;
}

/* --- short histories --------------------------------------------------- */

static void short_series(uint64_t seed, size_t days, bool quiet, weir_series *s, weir_calendar *cal)
{
    weir_prng r;
    weir_prng_seed(&r, seed * 104729 + 3);
    weir_synth_options so;
    weir_synth_options_init(&so);
    so.seed = seed;
    so.days = (int)days;
    so.start += (weir_date)weir_prng_below(&r, 365);
    so.base = quiet ? 1e6 : exp(log(50) + weir_prng_uniform(&r) * (log(50000) - log(50)));
    so.noise = quiet ? 0.005 : 0.02 + 0.08 * weir_prng_uniform(&r);
    so.weekend = 0.1 + 0.8 * weir_prng_uniform(&r);
    so.school = weir_prng_uniform(&r) < 0.75;
    so.country = (int)weir_prng_below(&r, 4);
    weir_calendar_release(cal);
    weir_synth_school(&so, s, cal);
}

static void short_histories(size_t n)
{
    static const int weeks[] = { 3, 5, 7, 10 };
    printf("== short histories: %zu series of each length (75%% school-like), as (a)'s\n", n);
    weir_monitor_options o;
    weir_monitor_options_init(&o);
    for (size_t w = 0; w < WEIR_ARRAY_SIZE(weeks); w++) {
        size_t days = (size_t)weeks[w] * 7, inside = 0, scored = 0, judged = 0;
        size_t alarms2 = 0, alarms40 = 0, tried = 0;
        for (size_t i = 0; i < n; i++) {
            weir_series s = WEIR_SERIES_INIT;
            weir_calendar cal = WEIR_CALENDAR_INIT;
            weir_forecaster f = WEIR_FORECASTER_INIT;
            weir_forecast fc = WEIR_FORECAST_INIT;
            short_series(i + 1, days + H, false, &s, &cal);
            if (weir_forecaster_fit(&f, &s, &cal, NULL, &o, days, NULL) == 0 &&
                weir_forecaster_predict(&f, &s, &cal, days, H, 0.95, &fc, NULL) == 0) {
                for (size_t k = 0; k < H; k++)
                    if (!fc.event[k]) {
                        double y = s.values[days + k];
                        inside += y >= fc.lo[k] && y <= fc.hi[k];
                        scored++;
                    }
            }
            weir_forecast_release(&fc);
            weir_forecaster_release(&f);
            /* nearly noiseless: the day after the history, 2% off and 40% down */
            short_series(i + 1, days + 1, true, &s, &cal);
            weir_date d = weir_series_end(&s);
            if (!weir_calendar_find(&cal, d)) {
                double y = s.values[days];
                static const double dev[3] = { 1.02, 0.98, 0.6 };
                for (int k = 0; k < 3; k++) {
                    weir_check c;
                    s.values[days] = y * dev[k];
                    if (weir_monitor_check(&s, &cal, &o, d, &c, NULL, NULL) < 0 ||
                        c.verdict == WEIR_VERDICT_INSUFFICIENT_HISTORY)
                        break;
                    if (k < 2)
                        alarms2 += c.verdict == WEIR_VERDICT_ANOMALY;
                    else
                        alarms40 += c.verdict == WEIR_VERDICT_ANOMALY;
                    if (k == 2)
                        judged++;
                }
                tried++;
            }
            weir_series_release(&s);
            weir_calendar_release(&cal);
        }
        printf("  %2d weeks: 95%% intervals held %5.1f%% of the next 7 days (%zu);"
               " 0.5%% noise: alarms on +-2%% days %4.1f%%, on -40%% days %5.1f%% (%zu judged of %zu)\n",
               weeks[w], 100.0 * (double)inside / (double)(scored ? scored : 1), scored,
               100.0 * (double)alarms2 / (double)(2 * (judged ? judged : 1)),
               100.0 * (double)alarms40 / (double)(judged ? judged : 1), judged, tried);
    }
}

int main(int argc, char **argv)
{
    size_t n_acc = 200, n_speed = 10000, n_short = 200;
    int threads = 2;
    const char *csv = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--series") && i + 1 < argc)
            n_acc = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--speed") && i + 1 < argc)
            n_speed = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--short") && i + 1 < argc)
            n_short = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--csv") && i + 1 < argc)
            csv = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--series N] [--speed N] [--short N] [--threads T] [--csv DIR]\n",
                    argv[0]);
            return 2;
        }
    }
    if (threads < 1)
        threads = 1;

    /* (a) accuracy */
    printf("== accuracy: %zu series of 3 years (75%% school-like with named holidays), "
           "3 injected anomalies each in the last %d days\n", n_acc, EVAL_DAYS);
    item *items = calloc(n_acc ? n_acc : 1, sizeof(item));
    for (size_t i = 0; i < n_acc; i++)
        make_item(&items[i], i + 1, 3 * 365);
    if (csv)
        write_csv(csv, items, n_acc);
    weir_monitor_options o, ob;
    weir_monitor_options_init(&o);
    ob = o;
    ob.candidates = WEIR_CAND_SNAIVE;
    detection d_auto = { 0 }, d_base = { 0 };
    accuracy a_auto = { 0 }, a_base = { 0 };
    size_t chosen_count[16] = { 0 };
    const char *chosen_name[16] = { 0 };
    int64_t t0 = weir_monotonic_us();
    weir_model_spec snaive = { WEIR_MODEL_SNAIVE, false, false, false };
    for (size_t i = 0; i < n_acc; i++) {
        weir_model_spec chosen, ignored;
        if (detect(&items[i], &o, &d_auto) < 0 || detect(&items[i], &ob, &d_base) < 0 ||
            holdout_accuracy(&items[i], NULL, &o, &a_auto, &chosen) < 0 ||
            holdout_accuracy(&items[i], &snaive, &o, &a_base, &ignored) < 0)
            return 1;
        const char *name = weir_model_spec_name(&chosen);
        for (size_t k = 0; k < 16; k++)
            if (!chosen_name[k] || !strcmp(chosen_name[k], name)) {
                chosen_name[k] = name;
                chosen_count[k]++;
                break;
            }
    }
    double acc_s = (double)(weir_monotonic_us() - t0) / 1e6;
    printf("detection (daily, one day ahead, 99%% intervals, %d days x %zu series):\n", EVAL_DAYS, n_acc);
    print_detection("automatic choice", &d_auto);
    print_detection("seasonal naive only", &d_base);
    printf("forecast accuracy on the clean series' last %d days (horizons 1-%d, rolling origin):\n",
           HOLDOUT, H);
    printf("  %-22s sMAPE %6.2f%%  MASE %5.3f  95%% intervals held %.1f%% of held-out days\n",
           "automatic choice", a_auto.smape / (double)a_auto.n, a_auto.mase / (double)a_auto.n,
           100.0 * (double)a_auto.inside / (double)a_auto.scored);
    printf("  %-22s sMAPE %6.2f%%  MASE %5.3f  95%% intervals held %.1f%% of held-out days\n",
           "seasonal naive", a_base.smape / (double)a_base.n, a_base.mase / (double)a_base.n,
           100.0 * (double)a_base.inside / (double)a_base.scored);
    printf("  models chosen:");
    for (size_t k = 0; k < 16 && chosen_name[k]; k++)
        printf(" %s %zu", chosen_name[k], chosen_count[k]);
    printf("\n  (accuracy part took %.1f s)\n", acc_s);
    for (size_t i = 0; i < n_acc; i++)
        free_item(&items[i]);
    free(items);

    /* (c) short histories: cheap, so before the long speed part */
    if (n_short)
        short_histories(n_short);

    /* (b) speed */
    if (n_speed == 0)
        return 0;
    printf("== speed: fit, choose, forecast and check %zu series of 3 years on %d threads\n",
           n_speed, threads);
    t0 = weir_monotonic_us();
    items = calloc(n_speed, sizeof(item));
    for (size_t i = 0; i < n_speed; i++)
        make_item(&items[i], 100000 + i, 3 * 365);
    printf("  generated in %.1f s\n", (double)(weir_monotonic_us() - t0) / 1e6);
    speed_job *jobs = calloc((size_t)threads, sizeof(speed_job));
    pthread_t *tids = calloc((size_t)threads, sizeof(pthread_t));
    t0 = weir_monotonic_us();
    for (int k = 0; k < threads; k++) {
        jobs[k].items = items;
        jobs[k].from = n_speed * (size_t)k / (size_t)threads;
        jobs[k].to = n_speed * (size_t)(k + 1) / (size_t)threads;
        pthread_create(&tids[k], NULL, speed_worker, &jobs[k]);
    }
    size_t anomalies = 0, failed = 0, insufficient = 0;
    double cpu = 0;
    for (int k = 0; k < threads; k++) {
        pthread_join(tids[k], NULL);
        cpu += jobs[k].cpu;
        anomalies += jobs[k].anomalies;
        failed += jobs[k].failed;
        insufficient += jobs[k].insufficient;
    }
    double secs = (double)(weir_monotonic_us() - t0) / 1e6;
    printf("  %zu series in %.2f s wall on %d threads; %.2f s CPU in all, %.2f ms CPU a series\n",
           n_speed, secs, threads, cpu, cpu * 1000 / (double)n_speed);
    printf("  (target < 10 s wall on 2 cores; CPU / 2 = %.2f s is what 2 idle cores would take)\n",
           cpu / 2);
    printf("  last day anomalous in %zu series, insufficient history %zu, failures %zu\n",
           anomalies, insufficient, failed);
    for (size_t i = 0; i < n_speed; i++)
        free_item(&items[i]);
    free(items);
    free(jobs);
    free(tids);
    return 0;
}
