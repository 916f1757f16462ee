/* Tests of core/date: day numbers, calendar boundaries, parsing, formatting. */
#include "harness.h"

#include "core/date.h"

static weir_date ymd(int y, int m, int d)
{
    weir_date out;
    CHECK_INT(weir_date_from_ymd(y, m, d, &out), ==, 0);
    return out;
}

static const char *fmt(weir_date d)
{
    static char buf[WEIR_DATE_STRLEN];
    return weir_date_format(d, buf);
}

TEST(epoch_and_known_days)
{
    CHECK_INT(ymd(1970, 1, 1), ==, 0);
    CHECK_INT(ymd(1969, 12, 31), ==, -1);
    CHECK_INT(ymd(2000, 3, 1), ==, 11017);
    CHECK_INT(ymd(2024, 1, 1), ==, 19723);
    CHECK_STR(fmt(ymd(1, 1, 1)), "0001-01-01");
    CHECK_STR(fmt(ymd(9999, 12, 31)), "9999-12-31");
}

TEST(roundtrip_every_day_1900_to_2100)
{
    weir_date start = ymd(1900, 1, 1), end = ymd(2100, 12, 31);
    int y, m, d, py = 1899, pm = 12, pd = 31;
    for (weir_date x = start; x <= end; x++) {
        weir_date_to_ymd(x, &y, &m, &d);
        weir_date back;
        CHECK_INT(weir_date_from_ymd(y, m, d, &back), ==, 0);
        CHECK_INT(back, ==, x);
        /* consecutive: either the next day of the month, or day 1 */
        if (d != 1)
            CHECK(y == py && m == pm && d == pd + 1);
        else
            CHECK(pd == weir_days_in_month(py, pm));
        py = y, pm = m, pd = d;
    }
}

TEST(leap_years)
{
    CHECK(weir_is_leap_year(2024));
    CHECK(!weir_is_leap_year(2023));
    CHECK(!weir_is_leap_year(1900));
    CHECK(weir_is_leap_year(2000));
    weir_date d;
    CHECK_INT(weir_date_from_ymd(2023, 2, 29, &d), ==, WEIR_EINVALID);
    CHECK_INT(weir_date_from_ymd(2024, 2, 29, &d), ==, 0);
    CHECK_STR(fmt(ymd(2024, 2, 28) + 1), "2024-02-29");
    CHECK_STR(fmt(ymd(2023, 2, 28) + 1), "2023-03-01");
    CHECK_STR(fmt(ymd(2023, 12, 31) + 1), "2024-01-01");
}

TEST(add_months_clamps_to_month_end)
{
    CHECK_STR(fmt(weir_date_add_months(ymd(2024, 1, 31), 1)), "2024-02-29");
    CHECK_STR(fmt(weir_date_add_months(ymd(2023, 1, 31), 1)), "2023-02-28");
    CHECK_STR(fmt(weir_date_add_months(ymd(2023, 11, 15), 2)), "2024-01-15");
    CHECK_STR(fmt(weir_date_add_months(ymd(2024, 1, 15), -1)), "2023-12-15");
    CHECK_STR(fmt(weir_date_add_months(ymd(2024, 3, 31), -13)), "2023-02-28");
    CHECK_STR(fmt(weir_date_add_years(ymd(2024, 2, 29), 1)), "2025-02-28");
    CHECK_STR(fmt(weir_date_month_start(ymd(2024, 2, 29))), "2024-02-01");
}

TEST(weekday_and_yearday)
{
    CHECK_INT(weir_date_weekday(ymd(1970, 1, 1)), ==, 4); /* Thursday */
    CHECK_INT(weir_date_weekday(ymd(2024, 1, 1)), ==, 1); /* Monday */
    CHECK_INT(weir_date_weekday(ymd(2024, 1, 7)), ==, 7); /* Sunday */
    CHECK_INT(weir_date_weekday(ymd(1969, 12, 28)), ==, 7);
    CHECK_INT(weir_date_yearday(ymd(2024, 12, 31)), ==, 366);
    CHECK_INT(weir_date_yearday(ymd(2023, 12, 31)), ==, 365);
    CHECK_INT(weir_date_yearday(ymd(2024, 3, 1)), ==, 61);
}

TEST(parse_rejects_bad_dates)
{
    weir_date d;
    CHECK_INT(weir_date_parse("2024-01-05", &d), ==, 0);
    CHECK_STR(fmt(d), "2024-01-05");
    const char *bad[] = { "", "2024-1-05", "2024-01-5", "2024/01/05", "2024-13-01",
                          "2024-00-10", "2024-04-31", "20240105", "2024-01-05x", "abcd-ef-gh" };
    for (size_t i = 0; i < WEIR_ARRAY_SIZE(bad); i++)
        CHECK_INT(weir_date_parse(bad[i], &d), ==, WEIR_EINVALID);
}

TEST(ranges)
{
    weir_date_range r;
    CHECK_INT(weir_date_range_parse("2024-02-27..2024-03-02", &r), ==, 0);
    CHECK_INT(weir_date_range_count(&r), ==, 5);
    int n = 0;
    for (weir_date d = r.from; d <= r.to; d += r.step)
        n++;
    CHECK_INT(n, ==, 5);
    CHECK_INT(weir_date_range_parse("2024-03-02..2024-02-27", &r), ==, WEIR_EINVALID);
    CHECK_INT(weir_date_range_parse("2024-03-02", &r), ==, 0);
    CHECK_INT(weir_date_range_count(&r), ==, 1);
    r.step = 7;
    r.from = ymd(2024, 1, 1);
    r.to = ymd(2024, 1, 31);
    CHECK_INT(weir_date_range_count(&r), ==, 5);
}

TEST(timestamps)
{
    weir_ts t;
    char buf[WEIR_TS_STRLEN];
    CHECK_INT(weir_ts_parse("2024-03-10T02:30:00Z", &t), ==, 0);
    CHECK_STR(weir_ts_format(t, buf), "2024-03-10T02:30:00Z");
    CHECK_INT(weir_ts_parse("2024-03-10 02:30:00.123+01:00", &t), ==, 0);
    CHECK_STR(weir_ts_format(t, buf), "2024-03-10T01:30:00.123000Z");
    CHECK_STR(weir_ts_format_ms(t, buf), "2024-03-10T01:30:00.123Z");
    CHECK_INT(weir_ts_parse("2024-01-01T00:30-01:00", &t), ==, 0);
    CHECK_STR(weir_ts_format(t, buf), "2024-01-01T01:30:00Z");
    CHECK_INT(weir_ts_parse("2024-01-01", &t), ==, 0);
    CHECK_INT(t, ==, weir_ts_from_date(ymd(2024, 1, 1)));
    /* before 1970, the date part floors */
    CHECK_INT(weir_ts_parse("1969-12-31T23:59:59.5Z", &t), ==, 0);
    CHECK_STR(fmt(weir_ts_date(t)), "1969-12-31");
    CHECK_STR(weir_ts_format(t, buf), "1969-12-31T23:59:59.500000Z");
    CHECK_INT(weir_ts_parse("2024-01-01T24:00:00Z", &t), ==, WEIR_EINVALID);
    CHECK_INT(weir_ts_parse("2024-01-01T10:00:00+2", &t), ==, WEIR_EINVALID);
    CHECK_INT(weir_ts_parse("2024-01-01T10", &t), ==, WEIR_EINVALID);
}
