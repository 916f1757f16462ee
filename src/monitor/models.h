/*
 * models.h: the forecasting models behind forecast.h (internal to monitor/).
 *
 * Each model works on one array z (the series, log-transformed when the spec
 * says so) in which every point the model must not learn from (missing,
 * flagged anomalies, calendar event days) is NaN. It knows nothing of
 * calendars or intervals: forecast.c layers those on top.
 *
 *   model_fit()  estimates parameters from z[wstart, end) (the costly part);
 *   model_run()  runs the model's state with those parameters and forecasts
 *                H days from every origin in [o_from, o_to] in one pass (so a
 *                rolling-origin backtest costs one pass, not one fit per
 *                origin), and optionally the one-step forecast of every day.
 */
#ifndef WEIR_MONITOR_MODELS_H
#define WEIR_MONITOR_MODELS_H

#include <stddef.h>

#include "monitor/forecast.h"

#define MODEL_MAXP 24

typedef struct model_data {
    const double *z;  /* NaN where the model must not learn from the point */
    size_t n;         /* points of z that exist */
    weir_date start;  /* the date of z[0] */
    size_t wstart;    /* the first index a model looks at */
    double scale;     /* robust scale of weekly differences of z (> 0) */
    /* optional: cos and sin of the day's angle in the year, for t < n_year */
    const double *year_cos, *year_sin;
    size_t n_year;
} model_data;

typedef struct model_params {
    /* Holt-Winters */
    double alpha, beta, gamma, phi;
    /* decomposition */
    int p, K, trend;
    double tref;              /* trend origin (index) */
    double coef[MODEL_MAXP];
    double rscale;            /* robust scale of the regression residuals */
    double lalpha;            /* local level smoothing */
} model_params;

/* Fills c[t], s[t] for t < n with the yearly angle of start + t (model_data.year_*). */
void model_year_basis(weir_date start, size_t n, double *c, double *s);

/* Fits spec on z[d->wstart, end). Returns 0, or -1 when there is too little data. */
int model_fit(const weir_model_spec *spec, const model_data *d, size_t end,
              model_params *p);

/*
 * For every origin o in [o_from, o_to] (o_to <= d->n), writes the forecasts of
 * z[o], ..., z[o + H - 1] made from z[.. o) into fc[(o - o_from) * H + h - 1].
 * When insample is not NULL, insample[t] receives the one-step forecast of
 * z[t] for t in [d->wstart, o_to) (NaN before).
 */
void model_run(const weir_model_spec *spec, const model_params *p, const model_data *d,
               size_t o_from, size_t o_to, size_t H, double *fc, double *insample);

/* The median of x[0..n) (x is reordered); NaN when n is 0. Linear time. */
double model_median(double *x, size_t n);

#endif
