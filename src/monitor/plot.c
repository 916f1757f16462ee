/*
 * plot.c: the monitor's chart as a standalone SVG (weir_monitor_plot_svg).
 *
 * One picture a person can read at a glance: the actual values as a dark
 * line, what was expected each day as a dashed blue line inside its
 * interval band, anomalies as red dots, calendar events as shaded columns
 * named at the top, and the forecast beyond the last day in violet. Plain
 * SVG 1.1 with inline attributes only (no CSS, scripts or fonts to fetch),
 * so it renders the same in browsers, rsvg and the web UI.
 */
#include "core/compat.h"

#include "monitor/forecast.h"

void weir_plot_options_init(weir_plot_options *o)
{
    memset(o, 0, sizeof(*o));
    o->width = 1100;
    o->height = 420;
    o->from = 1;
    o->to = 0;
}

typedef struct frame {
    double left, right, top, bottom; /* plot area in pixels */
    weir_date from, to;
    double ymin, ymax; /* ymin is 0 unless values go below it */
} frame;

static double fx(const frame *f, double d)
{
    double span = (double)(f->to - f->from);
    if (span <= 0)
        span = 1;
    return f->left + (d - (double)f->from) / span * (f->right - f->left);
}

static double fy(const frame *f, double v)
{
    return f->bottom - (v - f->ymin) / (f->ymax - f->ymin) * (f->bottom - f->top);
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about n ticks. */
static double nice_step(double range, int n)
{
    double raw = range / n, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* Axis numbers: "750", "8,000", "25k", "1.5M". */
static void add_number(weir_buf *b, double v)
{
    if (fabs(v) >= 1e6)
        weir_buf_addf(b, "%gM", v / 1e6);
    else if (fabs(v) >= 2e4)
        weir_buf_addf(b, "%gk", v / 1e3);
    else if (fabs(v) >= 1000 && v == floor(v))
        weir_buf_addf(b, "%s%d,%03d", v < 0 ? "-" : "", (int)fabs(v) / 1000, (int)fabs(v) % 1000);
    else
        weir_buf_addf(b, "%g", v);
}

static void add_escaped(weir_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': weir_buf_adds(b, "&lt;"); break;
        case '>': weir_buf_adds(b, "&gt;"); break;
        case '&': weir_buf_adds(b, "&amp;"); break;
        case '"': weir_buf_adds(b, "&quot;"); break;
        default: weir_buf_addch(b, *s);
        }
    }
}

static const char *const month_names[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/*
 * A polyline path through (date, value) points, broken where a value is
 * missing. get returns the value of point i.
 */
typedef double (*value_fn)(const void *ctx, size_t i, weir_date *d);

static void add_line_path(weir_buf *b, const frame *f, const void *ctx, size_t n, value_fn get)
{
    bool pen = false;
    for (size_t i = 0; i < n; i++) {
        weir_date d;
        double v = get(ctx, i, &d);
        if (!isfinite(v) || d < f->from || d > f->to) {
            pen = false;
            continue;
        }
        weir_buf_addf(b, "%c%.1f,%.1f", pen ? 'L' : 'M', fx(f, d), fy(f, v));
        pen = true;
    }
}

/* A band between lo and hi, one closed polygon per unbroken run. */
static void add_band_path(weir_buf *b, const frame *f, const void *ctx, size_t n,
                          value_fn lo, value_fn hi)
{
    size_t i = 0;
    while (i < n) {
        weir_date d;
        double l = lo(ctx, i, &d), h = hi(ctx, i, &d);
        if (!isfinite(l) || !isfinite(h) || d < f->from || d > f->to) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n) {
            l = lo(ctx, j, &d);
            h = hi(ctx, j, &d);
            if (!isfinite(l) || !isfinite(h) || d < f->from || d > f->to)
                break;
            weir_buf_addf(b, "%c%.1f,%.1f", j == i ? 'M' : 'L', fx(f, d), fy(f, h));
            j++;
        }
        for (size_t k = j; k-- > i;) {
            l = lo(ctx, k, &d);
            weir_buf_addf(b, "L%.1f,%.1f", fx(f, d), fy(f, l));
        }
        weir_buf_adds(b, "Z");
        i = j;
    }
}

static double series_value(const void *ctx, size_t i, weir_date *d)
{
    const weir_series *s = ctx;
    *d = s->start + (weir_date)i;
    return s->values[i];
}

typedef struct checks_view {
    const weir_check *c;
} checks_view;

static double check_expected(const void *ctx, size_t i, weir_date *d)
{
    const weir_check *c = ((const checks_view *)ctx)->c + i;
    *d = c->date;
    return c->expected;
}

static double check_lo(const void *ctx, size_t i, weir_date *d)
{
    const weir_check *c = ((const checks_view *)ctx)->c + i;
    *d = c->date;
    return c->lo;
}

static double check_hi(const void *ctx, size_t i, weir_date *d)
{
    const weir_check *c = ((const checks_view *)ctx)->c + i;
    *d = c->date;
    return c->hi;
}

static double fc_mean(const void *ctx, size_t i, weir_date *d)
{
    const weir_forecast *fc = ctx;
    *d = fc->start + (weir_date)i;
    return fc->mean[i];
}

static double fc_lo(const void *ctx, size_t i, weir_date *d)
{
    const weir_forecast *fc = ctx;
    *d = fc->start + (weir_date)i;
    return fc->lo[i];
}

static double fc_hi(const void *ctx, size_t i, weir_date *d)
{
    const weir_forecast *fc = ctx;
    *d = fc->start + (weir_date)i;
    return fc->hi[i];
}

static void add_date_axis(weir_buf *b, const frame *f)
{
    int span = f->to - f->from;
    int y0, m0, d0;
    weir_date_to_ymd(f->from, &y0, &m0, &d0);
    if (span > 75) {
        /* month ticks; every second or third when the range is long */
        int every = span > 900 ? 3 : span > 400 ? 2 : 1;
        weir_date d = weir_date_month_start(f->from);
        if (d < f->from)
            d = weir_date_add_months(d, 1);
        for (; d <= f->to; d = weir_date_add_months(d, 1)) {
            int y, m, dd;
            weir_date_to_ymd(d, &y, &m, &dd);
            if ((m - 1) % every)
                continue;
            double x = fx(f, d);
            weir_buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
                          x, f->top, x, f->bottom);
            weir_buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
                          x, f->bottom, x, f->bottom + 5);
            weir_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">%s</text>\n",
                          x, f->bottom + 18, month_names[m - 1]);
            if (m == 1 || d == weir_date_month_start(f->from) || d - f->from < 31 * every)
                weir_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\" font-weight=\"bold\">%d</text>\n",
                              x, f->bottom + 32, y);
        }
        return;
    }
    /* weekly ticks on Mondays */
    weir_date d = f->from;
    while (weir_date_weekday(d) != 1)
        d++;
    int step = span > 35 ? 14 : 7;
    int last_month = -1;
    for (; d <= f->to; d += step) {
        int y, m, dd;
        weir_date_to_ymd(d, &y, &m, &dd);
        double x = fx(f, d);
        weir_buf_addf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>\n",
                      x, f->top, x, f->bottom);
        weir_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">%s %d</text>\n",
                      x, f->bottom + 18, month_names[m - 1], dd);
        if (m != last_month && (last_month < 0 || m == 1))
            weir_buf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\" font-weight=\"bold\">%d</text>\n",
                          x, f->bottom + 32, y);
        last_month = m;
    }
}

static void add_legend_item(weir_buf *b, double *x, double y, const char *swatch, const char *label)
{
    weir_buf_addf(b, "<g transform=\"translate(%.1f,%.1f)\">%s<text x=\"22\" y=\"4\" fill=\"#444\">%s</text></g>\n",
                  *x, y, swatch, label);
    *x += 30 + 6.5 * (double)strlen(label);
}

int weir_monitor_plot_svg(const weir_series *s, const weir_calendar *cal,
                          const weir_check *checks, size_t n_checks,
                          const weir_forecast *fc, const weir_plot_options *opts,
                          weir_buf *out, weir_error *err)
{
    weir_plot_options defaults;
    if (!opts) {
        weir_plot_options_init(&defaults);
        opts = &defaults;
    }
    if (s->len == 0 && !(fc && fc->h))
        return weir_error_set(err, WEIR_EINVALID, "nothing to plot: the series is empty");
    int W = opts->width > 0 ? opts->width : 1100, H = opts->height > 0 ? opts->height : 420;
    frame f;
    f.left = 64;
    f.right = W - 24;
    f.top = opts->subtitle ? 74 : 58;
    f.bottom = H - 44;
    if (opts->from <= opts->to) {
        f.from = opts->from;
        f.to = opts->to;
    } else {
        f.from = s->len ? s->start : fc->start;
        f.to = s->len ? weir_series_end(s) : fc->start;
        if (fc && fc->h)
            f.to = WEIR_MAX(f.to, fc->start + (weir_date)fc->h - 1);
    }
    if (f.to <= f.from)
        f.to = f.from + 1;

    /* the value axis: from 0 (or below, for negative values) to a nice number above all */
    double vmax = 0, vmin = 0;
    for (size_t i = 0; i < s->len; i++) {
        weir_date d = s->start + (weir_date)i;
        if (d >= f.from && d <= f.to && isfinite(s->values[i])) {
            vmax = WEIR_MAX(vmax, s->values[i]);
            vmin = WEIR_MIN(vmin, s->values[i]);
        }
    }
    for (size_t i = 0; i < n_checks; i++)
        if (checks[i].date >= f.from && checks[i].date <= f.to && isfinite(checks[i].hi)) {
            vmax = WEIR_MAX(vmax, WEIR_MIN(checks[i].hi, 3 * WEIR_MAX(checks[i].expected, 1)));
            vmin = WEIR_MIN(vmin, checks[i].lo);
        }
    for (size_t i = 0; fc && i < fc->h; i++)
        if (isfinite(fc->hi[i])) {
            vmax = WEIR_MAX(vmax, fc->hi[i]);
            vmin = WEIR_MIN(vmin, fc->lo[i]);
        }
    if (vmax - vmin <= 0)
        vmax = vmin + 1;
    double step = nice_step(vmax - vmin, 5);
    f.ymax = ceil(vmax * 1.04 / step) * step;
    f.ymin = vmin < 0 ? floor(vmin * 1.04 / step) * step : 0;
    if (f.ymax <= f.ymin)
        f.ymax = f.ymin + step;

    weir_buf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                       "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n",
                  W, H, W, H);
    weir_buf_addf(out, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);
    if (opts->title) {
        weir_buf_addf(out, "<text x=\"%.0f\" y=\"24\" font-size=\"16\" font-weight=\"bold\" fill=\"#222\">", f.left);
        add_escaped(out, opts->title);
        weir_buf_adds(out, "</text>\n");
    }
    if (opts->subtitle) {
        weir_buf_addf(out, "<text x=\"%.0f\" y=\"42\" font-size=\"12\" fill=\"#666\">", f.left);
        add_escaped(out, opts->subtitle);
        weir_buf_adds(out, "</text>\n");
    }

    /* calendar events: shaded columns, named when there is room */
    for (size_t i = 0; cal && i < cal->events.len; i++) {
        const weir_calendar_event *e = &cal->events.items[i];
        if (e->to < f.from || e->from > f.to)
            continue;
        double x0 = fx(&f, WEIR_MAX(e->from, f.from) - 0.5), x1 = fx(&f, WEIR_MIN(e->to, f.to) + 0.5);
        x0 = WEIR_MAX(x0, f.left);
        x1 = WEIR_MIN(x1, f.right);
        const char *fill = e->kind == WEIR_EVENT_LAUNCH ? "#d9f2e3" : e->kind == WEIR_EVENT_CLOSURE ? "#eeeeee" : "#fdf0d5";
        weir_buf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
                      x0, f.top, x1 - x0, f.bottom - f.top, fill);
        add_escaped(out, e->name);
        weir_buf_adds(out, "</title></rect>\n");
        if (x1 - x0 >= 6.2 * (double)strlen(e->name) + 6) {
            weir_buf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#a07a2c\">", x0 + 3, f.top + 12);
            add_escaped(out, e->name);
            weir_buf_adds(out, "</text>\n");
        } else if (x1 - x0 >= 3) {
            /* too narrow for a label: write it up the column */
            weir_buf_addf(out, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" font-size=\"9\" "
                               "text-anchor=\"end\" fill=\"#a07a2c\">",
                          (x0 + x1) / 2 + 3, f.top + 4);
            add_escaped(out, e->name);
            weir_buf_adds(out, "</text>\n");
        }
    }

    /* value grid and labels */
    for (int k = 0; f.ymin + k * step <= f.ymax + step / 2; k++) {
        double v = f.ymin + k * step;
        if (fabs(v) < step * 1e-9)
            v = 0;
        double y = fy(&f, v);
        weir_buf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                      f.left, y, f.right, y, v == 0 ? "#999" : "#e6e6e6");
        weir_buf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">", f.left - 8, y + 4);
        add_number(out, v);
        weir_buf_adds(out, "</text>\n");
    }
    add_date_axis(out, &f);

    /* what was expected: band, then line */
    checks_view cv = { checks };
    if (checks && n_checks) {
        weir_buf_adds(out, "<path fill=\"#cfe2f5\" fill-opacity=\"0.85\" stroke=\"none\" d=\"");
        add_band_path(out, &f, &cv, n_checks, check_lo, check_hi);
        weir_buf_adds(out, "\"/>\n");
    }
    if (fc && fc->h) {
        double x = fx(&f, fc->start - 0.5);
        if (x > f.left && x < f.right)
            weir_buf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9b8ac4\" stroke-dasharray=\"2,3\"/>\n",
                          x, f.top, x, f.bottom);
        weir_buf_adds(out, "<path fill=\"#e4dcf5\" fill-opacity=\"0.9\" stroke=\"none\" d=\"");
        add_band_path(out, &f, fc, fc->h, fc_lo, fc_hi);
        weir_buf_adds(out, "\"/>\n");
    }
    if (checks && n_checks) {
        weir_buf_adds(out, "<path fill=\"none\" stroke=\"#2f6db5\" stroke-width=\"1.2\" stroke-dasharray=\"4,3\" d=\"");
        add_line_path(out, &f, &cv, n_checks, check_expected);
        weir_buf_adds(out, "\"/>\n");
    }
    if (fc && fc->h) {
        weir_buf_adds(out, "<path fill=\"none\" stroke=\"#6a4fb0\" stroke-width=\"1.6\" stroke-dasharray=\"5,3\" d=\"");
        add_line_path(out, &f, fc, fc->h, fc_mean);
        weir_buf_adds(out, "\"/>\n");
    }

    /* the actual values */
    weir_buf_adds(out, "<path fill=\"none\" stroke=\"#222\" stroke-width=\"1.3\" stroke-linejoin=\"round\" d=\"");
    add_line_path(out, &f, s, s->len, series_value);
    weir_buf_adds(out, "\"/>\n");

    /* anomalies on top, with a tooltip */
    size_t n_anom = 0;
    for (size_t i = 0; i < n_checks; i++) {
        const weir_check *c = &checks[i];
        if (c->verdict != WEIR_VERDICT_ANOMALY || c->date < f.from || c->date > f.to)
            continue;
        n_anom++;
        char ds[WEIR_DATE_STRLEN];
        double r = c->severity >= WEIR_SEVERITY_HIGH ? 5.5 : c->severity >= WEIR_SEVERITY_MEDIUM ? 4.5 : 3.5;
        weir_buf_addf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#d62728\" stroke=\"#fff\" stroke-width=\"1.5\">"
                           "<title>%s: %.0f, expected %.0f (%.0f to %.0f), %+.0f%%, score %+.1f, %s</title></circle>\n",
                      fx(&f, c->date), fy(&f, c->actual), r, weir_date_format(c->date, ds), c->actual,
                      c->expected, c->lo, c->hi, 100 * c->deviation, c->score,
                      weir_severity_name(c->severity));
    }

    /* frame and legend */
    weir_buf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#bbb\"/>\n",
                  f.left, f.top, f.right - f.left, f.bottom - f.top);
    double lx = f.left, ly = f.top - 10;
    add_legend_item(out, &lx, ly, "<line x1=\"0\" y1=\"0\" x2=\"18\" y2=\"0\" stroke=\"#222\" stroke-width=\"1.5\"/>", "actual");
    if (checks && n_checks) {
        add_legend_item(out, &lx, ly, "<rect x=\"0\" y=\"-5\" width=\"18\" height=\"10\" fill=\"#cfe2f5\"/>"
                                      "<line x1=\"0\" y1=\"0\" x2=\"18\" y2=\"0\" stroke=\"#2f6db5\" stroke-dasharray=\"4,3\"/>",
                        "expected and interval");
        add_legend_item(out, &lx, ly, "<circle cx=\"9\" cy=\"0\" r=\"4.5\" fill=\"#d62728\"/>",
                        n_anom == 1 ? "anomaly" : "anomalies");
    }
    if (fc && fc->h)
        add_legend_item(out, &lx, ly, "<rect x=\"0\" y=\"-5\" width=\"18\" height=\"10\" fill=\"#e4dcf5\"/>"
                                      "<line x1=\"0\" y1=\"0\" x2=\"18\" y2=\"0\" stroke=\"#6a4fb0\" stroke-dasharray=\"5,3\"/>",
                        "forecast");
    if (cal && cal->events.len)
        add_legend_item(out, &lx, ly, "<rect x=\"0\" y=\"-5\" width=\"18\" height=\"10\" fill=\"#fdf0d5\"/>",
                        "calendar event");
    weir_buf_adds(out, "</svg>\n");
    return 0;
}
