/*
 * cron.c: cron expression parsing and fire-time search (see cron.h).
 *
 * A parsed expression is five bit sets. The search works on civil local
 * time, one period of constant UTC offset at a time (weir_tz_period_at):
 * within a period the mapping local <-> UTC is a plain shift, so the first
 * matching local minute in the period's local range gives the first fire
 * time in it. The DST rules of cron.h add two twists at a period's start:
 * after a backward jump the local times already lived in the previous period
 * are skipped (fire once, at the first occurrence), and after a forward jump
 * the local times of the gap are read with the previous offset (they fire
 * shifted forward by the gap). Schedules that run every hour get neither.
 */
#include "core/compat.h"

#include "core/str.h"
#include "orchestrate/cron.h"

#define MINUTE_US (60 * WEIR_USEC_PER_SEC)
#define HOUR_US (60 * MINUTE_US)
#define ALL_HOURS UINT32_C(0xFFFFFF)
#define ALL_DAYS UINT32_C(0xFFFFFFFE)
#define ALL_WEEKDAYS 0x7F

/* Local times searched: 0001-01-01 .. 9999-12-31, as weir_ts. */
#define LOCAL_MIN (INT64_C(-719162) * WEIR_USEC_PER_DAY)
#define LOCAL_MAX (INT64_C(2932897) * WEIR_USEC_PER_DAY - 1)

/* --- parsing ---------------------------------------------------------- */

typedef struct field_spec {
    const char *name;
    int min, max;
    const char *const *names; /* names[i] is value min + i, or NULL */
    const char *expected;
} field_spec;

static const char *const month_names[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", NULL };
static const char *const day_names[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL };

static const field_spec fields[5] = {
    { "minute", 0, 59, NULL, "0-59" },
    { "hour", 0, 23, NULL, "0-23" },
    { "day-of-month", 1, 31, NULL, "1-31" },
    { "month", 1, 12, month_names, "1-12 or JAN-DEC" },
    { "day-of-week", 0, 7, day_names, "0-7 or SUN-SAT" },
};

static const struct {
    const char *name, *expr;
} macros[] = {
    { "@yearly", "0 0 1 1 *" },   { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
    { "@weekly", "0 0 * * 0" },   { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
};

static int is_blank(int c) { return c == ' ' || c == '\t'; }

static int fail(weir_error *err, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(weir_error *err, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    weir_error_vset(err, WEIR_EINVALID, fmt, ap);
    va_end(ap);
    if (err)
        err->col = (unsigned)col;
    return WEIR_EINVALID;
}

/* Reads one value (a number or a name) of a token [s, s + n) at column col. */
static int parse_value(const field_spec *f, const char *s, size_t n, size_t col, int *out,
                       weir_error *err)
{
    if (n == 0)
        return fail(err, col, "missing value in %s (expected %s)", f->name, f->expected);
    if (isdigit((unsigned char)s[0])) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)s[i]) || v > 1000)
                goto bad;
            v = v * 10 + (s[i] - '0');
        }
        if (v < f->min || v > f->max)
            goto bad;
        *out = v;
        return 0;
    }
    if (f->names && n == 3) {
        for (int i = 0; f->names[i]; i++)
            if (!strncasecmp(s, f->names[i], 3)) {
                *out = f->min + i;
                return 0;
            }
    }
bad:
    return fail(err, col, "invalid %s '%.*s' (expected %s)", f->name, (int)n, s, f->expected);
}

static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && isalnum((unsigned char)s[i]))
        i++;
    return i;
}

/*
 * Parses one field [s, s + n), starting at column col, into the bit set out;
 * *star tells whether one of its items is a plain '*' (no step).
 */
static int parse_field(const field_spec *f, const char *s, size_t n, size_t col, uint64_t *out,
                       int *star, weir_error *err)
{
    uint64_t bits = 0;
    size_t i = 0;
    *star = 0;
    for (;;) {
        size_t item = i;
        int lo, hi, step = 1, single = 0;
        if (i < n && s[i] == '*') {
            if (i + 1 == n || s[i + 1] == ',')
                *star = 1;
            lo = f->min, hi = f->max;
            if (f->max == 7) /* '*' in day-of-week is 0-6; 7 is Sunday again */
                hi = 6;
            i++;
        } else {
            size_t t = token_len(s + i, n - i);
            if (parse_value(f, s + i, t, col + i, &lo, err))
                return WEIR_EINVALID;
            i += t;
            hi = lo;
            single = 1;
            if (i < n && s[i] == '-') {
                i++;
                t = token_len(s + i, n - i);
                if (parse_value(f, s + i, t, col + i, &hi, err))
                    return WEIR_EINVALID;
                i += t;
                single = 0;
                if (lo > hi)
                    return fail(err, col + item, "invalid %s range '%.*s' (%d is after %d)",
                                f->name, (int)(i - item), s + item, lo, hi);
            }
        }
        if (i < n && s[i] == '/') {
            size_t at = ++i;
            size_t t = 0;
            while (i + t < n && isdigit((unsigned char)s[i + t]))
                t++;
            int span = f->max == 7 ? 7 : f->max - f->min + 1;
            long v = 0;
            for (size_t k = 0; k < t && v <= 1000; k++)
                v = v * 10 + (s[i + k] - '0');
            if (t == 0 || v < 1 || v > span || (i + t < n && s[i + t] != ',')) {
                size_t bad = t;
                while (i + bad < n && s[i + bad] != ',')
                    bad++;
                return fail(err, col + at, "invalid step '%.*s' in %s (expected 1-%d)", (int)bad,
                            s + i, f->name, span);
            }
            step = (int)v;
            i += t;
            if (single) /* 'N/STEP' is 'N-max/STEP' (day-of-week: max 6, or 7 from 7) */
                hi = f->max == 7 && lo < 7 ? 6 : f->max;
        }
        if (i < n && s[i] != ',')
            return fail(err, col + i, "unexpected '%c' in %s", s[i], f->name);
        for (int v = lo; v <= hi; v += step)
            bits |= UINT64_C(1) << v;
        if (i >= n)
            break;
        i++; /* the comma */
        if (i >= n || s[i] == ',')
            return fail(err, col + i, "missing value in %s (expected %s)", f->name,
                        f->expected);
    }
    *out = bits;
    return 0;
}

static int parse_fields(const char *expr, weir_cron *out, weir_error *err)
{
    const char *start[5];
    size_t len[5], nf = 0, extra_col = 0;
    const char *p = expr;
    while (*p) {
        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && !is_blank(*q))
            q++;
        if (nf < 5) {
            start[nf] = p;
            len[nf] = (size_t)(q - p);
        } else if (nf == 5) {
            extra_col = (size_t)(p - expr) + 1;
        }
        nf++;
        p = q;
    }
    if (nf > 5)
        return fail(err, extra_col,
                    "expected 5 fields (minute hour day-of-month month day-of-week), got %zu", nf);
    if (nf == 0)
        return fail(err, 1, "empty cron expression");
    if (nf < 5)
        return fail(err, (size_t)(p - expr) + 1,
                    "expected 5 fields (minute hour day-of-month month day-of-week), got %zu", nf);
    uint64_t bits[5];
    int star[5];
    for (size_t i = 0; i < 5; i++)
        if (parse_field(&fields[i], start[i], len[i], (size_t)(start[i] - expr) + 1,
                        &bits[i], &star[i], err))
            return WEIR_EINVALID;
    memset(out, 0, sizeof(*out));
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->days = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->weekdays = (uint8_t)((bits[4] | bits[4] >> 7) & ALL_WEEKDAYS);
    /* croniter's rule (Airflow's): restricted unless one item is a plain '*' */
    out->dom_restricted = !star[2];
    out->dow_restricted = !star[4];
    if (!out->dow_restricted || !out->dom_restricted) {
        /* both must match: refuse a day-of-month that no chosen month has */
        int possible = 0;
        for (int m = 1; m <= 12 && !possible; m++)
            if (out->months >> m & 1)
                possible = (out->days & ((UINT32_C(2) << weir_days_in_month(2024, m)) - 2)) != 0;
        if (!possible)
            return fail(err, (size_t)(start[2] - expr) + 1,
                        "day-of-month '%.*s' never occurs in month '%.*s'", (int)len[2], start[2],
                        (int)len[3], start[3]);
    }
    return 0;
}

int weir_cron_parse(const char *expr, weir_cron *out, weir_error *err)
{
    size_t skip = 0;
    while (is_blank(expr[skip]))
        skip++;
    if (expr[skip] == '@') {
        size_t n = 0;
        while (expr[skip + n] && !is_blank(expr[skip + n]))
            n++;
        size_t rest = skip + n;
        while (is_blank(expr[rest]))
            rest++;
        if (expr[rest])
            return fail(err, rest + 1, "unexpected '%s' after '%.*s'", expr + rest, (int)n,
                        expr + skip);
        for (size_t i = 0; i < WEIR_ARRAY_SIZE(macros); i++)
            if (strlen(macros[i].name) == n && !strncasecmp(expr + skip, macros[i].name, n))
                return parse_fields(macros[i].expr, out, err);
        return fail(err, skip + 1,
                    "unknown schedule '%.*s' (expected @hourly, @daily, @midnight, @weekly, "
                    "@monthly, @yearly or @annually)",
                    (int)n, expr + skip);
    }
    return parse_fields(expr, out, err);
}

/* --- matching and searching local time -------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int day_matches(const weir_cron *c, int y, int m, int d)
{
    weir_date dn;
    weir_date_from_ymd(y, m, d, &dn);
    int dom = c->days >> d & 1, dow = c->weekdays >> (weir_date_weekday(dn) % 7) & 1;
    if (c->dom_restricted && c->dow_restricted)
        return dom || dow;
    return dom && dow;
}

int weir_cron_matches(const weir_cron *c, weir_ts local)
{
    weir_date d;
    int h, mi, s, us, y, mo, dd;
    if (local < LOCAL_MIN || local > LOCAL_MAX)
        return 0;
    weir_ts_to_parts(local, &d, &h, &mi, &s, &us);
    weir_date_to_ymd(d, &y, &mo, &dd);
    return (c->months >> mo & 1) && day_matches(c, y, mo, dd) && (c->hours >> h & 1) &&
           (c->minutes >> mi & 1);
}

static weir_ts local_ts(int y, int mo, int d, int h, int mi)
{
    weir_date dn;
    weir_date_from_ymd(y, mo, d, &dn);
    return weir_ts_from_parts(dn, h, mi, 0, 0);
}

/* First set bit >= from in bits (up to bit max), or -1. */
static int bit_at_or_after(uint64_t bits, int from, int max)
{
    for (int i = from; i <= max; i++)
        if (bits >> i & 1)
            return i;
    return -1;
}

static int bit_at_or_before(uint64_t bits, int from, int min)
{
    for (int i = from; i >= min; i--)
        if (bits >> i & 1)
            return i;
    return -1;
}

/* The first matching local minute in [lo, hi] (hi inclusive), or -1. */
static int local_next(const weir_cron *c, weir_ts lo, weir_ts hi, weir_ts *out)
{
    if (hi > LOCAL_MAX)
        hi = LOCAL_MAX;
    if (lo < LOCAL_MIN)
        lo = LOCAL_MIN;
    if (lo > hi)
        return -1;
    weir_ts x = floor_div(lo + MINUTE_US - 1, MINUTE_US) * MINUTE_US;
    weir_date dn;
    int y, mo, d, h, mi, s, us;
    weir_ts_to_parts(x, &dn, &h, &mi, &s, &us);
    weir_date_to_ymd(dn, &y, &mo, &d);
    for (;;) {
        if (y > 9999 || local_ts(y, mo, d, 0, 0) > hi)
            return -1;
        if (!(c->months >> mo & 1)) {
            if (++mo > 12)
                mo = 1, y++;
            d = 1, h = 0, mi = 0;
            continue;
        }
        if (!day_matches(c, y, mo, d)) {
            if (++d > weir_days_in_month(y, mo)) {
                d = 1;
                if (++mo > 12)
                    mo = 1, y++;
            }
            h = 0, mi = 0;
            continue;
        }
        int nh = bit_at_or_after(c->hours, h, 23);
        int nm = nh < 0 ? -1 : bit_at_or_after(c->minutes, nh == h ? mi : 0, 59);
        if (nh >= 0 && nm < 0) {
            nh = bit_at_or_after(c->hours, nh + 1, 23);
            nm = nh < 0 ? -1 : bit_at_or_after(c->minutes, 0, 59);
        }
        if (nh < 0) {
            if (++d > weir_days_in_month(y, mo)) {
                d = 1;
                if (++mo > 12)
                    mo = 1, y++;
            }
            h = 0, mi = 0;
            continue;
        }
        weir_ts t = local_ts(y, mo, d, nh, nm);
        if (t > hi)
            return -1;
        *out = t;
        return 0;
    }
}

/* The last matching local minute in [lo, hi], or -1. */
static int local_prev(const weir_cron *c, weir_ts lo, weir_ts hi, weir_ts *out)
{
    if (hi > LOCAL_MAX)
        hi = LOCAL_MAX;
    if (lo < LOCAL_MIN)
        lo = LOCAL_MIN;
    if (lo > hi)
        return -1;
    weir_ts x = floor_div(hi, MINUTE_US) * MINUTE_US;
    weir_date dn;
    int y, mo, d, h, mi, s, us;
    weir_ts_to_parts(x, &dn, &h, &mi, &s, &us);
    weir_date_to_ymd(dn, &y, &mo, &d);
    for (;;) {
        if (y < 1 || local_ts(y, mo, d, 23, 59) < lo)
            return -1;
        if (!(c->months >> mo & 1)) {
            if (--mo < 1)
                mo = 12, y--;
            if (y < 1)
                return -1;
            d = weir_days_in_month(y, mo), h = 23, mi = 59;
            continue;
        }
        if (!day_matches(c, y, mo, d)) {
            if (--d < 1) {
                if (--mo < 1)
                    mo = 12, y--;
                if (y < 1)
                    return -1;
                d = weir_days_in_month(y, mo);
            }
            h = 23, mi = 59;
            continue;
        }
        int ph = bit_at_or_before(c->hours, h, 0);
        int pm = ph < 0 ? -1 : bit_at_or_before(c->minutes, ph == h ? mi : 59, 0);
        if (ph >= 0 && pm < 0) {
            ph = bit_at_or_before(c->hours, ph - 1, 0);
            pm = ph < 0 ? -1 : bit_at_or_before(c->minutes, 59, 0);
        }
        if (ph < 0) {
            if (--d < 1) {
                if (--mo < 1)
                    mo = 12, y--;
                if (y < 1)
                    return -1;
                d = weir_days_in_month(y, mo);
            }
            h = 23, mi = 59;
            continue;
        }
        weir_ts t = local_ts(y, mo, d, ph, pm);
        if (t < lo)
            return -1;
        *out = t;
        return 0;
    }
}

/* --- fire times in a zone --------------------------------------------- */

/* Instants searched: a day's margin inside the local range, for offsets. */
#define UTC_MIN (LOCAL_MIN + WEIR_USEC_PER_DAY)
#define UTC_MAX (LOCAL_MAX - WEIR_USEC_PER_DAY)

int weir_cron_next(const weir_cron *c, const weir_tz *tz, weir_ts after, weir_ts *out)
{
    int every_hour = c->hours == ALL_HOURS;
    if (after >= UTC_MAX)
        return WEIR_ENOTFOUND;
    weir_ts u = after < UTC_MIN ? UTC_MIN : after + 1;
    for (;;) {
        weir_tz_period p;
        weir_tz_period_at(tz, u, &p);
        weir_ts o = (weir_ts)p.offset * WEIR_USEC_PER_SEC;
        weir_ts op = (weir_ts)p.prev_offset * WEIR_USEC_PER_SEC;
        int bounded = p.start != INT64_MIN;
        weir_ts end = p.end > UTC_MAX ? UTC_MAX : p.end;
        weir_ts best = INT64_MAX, l;
        /* regular: local times of this period (after a backward jump, only
         * those not already lived before it, unless every hour fires) */
        weir_ts lo = u + o;
        if (!every_hour && bounded && op > o && lo < p.start + op)
            lo = p.start + op;
        if (local_next(c, lo, end - 1 + o, &l) == 0)
            best = l - o;
        /* a forward jump: the gap's local times, read with the old offset */
        if (!every_hour && bounded && op < o) {
            weir_ts glo = WEIR_MAX(u + op, p.start + op), ghi = p.start + o - 1;
            if (local_next(c, glo, ghi, &l) == 0 && l - op < best)
                best = l - op;
        }
        if (best != INT64_MAX) {
            *out = best;
            return 0;
        }
        if (end >= UTC_MAX)
            return WEIR_ENOTFOUND;
        u = end;
    }
}

int weir_cron_prev(const weir_cron *c, const weir_tz *tz, weir_ts at, weir_ts *out)
{
    int every_hour = c->hours == ALL_HOURS;
    if (at < UTC_MIN)
        return WEIR_ENOTFOUND;
    weir_ts u = at > UTC_MAX ? UTC_MAX : at;
    for (;;) {
        weir_tz_period p;
        weir_tz_period_at(tz, u, &p);
        weir_ts o = (weir_ts)p.offset * WEIR_USEC_PER_SEC;
        weir_ts op = (weir_ts)p.prev_offset * WEIR_USEC_PER_SEC;
        int bounded = p.start != INT64_MIN && p.start > UTC_MIN;
        weir_ts start = bounded ? p.start : UTC_MIN;
        weir_ts best = INT64_MIN, l;
        weir_ts lo = start + o;
        if (!every_hour && bounded && op > o)
            lo = start + op;
        if (local_prev(c, lo, u + o, &l) == 0)
            best = l - o;
        if (!every_hour && bounded && op < o) {
            weir_ts glo = start + op, ghi = WEIR_MIN(u + op, start + o - 1);
            if (local_prev(c, glo, ghi, &l) == 0 && l - op > best)
                best = l - op;
        }
        if (best != INT64_MIN) {
            *out = best;
            return 0;
        }
        if (!bounded)
            return WEIR_ENOTFOUND;
        u = start - 1;
    }
}
