/*
 * Tests of monitor/plot: the SVG holds every layer (events, band, lines,
 * anomalies, forecast), escapes text, and refuses an empty series.
 */
#include "harness.h"

#include "monitor/forecast.h"
#include "monitor/synth.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

TEST(chart_has_every_layer)
{
    weir_synth_options so;
    weir_synth_options_init(&so);
    so.days = 400;
    weir_series s = WEIR_SERIES_INIT;
    weir_calendar cal = WEIR_CALENDAR_INIT;
    weir_synth_school(&so, &s, &cal);
    size_t bad = s.len - 20;
    while (weir_calendar_find(&cal, s.start + (weir_date)bad))
        bad--;
    s.values[bad] *= 3;
    weir_error e = WEIR_ERROR_INIT;
    weir_check *c = NULL;
    size_t nc = 0;
    weir_date end = weir_series_end(&s);
    CHECK_OK(weir_monitor_scan(&s, &cal, NULL, end - 59, end, &c, &nc, NULL, &e), &e);
    weir_forecaster f = WEIR_FORECASTER_INIT;
    weir_forecast fc = WEIR_FORECAST_INIT;
    CHECK_OK(weir_forecaster_fit(&f, &s, &cal, NULL, NULL, s.len, &e), &e);
    CHECK_OK(weir_forecaster_predict(&f, &s, &cal, s.len, 14, 0.99, &fc, &e), &e);

    weir_plot_options po;
    weir_plot_options_init(&po);
    po.title = "raw.events <daily> & more";
    po.from = end - 89;
    po.to = end + 14;
    weir_buf out = WEIR_BUF_INIT;
    CHECK_OK(weir_monitor_plot_svg(&s, &cal, c, nc, &fc, &po, &out, &e), &e);
    const char *svg = out.ptr;
    CHECK(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    CHECK_CONTAINS(svg, "</svg>\n");
    CHECK_CONTAINS(svg, "raw.events &lt;daily&gt; &amp; more");
    CHECK_CONTAINS(svg, "fill=\"#cfe2f5\"");  /* interval band */
    CHECK_CONTAINS(svg, "stroke=\"#6a4fb0\""); /* forecast line */
    CHECK_CONTAINS(svg, "<circle");            /* the anomaly */
    CHECK_CONTAINS(svg, "score +");
    CHECK_CONTAINS(svg, "winter break");       /* a shaded event in range */
    CHECK_CONTAINS(svg, "calendar event");
    CHECK(!strstr(svg, "nan") && !strstr(svg, "inf"));
    CHECK_INT(count(svg, "<text"), ==, count(svg, "</text>"));
    CHECK_INT(count(svg, "</circle>"), >=, 1); /* anomalies carry a tooltip */

    weir_series empty = WEIR_SERIES_INIT;
    weir_buf_reset(&out);
    CHECK_INT(weir_monitor_plot_svg(&empty, NULL, NULL, 0, NULL, NULL, &out, &e), ==, WEIR_EINVALID);
    weir_error_release(&e);
    weir_buf_release(&out);
    free(c);
    weir_forecast_release(&fc);
    weir_forecaster_release(&f);
    weir_series_release(&s);
    weir_calendar_release(&cal);
}
