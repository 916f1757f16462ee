/*
 * cron.h: cron expressions, evaluated in a named time zone.
 *
 * Syntax: five fields separated by blanks,
 *     minute (0-59)  hour (0-23)  day-of-month (1-31)  month (1-12 or JAN-DEC)
 *     day-of-week (0-7 or SUN-SAT; 0 and 7 are Sunday)
 * each a comma-separated list of '*', 'N', 'A-B', with an optional '/STEP'
 * ('*' or 'A-B' or 'N', where 'N/STEP' means 'N-max/STEP'). Names are
 * case-insensitive and may end a range ('MON-FRI'). Ranges do not wrap
 * ('FRI-MON' is an error). Macros: @yearly (@annually) '0 0 1 1 *',
 * @monthly '0 0 1 * *', @weekly '0 0 * * 0', @daily (@midnight) '0 0 * * *',
 * @hourly '0 * * * *'.
 *
 * Day-of-month and day-of-week: when both are restricted a day matches
 * when either matches (standard cron's OR rule: '0 0 13 * FRI' fires on
 * every 13th and every Friday); otherwise both must match. A field is
 * unrestricted when one of its items is a plain '*' ('*', '1,*'), as in
 * croniter (Airflow): a step of '*' or a full range restricts, so
 * '0 0 1-31 * MON' fires every day. (Vixie cron differs only for fields
 * that begin with a stepped '*', which it treats as unrestricted.)
 * An expression that can never fire ('0 0 30 2 *') is refused.
 *
 * Evaluation: the fields are matched against local wall-clock time in the
 * schedule's zone, and fire times are returned as UTC instants. Around DST
 * transitions weir follows Airflow 2's cron timetables (croniter on
 * naive local times, made aware with PEP 495 fold=0, and a special case for
 * schedules that run every hour):
 *  - Schedules whose hour field is '*' (every hour) fire at every real
 *    instant whose local time matches: in a spring-forward gap the missing
 *    local times do not fire (there is nothing to catch up, the next hour
 *    comes right after), and in a fall-back overlap the repeated hour fires
 *    twice (once per real hour, so hourly intervals stay one hour long).
 *  - Schedules with a restricted hour (daily at 02:30, '0 9-17 * * *', ...)
 *    fire once per matching local time: a time in a gap fires once, shifted
 *    forward by the length of the gap (02:30 on a day clocks jump from 02:00
 *    to 03:00 fires at 03:30 local); a time in an overlap fires once, at its
 *    first occurrence (still on summer time). A shifted time that coincides
 *    with another fire time fires once. (Airflow differs in one corner: with
 *    several times in one gap, as '0,15,30,45 2 * * *' has, it fires only
 *    the first, at 03:00, because it searches on from there; weir fires all
 *    four, 03:00 to 03:45.)
 * So a daily schedule fires exactly once every local day.
 */
#ifndef WEIR_ORCHESTRATE_CRON_H
#define WEIR_ORCHESTRATE_CRON_H

#include <stdint.h>

#include "core/date.h"
#include "core/error.h"
#include "core/tz.h"

typedef struct weir_cron {
    uint64_t minutes; /* bit m: minute m (0-59) */
    uint32_t hours;   /* bit h: hour h (0-23) */
    uint32_t days;    /* bit d: day of month d (1-31) */
    uint16_t months;  /* bit m: month m (1-12) */
    uint8_t weekdays; /* bit d: day of week d (0 Sunday - 6 Saturday) */
    unsigned dom_restricted : 1, dow_restricted : 1;
} weir_cron;

/*
 * Parses expr into *out. On error returns WEIR_EINVALID and sets err with a
 * message naming the field and the problem, e.g.
 *     invalid day-of-week 'FRX' (expected 0-7 or SUN-SAT)
 * and err->col set to the 1-based column in expr where the bad part starts
 * (err->file and err->line stay unset): a caller that read expr from a file
 * reports it as file:line:(column of expr + err->col - 1).
 */
int weir_cron_parse(const char *expr, weir_cron *out, weir_error *err);

/* Whether the local wall-clock time local matches (seconds and below are ignored). */
int weir_cron_matches(const weir_cron *c, weir_ts local);

/*
 * The first fire time strictly after the instant after, as a UTC instant, in
 * zone tz (DST rules at the top of this file). Returns 0, or WEIR_ENOTFOUND
 * when there is none before the year 9999.
 */
int weir_cron_next(const weir_cron *c, const weir_tz *tz, weir_ts after, weir_ts *out);

/*
 * The last fire time at or before the instant at. Returns 0, or
 * WEIR_ENOTFOUND when there is none after the year 1.
 */
int weir_cron_prev(const weir_cron *c, const weir_tz *tz, weir_ts at, weir_ts *out);

#endif
