/*
 * schedule.c: data intervals of a cron schedule in a zone (see schedule.h).
 *
 * Every interval is two consecutive fire times from weir_cron_next /
 * weir_cron_prev; this file only decides which pair, and formats them.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "orchestrate/schedule.h"

#define DEFAULT_LIMIT ((size_t)1000000)

int weir_schedule_init(weir_schedule *s, const char *expr, const char *tz_name, weir_error *err)
{
    int rc;
    memset(s, 0, sizeof(*s));
    rc = weir_cron_parse(expr, &s->cron, err);
    if (rc)
        return rc;
    rc = weir_tz_load(tz_name && *tz_name ? tz_name : "UTC", &s->tz, err);
    if (rc)
        return rc;
    s->expr = weir_xstrdup(expr);
    return 0;
}

void weir_schedule_release(weir_schedule *s)
{
    weir_tz_free(s->tz);
    free(s->expr);
    s->tz = NULL;
    s->expr = NULL;
}

static const weir_tz *zone(const weir_schedule *s)
{
    return s->tz ? s->tz : weir_tz_utc();
}

int weir_schedule_interval_from(const weir_schedule *s, weir_ts t, weir_interval *out)
{
    weir_interval iv;
    if (t == INT64_MIN || weir_cron_next(&s->cron, zone(s), t - 1, &iv.start) ||
        weir_cron_next(&s->cron, zone(s), iv.start, &iv.end))
        return WEIR_ENOTFOUND;
    *out = iv;
    return 0;
}

int weir_schedule_latest_closed(const weir_schedule *s, weir_ts now, weir_interval *out)
{
    weir_interval iv;
    if (weir_cron_prev(&s->cron, zone(s), now, &iv.end) ||
        weir_cron_prev(&s->cron, zone(s), iv.end - 1, &iv.start))
        return WEIR_ENOTFOUND;
    *out = iv;
    return 0;
}

weir_date weir_schedule_ds(const weir_schedule *s, const weir_interval *iv)
{
    return weir_ts_date(weir_tz_to_local(zone(s), iv->start));
}

int weir_schedule_interval_on(const weir_schedule *s, weir_date d, weir_interval *out)
{
    weir_interval iv;
    if (weir_schedule_interval_from(s, weir_tz_day_start(zone(s), d), &iv) ||
        weir_schedule_ds(s, &iv) != d)
        return WEIR_ENOTFOUND;
    *out = iv;
    return 0;
}

int weir_schedule_intervals_between(const weir_schedule *s, weir_date from, weir_date to,
                                    size_t limit, weir_interval_vec *out, weir_error *err)
{
    char a[WEIR_DATE_STRLEN], b[WEIR_DATE_STRLEN];
    weir_interval iv;
    size_t n = 0;
    if (!limit)
        limit = DEFAULT_LIMIT;
    if (from > to)
        return weir_error_set(err, WEIR_EINVALID, "invalid date range: '%s' is after '%s'",
                              weir_date_format(from, a), weir_date_format(to, b));
    if (weir_schedule_interval_from(s, weir_tz_day_start(zone(s), from), &iv))
        return 0;
    while (weir_schedule_ds(s, &iv) <= to) {
        if (n++ == limit)
            return weir_error_set(err, WEIR_ETOOBIG,
                                  "more than %zu intervals between '%s' and '%s'", limit,
                                  weir_date_format(from, a), weir_date_format(to, b));
        weir_vec_push(out, iv);
        weir_ts start = iv.end;
        iv.start = start;
        if (weir_cron_next(&s->cron, zone(s), start, &iv.end))
            break;
    }
    return 0;
}

const char *const weir_interval_var_names[] = {
    "ds", "ds_nodash", "ts", "ts_nodash", "data_interval_start", "data_interval_end",
    "data_interval_start_utc", "data_interval_end_utc", NULL,
};

void weir_schedule_vars(const weir_schedule *s, const weir_interval *iv, weir_interval_vars *out)
{
    const weir_tz *tz = zone(s);
    weir_date_format(weir_schedule_ds(s, iv), out->ds);
    size_t k = 0;
    for (const char *p = out->ds; *p; p++)
        if (*p != '-')
            out->ds_nodash[k++] = *p;
    out->ds_nodash[k] = '\0';
    weir_tz_format_iso(tz, iv->start, out->ts);
    memcpy(out->data_interval_start, out->ts, sizeof(out->ts));
    weir_tz_format_iso(tz, iv->end, out->data_interval_end);
    weir_date d;
    int h, mi, sec, us;
    weir_ts_to_parts(weir_tz_to_local(tz, iv->start), &d, &h, &mi, &sec, &us);
    snprintf(out->ts_nodash, sizeof(out->ts_nodash), "%sT%02d%02d%02d", out->ds_nodash, h, mi,
             sec);
    weir_ts_format(iv->start, out->data_interval_start_utc);
    weir_ts_format(iv->end, out->data_interval_end_utc);
}

const char *weir_interval_var(const weir_interval_vars *v, const char *name)
{
    const char *values[] = {
        v->ds, v->ds_nodash, v->ts, v->ts_nodash, v->data_interval_start, v->data_interval_end,
        v->data_interval_start_utc, v->data_interval_end_utc,
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(values); i++)
        if (!strcmp(name, weir_interval_var_names[i]))
            return values[i];
    return NULL;
}
