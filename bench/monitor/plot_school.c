/*
 * plot_school.c: draws the monitor's chart for a synthetic school-like
 * series with injected anomalies (a -40% outage day, a day loaded twice, a
 * five-day drop), so the SVG can be looked at:
 *
 *   build/bench/plot-school [out.svg [days]]
 */
#include "core/compat.h"

#include "core/fs.h"
#include "monitor/forecast.h"
#include "monitor/synth.h"

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "monitor.svg";
    int days = argc > 2 ? atoi(argv[2]) : 240;
    weir_synth_options so;
    weir_synth_options_init(&so);
    so.seed = 2;
    weir_series s = WEIR_SERIES_INIT;
    weir_calendar cal = WEIR_CALENDAR_INIT;
    weir_synth_school(&so, &s, &cal);
    size_t n = s.len;
    size_t drop = n - 110, spike = n - 64, shift = n - 24;
    while (weir_date_weekday(s.start + (weir_date)drop) != 3)
        drop++;
    while (weir_date_weekday(s.start + (weir_date)spike) != 2)
        spike++;
    while (weir_date_weekday(s.start + (weir_date)shift) != 1)
        shift++;
    s.values[drop] = round(s.values[drop] * 0.6);
    s.values[spike] *= 2;
    for (size_t t = shift; t < shift + 5; t++)
        s.values[t] = round(s.values[t] * 0.55);

    weir_monitor_options o;
    weir_monitor_options_init(&o);
    weir_check *c = NULL;
    size_t nc = 0;
    weir_error e = WEIR_ERROR_INIT;
    weir_series flagged = WEIR_SERIES_INIT;
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    weir_buf svg = WEIR_BUF_INIT, sub = WEIR_BUF_INIT;
    int rc = 1;
    weir_date end = weir_series_end(&s);
    if (weir_monitor_scan(&s, &cal, &o, end - days + 1, end, &c, &nc, &flagged, &e) < 0 ||
        weir_forecaster_fit(&f, &flagged, &cal, NULL, &o, flagged.len, &e) < 0 ||
        weir_forecaster_predict(&f, &flagged, &cal, flagged.len, 28, o.level, &fc, &e) < 0)
        goto cleanup;
    size_t anomalies = 0;
    for (size_t i = 0; i < nc; i++)
        anomalies += c[i].verdict == WEIR_VERDICT_ANOMALY;
    const weir_model_score *ms = &f.scores[f.chosen];
    weir_buf_addf(&sub, "model %s (backtest sMAPE %.1f%%, MASE %.2f), 99%% intervals, %zu anomalies in %d days",
                  weir_model_spec_name(&f.spec), ms->smape, ms->mase, anomalies, days);
    weir_plot_options po;
    weir_plot_options_init(&po);
    po.title = "raw.events: daily row count";
    po.subtitle = sub.ptr;
    po.from = end - days + 1;
    po.to = end + 28;
    if (weir_monitor_plot_svg(&s, &cal, c, nc, &fc, &po, &svg, &e) < 0 ||
        weir_fs_write_atomic(path, svg.ptr, svg.len, &e) < 0)
        goto cleanup;
    printf("wrote %s (%zu bytes): %s\n", path, svg.len, sub.ptr);
    rc = 0;
cleanup:
    if (rc)
        fprintf(stderr, "plot-school: %s\n", weir_error_str(&e));
    free(c);
    weir_buf_release(&svg);
    weir_buf_release(&sub);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_series_release(&flagged);
    weir_series_release(&s);
    weir_calendar_release(&cal);
    weir_error_release(&e);
    return rc;
}
