/*
 * date.h: civil dates and UTC timestamps.
 *
 * A weir_date is a day number: days since 1970-01-01 in the proleptic
 * Gregorian calendar (the same representation DuckDB's DATE uses), so
 * arithmetic is integer arithmetic. A weir_ts is microseconds since
 * 1970-01-01T00:00:00Z (DuckDB's TIMESTAMP). Both cover years 1..9999 for
 * parsing and formatting.
 *
 * Parsing is strict ISO 8601: "YYYY-MM-DD"; timestamps "YYYY-MM-DD",
 * "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" (or a space for T) with an optional "Z" or
 * "+HH:MM"/"-HH:MM" offset, converted to UTC. Functions return 0 or
 * WEIR_EINVALID.
 */
#ifndef WEIR_DATE_H
#define WEIR_DATE_H

#include <stddef.h>
#include <stdint.h>

typedef int32_t weir_date;
typedef int64_t weir_ts;

#define WEIR_USEC_PER_SEC INT64_C(1000000)
#define WEIR_USEC_PER_DAY INT64_C(86400000000)

/* Length of "YYYY-MM-DD" plus NUL, and of "YYYY-MM-DDTHH:MM:SS.ffffffZ" plus NUL. */
#define WEIR_DATE_STRLEN 11
#define WEIR_TS_STRLEN 28

int weir_is_leap_year(int year);
int weir_days_in_month(int year, int month);

/* Returns 0, or WEIR_EINVALID when the date does not exist (2023-02-29). */
int weir_date_from_ymd(int year, int month, int day, weir_date *out);
void weir_date_to_ymd(weir_date d, int *year, int *month, int *day);
/* Days from 1970-01-01 to year-month-day, proleptic Gregorian, no range check. */
int64_t weir_days_from_civil(int64_t year, int month, int day);

int weir_date_parse(const char *s, weir_date *out);
/* Parses exactly n bytes. */
int weir_date_parse_n(const char *s, size_t n, weir_date *out);
/* Writes "YYYY-MM-DD" into out (at least WEIR_DATE_STRLEN bytes); returns out. */
char *weir_date_format(weir_date d, char *out);

/* ISO day of week: 1 Monday .. 7 Sunday. */
int weir_date_weekday(weir_date d);
/* Day of the year, 1..366. */
int weir_date_yearday(weir_date d);
static inline weir_date weir_date_add_days(weir_date d, int32_t n) { return d + n; }
/* Adds months, clamping to the end of the month (Jan 31 + 1 month = Feb 28/29). */
weir_date weir_date_add_months(weir_date d, int months);
weir_date weir_date_add_years(weir_date d, int years);
/* First day of d's month. */
weir_date weir_date_month_start(weir_date d);
/* Today in UTC. */
weir_date weir_date_today(void);

/*
 * A range of dates [from, to] inclusive, walked with a step in days:
 *     for (weir_date d = r.from; d <= r.to; d += r.step) ...
 * weir_date_range_parse reads "D" or "D1..D2" (both inclusive).
 */
typedef struct weir_date_range {
    weir_date from, to;
    int32_t step;
} weir_date_range;
/* Number of dates the range yields (0 when from > to or step <= 0). */
int64_t weir_date_range_count(const weir_date_range *r);
int weir_date_range_parse(const char *s, weir_date_range *out);

int weir_ts_parse(const char *s, weir_ts *out);
/* Formats as "YYYY-MM-DDTHH:MM:SSZ", with ".ffffff" when micros != 0. */
char *weir_ts_format(weir_ts t, char *out);
/* Formats with millisecond precision always: "YYYY-MM-DDTHH:MM:SS.mmmZ". */
char *weir_ts_format_ms(weir_ts t, char *out);
weir_ts weir_ts_from_date(weir_date d);
/* The date part (floor, also for times before 1970). */
weir_date weir_ts_date(weir_ts t);
weir_ts weir_ts_from_parts(weir_date d, int hour, int min, int sec, int usec);
void weir_ts_to_parts(weir_ts t, weir_date *d, int *hour, int *min, int *sec, int *usec);
/* The current time (CLOCK_REALTIME). */
weir_ts weir_ts_now(void);
/* A monotonic clock in microseconds, for durations. */
int64_t weir_monotonic_us(void);

#endif
