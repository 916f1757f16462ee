/*
 * datetime.c: the basics of Python's datetime module for templates, as dbt
 * exposes it (modules.datetime): datetime, date and timedelta values,
 * now/utcnow/today, strptime/fromisoformat, strftime/isoformat, replace,
 * weekday, and the arithmetic dbt macros use (a date plus or minus a
 * timedelta, the difference of two dates, comparisons).
 *
 * Values are host objects (value.h): their attributes are Python's (year,
 * month, ..., days, seconds), they print as Python prints them, and two
 * hidden entries carry the type and the instant as a count of
 * microseconds (days since 0001-01-01 for dates and datetimes, a signed
 * span for timedeltas). eval.c asks this file about operators and
 * comparisons of such objects and builtins.c lists their methods. Times
 * are naive, as dbt's macros use them: now() is local time, utcnow() UTC.
 */
#include "core/compat.h"

#include "core/alloc.h"
#include "core/date.h"
#include "template/tpl_int.h"
#include "template/value_int.h"

#define TYPE_KEY "__weir_type__"
#define US_KEY "__weir_us__"

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)

/* --- the calendar (proleptic Gregorian, as Python's) --------------------------- */

/* Python counts days from 0001-01-01; core/date counts them from 1970-01-01. */
#define DAYS_0001_TO_1970 INT64_C(719162)

/* Days from 0001-01-01 (day 0) to y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    return weir_days_from_civil(y, m, d) + DAYS_0001_TO_1970;
}

/* The span of instants Python allows: 0001-01-01 to 9999-12-31 23:59:59.999999. */
static const int64_t MAX_US = INT64_C(3652059) * INT64_C(86400) * INT64_C(1000000) - 1;

/* --- building values ------------------------------------------------------------ */

enum { DT_NONE, DT_DATETIME, DT_DATE, DT_TIMEDELTA };

typedef struct parts {
    int year, month, day, hour, minute, second, micro;
} parts;

static void split(int64_t us, parts *p)
{
    int64_t days = us / US_PER_DAY, rest = us % US_PER_DAY;
    weir_date_to_ymd((weir_date)(days - DAYS_0001_TO_1970), &p->year, &p->month, &p->day);
    p->hour = (int)(rest / (3600 * US_PER_SEC));
    p->minute = (int)(rest / (60 * US_PER_SEC) % 60);
    p->second = (int)(rest / US_PER_SEC % 60);
    p->micro = (int)(rest % US_PER_SEC);
}

static int range_error(weir_error *err)
{
    return weir_error_set(err, WEIR_EINVALID, "date value out of range");
}

static weir_tvalue make_dt(int type, int64_t us)
{
    parts p;
    char text[64];
    split(us, &p);
    if (type == DT_DATE)
        snprintf(text, sizeof(text), "%04d-%02d-%02d", p.year, p.month, p.day);
    else if (p.micro)
        snprintf(text, sizeof(text), "%04d-%02d-%02d %02d:%02d:%02d.%06d", p.year, p.month, p.day,
                 p.hour, p.minute, p.second, p.micro);
    else
        snprintf(text, sizeof(text), "%04d-%02d-%02d %02d:%02d:%02d", p.year, p.month, p.day,
                 p.hour, p.minute, p.second);
    weir_tvalue v = weir_tvalue_object(text);
    weir_tvalue_dict_set(&v, "year", weir_tvalue_int(p.year));
    weir_tvalue_dict_set(&v, "month", weir_tvalue_int(p.month));
    weir_tvalue_dict_set(&v, "day", weir_tvalue_int(p.day));
    if (type == DT_DATETIME) {
        weir_tvalue_dict_set(&v, "hour", weir_tvalue_int(p.hour));
        weir_tvalue_dict_set(&v, "minute", weir_tvalue_int(p.minute));
        weir_tvalue_dict_set(&v, "second", weir_tvalue_int(p.second));
        weir_tvalue_dict_set(&v, "microsecond", weir_tvalue_int(p.micro));
        weir_tvalue_dict_set(&v, "tzinfo", weir_tvalue_none());
    }
    weir_tvalue_dict_set(&v, TYPE_KEY, weir_tvalue_int(type));
    weir_tvalue_dict_set(&v, US_KEY, weir_tvalue_int(us));
    return v;
}

/* Python's str(timedelta): "-1 day, 23:00:00", "2 days, 0:00:01.500000". */
static weir_tvalue make_delta(int64_t us)
{
    int64_t days = us / US_PER_DAY, rest = us % US_PER_DAY;
    if (rest < 0) {
        rest += US_PER_DAY;
        days--;
    }
    weir_buf b = WEIR_BUF_INIT;
    if (days)
        weir_buf_addf(&b, "%" PRId64 " day%s, ", days, days == 1 || days == -1 ? "" : "s");
    weir_buf_addf(&b, "%d:%02d:%02d", (int)(rest / (3600 * US_PER_SEC)),
                  (int)(rest / (60 * US_PER_SEC) % 60), (int)(rest / US_PER_SEC % 60));
    if (rest % US_PER_SEC)
        weir_buf_addf(&b, ".%06d", (int)(rest % US_PER_SEC));
    weir_tvalue v = weir_tvalue_object(b.ptr);
    weir_buf_release(&b);
    weir_tvalue_dict_set(&v, "days", weir_tvalue_int(days));
    weir_tvalue_dict_set(&v, "seconds", weir_tvalue_int(rest / US_PER_SEC));
    weir_tvalue_dict_set(&v, "microseconds", weir_tvalue_int(rest % US_PER_SEC));
    weir_tvalue_dict_set(&v, TYPE_KEY, weir_tvalue_int(DT_TIMEDELTA));
    weir_tvalue_dict_set(&v, US_KEY, weir_tvalue_int(us));
    return v;
}

int weir_tpl__dt_type(const weir_tvalue *v)
{
    if (!weir_tvalue_is_object(v))
        return DT_NONE;
    const weir_tvalue *t = weir_tvalue_dict_get(v, TYPE_KEY);
    return t && t->kind == WEIR_TVALUE_INT ? (int)t->u.i : DT_NONE;
}

static int64_t us_of(const weir_tvalue *v)
{
    const weir_tvalue *u = weir_tvalue_dict_get(v, US_KEY);
    return u && u->kind == WEIR_TVALUE_INT ? u->u.i : 0;
}

/* --- arguments -------------------------------------------------------------------- */

/* An integer argument (bool counts, as in Python); 1 when present, -1 when not an int. */
static int int_arg(const weir_args *a, size_t pos, const char *name, int64_t *out)
{
    const weir_tvalue *v;
    if (!weir_args_get(a, pos, name, &v))
        return 0;
    if (v->kind == WEIR_TVALUE_INT)
        *out = v->u.i;
    else if (v->kind == WEIR_TVALUE_BOOL)
        *out = v->u.b;
    else
        return -1;
    return 1;
}

static int check_fields(const parts *p, weir_error *err)
{
    if (p->year < 1 || p->year > 9999)
        return weir_error_set(err, WEIR_EINVALID, "year %d is out of range", p->year);
    if (p->month < 1 || p->month > 12)
        return weir_error_set(err, WEIR_EINVALID, "month must be in 1..12");
    if (p->day < 1 || p->day > weir_days_in_month(p->year, p->month))
        return weir_error_set(err, WEIR_EINVALID, "day is out of range for month");
    if (p->hour < 0 || p->hour > 23)
        return weir_error_set(err, WEIR_EINVALID, "hour must be in 0..23");
    if (p->minute < 0 || p->minute > 59)
        return weir_error_set(err, WEIR_EINVALID, "minute must be in 0..59");
    if (p->second < 0 || p->second > 59)
        return weir_error_set(err, WEIR_EINVALID, "second must be in 0..59");
    if (p->micro < 0 || p->micro > 999999)
        return weir_error_set(err, WEIR_EINVALID, "microsecond must be in 0..999999");
    return 0;
}

static int64_t join(const parts *p)
{
    return days_from_civil(p->year, p->month, p->day) * US_PER_DAY +
           ((int64_t)p->hour * 3600 + p->minute * 60 + p->second) * US_PER_SEC + p->micro;
}

/* Reads the fields named in names (positionally too, from first_pos) into p. */
static int read_fields(const weir_args *a, size_t first_pos, int n, parts *p, const char *what,
                       weir_error *err)
{
    static const char *const names[] = { "year", "month", "day", "hour", "minute", "second",
                                         "microsecond" };
    int *slots[] = { &p->year, &p->month, &p->day, &p->hour, &p->minute, &p->second, &p->micro };
    if (a->npos > first_pos + (size_t)n)
        return weir_error_set(err, WEIR_EINVALID, "%s takes at most %d arguments", what, n);
    for (int i = 0; i < n; i++) {
        int64_t v;
        int got = int_arg(a, first_pos + (size_t)i, names[i], &v);
        if (got < 0)
            return weir_error_set(err, WEIR_EINVALID, "%s: '%s' must be an integer", what, names[i]);
        if (got) {
            if (v < INT_MIN || v > INT_MAX)
                return weir_error_set(err, WEIR_EINVALID, "%s: '%s' is out of range", what, names[i]);
            *slots[i] = (int)v;
        }
    }
    return 0;
}

/* --- constructors ----------------------------------------------------------------- */

/* datetime(y, m, d, ...) and date(y, m, d): n_fields of year..microsecond. */
static int construct(const weir_args *a, int type, int n_fields, const char *what,
                     weir_tvalue *out, weir_error *err)
{
    parts p = { 0, 0, 0, 0, 0, 0, 0 };
    const weir_tvalue *v;
    int rc;
    for (int i = 0; i < 3; i++)
        if (!weir_args_get(a, (size_t)i, i == 0 ? "year" : i == 1 ? "month" : "day", &v))
            return weir_error_set(err, WEIR_EINVALID, "%s needs year, month and day", what);
    if ((rc = read_fields(a, 0, n_fields, &p, what, err)) || (rc = check_fields(&p, err)))
        return rc;
    *out = make_dt(type, join(&p));
    return 0;
}

static int f_datetime(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    return construct(a, DT_DATETIME, 7, "datetime()", out, err);
}

static int f_date(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    return construct(a, DT_DATE, 3, "date()", out, err);
}

static int f_timedelta(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    /* Python's positional order, and each unit in microseconds */
    static const char *const names[] = { "days", "seconds", "microseconds", "milliseconds",
                                         "minutes", "hours", "weeks" };
    static const double unit[] = { 86400e6, 1e6, 1, 1e3, 60e6, 3600e6, 604800e6 };
    double total = 0;
    if (a->npos > 7)
        return weir_error_set(err, WEIR_EINVALID, "timedelta() takes at most 7 arguments");
    for (size_t i = 0; i < 7; i++) {
        const weir_tvalue *v;
        if (!weir_args_get(a, i, names[i], &v))
            continue;
        double x;
        if (v->kind == WEIR_TVALUE_INT)
            x = (double)v->u.i;
        else if (v->kind == WEIR_TVALUE_FLOAT)
            x = v->u.f;
        else if (v->kind == WEIR_TVALUE_BOOL)
            x = v->u.b;
        else
            return weir_error_set(err, WEIR_EINVALID, "timedelta(): '%s' must be a number", names[i]);
        total += x * unit[i];
    }
    if (!(fabs(total) <= (double)MAX_US))
        return weir_error_set(err, WEIR_EINVALID, "timedelta is out of range");
    *out = make_delta((int64_t)llround(total));
    return 0;
}

static int64_t now_us(int utc)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t t = ts.tv_sec;
    if (utc)
        gmtime_r(&t, &tm);
    else
        localtime_r(&t, &tm);
    parts p = { tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec > 59 ? 59 : tm.tm_sec, (int)(ts.tv_nsec / 1000) };
    return join(&p);
}

static int f_now(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    if (a->npos || a->nkw)
        return weir_error_set(err, WEIR_EINVALID,
                              "now() takes no time zone here (weir's datetimes are naive)");
    *out = make_dt(DT_DATETIME, now_us(ud != NULL));
    return 0;
}

static int f_today(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    WEIR_UNUSED(a);
    WEIR_UNUSED(err);
    int64_t us = now_us(0);
    *out = make_dt(DT_DATE, us - us % US_PER_DAY);
    return 0;
}

/* Reads exactly n digits (or up to n when flexible) from *s. */
static int digits(const char **s, int n, int flexible, int *out)
{
    int v = 0, k = 0;
    while (k < n && isdigit((unsigned char)**s)) {
        v = v * 10 + (**s - '0');
        (*s)++;
        k++;
    }
    *out = v;
    return flexible ? k > 0 : k == n;
}

static const char *const month_abbr[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Python's strptime for the directives dbt projects use. */
static int parse_time(const char *s, const char *fmt, parts *p)
{
    *p = (parts){ 1900, 1, 1, 0, 0, 0, 0 };
    int pm = -1, hour12 = 0;
    while (*fmt) {
        if (*fmt != '%') {
            if (isspace((unsigned char)*fmt)) {
                while (isspace((unsigned char)*s))
                    s++;
                fmt++;
                continue;
            }
            if (*s++ != *fmt++)
                return -1;
            continue;
        }
        char c = fmt[1];
        fmt += 2;
        int v;
        switch (c) {
        case 'Y': if (!digits(&s, 4, 0, &p->year)) return -1; break;
        case 'y':
            if (!digits(&s, 2, 0, &v)) return -1;
            p->year = v < 69 ? 2000 + v : 1900 + v;
            break;
        case 'm': if (!digits(&s, 2, 1, &p->month)) return -1; break;
        case 'd': if (!digits(&s, 2, 1, &p->day)) return -1; break;
        case 'H': if (!digits(&s, 2, 1, &p->hour)) return -1; break;
        case 'I': if (!digits(&s, 2, 1, &p->hour)) return -1; hour12 = 1; break;
        case 'M': if (!digits(&s, 2, 1, &p->minute)) return -1; break;
        case 'S': if (!digits(&s, 2, 1, &p->second)) return -1; break;
        case 'f': {
            const char *start = s;
            if (!digits(&s, 6, 1, &v)) return -1;
            for (long k = s - start; k < 6; k++)
                v *= 10;
            p->micro = v;
            break;
        }
        case 'p':
            if (!strncasecmp(s, "AM", 2)) pm = 0;
            else if (!strncasecmp(s, "PM", 2)) pm = 1;
            else return -1;
            s += 2;
            break;
        case 'b': {
            int found = 0;
            for (int i = 0; i < 12 && !found; i++)
                if (!strncasecmp(s, month_abbr[i], 3)) {
                    p->month = i + 1;
                    s += 3;
                    found = 1;
                }
            if (!found) return -1;
            break;
        }
        case '%': if (*s++ != '%') return -1; break;
        default: return -2;
        }
    }
    if (hour12) {
        if (p->hour < 1 || p->hour > 12) return -1;
        p->hour = p->hour % 12 + (pm == 1 ? 12 : 0);
    }
    return *s ? -1 : 0;
}

static int f_strptime(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(ud);
    const weir_tvalue *s, *fmt;
    parts p;
    if (!weir_args_get(a, 0, "date_string", &s) || !weir_args_get(a, 1, "format", &fmt) ||
        s->kind != WEIR_TVALUE_STRING || fmt->kind != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "strptime() takes a string and a format");
    int rc = parse_time(weir_tvalue_str(s), weir_tvalue_str(fmt), &p);
    if (rc == -2)
        return weir_error_set(err, WEIR_EINVALID, "strptime(): unsupported directive in format '%s'",
                              weir_tvalue_str(fmt));
    if (rc || check_fields(&p, err)) {
        weir_error_clear(err);
        return weir_error_set(err, WEIR_EINVALID, "time data '%s' does not match format '%s'",
                              weir_tvalue_str(s), weir_tvalue_str(fmt));
    }
    *out = make_dt(DT_DATETIME, join(&p));
    return 0;
}

/* fromisoformat(): YYYY-MM-DD, then for datetimes [T or space]HH:MM[:SS[.ffffff]]. */
static int from_iso(void *ud, const weir_args *a, weir_tvalue *out, weir_error *err)
{
    int type = ud ? DT_DATE : DT_DATETIME;
    const weir_tvalue *s;
    if (!weir_args_get(a, 0, "date_string", &s) || s->kind != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "fromisoformat() takes a string");
    const char *t = weir_tvalue_str(s);
    parts p = { 0, 0, 0, 0, 0, 0, 0 };
    int ok = digits(&t, 4, 0, &p.year) && *t++ == '-' && digits(&t, 2, 0, &p.month) &&
             *t++ == '-' && digits(&t, 2, 0, &p.day);
    if (ok && type == DT_DATETIME && (*t == 'T' || *t == ' ')) {
        t++;
        ok = digits(&t, 2, 0, &p.hour) && *t++ == ':' && digits(&t, 2, 0, &p.minute);
        if (ok && *t == ':') {
            t++;
            ok = digits(&t, 2, 0, &p.second);
            if (ok && *t == '.') {
                const char *start = ++t;
                ok = digits(&t, 6, 1, &p.micro);
                for (long k = t - start; ok && k < 6; k++)
                    p.micro *= 10;
            }
        }
    }
    if (!ok || *t || check_fields(&p, err)) {
        weir_error_clear(err);
        return weir_error_set(err, WEIR_EINVALID, "invalid isoformat string: '%s'", weir_tvalue_str(s));
    }
    *out = make_dt(type, join(&p));
    return 0;
}

weir_tvalue weir_tpl__datetime_module(void)
{
    weir_tvalue mod = weir_tvalue_namespace();
    weir_tvalue dt = weir_tvalue_function("datetime", f_datetime, NULL);
    static int utc = 1, date_only = 1;
    weir_tvalue_func_set_attr(&dt, "now", weir_tvalue_function("now", f_now, NULL));
    weir_tvalue_func_set_attr(&dt, "utcnow", weir_tvalue_function("utcnow", f_now, &utc));
    weir_tvalue_func_set_attr(&dt, "strptime", weir_tvalue_function("strptime", f_strptime, NULL));
    weir_tvalue_func_set_attr(&dt, "fromisoformat",
                              weir_tvalue_function("fromisoformat", from_iso, NULL));
    weir_tvalue date = weir_tvalue_function("date", f_date, NULL);
    weir_tvalue_func_set_attr(&date, "today", weir_tvalue_function("today", f_today, NULL));
    weir_tvalue_func_set_attr(&date, "fromisoformat",
                              weir_tvalue_function("fromisoformat", from_iso, &date_only));
    weir_tvalue_dict_set(&mod, "datetime", dt);
    weir_tvalue_dict_set(&mod, "date", date);
    weir_tvalue_dict_set(&mod, "timedelta", weir_tvalue_function("timedelta", f_timedelta, NULL));
    return mod;
}

/* --- methods -------------------------------------------------------------------- */

static const char *const day_abbr[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const day_name[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday" };
static const char *const month_name[] = { "January", "February", "March", "April", "May",
                                          "June", "July", "August", "September", "October",
                                          "November", "December" };

/* Monday 0 .. Sunday 6; 0001-01-01 was a Monday. */
static int weekday_of(int64_t us)
{
    int64_t days = us / US_PER_DAY;
    return (int)(days % 7);
}

static int need_dt(const weir_tvalue *self, const char *method, weir_error *err)
{
    int t = weir_tpl__dt_type(self);
    if (t != DT_DATETIME && t != DT_DATE)
        return weir_error_set(err, WEIR_EINVALID, "%s() needs a date or datetime", method);
    return 0;
}

int weir_tpl__dt_strftime(render *r, const weir_tvalue *self, const weir_args *a,
                          weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    const weir_tvalue *fmt;
    int rc;
    if ((rc = need_dt(self, "strftime", err)))
        return rc;
    if (!weir_args_get(a, 0, "format", &fmt) || fmt->kind != WEIR_TVALUE_STRING)
        return weir_error_set(err, WEIR_EINVALID, "strftime() takes a format string");
    int64_t us = us_of(self);
    parts p;
    split(us, &p);
    int wd = weekday_of(us);
    int yday = (int)(days_from_civil(p.year, p.month, p.day) - days_from_civil(p.year, 1, 1)) + 1;
    weir_buf b = WEIR_BUF_INIT;
    for (const char *f = weir_tvalue_str(fmt); *f; f++) {
        if (*f != '%' || !f[1]) {
            weir_buf_addch(&b, *f);
            continue;
        }
        /* glibc's "%-d" (no padding) is common in macros too */
        int nopad = f[1] == '-' && f[2];
        char c = nopad ? f[2] : f[1];
        f += nopad ? 2 : 1;
        const char *num = nopad ? "%d" : "%02d";
        switch (c) {
        case 'Y': weir_buf_addf(&b, nopad ? "%d" : "%04d", p.year); break;
        case 'y': weir_buf_addf(&b, num, p.year % 100); break;
        case 'm': weir_buf_addf(&b, num, p.month); break;
        case 'd': weir_buf_addf(&b, num, p.day); break;
        case 'H': weir_buf_addf(&b, num, p.hour); break;
        case 'I': weir_buf_addf(&b, num, p.hour % 12 ? p.hour % 12 : 12); break;
        case 'M': weir_buf_addf(&b, num, p.minute); break;
        case 'S': weir_buf_addf(&b, num, p.second); break;
        case 'f': weir_buf_addf(&b, "%06d", p.micro); break;
        case 'p': weir_buf_adds(&b, p.hour < 12 ? "AM" : "PM"); break;
        case 'j': weir_buf_addf(&b, nopad ? "%d" : "%03d", yday); break;
        case 'a': weir_buf_adds(&b, day_abbr[wd]); break;
        case 'A': weir_buf_adds(&b, day_name[wd]); break;
        case 'b': weir_buf_adds(&b, month_abbr[p.month - 1]); break;
        case 'B': weir_buf_adds(&b, month_name[p.month - 1]); break;
        case 'w': weir_buf_addf(&b, "%d", (wd + 1) % 7); break;
        case 'u': weir_buf_addf(&b, "%d", wd + 1); break;
        case 'F': weir_buf_addf(&b, "%04d-%02d-%02d", p.year, p.month, p.day); break;
        case 'T': weir_buf_addf(&b, "%02d:%02d:%02d", p.hour, p.minute, p.second); break;
        case 'z': case 'Z': break; /* naive: empty, as Python prints them */
        case '%': weir_buf_addch(&b, '%'); break;
        default:
            weir_buf_addch(&b, '%');
            if (nopad)
                weir_buf_addch(&b, '-');
            weir_buf_addch(&b, c);
        }
    }
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

int weir_tpl__dt_isoformat(render *r, const weir_tvalue *self, const weir_args *a,
                           weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    const weir_tvalue *sep;
    int rc;
    if ((rc = need_dt(self, "isoformat", err)))
        return rc;
    weir_buf b = WEIR_BUF_INIT;
    weir_tvalue_to_buf(self, &b);
    if (weir_tpl__dt_type(self) == DT_DATETIME) {
        const char *s = "T";
        if (weir_args_get(a, 0, "sep", &sep)) {
            if (sep->kind != WEIR_TVALUE_STRING || weir_tvalue_str_len(sep) != 1) {
                weir_buf_release(&b);
                return weir_error_set(err, WEIR_EINVALID, "isoformat(): sep must be one character");
            }
            s = weir_tvalue_str(sep);
        }
        b.ptr[10] = s[0];
    }
    *out = weir_tvalue_string_buf(&b);
    weir_buf_release(&b);
    return 0;
}

int weir_tpl__dt_date(render *r, const weir_tvalue *self, const weir_args *a, weir_tvalue *out,
                      weir_error *err)
{
    WEIR_UNUSED(r);
    WEIR_UNUSED(a);
    int rc;
    if ((rc = need_dt(self, "date", err)))
        return rc;
    int64_t us = us_of(self);
    *out = make_dt(DT_DATE, us - us % US_PER_DAY);
    return 0;
}

int weir_tpl__dt_replace(render *r, const weir_tvalue *self, const weir_args *a,
                         weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    int rc, type = weir_tpl__dt_type(self);
    if ((rc = need_dt(self, "replace", err)))
        return rc;
    parts p;
    split(us_of(self), &p);
    if ((rc = read_fields(a, 0, type == DT_DATE ? 3 : 7, &p, "replace()", err)) ||
        (rc = check_fields(&p, err)))
        return rc;
    *out = make_dt(type, join(&p));
    return 0;
}

int weir_tpl__dt_weekday(render *r, const weir_tvalue *self, const weir_args *a,
                         weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    WEIR_UNUSED(a);
    int rc;
    if ((rc = need_dt(self, "weekday", err)))
        return rc;
    *out = weir_tvalue_int(weekday_of(us_of(self)));
    return 0;
}

int weir_tpl__dt_isoweekday(render *r, const weir_tvalue *self, const weir_args *a,
                            weir_tvalue *out, weir_error *err)
{
    int rc = weir_tpl__dt_weekday(r, self, a, out, err);
    if (!rc)
        out->u.i += 1;
    return rc;
}

int weir_tpl__dt_total_seconds(render *r, const weir_tvalue *self, const weir_args *a,
                               weir_tvalue *out, weir_error *err)
{
    WEIR_UNUSED(r);
    WEIR_UNUSED(a);
    if (weir_tpl__dt_type(self) != DT_TIMEDELTA)
        return weir_error_set(err, WEIR_EINVALID, "total_seconds() needs a timedelta");
    *out = weir_tvalue_float((double)us_of(self) / 1e6);
    return 0;
}

/* --- operators ------------------------------------------------------------------- */

int weir_tpl__dt_binop(int op, const weir_tvalue *a, const weir_tvalue *b, weir_tvalue *out,
                       weir_error *err)
{
    int ta = weir_tpl__dt_type(a), tb = weir_tpl__dt_type(b);
    if (!ta && !tb)
        return WEIR_ENOTFOUND;
    int64_t ua = ta ? us_of(a) : 0, ub = tb ? us_of(b) : 0, r;
    if ((op == '+' || op == '-') && (ta == DT_DATETIME || ta == DT_DATE) && tb == DT_TIMEDELTA) {
        /* a date moves by whole days only, as in Python */
        int64_t d = ta == DT_DATE ? ub / US_PER_DAY * US_PER_DAY : ub;
        if (__builtin_add_overflow(ua, op == '+' ? d : -d, &r) || r < 0 || r > MAX_US)
            return range_error(err);
        *out = make_dt(ta, r);
        return 0;
    }
    if (op == '+' && ta == DT_TIMEDELTA && (tb == DT_DATETIME || tb == DT_DATE))
        return weir_tpl__dt_binop(op, b, a, out, err);
    if (op == '-' && ta == tb && (ta == DT_DATETIME || ta == DT_DATE)) {
        *out = make_delta(ua - ub);
        return 0;
    }
    if ((op == '+' || op == '-') && ta == DT_TIMEDELTA && tb == DT_TIMEDELTA) {
        r = op == '+' ? ua + ub : ua - ub;
        if (r > MAX_US || r < -MAX_US)
            return weir_error_set(err, WEIR_EINVALID, "timedelta is out of range");
        *out = make_delta(r);
        return 0;
    }
    if (op == '*' && ((ta == DT_TIMEDELTA && b->kind == WEIR_TVALUE_INT) ||
                      (tb == DT_TIMEDELTA && a->kind == WEIR_TVALUE_INT))) {
        int64_t span = ta ? ua : ub, k = ta ? b->u.i : a->u.i;
        if (__builtin_mul_overflow(span, k, &r) || r > MAX_US || r < -MAX_US)
            return weir_error_set(err, WEIR_EINVALID, "timedelta is out of range");
        *out = make_delta(r);
        return 0;
    }
    return WEIR_ENOTFOUND;
}

int weir_tpl__dt_compare(const weir_tvalue *a, const weir_tvalue *b, int *cmp)
{
    int ta = weir_tpl__dt_type(a), tb = weir_tpl__dt_type(b);
    if (!ta || ta != tb)
        return 0;
    int64_t ua = us_of(a), ub = us_of(b);
    *cmp = ua < ub ? -1 : ua > ub;
    return 1;
}
