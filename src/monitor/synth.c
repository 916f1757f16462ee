/*
 * synth.c: the school-like series of synth.h.
 */
#include "core/compat.h"

#include "core/prng.h"
#include "monitor/synth.h"

void weir_synth_options_init(weir_synth_options *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    weir_date_from_ymd(2023, 1, 2, &o->start);
    o->days = 3 * 365;
    o->base = 2000;
    o->growth = 0.2;
    o->noise = 0.05;
    o->weekend = 0.15;
    o->holiday = 0.25;
    o->school = true;
}

static weir_date ymd(int y, int m, int d)
{
    weir_date out = 0;
    weir_date_from_ymd(y, m, d, &out);
    return out;
}

static weir_date monday_on_or_before(weir_date d)
{
    return d - (weir_date)(weir_date_weekday(d) - 1);
}

typedef struct holiday {
    weir_date from, to;
    const char *name;
} holiday;

/* The holidays of school year y (winter break ends in y). */
static size_t holidays_of(int y, int country, holiday *out)
{
    size_t n = 0;
    int c = country % 4;
    out[n++] = (holiday){ ymd(y - 1, 12, 20 + c), ymd(y, 1, 2 + c), "winter break" };
    weir_date sp = monday_on_or_before(ymd(y, 3, 25) + (weir_date)(((y * 11) + c * 5) % 21));
    out[n++] = (holiday){ sp, sp + 8, "spring break" };
    out[n++] = (holiday){ ymd(y, 6, 20 + 2 * c), ymd(y, 8, 26 + c), "summer break" };
    weir_date au = monday_on_or_before(ymd(y, 10, 24 + c));
    out[n++] = (holiday){ au - 2, au + 6, "autumn break" };
    return n;
}

static const holiday *holiday_on(int country, weir_date d, holiday *buf)
{
    int y, m, dd;
    weir_date_to_ymd(d, &y, &m, &dd);
    for (int yy = y; yy <= y + 1; yy++) {
        size_t n = holidays_of(yy, country, buf);
        for (size_t i = 0; i < n; i++)
            if (d >= buf[i].from && d <= buf[i].to)
                return &buf[i];
    }
    return NULL;
}

double weir_synth_school_mean(const weir_synth_options *o, weir_date d)
{
    static const double week[7] = { 1.0, 1.04, 1.02, 1.0, 0.88, 1.0, 1.13 };
    int wd = weir_date_weekday(d);
    double years = (double)(d - o->start) / 365.25;
    double v = o->base * exp(o->growth * years) * week[wd - 1];
    if (wd >= 6)
        v *= o->weekend;
    if (o->school) {
        holiday buf[8];
        v *= 1 + 0.08 * cos(2 * M_PI * (weir_date_yearday(d) - 280) / 365.25);
        if (holiday_on(o->country, d, buf))
            v *= wd >= 6 ? 0.6 : o->holiday;
    }
    return v;
}

void weir_synth_school(const weir_synth_options *o, weir_series *out, weir_calendar *cal)
{
    weir_prng r;
    weir_prng_seed(&r, o->seed);
    weir_series_release(out);
    for (int i = 0; i < o->days; i++) {
        weir_date d = o->start + i;
        double mu = weir_synth_school_mean(o, d) * exp(o->noise * weir_prng_gaussian(&r));
        weir_series_set(out, d, weir_prng_poisson(&r, mu));
    }
    if (!cal || !o->school || o->days <= 0)
        return;
    int y0, y1, m, dd;
    weir_date_to_ymd(o->start, &y0, &m, &dd);
    weir_date_to_ymd(o->start + o->days + 400, &y1, &m, &dd);
    for (int y = y0; y <= y1; y++) {
        holiday buf[8];
        size_t n = holidays_of(y, o->country, buf);
        for (size_t i = 0; i < n; i++)
            weir_calendar_add(cal, buf[i].from, buf[i].to, WEIR_EVENT_HOLIDAY, buf[i].name, NULL);
    }
}
