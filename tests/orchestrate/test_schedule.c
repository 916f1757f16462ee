/*
 * Tests of orchestrate/schedule: data intervals of daily, hourly and weekly
 * schedules in non-UTC zones across DST days, the logical date `ds`, the
 * latest closed interval, backfill ranges and the template variables.
 */
#include "harness.h"

#include "orchestrate/schedule.h"

static weir_ts at(const char *s)
{
    weir_ts t;
    CHECK_INT(weir_ts_parse(s, &t), ==, 0);
    return t;
}

static weir_date day(const char *s)
{
    weir_date d;
    CHECK_INT(weir_date_parse(s, &d), ==, 0);
    return d;
}

static const char *fmt(weir_ts t)
{
    static char buf[4][WEIR_TS_STRLEN];
    static int k;
    k = (k + 1) % 4;
    return weir_ts_format(t, buf[k]);
}

static const char *ds(const weir_schedule *s, const weir_interval *iv)
{
    static char buf[WEIR_DATE_STRLEN];
    return weir_date_format(weir_schedule_ds(s, iv), buf);
}

static void init(weir_schedule *s, const char *expr, const char *tz)
{
    weir_error err = WEIR_ERROR_INIT;
    CHECK_OK(weir_schedule_init(s, expr, tz, &err), &err);
}

TEST(daily_intervals_and_vars_across_spring_forward)
{
    weir_schedule s;
    weir_error err = WEIR_ERROR_INIT;
    weir_interval_vec v = WEIR_VEC_INIT;
    init(&s, "@daily", "Europe/Paris");
    CHECK_OK(weir_schedule_intervals_between(&s, day("2024-03-30"), day("2024-04-01"), 0, &v, &err),
             &err);
    CHECK_INT(v.len, ==, 3);
    CHECK_STR(fmt(v.items[0].start), "2024-03-29T23:00:00Z");
    CHECK_STR(fmt(v.items[1].start), "2024-03-30T23:00:00Z");
    CHECK_STR(fmt(v.items[1].end), "2024-03-31T22:00:00Z"); /* a 23-hour day */
    CHECK_STR(fmt(v.items[2].end), "2024-04-01T22:00:00Z");
    CHECK_STR(ds(&s, &v.items[0]), "2024-03-30");
    CHECK_STR(ds(&s, &v.items[1]), "2024-03-31");
    CHECK_STR(ds(&s, &v.items[2]), "2024-04-01");
    for (size_t i = 1; i < v.len; i++)
        CHECK(v.items[i].start == v.items[i - 1].end);

    weir_interval_vars vars;
    weir_schedule_vars(&s, &v.items[1], &vars);
    CHECK_STR(vars.ds, "2024-03-31");
    CHECK_STR(vars.ds_nodash, "20240331");
    CHECK_STR(vars.ts, "2024-03-31T00:00:00+01:00");
    CHECK_STR(vars.ts_nodash, "20240331T000000");
    CHECK_STR(vars.data_interval_start, "2024-03-31T00:00:00+01:00");
    CHECK_STR(vars.data_interval_end, "2024-04-01T00:00:00+02:00");
    CHECK_STR(vars.data_interval_start_utc, "2024-03-30T23:00:00Z");
    CHECK_STR(vars.data_interval_end_utc, "2024-03-31T22:00:00Z");
    for (size_t i = 0; weir_interval_var_names[i]; i++)
        CHECK(weir_interval_var(&vars, weir_interval_var_names[i]) != NULL);
    CHECK_STR(weir_interval_var(&vars, "ds"), "2024-03-31");
    CHECK_STR(weir_interval_var(&vars, "data_interval_end"), "2024-04-01T00:00:00+02:00");
    CHECK(weir_interval_var(&vars, "prev_ds") == NULL);

    /* the run for 2024-03-31 is the one that closed at local midnight of April 1 */
    weir_interval iv;
    CHECK_INT(weir_schedule_latest_closed(&s, at("2024-03-31T22:30:00Z"), &iv), ==, 0);
    CHECK_STR(ds(&s, &iv), "2024-03-31");
    CHECK_INT(weir_schedule_latest_closed(&s, at("2024-03-31T22:00:00Z"), &iv), ==, 0);
    CHECK_STR(ds(&s, &iv), "2024-03-31"); /* closed exactly at its end */
    CHECK_INT(weir_schedule_latest_closed(&s, at("2024-03-31T21:59:59Z"), &iv), ==, 0);
    CHECK_STR(ds(&s, &iv), "2024-03-30");
    CHECK_INT(weir_schedule_interval_on(&s, day("2024-03-31"), &iv), ==, 0);
    CHECK(iv.start == v.items[1].start && iv.end == v.items[1].end);
    /* the scheduler's step: the interval after the last one */
    CHECK_INT(weir_schedule_interval_from(&s, v.items[1].end, &iv), ==, 0);
    CHECK(iv.start == v.items[2].start && iv.end == v.items[2].end);
    weir_vec_release(&v);
    weir_schedule_release(&s);
}

TEST(hourly_intervals_on_dst_days)
{
    weir_schedule s;
    weir_error err = WEIR_ERROR_INIT;
    weir_interval_vec v = WEIR_VEC_INIT;
    init(&s, "@hourly", "Europe/Paris");
    CHECK_OK(weir_schedule_intervals_between(&s, day("2024-03-31"), day("2024-03-31"), 0, &v, &err),
             &err);
    CHECK_INT(v.len, ==, 23);
    CHECK_STR(fmt(v.items[0].start), "2024-03-30T23:00:00Z");
    CHECK_STR(fmt(v.items[22].end), "2024-03-31T22:00:00Z");
    weir_vec_release(&v);

    CHECK_OK(weir_schedule_intervals_between(&s, day("2024-10-27"), day("2024-10-27"), 0, &v, &err),
             &err);
    CHECK_INT(v.len, ==, 25);
    for (size_t i = 0; i < v.len; i++) {
        CHECK_INT(v.items[i].end - v.items[i].start, ==, 3600 * WEIR_USEC_PER_SEC);
        CHECK_STR(ds(&s, &v.items[i]), "2024-10-27");
    }
    weir_interval_vars vars;
    weir_schedule_vars(&s, &v.items[2], &vars); /* the first 02:00, summer time */
    CHECK_STR(vars.ts, "2024-10-27T02:00:00+02:00");
    CHECK_STR(vars.ts_nodash, "20241027T020000");
    weir_schedule_vars(&s, &v.items[3], &vars); /* the second 02:00 */
    CHECK_STR(vars.ts, "2024-10-27T02:00:00+01:00");
    CHECK_STR(vars.data_interval_end, "2024-10-27T03:00:00+01:00");
    weir_vec_release(&v);
    weir_schedule_release(&s);
}

TEST(design_example_daily_at_three_in_new_york)
{
    weir_schedule s;
    weir_error err = WEIR_ERROR_INIT;
    weir_interval_vec v = WEIR_VEC_INIT;
    init(&s, "0 3 * * *", "America/New_York");
    CHECK_OK(weir_schedule_intervals_between(&s, day("2024-01-01"), day("2024-12-31"), 0, &v, &err),
             &err);
    CHECK_INT(v.len, ==, 366);
    weir_interval_vars vars;
    weir_schedule_vars(&s, &v.items[0], &vars);
    CHECK_STR(vars.ds, "2024-01-01");
    CHECK_STR(vars.data_interval_start, "2024-01-01T03:00:00-05:00");
    CHECK_STR(vars.data_interval_end, "2024-01-02T03:00:00-05:00");
    for (size_t i = 0; i < v.len; i++) {
        char want[WEIR_DATE_STRLEN];
        weir_date_format(day("2024-01-01") + (weir_date)i, want);
        CHECK_STR(ds(&s, &v.items[i]), want);
        weir_schedule_vars(&s, &v.items[i], &vars);
        CHECK_CONTAINS(vars.ts, "T03:00:00");
    }
    weir_vec_release(&v);
    weir_schedule_release(&s);
}

TEST(weekly_and_monthly_logical_dates)
{
    weir_schedule s;
    weir_error err = WEIR_ERROR_INIT;
    weir_interval_vec v = WEIR_VEC_INIT;
    weir_interval iv;
    init(&s, "@weekly", "America/New_York");
    CHECK_OK(weir_schedule_intervals_between(&s, day("2024-01-01"), day("2024-01-31"), 0, &v, &err),
             &err);
    CHECK_INT(v.len, ==, 4); /* Sundays 7, 14, 21, 28 */
    CHECK_STR(ds(&s, &v.items[0]), "2024-01-07");
    CHECK_STR(fmt(v.items[0].start), "2024-01-07T05:00:00Z");
    CHECK_STR(fmt(v.items[0].end), "2024-01-14T05:00:00Z");
    CHECK_STR(ds(&s, &v.items[3]), "2024-01-28");
    CHECK_INT(weir_schedule_interval_on(&s, day("2024-01-09"), &iv), ==, WEIR_ENOTFOUND);
    CHECK_INT(weir_schedule_interval_on(&s, day("2024-01-14"), &iv), ==, 0);
    CHECK_STR(fmt(iv.start), "2024-01-14T05:00:00Z");
    weir_vec_release(&v);
    weir_schedule_release(&s);

    init(&s, "@monthly", NULL); /* UTC */
    CHECK_OK(weir_schedule_intervals_between(&s, day("2024-01-15"), day("2024-03-01"), 0, &v, &err),
             &err);
    CHECK_INT(v.len, ==, 2);
    CHECK_STR(fmt(v.items[0].start), "2024-02-01T00:00:00Z");
    CHECK_STR(fmt(v.items[1].end), "2024-04-01T00:00:00Z");
    weir_interval_vars vars;
    weir_schedule_vars(&s, &v.items[1], &vars);
    CHECK_STR(vars.ts, "2024-03-01T00:00:00+00:00");
    weir_vec_release(&v);
    weir_schedule_release(&s);
}

TEST(errors)
{
    weir_schedule s = WEIR_SCHEDULE_INIT;
    weir_schedule_release(&s); /* releasing an empty schedule is fine */
    weir_error err = WEIR_ERROR_INIT;
    weir_interval_vec v = WEIR_VEC_INIT;
    CHECK_INT(weir_schedule_init(&s, "0 3 * * FRX", "UTC", &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "invalid day-of-week 'FRX' (expected 0-7 or SUN-SAT)");
    CHECK_INT(err.col, ==, 9);
    weir_schedule_release(&s);
    weir_error_clear(&err);
    CHECK_INT(weir_schedule_init(&s, "@daily", "Europe/Pariss", &err), ==, WEIR_ENOTFOUND);
    CHECK_STR(weir_error_str(&err),
              "unknown time zone 'Europe/Pariss'; did you mean 'Europe/Paris'?");
    weir_schedule_release(&s);
    weir_error_clear(&err);

    init(&s, "* * * * *", "Europe/Paris");
    CHECK_INT(weir_schedule_intervals_between(&s, day("2024-02-01"), day("2024-01-01"), 0, &v, &err),
              ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "invalid date range: '2024-02-01' is after '2024-01-01'");
    weir_error_clear(&err);
    CHECK_INT(weir_schedule_intervals_between(&s, day("2024-01-01"), day("2024-01-02"), 1000, &v,
                                              &err),
              ==, WEIR_ETOOBIG);
    CHECK_STR(weir_error_str(&err), "more than 1000 intervals between '2024-01-01' and '2024-01-02'");
    weir_error_clear(&err);
    weir_vec_release(&v);
    CHECK_OK(weir_schedule_intervals_between(&s, day("2024-01-01"), day("2024-01-01"), 0, &v, &err),
             &err);
    CHECK_INT(v.len, ==, 1440);
    weir_vec_release(&v);
    weir_schedule_release(&s);
}
