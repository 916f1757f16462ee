/*
 * date.c: civil dates and timestamps (see date.h).
 *
 * Day numbers use Howard Hinnant's days-from-civil algorithm: shift the year
 * to start in March so the leap day is the last day of the year, then count
 * 400-year eras of 146097 days.
 */
#include "core/compat.h"

#include "core/date.h"
#include "core/error.h"

int weir_is_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int weir_days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && weir_is_leap_year(y) ? 29 : days[m - 1];
}

int64_t weir_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void weir_date_to_ymd(weir_date dn, int *year, int *month, int *day)
{
    int64_t z = (int64_t)dn + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(y + (m <= 2));
    *month = m;
    *day = d;
}

int weir_date_from_ymd(int y, int m, int d, weir_date *out)
{
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > weir_days_in_month(y, m))
        return WEIR_EINVALID;
    *out = (weir_date)weir_days_from_civil(y, m, d);
    return 0;
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int weir_date_parse_n(const char *s, size_t n, weir_date *out)
{
    int y, m, d;
    if (n != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
        digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
        return WEIR_EINVALID;
    return weir_date_from_ymd(y, m, d, out);
}

int weir_date_parse(const char *s, weir_date *out)
{
    return weir_date_parse_n(s, strlen(s), out);
}

static void put_digits(char *out, int v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

char *weir_date_format(weir_date dn, char *out)
{
    int y, m, d;
    weir_date_to_ymd(dn, &y, &m, &d);
    if (y < 0 || y > 9999)
        y = 0; /* outside what ISO 8601's four digits can say */
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
    return out;
}

int weir_date_weekday(weir_date d)
{
    /* 1970-01-01 was a Thursday (4) */
    int64_t w = ((int64_t)d + 3) % 7;
    if (w < 0)
        w += 7;
    return (int)w + 1;
}

int weir_date_yearday(weir_date dn)
{
    int y, m, d;
    weir_date_to_ymd(dn, &y, &m, &d);
    return (int)(dn - weir_days_from_civil(y, 1, 1)) + 1;
}

weir_date weir_date_add_months(weir_date dn, int months)
{
    int y, m, d;
    weir_date_to_ymd(dn, &y, &m, &d);
    int64_t total = (int64_t)y * 12 + (m - 1) + months;
    int64_t ny = total >= 0 ? total / 12 : (total - 11) / 12;
    int nm = (int)(total - ny * 12) + 1;
    int dim = weir_days_in_month((int)ny, nm);
    if (d > dim)
        d = dim;
    return (weir_date)weir_days_from_civil(ny, nm, d);
}

weir_date weir_date_add_years(weir_date d, int years)
{
    return weir_date_add_months(d, years * 12);
}

weir_date weir_date_month_start(weir_date dn)
{
    int y, m, d;
    weir_date_to_ymd(dn, &y, &m, &d);
    return (weir_date)weir_days_from_civil(y, m, 1);
}

weir_date weir_date_today(void)
{
    return weir_ts_date(weir_ts_now());
}

int64_t weir_date_range_count(const weir_date_range *r)
{
    if (r->step <= 0 || r->from > r->to)
        return 0;
    return ((int64_t)r->to - r->from) / r->step + 1;
}

int weir_date_range_parse(const char *s, weir_date_range *out)
{
    const char *dots = strstr(s, "..");
    out->step = 1;
    if (!dots) {
        if (weir_date_parse(s, &out->from))
            return WEIR_EINVALID;
        out->to = out->from;
        return 0;
    }
    if (weir_date_parse_n(s, (size_t)(dots - s), &out->from) ||
        weir_date_parse(dots + 2, &out->to) || out->from > out->to)
        return WEIR_EINVALID;
    return 0;
}

/* --- timestamps ------------------------------------------------------- */

weir_ts weir_ts_from_date(weir_date d)
{
    return (weir_ts)d * WEIR_USEC_PER_DAY;
}

weir_date weir_ts_date(weir_ts t)
{
    int64_t d = t / WEIR_USEC_PER_DAY;
    if (t % WEIR_USEC_PER_DAY < 0)
        d--;
    return (weir_date)d;
}

weir_ts weir_ts_from_parts(weir_date d, int hour, int min, int sec, int usec)
{
    return weir_ts_from_date(d) +
           ((int64_t)hour * 3600 + (int64_t)min * 60 + sec) * WEIR_USEC_PER_SEC + usec;
}

void weir_ts_to_parts(weir_ts t, weir_date *d, int *hour, int *min, int *sec, int *usec)
{
    weir_date day = weir_ts_date(t);
    int64_t rest = t - weir_ts_from_date(day);
    *d = day;
    *usec = (int)(rest % WEIR_USEC_PER_SEC);
    rest /= WEIR_USEC_PER_SEC;
    *sec = (int)(rest % 60);
    *min = (int)(rest / 60 % 60);
    *hour = (int)(rest / 3600);
}

int weir_ts_parse(const char *s, weir_ts *out)
{
    size_t n = strlen(s);
    weir_date d;
    int h = 0, mi = 0, se = 0, us = 0;
    if (n < 10 || weir_date_parse_n(s, 10, &d))
        return WEIR_EINVALID;
    const char *p = s + 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
            return WEIR_EINVALID;
        p += 5;
        if (*p == ':') {
            if (digits(p + 1, 2, &se))
                return WEIR_EINVALID;
            p += 3;
            if (*p == '.' || *p == ',') {
                p++;
                int nd = 0;
                while (isdigit((unsigned char)*p)) {
                    if (nd < 6)
                        us = us * 10 + (*p - '0');
                    nd++, p++;
                }
                if (nd == 0)
                    return WEIR_EINVALID;
                for (; nd < 6; nd++)
                    us *= 10;
            }
        }
        if (h > 23 || mi > 59 || se > 60)
            return WEIR_EINVALID;
        if (se == 60)
            se = 59; /* a leap second reads as the second before it */
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om = 0, sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(p, 2, &oh))
            return WEIR_EINVALID;
        p += 2;
        if (*p == ':')
            p++;
        if (*p) {
            if (digits(p, 2, &om))
                return WEIR_EINVALID;
            p += 2;
        }
        if (oh > 23 || om > 59)
            return WEIR_EINVALID;
        offset = sign * ((int64_t)oh * 3600 + om * 60) * WEIR_USEC_PER_SEC;
    }
    if (*p)
        return WEIR_EINVALID;
    *out = weir_ts_from_parts(d, h, mi, se, us) - offset;
    return 0;
}

/* Writes "YYYY-MM-DDTHH:MM:SS" and returns the microseconds part. */
static int ts_base(weir_ts t, char *out)
{
    weir_date d;
    int h, mi, se, us;
    weir_ts_to_parts(t, &d, &h, &mi, &se, &us);
    weir_date_format(d, out);
    out[10] = 'T';
    put_digits(out + 11, h, 2);
    out[13] = ':';
    put_digits(out + 14, mi, 2);
    out[16] = ':';
    put_digits(out + 17, se, 2);
    return us;
}

char *weir_ts_format(weir_ts t, char *out)
{
    int us = ts_base(t, out);
    char *p = out + 19;
    if (us) {
        *p++ = '.';
        put_digits(p, us, 6);
        p += 6;
    }
    p[0] = 'Z';
    p[1] = '\0';
    return out;
}

char *weir_ts_format_ms(weir_ts t, char *out)
{
    int us = ts_base(t, out);
    out[19] = '.';
    put_digits(out + 20, us / 1000, 3);
    out[23] = 'Z';
    out[24] = '\0';
    return out;
}

weir_ts weir_ts_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (weir_ts)ts.tv_sec * WEIR_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int64_t weir_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
