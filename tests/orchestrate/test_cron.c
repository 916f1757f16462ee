/*
 * Tests of orchestrate/cron: parsing (fields, names, steps, macros, errors
 * with their columns), the day-of-month / day-of-week OR rule, fire times
 * across DST transitions in Paris and New York, and 1,000 pseudo-random
 * expressions checked against a brute-force minute-by-minute scan.
 */
#include "harness.h"

#include "core/tz.h"
#include "orchestrate/cron.h"

static weir_ts at(const char *s)
{
    weir_ts t;
    CHECK_INT(weir_ts_parse(s, &t), ==, 0);
    return t;
}

static const char *fmt(weir_ts t)
{
    static char buf[4][WEIR_TS_STRLEN];
    static int k;
    k = (k + 1) % 4;
    return weir_ts_format(t, buf[k]);
}

static weir_cron parse(const char *expr)
{
    weir_cron c;
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_cron_parse(expr, &c, &err), &err);
    return c;
}

static uint64_t bits(const int *v, size_t n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++)
        b |= UINT64_C(1) << v[i];
    return b;
}
#define BITS(...) bits((const int[]){ __VA_ARGS__ }, sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

TEST(fields_steps_ranges_and_names)
{
    weir_cron c = parse("*/15 1-10/2 5/10 JAN-mar mon-FRI");
    CHECK(c.minutes == BITS(0, 15, 30, 45));
    CHECK(c.hours == BITS(1, 3, 5, 7, 9));
    CHECK(c.days == BITS(5, 15, 25));
    CHECK(c.months == BITS(1, 2, 3));
    CHECK(c.weekdays == BITS(1, 2, 3, 4, 5));
    CHECK(c.dom_restricted && c.dow_restricted);

    c = parse("  0,30  12  *  *  7 ");
    CHECK(c.minutes == BITS(0, 30));
    CHECK(c.weekdays == BITS(0)); /* 7 is Sunday */
    CHECK(!c.dom_restricted && c.dow_restricted);
    c = parse("0 0 * * 5-7");
    CHECK(c.weekdays == BITS(0, 5, 6));
    c = parse("0 0 * * sun,Sat");
    CHECK(c.weekdays == BITS(0, 6));
    c = parse("0 0 * * */2");
    CHECK(c.weekdays == BITS(0, 2, 4, 6));
    c = parse("0 0 * * 0-7");
    CHECK(c.dow_restricted && !c.dom_restricted); /* only '*' is unrestricted */
    CHECK(c.weekdays == 0x7F);
    c = parse("0 0 */1 * *");
    CHECK(c.dom_restricted && !c.dow_restricted);
    c = parse("0 0 5,* * 1,*");
    CHECK(!c.dom_restricted && !c.dow_restricted); /* a plain '*' item lifts it */
    c = parse("59 23 31 DEC *");
    CHECK(c.minutes == BITS(59) && c.hours == BITS(23) && c.days == BITS(31));
    CHECK(c.months == BITS(12));
    c = parse("*\t*\t*\t*\t*");
    CHECK(c.minutes == (UINT64_C(1) << 60) - 1);
    CHECK(c.hours == 0xFFFFFF);
}

TEST(macros)
{
    static const char *const pairs[][2] = {
        { "@yearly", "0 0 1 1 *" },  { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
        { "@weekly", "0 0 * * 0" },  { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
        { "@hourly", "0 * * * *" },  { " @DAILY ", "0 0 * * *" },
    };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(pairs); i++) {
        weir_cron a = parse(pairs[i][0]), b = parse(pairs[i][1]);
        CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    }
}

static void check_error(const char *expr, const char *msg, unsigned col)
{
    weir_cron c;
    weir_error err = WEIR_ERROR_INIT;
    int rc = weir_cron_parse(expr, &c, &err);
    if (rc != WEIR_EINVALID)
        weir_test_fail(__FILE__, __LINE__, "'%s' parsed (rc %d)", expr, rc);
    if (strcmp(weir_error_str(&err), msg) != 0 || err.col != col)
        weir_test_fail(__FILE__, __LINE__, "'%s':\n  got:      %u: %s\n  expected: %u: %s", expr,
                       err.col, weir_error_str(&err), col, msg);
    CHECK(err.file == NULL && err.line == 0);
    weir_error_release(&err);
}

TEST(parse_errors_name_the_field_and_column)
{
    check_error("0 0 * * FRX", "invalid day-of-week 'FRX' (expected 0-7 or SUN-SAT)", 9);
    check_error("  0 0 * * FRX", "invalid day-of-week 'FRX' (expected 0-7 or SUN-SAT)", 11);
    check_error("0 0 * * MON-FRX", "invalid day-of-week 'FRX' (expected 0-7 or SUN-SAT)", 13);
    check_error("0 0 * * 8", "invalid day-of-week '8' (expected 0-7 or SUN-SAT)", 9);
    check_error("60 * * * *", "invalid minute '60' (expected 0-59)", 1);
    check_error("0 24 * * *", "invalid hour '24' (expected 0-23)", 3);
    check_error("0 0 0 * *", "invalid day-of-month '0' (expected 1-31)", 5);
    check_error("0 0 L * *", "invalid day-of-month 'L' (expected 1-31)", 5);
    check_error("0 0 * 13 *", "invalid month '13' (expected 1-12 or JAN-DEC)", 7);
    check_error("0 0 * JANX *", "invalid month 'JANX' (expected 1-12 or JAN-DEC)", 7);
    check_error("0 0 * MON *", "invalid month 'MON' (expected 1-12 or JAN-DEC)", 7);
    check_error("0 5-2 * * *", "invalid hour range '5-2' (5 is after 2)", 3);
    check_error("0 0 * * FRI-MON", "invalid day-of-week range 'FRI-MON' (5 is after 1)", 9);
    check_error("*/0 * * * *", "invalid step '0' in minute (expected 1-60)", 3);
    check_error("0 */25 * * *", "invalid step '25' in hour (expected 1-24)", 5);
    check_error("0 0 1-5/ * *", "invalid step '' in day-of-month (expected 1-31)", 9);
    check_error("0 0 1-5/2x * *", "invalid step '2x' in day-of-month (expected 1-31)", 9);
    check_error("1,,2 * * * *", "missing value in minute (expected 0-59)", 3);
    check_error("1, * * * *", "missing value in minute (expected 0-59)", 3);
    check_error(",1 * * * *", "missing value in minute (expected 0-59)", 1);
    check_error("0 1- * * *", "missing value in hour (expected 0-23)", 5);
    check_error("5#3 * * * *", "unexpected '#' in minute", 2);
    check_error("*-5 * * * *", "unexpected '-' in minute", 2);
    check_error("0 0 * *",
                "expected 5 fields (minute hour day-of-month month day-of-week), got 4", 8);
    check_error("0 0 * * * 2024",
                "expected 5 fields (minute hour day-of-month month day-of-week), got 6", 11);
    check_error("", "empty cron expression", 1);
    check_error("   ", "empty cron expression", 1);
    check_error("@fortnightly",
                "unknown schedule '@fortnightly' (expected @hourly, @daily, @midnight, "
                "@weekly, @monthly, @yearly or @annually)", 1);
    check_error("@daily 5", "unexpected '5' after '@daily'", 8);
    check_error("0 0 30 2 *", "day-of-month '30' never occurs in month '2'", 5);
    check_error("0 0 31 APR,jun *", "day-of-month '31' never occurs in month 'APR,jun'", 5);
}

/* --- fire times ------------------------------------------------------- */

static weir_tz *zone(const char *name)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_tz *tz;
    CHECK_OK(weir_tz_load(name, &tz, &err), &err);
    return tz;
}

/*
 * Checks that the fire times of expr in zone tz after `from` are exactly
 * want[0..n), with weir_cron_next, and the same list backwards with
 * weir_cron_prev.
 */
static void check_fires(const char *expr, const weir_tz *tz, const char *from,
                        const char *const *want, size_t n)
{
    weir_cron c = parse(expr);
    weir_ts t = at(from), got;
    for (size_t i = 0; i < n; i++) {
        CHECK_INT(weir_cron_next(&c, tz, t, &got), ==, 0);
        if (strcmp(fmt(got), want[i]) != 0)
            weir_test_fail(__FILE__, __LINE__, "'%s' in %s, fire %zu after %s: got %s, expected %s",
                           expr, weir_tz_name(tz), i, fmt(t), fmt(got), want[i]);
        t = got;
    }
    for (size_t i = n; i-- > 1;) {
        CHECK_INT(weir_cron_prev(&c, tz, at(want[i]), &got), ==, 0);
        CHECK_STR(fmt(got), want[i]);
        CHECK_INT(weir_cron_prev(&c, tz, at(want[i]) - 1, &got), ==, 0);
        if (strcmp(fmt(got), want[i - 1]) != 0)
            weir_test_fail(__FILE__, __LINE__, "'%s' in %s, fire before %s: got %s, expected %s",
                           expr, weir_tz_name(tz), want[i], fmt(got), want[i - 1]);
    }
}
#define FIRES(expr, tz, from, ...)                                                   \
    do {                                                                             \
        static const char *const w_[] = { __VA_ARGS__ };                             \
        check_fires(expr, tz, from, w_, WEIR_ARRAY_SIZE(w_));                        \
    } while (0)

TEST(dst_paris_2024)
{
    weir_tz *p = zone("Europe/Paris");
    /* spring forward 2024-03-31 02:00 CET -> 03:00 CEST (01:00Z) */
    FIRES("30 2 * * *", p, "2024-03-29T12:00:00Z",
          "2024-03-30T01:30:00Z",  /* 02:30 CET */
          "2024-03-31T01:30:00Z",  /* 02:30 does not exist: 03:30 CEST */
          "2024-04-01T00:30:00Z"); /* 02:30 CEST */
    FIRES("0 * * * *", p, "2024-03-30T23:30:00Z",
          "2024-03-31T00:00:00Z",  /* 01:00 CET */
          "2024-03-31T01:00:00Z",  /* 03:00 CEST; 02:00 never was */
          "2024-03-31T02:00:00Z");
    FIRES("@daily", p, "2024-03-29T12:00:00Z",
          "2024-03-29T23:00:00Z", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z",
          "2024-04-01T22:00:00Z");
    /* fall back 2024-10-27 03:00 CEST -> 02:00 CET (01:00Z) */
    FIRES("30 2 * * *", p, "2024-10-25T12:00:00Z",
          "2024-10-26T00:30:00Z",  /* 02:30 CEST */
          "2024-10-27T00:30:00Z",  /* first 02:30 (CEST), not again at 01:30Z */
          "2024-10-28T01:30:00Z"); /* 02:30 CET */
    FIRES("0 * * * *", p, "2024-10-26T23:30:00Z",
          "2024-10-27T00:00:00Z",  /* 02:00 CEST */
          "2024-10-27T01:00:00Z",  /* 02:00 CET: a real hour later */
          "2024-10-27T02:00:00Z"); /* 03:00 CET */
    FIRES("@daily", p, "2024-10-25T12:00:00Z",
          "2024-10-25T22:00:00Z", "2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z");
    /* several times in the gap collapse onto the times after it */
    FIRES("0,30 2,3 * * *", p, "2024-03-30T23:30:00Z",
          "2024-03-31T01:00:00Z", "2024-03-31T01:30:00Z", "2024-04-01T00:00:00Z");
    /* a quarter-hourly schedule restricted to the repeated hour fires once per slot */
    FIRES("*/20 2 * * *", p, "2024-10-26T23:30:00Z",
          "2024-10-27T00:00:00Z", "2024-10-27T00:20:00Z", "2024-10-27T00:40:00Z",
          "2024-10-28T01:00:00Z");
    weir_tz_free(p);
}

TEST(dst_new_york_2024)
{
    weir_tz *ny = zone("America/New_York");
    /* spring forward 2024-03-10 02:00 EST -> 03:00 EDT (07:00Z) */
    FIRES("30 2 * * *", ny, "2024-03-08T12:00:00Z",
          "2024-03-09T07:30:00Z", "2024-03-10T07:30:00Z" /* 03:30 EDT */, "2024-03-11T06:30:00Z");
    FIRES("0 * * * *", ny, "2024-03-10T05:30:00Z",
          "2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z");
    FIRES("@daily", ny, "2024-03-09T00:00:00Z",
          "2024-03-09T05:00:00Z", "2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z");
    /* fall back 2024-11-03 02:00 EDT -> 01:00 EST (06:00Z): 01:00-02:00 twice */
    FIRES("30 2 * * *", ny, "2024-11-01T12:00:00Z",
          "2024-11-02T06:30:00Z", "2024-11-03T07:30:00Z", "2024-11-04T07:30:00Z");
    FIRES("30 1 * * *", ny, "2024-11-01T12:00:00Z",
          "2024-11-02T05:30:00Z", "2024-11-03T05:30:00Z" /* 01:30 EDT only */,
          "2024-11-04T06:30:00Z");
    FIRES("0 * * * *", ny, "2024-11-03T03:30:00Z",
          "2024-11-03T04:00:00Z", "2024-11-03T05:00:00Z", "2024-11-03T06:00:00Z",
          "2024-11-03T07:00:00Z");
    FIRES("@daily", ny, "2024-11-02T00:00:00Z",
          "2024-11-02T04:00:00Z", "2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z");
    weir_tz_free(ny);
}

TEST(calendar_cases_in_utc)
{
    const weir_tz *utc = weir_tz_utc();
    FIRES("0 0 29 2 *", utc, "2025-01-01T00:00:00Z",
          "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z");
    FIRES("0 0 29 2 *", utc, "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z");
    /* @weekly is Sunday 00:00 */
    FIRES("@weekly", utc, "2024-01-03T00:00:00Z",
          "2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z", "2024-01-21T00:00:00Z");
    FIRES("@weekly", utc, "2024-01-06T23:59:59.999999Z", "2024-01-07T00:00:00Z");
    FIRES("@weekly", utc, "2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z");
    FIRES("@monthly", utc, "2024-01-31T12:00:00Z",
          "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z");
    FIRES("@yearly", utc, "2023-12-31T23:59:00Z",
          "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z");
    FIRES("59 23 31 12 *", utc, "2024-06-01T00:00:00Z", "2024-12-31T23:59:00Z");
    FIRES("*/20 9-10 * * MON-FRI", utc, "2024-01-05T10:30:00Z", /* a Friday */
          "2024-01-05T10:40:00Z", "2024-01-08T09:00:00Z", "2024-01-08T09:20:00Z");
    FIRES("15 */6 1,15 * *", utc, "2024-02-14T23:00:00Z",
          "2024-02-15T00:15:00Z", "2024-02-15T06:15:00Z", "2024-02-15T12:15:00Z",
          "2024-02-15T18:15:00Z", "2024-03-01T00:15:00Z");
    /* day-of-month OR day-of-week when both are restricted */
    FIRES("0 0 13 * FRI", utc, "2024-09-01T00:00:00Z",
          "2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z",
          "2024-09-27T00:00:00Z", "2024-10-04T00:00:00Z", "2024-10-11T00:00:00Z",
          "2024-10-13T00:00:00Z" /* a Sunday, the 13th */, "2024-10-18T00:00:00Z");
    FIRES("0 0 * * FRI", utc, "2024-10-11T00:00:00Z", "2024-10-18T00:00:00Z");
    FIRES("0 0 13 * *", utc, "2024-09-13T00:00:00Z", "2024-10-13T00:00:00Z");
    FIRES("0 0 1-31 * MON", utc, "2024-04-01T12:00:00Z", /* OR with a full range: daily */
          "2024-04-02T00:00:00Z", "2024-04-03T00:00:00Z");
    FIRES("0 0 */10 * 1", utc, "2024-04-01T12:00:00Z", /* a Monday */
          "2024-04-08T00:00:00Z", "2024-04-11T00:00:00Z", "2024-04-15T00:00:00Z");
    weir_cron c = parse("* * * * *");
    weir_ts t;
    CHECK_INT(weir_cron_next(&c, utc, at("9999-12-31T23:59:00Z"), &t), ==, WEIR_ENOTFOUND);
    CHECK_INT(weir_cron_prev(&c, utc, at("0001-01-01T00:00:00Z"), &t), ==, WEIR_ENOTFOUND);
    CHECK_INT(weir_cron_next(&c, utc, INT64_MAX, &t), ==, WEIR_ENOTFOUND);
    CHECK_INT(weir_cron_prev(&c, utc, INT64_MIN, &t), ==, WEIR_ENOTFOUND);
    CHECK_INT(weir_cron_next(&c, utc, at("2024-01-01T00:00:30Z"), &t), ==, 0);
    CHECK_STR(fmt(t), "2024-01-01T00:01:00Z");
    CHECK_INT(weir_cron_prev(&c, utc, at("2024-01-01T00:00:30Z"), &t), ==, 0);
    CHECK_STR(fmt(t), "2024-01-01T00:00:00Z");
    CHECK(weir_cron_matches(&c, at("2024-01-01T00:00:30Z")));
}

/* --- the random oracle ------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

typedef struct oracle {
    uint64_t set[5]; /* minute, hour, dom, month, dow (0-6) */
    int every_hour, dom_r, dow_r;
} oracle;

static const int lo_of[5] = { 0, 0, 1, 1, 0 }, hi_of[5] = { 59, 23, 31, 12, 6 };
static const char *const mon_name[] = { "jan", "FEB", "Mar", "APR", "may", "JUN",
                                        "jul", "AUG", "sep", "OCT", "nov", "DEC" };
static const char *const dow_name[] = { "sun", "MON", "Tue", "WED", "thu", "FRI", "sat" };

static void put_value(weir_buf *b, int f, int v, int allow7)
{
    if (f == 3 && rnd(3) == 0)
        weir_buf_adds(b, mon_name[v - 1]);
    else if (f == 4 && rnd(3) == 0)
        weir_buf_adds(b, dow_name[v]);
    else if (f == 4 && v == 0 && allow7 && rnd(2) == 0)
        weir_buf_adds(b, "7");
    else
        weir_buf_addf(b, "%d", v);
}

/* Writes a random field into b and its value set into *set. */
static void random_field(int f, weir_buf *b, uint64_t *set)
{
    int lo = lo_of[f], hi = hi_of[f], span = hi - lo + 1;
    *set = 0;
    int items = 1 + (rnd(4) == 0 ? (int)rnd(3) : 0);
    for (int i = 0; i < items; i++) {
        if (i)
            weir_buf_addch(b, ',');
        switch (rnd(f >= 2 ? 6 : 5)) {
        case 0: /* '*' */
            weir_buf_addch(b, '*');
            for (int v = lo; v <= hi; v++)
                *set |= UINT64_C(1) << v;
            break;
        case 1: { /* '*' / step */
            int step = 1 + (int)rnd((unsigned)span);
            weir_buf_addf(b, "*/%d", step);
            for (int v = lo; v <= hi; v += step)
                *set |= UINT64_C(1) << v;
            break;
        }
        case 2: { /* a range, maybe with a step */
            int a = lo + (int)rnd((unsigned)span), c = lo + (int)rnd((unsigned)span);
            if (a > c) {
                int t = a;
                a = c, c = t;
            }
            put_value(b, f, a, 0);
            weir_buf_addch(b, '-');
            put_value(b, f, c, 0);
            int step = 1;
            if (rnd(2)) {
                step = 1 + (int)rnd((unsigned)span);
                weir_buf_addf(b, "/%d", step);
            }
            for (int v = a; v <= c; v += step)
                *set |= UINT64_C(1) << v;
            break;
        }
        case 3: { /* N/step */
            int a = lo + (int)rnd((unsigned)span), step = 1 + (int)rnd((unsigned)span);
            weir_buf_addf(b, "%d/%d", a, step);
            for (int v = a; v <= hi; v += step)
                *set |= UINT64_C(1) << v;
            break;
        }
        default: { /* a single value */
            int a = lo + (int)rnd((unsigned)span);
            put_value(b, f, a, 1);
            *set |= UINT64_C(1) << a;
            break;
        }
        }
    }
}

static int oracle_feasible(const oracle *o)
{
    if (o->dom_r && o->dow_r)
        return 1;
    for (int m = 1; m <= 12; m++)
        if (o->set[3] >> m & 1)
            for (int d = 1; d <= (m == 2 ? 29 : weir_days_in_month(2023, m)); d++)
                if (o->set[2] >> d & 1)
                    return 1;
    return 0;
}

static int oracle_matches(const oracle *o, weir_ts local)
{
    weir_date day;
    int h, mi, s, us, y, mo, d;
    weir_ts_to_parts(local, &day, &h, &mi, &s, &us);
    weir_date_to_ymd(day, &y, &mo, &d);
    int dow = weir_date_weekday(day) % 7;
    int dom_ok = (int)(o->set[2] >> d & 1), dow_ok = (int)(o->set[4] >> dow & 1);
    int day_ok = o->dom_r && o->dow_r ? dom_ok || dow_ok : dom_ok && dow_ok;
    return day_ok && (o->set[3] >> mo & 1) && (o->set[1] >> h & 1) && (o->set[0] >> mi & 1);
}

/*
 * Whether the schedule fires at the instant u (a whole UTC minute), from
 * first principles: the local time at u matches (unless the hour is
 * restricted and that local time already happened an hour ago), or u is the
 * image of a matching local time in a gap, read with the offset of an hour
 * ago. Paris and New York move their clocks by exactly one hour.
 */
static int oracle_fires(const oracle *o, const weir_tz *tz, weir_ts u)
{
    const weir_ts hour = 3600 * WEIR_USEC_PER_SEC;
    int32_t off = weir_tz_offset(tz, u), before = weir_tz_offset(tz, u - hour);
    weir_ts local = u + (weir_ts)off * WEIR_USEC_PER_SEC;
    if (oracle_matches(o, local) && (o->every_hour || before != off + 3600))
        return 1;
    if (!o->every_hour && before == off - 3600 && oracle_matches(o, local - hour))
        return 1;
    return 0;
}

TEST(random_expressions_against_a_minute_scan)
{
    static const char *const zones[] = { "UTC", "Europe/Paris", "America/New_York" };
    weir_tz *tzs[3];
    for (int i = 0; i < 3; i++)
        tzs[i] = zone(zones[i]);
    /* starting points: random ones, and some just before DST transitions */
    static const char *const near[] = {
        "2024-03-30T12:00:00Z", "2024-10-26T12:00:00Z", "2024-03-09T12:00:00Z",
        "2024-11-02T12:00:00Z", "2025-03-29T20:00:00Z", "2025-11-01T20:00:00Z",
    };
    const weir_ts minute = 60 * WEIR_USEC_PER_SEC, horizon = 400 * WEIR_USEC_PER_DAY;
    weir_ts base = at("2020-01-01T00:00:00Z");
    int done = 0, checks = 0;
    /* hour fields that hit the gap and the overlap (02:xx in Paris, 01:xx-02:xx in NY) */
    static const struct {
        const char *text;
        uint64_t set;
    } dst_hours[] = {
        { "2", 1 << 2 },          { "1-3", 7 << 1 },         { "*/2", 0x555555 },
        { "2,14", 1 << 2 | 1 << 14 }, { "1", 1 << 1 },      { "0-2/2", 1 << 0 | 1 << 2 },
    };
    while (done < 1000) {
        oracle o;
        weir_buf expr = WEIR_BUF_INIT;
        int near_dst = done % 2;
        for (int f = 0; f < 5; f++) {
            if (f)
                weir_buf_addch(&expr, ' ');
            if (f == 1 && near_dst && rnd(3)) {
                unsigned k = rnd(WEIR_ARRAY_SIZE(dst_hours));
                weir_buf_adds(&expr, dst_hours[k].text);
                o.set[1] = dst_hours[k].set;
                continue;
            }
            /* keep most months and days open so that fires are near */
            if ((f == 2 || f == 3) && rnd(3)) {
                weir_buf_addch(&expr, '*');
                if (f == 2)
                    o.dom_r = 0;
                o.set[f] = 0;
                for (int v = lo_of[f]; v <= hi_of[f]; v++)
                    o.set[f] |= UINT64_C(1) << v;
                continue;
            }
            size_t at_ = expr.len;
            random_field(f, &expr, &o.set[f]);
            /* unrestricted when one comma-separated item is a plain '*' */
            int star = 0;
            for (const char *q = expr.ptr + at_; *q; q++)
                if (*q == '*' && (q[1] == ',' || !q[1]))
                    star = 1;
            if (f == 2)
                o.dom_r = !star;
            if (f == 4)
                o.dow_r = !star;
        }
        o.set[4] = (o.set[4] | o.set[4] >> 7) & 0x7F;
        o.every_hour = o.set[1] == 0xFFFFFF;
        weir_cron c;
        weir_error err = WEIR_ERROR_INIT;
        int rc = weir_cron_parse(expr.ptr, &c, &err);
        if (!oracle_feasible(&o)) {
            CHECK_INT(rc, ==, WEIR_EINVALID);
            CHECK_CONTAINS(weir_error_str(&err), "never occurs");
            weir_error_release(&err);
            weir_buf_release(&expr);
            continue;
        }
        if (rc)
            weir_test_fail(__FILE__, __LINE__, "'%s': %s", expr.ptr, weir_error_str(&err));
        const weir_tz *tz = tzs[done % 3];
        weir_ts t = near_dst ? at(near[rnd(WEIR_ARRAY_SIZE(near))])
                             : base + (weir_ts)rnd(10 * 366) * WEIR_USEC_PER_DAY;
        t += (weir_ts)rnd(86400 * 2) * WEIR_USEC_PER_SEC + rnd(1000000);

        /* next: the first whole minute after t that fires */
        weir_ts want = INT64_MAX, got = 0;
        for (weir_ts u = (t / minute + 1) * minute; u <= t + horizon; u += minute)
            if (oracle_fires(&o, tz, u)) {
                want = u;
                break;
            }
        CHECK_INT(weir_cron_next(&c, tz, t, &got), ==, 0);
        if (want != INT64_MAX ? got != want : got <= t + horizon)
            weir_test_fail(__FILE__, __LINE__, "'%s' in %s, next after %s: got %s, expected %s",
                           expr.ptr, zones[done % 3], fmt(t), fmt(got),
                           want == INT64_MAX ? "none within 400 days" : fmt(want));
        /* prev: the last whole minute at or before t that fires */
        want = INT64_MIN;
        for (weir_ts u = t / minute * minute; u >= t - horizon; u -= minute)
            if (oracle_fires(&o, tz, u)) {
                want = u;
                break;
            }
        CHECK_INT(weir_cron_prev(&c, tz, t, &got), ==, 0);
        if (want != INT64_MIN ? got != want : got >= t - horizon)
            weir_test_fail(__FILE__, __LINE__, "'%s' in %s, prev at %s: got %s, expected %s",
                           expr.ptr, zones[done % 3], fmt(t), fmt(got),
                           want == INT64_MIN ? "none within 400 days" : fmt(want));
        checks += 2;
        weir_buf_release(&expr);
        done++;
    }
    CHECK_INT(checks, ==, 2000);
    for (int i = 0; i < 3; i++)
        weir_tz_free(tzs[i]);
}
