/*
 * forecast.h: forecasting and anomaly detection for daily metric series.
 *
 * The numerical core of monitor/: given a daily series (row counts of a
 * table, or any number per date) and a calendar of known events (school
 * holidays, closures, launches), it fits a few forecasting models, picks one
 * per series by rolling-origin backtesting on the series' own history, gives
 * prediction intervals whose width comes from the backtest's errors, and
 * calls a day anomalous when its value falls outside the interval.
 *
 * It knows nothing of the store or the warehouse: callers load a series from
 * wherever it lives into a weir_series, and keep the verdicts and the scores
 * the choice was made on (weir_forecaster.scores) wherever they like.
 *
 * Models (weir_model_spec):
 *  - seasonal naive (weekly): the value of the same weekday a week before,
 *    the baseline every other model is measured against;
 *  - Holt-Winters with weekly seasonality, additive or multiplicative
 *    season, optionally damped trend; smoothing parameters fitted by
 *    Nelder-Mead on the one-step squared error, errors Huber-clipped so a
 *    single outlier does not drag the level;
 *  - a decomposition model: robust (Huber IRLS) regression on a linear trend,
 *    day-of-week effects and Fourier terms of the year, plus a robust local
 *    level that follows slow drifts;
 *  - optionally on log(1 + y), which makes weekly and yearly effects
 *    multiplicative.
 * Every model skips missing days (NaN), points flagged as past anomalies and
 * calendar event days while fitting. Calendar effects are then layered on
 * top of any model: for each event (by name, else by kind) and day type
 * (weekday or weekend), the median ratio of actual to expected on past event
 * days, so a school holiday's low count is what the forecast expects.
 *
 * Intervals: the backtest's forecast errors (relative to the forecast for
 * positive series, absolute otherwise) give a robust scale per horizon,
 * per weekday and for event days; the interval is mean +- q * scale, with q
 * Student's t quantile at level for as many errors as the scale rests on.
 * Short histories are not trusted to the decimal: the scale is at least
 * 0.5% + 2.5% / sqrt(weeks of history) of the forecast (as one sigma: about
 * +-5% at 99% with 3 weeks, +-3.3% with 10, +-1.8% with 3 years) and half
 * the noise of week-on-week changes, so a wobble of 1-2% on a nearly
 * noiseless series is not an anomaly while a -40% day is.
 *
 * A daily monitor uses it like this:
 *
 *   weir_series s = WEIR_SERIES_INIT;           // from the store
 *   for each (date, value): weir_series_set(&s, date, value);
 *   for each past anomaly:  weir_series_flag(&s, date, WEIR_POINT_ANOMALY);
 *   weir_check c;
 *   weir_forecaster f = WEIR_FORECASTER_INIT;
 *   weir_monitor_check(&s, &cal, &opts, today, &c, &f, &err);
 *   // store c (verdict, expected, interval, score, severity) and the
 *   // scores in f.scores; weir_forecaster_describe(&f, &buf) says why
 *   // f.spec was chosen. An anomalous day is flagged in the store so the
 *   // next fits leave it out.
 *
 * Thread safety: functions share no state; a forecaster may be used from
 * several threads for predictions once fitted.
 */
#ifndef WEIR_MONITOR_FORECAST_H
#define WEIR_MONITOR_FORECAST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"
#include "core/vec.h"

/* Returned by fit and predict when the history is too short to forecast. */
#define WEIR_MONITOR_ESHORT (-100)

/* --- series ---------------------------------------------------------- */

/* Bits of weir_series.flags. */
enum {
    /* A past anomaly: left out of fits and scores, still plotted. */
    WEIR_POINT_ANOMALY = 1 << 0,
    /* Known bad for another reason (e.g. a rolled-back day): also left out. */
    WEIR_POINT_EXCLUDED = 1 << 1
};

/*
 * A daily series: values[i] is the value on start + i. Missing days are NaN.
 * The series owns values and flags.
 */
typedef struct weir_series {
    weir_date start;
    size_t len, cap;
    double *values;
    unsigned char *flags;
} weir_series;

#define WEIR_SERIES_INIT { 0, 0, 0, NULL, NULL }

/* Sets up an empty series. */
void weir_series_init(weir_series *s);
/* Frees what s holds; s is empty and reusable afterwards. */
void weir_series_release(weir_series *s);
/*
 * Sets the value on date d, growing the series in either direction with
 * missing days (NaN) as needed.
 */
void weir_series_set(weir_series *s, weir_date d, double value);
/* The value on d, NaN when d is outside the series or missing. */
double weir_series_get(const weir_series *s, weir_date d);
/* ORs flags into the point on d (which must be inside the series). */
void weir_series_flag(weir_series *s, weir_date d, unsigned flags);
/* The date of the last day of the series (start - 1 when empty). */
weir_date weir_series_end(const weir_series *s);
/* Copies src into dst (dst is released first). */
void weir_series_copy(weir_series *dst, const weir_series *src);

/* --- calendar -------------------------------------------------------- */

typedef enum weir_event_kind {
    WEIR_EVENT_HOLIDAY = 0, /* school or public holiday: usually fewer rows */
    WEIR_EVENT_CLOSURE,     /* the business is closed */
    WEIR_EVENT_LAUNCH,      /* a launch or campaign: usually more rows */
    WEIR_EVENT_OTHER,
    WEIR_EVENT__COUNT
} weir_event_kind;

typedef struct weir_calendar_event {
    weir_date from, to; /* inclusive */
    weir_event_kind kind;
    char *name;         /* owned; the effect is learnt per name when it recurs */
} weir_calendar_event;

typedef struct weir_calendar {
    WEIR_VEC(weir_calendar_event) events;
} weir_calendar;

#define WEIR_CALENDAR_INIT { WEIR_VEC_INIT }

/* Sets up an empty calendar. */
void weir_calendar_init(weir_calendar *c);
/* Frees the events and their names; c is empty and reusable afterwards. */
void weir_calendar_release(weir_calendar *c);
/* Adds an event over [from, to] (copies name). Returns WEIR_EINVALID when to < from. */
int weir_calendar_add(weir_calendar *c, weir_date from, weir_date to,
                      weir_event_kind kind, const char *name, weir_error *err);
/* The first event (in the order added) covering d, or NULL. */
const weir_calendar_event *weir_calendar_find(const weir_calendar *c, weir_date d);
/* "holiday", "closure", "launch", "other". */
const char *weir_event_kind_name(weir_event_kind k);
/* Parses a kind name; WEIR_EINVALID when unknown. */
int weir_event_kind_parse(const char *s, weir_event_kind *out);

/* --- models ---------------------------------------------------------- */

typedef enum weir_model_kind {
    WEIR_MODEL_SNAIVE = 0,
    WEIR_MODEL_HOLT_WINTERS,
    WEIR_MODEL_DECOMPOSITION
} weir_model_kind;

typedef struct weir_model_spec {
    weir_model_kind kind;
    bool multiplicative; /* Holt-Winters: multiplicative weekly season */
    bool damped;         /* Holt-Winters: damped trend */
    bool log;            /* model log(1 + y) (not with multiplicative) */
} weir_model_spec;

/* A short stable name: "snaive", "hw_add", "hw_mul_damped", "decomp_log", ... */
const char *weir_model_spec_name(const weir_model_spec *spec);
/* Parses such a name; WEIR_EINVALID when unknown. */
int weir_model_spec_parse(const char *name, weir_model_spec *out);

/* Candidate models tried by the automatic choice (bits of options.candidates). */
enum {
    WEIR_CAND_SNAIVE = 1 << 0,
    WEIR_CAND_HW_ADD = 1 << 1,
    WEIR_CAND_HW_ADD_DAMPED = 1 << 2,
    WEIR_CAND_HW_MUL = 1 << 3,
    WEIR_CAND_HW_MUL_DAMPED = 1 << 4,
    WEIR_CAND_HW_ADD_LOG = 1 << 5,
    WEIR_CAND_DECOMP = 1 << 6,
    WEIR_CAND_DECOMP_LOG = 1 << 7,
    WEIR_CAND__COUNT = 8,
    WEIR_CAND_ALL = (1 << 8) - 1,
    /*
     * The default: all but the rarely-best variants, to keep fitting fast.
     * decomp is tried only when decomp_log cannot be (values below zero).
     */
    WEIR_CAND_DEFAULT = WEIR_CAND_SNAIVE | WEIR_CAND_HW_ADD | WEIR_CAND_HW_MUL |
                        WEIR_CAND_DECOMP | WEIR_CAND_DECOMP_LOG
};

typedef struct weir_monitor_options {
    double level;          /* detection interval level; default 0.99 */
    int min_history;       /* usable days (observed, not flagged, not calendar
                              events) needed before judging; default 21, three
                              of each weekday; below it the verdict is
                              insufficient history (never below 14) */
    int horizon;           /* backtest horizon in days; default 7 */
    int backtest_days;     /* rolling origins: the last N days; default 91 */
    unsigned candidates;   /* WEIR_CAND_* bits; default WEIR_CAND_DEFAULT */
    int refit_days;        /* scan: choose and fit again every N days; default 7 */
    int shift_days;        /* scan: after N same-sign anomalies in a row, accept
                              the new level (stop excluding them); default 7 */
    int fit_window;        /* fit on at most the last N days; default 1100 */
    bool counts;           /* the values are counts of events (row counts): an
                              interval is never narrower than Poisson noise,
                              +-sqrt(expected) sigma; default false */
} weir_monitor_options;

/* Fills o with the defaults above. */
void weir_monitor_options_init(weir_monitor_options *o);

/* How one candidate did in the backtest. */
typedef struct weir_model_score {
    weir_model_spec spec;
    double smape;   /* symmetric MAPE, percent, 0..200 */
    double mase;    /* mean absolute error / in-sample weekly naive MAE */
    double coverage;/* share of backtest points inside their 95% interval
                       (scales learnt on alternate weeks: an honest check) */
    size_t n;       /* forecasts scored */
} weir_model_score;

/*
 * A fitted model: the chosen spec, its parameters, calendar effects and
 * error scales, and the scores of every candidate tried. Opaque state lives
 * behind priv; read spec, scores and the summary fields.
 */
typedef struct weir_forecaster {
    weir_model_spec spec;
    size_t end;           /* fitted on series indexes [0, end) */
    weir_date start;      /* the series' start when fitted */
    bool multiplicative_errors; /* errors relative to the forecast */
    double sigma1;        /* one-step error scale (relative or absolute) */
    weir_model_score scores[WEIR_CAND__COUNT];
    size_t n_scores;
    int chosen;           /* index into scores, -1 when the spec was given */
    size_t backtest_days; /* the rolling origins scored: the last N days before end */
    void *priv;
} weir_forecaster;

#define WEIR_FORECASTER_INIT { { 0, 0, 0, 0 }, 0, 0, 0, 0, { { { 0, 0, 0, 0 }, 0, 0, 0, 0 } }, 0, -1, 0, NULL }

/* Sets up an unfitted forecaster (as WEIR_FORECASTER_INIT). */
void weir_forecaster_init(weir_forecaster *f);
/* Frees the fitted state; f is unfitted and reusable afterwards. */
void weir_forecaster_release(weir_forecaster *f);

/*
 * Fits on the points of s before index end (end <= s->len). With spec NULL,
 * backtests every candidate of opts and keeps the best by MASE (then
 * sMAPE); otherwise fits spec (and still backtests it, for its intervals).
 * Returns WEIR_MONITOR_ESHORT when fewer than opts->min_history usable
 * points precede end, WEIR_EINVALID on bad options. f is released first.
 */
int weir_forecaster_fit(weir_forecaster *f, const weir_series *s,
                        const weir_calendar *cal, const weir_model_spec *spec,
                        const weir_monitor_options *opts, size_t end,
                        weir_error *err);

/*
 * Appends a few lines saying which model was chosen and why: one line per
 * candidate with its backtest sMAPE, MASE and 95% coverage, the chosen one
 * marked with '*'. For `weir monitor` output and logs.
 */
void weir_forecaster_describe(const weir_forecaster *f, weir_buf *out);

/* A forecast for h days from start. Owns its arrays. */
typedef struct weir_forecast {
    weir_date start;
    size_t h;
    double level;
    double *mean, *lo, *hi;
    double *scale;   /* the error scale (one sigma) per day, in the series' units */
    bool *event;     /* the day is a calendar event */
    bool *event_unknown; /* an event with no history: the interval is wide */
} weir_forecast;

#define WEIR_FORECAST_INIT { 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL }

/* Frees the arrays; fc is empty afterwards. */
void weir_forecast_release(weir_forecast *fc);

/*
 * Forecasts h days from series index origin (the model's state is run over
 * s's points before origin with the fitted parameters, so origin may be
 * past f->end), with intervals at level (0 < level < 1). out is released
 * first.
 */
int weir_forecaster_predict(const weir_forecaster *f, const weir_series *s,
                            const weir_calendar *cal, size_t origin, size_t h,
                            double level, weir_forecast *out, weir_error *err);

/* --- detection ------------------------------------------------------- */

typedef enum weir_verdict {
    WEIR_VERDICT_OK = 0,
    WEIR_VERDICT_ANOMALY,
    WEIR_VERDICT_INSUFFICIENT_HISTORY, /* not enough history to judge: no alarm */
    WEIR_VERDICT_MISSING               /* the day has no value */
} weir_verdict;

typedef enum weir_severity {
    WEIR_SEVERITY_NONE = 0,
    WEIR_SEVERITY_LOW,    /* outside the interval, |score| up to 1.5 z(level) */
    WEIR_SEVERITY_MEDIUM, /* |score| up to 2 z(level) */
    WEIR_SEVERITY_HIGH    /* beyond: e.g. -40% or x2 on a series with 5% noise */
} weir_severity;

typedef struct weir_check {
    weir_date date;
    double actual;
    double expected, lo, hi;  /* NaN with insufficient history */
    double score;     /* signed: (actual - expected) / error scale, in sigmas */
    double deviation; /* (actual - expected) / expected, NaN when expected is 0 */
    weir_verdict verdict;
    weir_severity severity;
    const char *event; /* the calendar event's name (points into the calendar) or NULL */
} weir_check;

const char *weir_verdict_name(weir_verdict v);    /* "ok", "anomaly", ... */
const char *weir_severity_name(weir_severity s);  /* "none", "low", ... */

/*
 * Judges the value on date d against a forecast from everything before it
 * (chosen model, level opts->level). A short history gives the verdict
 * WEIR_VERDICT_INSUFFICIENT_HISTORY and returns 0. When fitted is not NULL
 * it receives the forecaster used (released first; the caller releases it).
 */
int weir_monitor_check(const weir_series *s, const weir_calendar *cal,
                       const weir_monitor_options *opts, weir_date d,
                       weir_check *out, weir_forecaster *fitted, weir_error *err);

/*
 * Judges every day in [from, to] in order, as a daily monitor would have:
 * each day against a one-day-ahead forecast from the days before it. The
 * model is chosen and fitted again every opts->refit_days days (a daily
 * check does it every day; in between, the state still follows every
 * point). Clear anomalies (beyond 3.29 sigmas) are left out of later fits,
 * until opts->shift_days anomalies in a row on the same side make them the
 * new normal. *out (caller frees) receives to - from + 1 checks. When flagged is
 * not NULL, it receives a copy of s with the anomalies flagged.
 */
int weir_monitor_scan(const weir_series *s, const weir_calendar *cal,
                      const weir_monitor_options *opts, weir_date from,
                      weir_date to, weir_check **out, size_t *n_out,
                      weir_series *flagged, weir_error *err);

/* --- metrics and helpers --------------------------------------------- */

/* sMAPE in percent over the pairs where both are finite; NaN when none. */
double weir_monitor_smape(const double *actual, const double *forecast, size_t n);
/*
 * MASE: mean absolute error over the pairs where both are finite, divided by
 * scale (the in-sample MAE of the weekly naive forecast); NaN when none.
 */
double weir_monitor_mase(const double *actual, const double *forecast, size_t n,
                         double scale);
/* The in-sample MAE of the weekly seasonal naive forecast over y[0..n). */
double weir_monitor_snaive_mae(const double *y, size_t n);
/* The standard normal quantile: P(Z <= x) = p, 0 < p < 1. */
double weir_monitor_normal_quantile(double p);
/*
 * Student's t quantile with df > 0 degrees of freedom: P(T <= x) = p.
 * Exact for df 1 and 2, within 1% from df 3 (an expansion), NaN for df <= 0.
 */
double weir_monitor_t_quantile(double p, double df);

/* --- plot ------------------------------------------------------------ */

typedef struct weir_plot_options {
    const char *title;     /* may be NULL */
    const char *subtitle;  /* may be NULL, e.g. the model and its scores */
    int width, height;     /* pixels; 0 picks 1100 x 420 */
    weir_date from, to;    /* the dates shown; from > to shows everything */
} weir_plot_options;

/* Fills o with the defaults: 1100 x 420, the whole series, no titles. */
void weir_plot_options_init(weir_plot_options *o);

/*
 * Appends an SVG chart to out: the history as a line, the checks' expected
 * values and intervals as a line and a band, anomalies as red marks,
 * calendar events shaded and named, and the forecast fc (may be NULL) beyond
 * the history as a dashed line and lighter band. checks may be NULL.
 */
int weir_monitor_plot_svg(const weir_series *s, const weir_calendar *cal,
                          const weir_check *checks, size_t n_checks,
                          const weir_forecast *fc, const weir_plot_options *opts,
                          weir_buf *out, weir_error *err);

#endif
