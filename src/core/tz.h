/*
 * tz.h: named IANA time zones, read from the system's TZif files.
 *
 * weir_tz_load("Europe/Paris") reads $TZDIR/Europe/Paris (TZDIR defaults to
 * /usr/share/zoneinfo, the Debian package tzdata) itself: the 64-bit v2+
 * transition table, and the POSIX TZ footer string ("CET-1CEST,M3.5.0,
 * M10.5.0/3") for instants after the last transition of the table. No
 * setenv("TZ") + localtime: a loaded weir_tz is immutable, so one value may
 * be shared by any number of threads.
 *
 * Local wall-clock times are represented as a weir_ts too ("microseconds
 * since 1970-01-01T00:00:00" read as a civil date and time with no zone), so
 * weir_ts_to_parts / weir_ts_format work on them; only the names of the
 * variables say which is which (utc, local).
 *
 * UTC -> local is a function. Local -> UTC is not: around a transition a
 * local time may not exist (a gap: clocks jump from 02:00 to 03:00 in Paris
 * on the last Sunday of March) or occur twice (an overlap: 02:00-03:00 is
 * lived twice on the last Sunday of October). weir_tz_from_local() says which
 * case it met and resolves it with the caller's choice between the two
 * candidate instants:
 *  - overlap: EARLIER is the first occurrence (still on summer time),
 *    LATER the second one;
 *  - gap: the local time is read with the offset in force after the
 *    transition (EARLIER: Paris 02:30 -> 00:30Z = 01:30 CET) or before it
 *    (LATER: 02:30 -> 01:30Z = 03:30 CEST, i.e. shifted forward by the length
 *    of the gap).
 * Python's PEP 495 "fold=0" (what zoneinfo and pendulum do with a naive time,
 * and so what Airflow's make_aware gives a cron schedule) is EARLIER in an
 * overlap and LATER in a gap; weir's cron uses exactly that.
 *
 * Offsets are in seconds east of UTC (Paris in winter: +3600).
 */
#ifndef WEIR_TZ_H
#define WEIR_TZ_H

#include <stdint.h>

#include "core/date.h"
#include "core/error.h"

typedef struct weir_tz weir_tz;

/*
 * Loads the zone called name ("Europe/Paris", "America/New_York", "UTC").
 * "UTC" (also "Etc/UTC", "Z") is built in and works without tzdata. The
 * caller frees *out with weir_tz_free(). Errors: WEIR_ENOTFOUND with
 * "unknown time zone 'Europe/Pariss'" (and "; did you mean 'Europe/Paris'?"
 * when one name is close); WEIR_EINVALID for a name that is not a zone name
 * ("../etc/passwd", absolute paths, odd characters) and for a file that is
 * not valid TZif.
 */
int weir_tz_load(const char *name, weir_tz **out, weir_error *err);

/*
 * Parses TZif data already in memory (for tests and fuzzing); name is only
 * recorded. Same errors as weir_tz_load for bad data.
 */
int weir_tz_load_data(const char *name, const void *data, size_t len, weir_tz **out,
                      weir_error *err);

/* Frees a zone from weir_tz_load; NULL and weir_tz_utc() are ignored. */
void weir_tz_free(weir_tz *tz);

/* The built-in UTC zone: static, never freed, shared. */
const weir_tz *weir_tz_utc(void);

/* The name given to weir_tz_load ("Europe/Paris"). */
const char *weir_tz_name(const weir_tz *tz);

/* The offset (seconds east of UTC) in force at the instant utc. */
int32_t weir_tz_offset(const weir_tz *tz, weir_ts utc);

/* The local wall-clock time at the instant utc. */
weir_ts weir_tz_to_local(const weir_tz *tz, weir_ts utc);

typedef enum { WEIR_TZ_EARLIER, WEIR_TZ_LATER } weir_tz_choice;

/* What weir_tz_from_local found (its non-negative return values). */
enum { WEIR_TZ_UNIQUE = 0, WEIR_TZ_GAP = 1, WEIR_TZ_OVERLAP = 2 };

/*
 * Converts the local wall-clock time local to an instant in *utc, resolving
 * gaps and overlaps with choice as described at the top of this file.
 * Returns WEIR_TZ_UNIQUE, WEIR_TZ_GAP or WEIR_TZ_OVERLAP; never fails.
 */
int weir_tz_from_local(const weir_tz *tz, weir_ts local, weir_tz_choice choice, weir_ts *utc);

/*
 * A stretch of time with one offset: [start, end) in UTC (start is
 * INT64_MIN / end INT64_MAX when unbounded), the offset in force, and the
 * offset in force just before start (equal to offset when start is
 * unbounded). Consecutive periods always have different offsets.
 */
typedef struct weir_tz_period {
    weir_ts start, end;
    int32_t offset, prev_offset;
} weir_tz_period;

/* The period that contains the instant utc. */
void weir_tz_period_at(const weir_tz *tz, weir_ts utc, weir_tz_period *out);

/*
 * The first instant whose local date is d or later: local midnight (its
 * first occurrence), or the end of a DST gap that swallows midnight.
 */
weir_ts weir_tz_day_start(const weir_tz *tz, weir_date d);

/* "2024-03-31T03:30:00+02:00" plus NUL; ".ffffff" and ":SS" in the offset only when non-zero. */
#define WEIR_TZ_ISO_STRLEN 40

/*
 * Formats the instant utc as local ISO 8601 time with its offset
 * ("2024-03-31T03:30:00+02:00"; UTC is written "+00:00") into out (at least
 * WEIR_TZ_ISO_STRLEN bytes); returns out.
 */
char *weir_tz_format_iso(const weir_tz *tz, weir_ts utc, char *out);

#endif
