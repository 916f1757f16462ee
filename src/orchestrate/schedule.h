/*
 * schedule.h: a pipeline's schedule (a cron expression in a time zone) and
 * the data intervals its runs cover.
 *
 * Airflow's semantics: consecutive fire times f0 < f1 < f2 ... cut time into
 * data intervals [f0, f1), [f1, f2), ...; the run for [start, end) is created
 * when the interval closes, i.e. at end. Its logical date `ds` is the local
 * date (in the schedule's zone) of the interval's start, so the daily run of
 * 2024-03-31 covers [2024-03-31 00:00, 2024-04-01 00:00) local time and
 * starts just after midnight on April 1. (Airflow derives `ds` from the UTC
 * logical date; weir uses the schedule's zone, which is what a user of a
 * non-UTC schedule means by "the run of March 31".)
 *
 * Everything here is in UTC instants; DST behaviour is cron.h's.
 */
#ifndef WEIR_ORCHESTRATE_SCHEDULE_H
#define WEIR_ORCHESTRATE_SCHEDULE_H

#include <stddef.h>

#include "core/date.h"
#include "core/error.h"
#include "core/tz.h"
#include "core/vec.h"
#include "orchestrate/cron.h"

/* A data interval [start, end), UTC. */
typedef struct weir_interval {
    weir_ts start, end;
} weir_interval;

typedef WEIR_VEC(weir_interval) weir_interval_vec;

typedef struct weir_schedule {
    weir_cron cron;
    weir_tz *tz;  /* owned */
    char *expr;   /* the expression as written, owned */
} weir_schedule;

#define WEIR_SCHEDULE_INIT { { 0, 0, 0, 0, 0, 0, 0 }, NULL, NULL }

/*
 * Parses expr (cron.h's syntax) and loads the zone tz_name (NULL or "" for
 * UTC). Errors are weir_cron_parse's (with err->col) and weir_tz_load's; s
 * is left released on error.
 */
int weir_schedule_init(weir_schedule *s, const char *expr, const char *tz_name, weir_error *err);
void weir_schedule_release(weir_schedule *s);

/*
 * The interval that starts at the first fire time at or after t:
 * [fire, the fire after it). Returns 0 or WEIR_ENOTFOUND (past year 9999).
 * The scheduler's "next interval after the last run" is
 * weir_schedule_interval_from(s, last.end, &next).
 */
int weir_schedule_interval_from(const weir_schedule *s, weir_ts t, weir_interval *out);

/*
 * The latest interval closed at time now (its end <= now): what the
 * scheduler creates a run for. Returns 0 or WEIR_ENOTFOUND.
 */
int weir_schedule_latest_closed(const weir_schedule *s, weir_ts now, weir_interval *out);

/*
 * Appends to out every interval whose logical date is in [from, to], both
 * inclusive, in order (a backfill's `--from D1 --to D2`): one per day for a
 * daily schedule, 24 per day (23 or 25 on DST days) for an hourly one, and
 * only the Sundays' for @weekly. The last intervals may not have closed yet;
 * the caller decides what to do with those. Fails with WEIR_EINVALID when
 * from > to and WEIR_ETOOBIG when there would be more than limit intervals
 * (0: one million).
 */
int weir_schedule_intervals_between(const weir_schedule *s, weir_date from, weir_date to,
                                    size_t limit, weir_interval_vec *out, weir_error *err);

/*
 * The first interval whose logical date is d (`weir pipeline run --date D`).
 * Returns 0, or WEIR_ENOTFOUND when no interval starts that day (a weekly
 * schedule on a Tuesday).
 */
int weir_schedule_interval_on(const weir_schedule *s, weir_date d, weir_interval *out);

/* The logical date of an interval: the local date of its start. */
weir_date weir_schedule_ds(const weir_schedule *s, const weir_interval *iv);

/*
 * The template variables of a run, as strings (Airflow's names). Instants are
 * ISO 8601 local times with their offset, in the schedule's zone.
 */
typedef struct weir_interval_vars {
    char ds[WEIR_DATE_STRLEN];                      /* "2024-03-31" */
    char ds_nodash[9];                              /* "20240331" */
    char ts[WEIR_TZ_ISO_STRLEN];                    /* start: "2024-03-31T00:00:00+01:00" */
    char ts_nodash[16];                             /* "20240331T000000" (local) */
    char data_interval_start[WEIR_TZ_ISO_STRLEN];   /* same instant as ts */
    char data_interval_end[WEIR_TZ_ISO_STRLEN];     /* "2024-04-01T00:00:00+02:00" */
    char data_interval_start_utc[WEIR_TS_STRLEN];   /* "2024-03-30T23:00:00Z" */
    char data_interval_end_utc[WEIR_TS_STRLEN];     /* "2024-03-31T22:00:00Z" */
} weir_interval_vars;

/* The variable names above, NULL-terminated, for a template context. */
extern const char *const weir_interval_var_names[];

/* Fills out for the interval iv of schedule s. */
void weir_schedule_vars(const weir_schedule *s, const weir_interval *iv, weir_interval_vars *out);

/* The value of the variable called name ("ds", ...), or NULL if no such variable. */
const char *weir_interval_var(const weir_interval_vars *v, const char *name);

#endif
