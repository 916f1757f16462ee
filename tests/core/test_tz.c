/*
 * Tests of core/tz: loading zones (and refusing bad names), offsets from the
 * table and from the footer rule, local <-> UTC around gaps and overlaps,
 * ISO formatting with offsets, and robustness against truncated files.
 * The expected instants were checked against Python's zoneinfo.
 */
#include "harness.h"

#include "core/buf.h"
#include "core/fs.h"
#include "core/tz.h"

static weir_ts at(const char *s)
{
    weir_ts t;
    CHECK_INT(weir_ts_parse(s, &t), ==, 0);
    return t;
}

static const char *fmt(weir_ts t)
{
    static char buf[WEIR_TS_STRLEN];
    return weir_ts_format(t, buf);
}

static weir_tz *load(const char *name)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_tz *tz = NULL;
    CHECK_OK(weir_tz_load(name, &tz, &err), &err);
    CHECK(tz != NULL);
    return tz;
}

TEST(offsets_from_the_table)
{
    weir_tz *paris = load("Europe/Paris"), *ny = load("America/New_York");
    CHECK_STR(weir_tz_name(paris), "Europe/Paris");
    CHECK_INT(weir_tz_offset(paris, at("2024-01-15T12:00:00Z")), ==, 3600);
    CHECK_INT(weir_tz_offset(paris, at("2024-07-15T12:00:00Z")), ==, 7200);
    /* spring forward at 01:00Z exactly, fall back at 01:00Z */
    CHECK_INT(weir_tz_offset(paris, at("2024-03-31T01:00:00Z") - 1), ==, 3600);
    CHECK_INT(weir_tz_offset(paris, at("2024-03-31T01:00:00Z")), ==, 7200);
    CHECK_INT(weir_tz_offset(paris, at("2024-10-27T01:00:00Z") - 1), ==, 7200);
    CHECK_INT(weir_tz_offset(paris, at("2024-10-27T01:00:00Z")), ==, 3600);
    CHECK_INT(weir_tz_offset(ny, at("2024-03-10T07:00:00Z") - 1), ==, -18000);
    CHECK_INT(weir_tz_offset(ny, at("2024-03-10T07:00:00Z")), ==, -14400);
    CHECK_INT(weir_tz_offset(ny, at("2024-11-03T06:00:00Z")), ==, -18000);
    /* local mean time before the first transition */
    CHECK_INT(weir_tz_offset(paris, at("1850-01-01T00:00:00Z")), ==, 561);
    weir_tz_period p;
    weir_tz_period_at(paris, at("2024-06-01T00:00:00Z"), &p);
    CHECK_STR(fmt(p.start), "2024-03-31T01:00:00Z");
    CHECK_STR(fmt(p.end), "2024-10-27T01:00:00Z");
    CHECK_INT(p.offset, ==, 7200);
    CHECK_INT(p.prev_offset, ==, 3600);
    weir_tz_free(paris);
    weir_tz_free(ny);
}

TEST(offsets_from_the_footer_rule)
{
    weir_tz *paris = load("Europe/Paris"), *syd = load("Australia/Sydney");
    /* far past any table: the POSIX rule "CET-1CEST,M3.5.0,M10.5.0/3" */
    CHECK_INT(weir_tz_offset(paris, at("2100-03-28T01:00:00Z") - 1), ==, 3600);
    CHECK_INT(weir_tz_offset(paris, at("2100-03-28T01:00:00Z")), ==, 7200);
    CHECK_INT(weir_tz_offset(paris, at("2100-10-31T01:00:00Z") - 1), ==, 7200);
    CHECK_INT(weir_tz_offset(paris, at("2100-10-31T01:00:00Z")), ==, 3600);
    CHECK_INT(weir_tz_offset(paris, at("9999-07-01T00:00:00Z")), ==, 7200);
    weir_tz_period p;
    weir_tz_period_at(paris, at("2100-06-01T00:00:00Z"), &p);
    CHECK_STR(fmt(p.start), "2100-03-28T01:00:00Z");
    CHECK_STR(fmt(p.end), "2100-10-31T01:00:00Z");
    /* southern hemisphere: summer time spans the new year */
    CHECK_INT(weir_tz_offset(syd, at("2200-01-01T00:00:00Z")), ==, 11 * 3600);
    CHECK_INT(weir_tz_offset(syd, at("2200-07-01T00:00:00Z")), ==, 10 * 3600);
    weir_tz_free(paris);
    weir_tz_free(syd);
}

TEST(utc_is_built_in)
{
    const weir_tz *utc = weir_tz_utc();
    CHECK_STR(weir_tz_name(utc), "UTC");
    CHECK_INT(weir_tz_offset(utc, at("2024-07-01T00:00:00Z")), ==, 0);
    weir_tz *u = load("UTC");
    weir_ts t;
    CHECK_INT(weir_tz_from_local(u, at("2024-03-31T02:30:00Z"), WEIR_TZ_LATER, &t), ==,
              WEIR_TZ_UNIQUE);
    CHECK_STR(fmt(t), "2024-03-31T02:30:00Z");
    weir_tz_free(u);
    weir_tz_free((weir_tz *)utc); /* ignored */
}

TEST(local_to_utc_gaps_and_overlaps)
{
    weir_tz *paris = load("Europe/Paris"), *ny = load("America/New_York");
    weir_ts t;
    /* a gap: 02:30 does not exist on 2024-03-31 in Paris */
    CHECK_INT(weir_tz_from_local(paris, at("2024-03-31T02:30:00Z"), WEIR_TZ_LATER, &t), ==,
              WEIR_TZ_GAP);
    CHECK_STR(fmt(t), "2024-03-31T01:30:00Z"); /* 03:30 CEST, pendulum's reading */
    CHECK_INT(weir_tz_from_local(paris, at("2024-03-31T02:30:00Z"), WEIR_TZ_EARLIER, &t), ==,
              WEIR_TZ_GAP);
    CHECK_STR(fmt(t), "2024-03-31T00:30:00Z");
    /* an overlap: 02:30 happens twice on 2024-10-27 */
    CHECK_INT(weir_tz_from_local(paris, at("2024-10-27T02:30:00Z"), WEIR_TZ_EARLIER, &t), ==,
              WEIR_TZ_OVERLAP);
    CHECK_STR(fmt(t), "2024-10-27T00:30:00Z");
    CHECK_INT(weir_tz_from_local(paris, at("2024-10-27T02:30:00Z"), WEIR_TZ_LATER, &t), ==,
              WEIR_TZ_OVERLAP);
    CHECK_STR(fmt(t), "2024-10-27T01:30:00Z");
    /* the edges: 02:00 is in the gap, 03:00 is not; 03:00 is not repeated */
    CHECK_INT(weir_tz_from_local(paris, at("2024-03-31T02:00:00Z"), WEIR_TZ_LATER, &t), ==,
              WEIR_TZ_GAP);
    CHECK_INT(weir_tz_from_local(paris, at("2024-03-31T03:00:00Z"), WEIR_TZ_LATER, &t), ==,
              WEIR_TZ_UNIQUE);
    CHECK_STR(fmt(t), "2024-03-31T01:00:00Z");
    CHECK_INT(weir_tz_from_local(paris, at("2024-10-27T03:00:00Z"), WEIR_TZ_EARLIER, &t), ==,
              WEIR_TZ_UNIQUE);
    CHECK_STR(fmt(t), "2024-10-27T02:00:00Z");
    CHECK_INT(weir_tz_from_local(ny, at("2024-11-03T01:30:00Z"), WEIR_TZ_EARLIER, &t), ==,
              WEIR_TZ_OVERLAP);
    CHECK_STR(fmt(t), "2024-11-03T05:30:00Z");
    CHECK_INT(weir_tz_from_local(ny, at("2024-03-10T02:15:00Z"), WEIR_TZ_LATER, &t), ==,
              WEIR_TZ_GAP);
    CHECK_STR(fmt(t), "2024-03-10T07:15:00Z");
    /* round trips over two years, every 7 minutes and a bit */
    for (weir_ts u = at("2024-01-01T00:00:00Z"); u < at("2026-01-01T00:00:00Z");
         u += 7 * 60 * WEIR_USEC_PER_SEC + 13) {
        weir_ts a, b;
        weir_ts local = weir_tz_to_local(ny, u);
        int kind = weir_tz_from_local(ny, local, WEIR_TZ_EARLIER, &a);
        weir_tz_from_local(ny, local, WEIR_TZ_LATER, &b);
        CHECK(kind != WEIR_TZ_GAP);
        CHECK(a == u || b == u);
    }
    weir_tz_free(paris);
    weir_tz_free(ny);
}

TEST(day_start)
{
    weir_tz *paris = load("Europe/Paris"), *santiago = load("America/Santiago");
    CHECK_STR(fmt(weir_tz_day_start(paris, weir_ts_date(at("2024-03-31T00:00:00Z")))),
              "2024-03-30T23:00:00Z");
    /* Santiago skips midnight on 2024-09-08: the day starts at 01:00 */
    CHECK_STR(fmt(weir_tz_day_start(santiago, weir_ts_date(at("2024-09-08T00:00:00Z")))),
              "2024-09-08T04:00:00Z");
    /* and lives 23:00-24:00 twice on 2024-04-06: 24:00 is reached only once */
    CHECK_STR(fmt(weir_tz_day_start(santiago, weir_ts_date(at("2024-04-07T00:00:00Z")))),
              "2024-04-07T04:00:00Z");
    weir_tz_free(paris);
    weir_tz_free(santiago);
}

TEST(iso_format_with_offsets)
{
    weir_tz *paris = load("Europe/Paris"), *ny = load("America/New_York");
    char buf[WEIR_TZ_ISO_STRLEN];
    CHECK_STR(weir_tz_format_iso(paris, at("2024-03-31T01:30:00Z"), buf),
              "2024-03-31T03:30:00+02:00");
    CHECK_STR(weir_tz_format_iso(ny, at("2024-11-03T06:30:00Z"), buf),
              "2024-11-03T01:30:00-05:00");
    CHECK_STR(weir_tz_format_iso(ny, at("2024-11-03T06:30:00.25Z"), buf),
              "2024-11-03T01:30:00.250000-05:00");
    CHECK_STR(weir_tz_format_iso(weir_tz_utc(), at("2024-01-01T00:00:00Z"), buf),
              "2024-01-01T00:00:00+00:00");
    CHECK_STR(weir_tz_format_iso(paris, at("1900-01-01T00:00:00Z"), buf),
              "1900-01-01T00:09:21+00:09:21");
    weir_tz_free(paris);
    weir_tz_free(ny);
}

static void check_load_error(const char *name, int code, const char *msg)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_tz *tz = (weir_tz *)1;
    CHECK_INT(weir_tz_load(name, &tz, &err), ==, code);
    CHECK(tz == NULL);
    CHECK_STR(weir_error_str(&err), msg);
    weir_error_release(&err);
}

TEST(unknown_and_invalid_names)
{
    check_load_error("Europe/Pariss", WEIR_ENOTFOUND,
                     "unknown time zone 'Europe/Pariss'; did you mean 'Europe/Paris'?");
    check_load_error("europe/paris", WEIR_ENOTFOUND,
                     "unknown time zone 'europe/paris'; did you mean 'Europe/Paris'?");
    check_load_error("Mars/Olympus_Mons", WEIR_ENOTFOUND, "unknown time zone 'Mars/Olympus_Mons'");
    check_load_error("America", WEIR_ENOTFOUND, "unknown time zone 'America'");
    check_load_error("zone.tab", WEIR_ENOTFOUND, "unknown time zone 'zone.tab'");
    check_load_error("../../../etc/passwd", WEIR_EINVALID,
                     "invalid time zone name '../../../etc/passwd'");
    check_load_error("Europe/../Europe/Paris", WEIR_EINVALID,
                     "invalid time zone name 'Europe/../Europe/Paris'");
    check_load_error("/etc/localtime", WEIR_EINVALID, "invalid time zone name '/etc/localtime'");
    check_load_error("", WEIR_EINVALID, "invalid time zone name ''");
    check_load_error("Europe//Paris", WEIR_EINVALID, "invalid time zone name 'Europe//Paris'");
    check_load_error("Europe/Paris ", WEIR_EINVALID, "invalid time zone name 'Europe/Paris '");
    /* leap-second zones would be off by ~27 s: refused rather than misread */
    if (weir_fs_exists("/usr/share/zoneinfo/right/UTC"))
        check_load_error("right/UTC", WEIR_EINVALID, "invalid time zone file for 'right/UTC'");
    /* aliases are plain files too */
    weir_tz *tz = load("US/Eastern");
    CHECK_INT(weir_tz_offset(tz, at("2024-07-01T00:00:00Z")), ==, -14400);
    weir_tz_free(tz);
    tz = load("Etc/GMT+5");
    CHECK_INT(weir_tz_offset(tz, at("2024-07-01T00:00:00Z")), ==, -18000);
    weir_tz_free(tz);
}

TEST(tzdir_is_honoured)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf data = WEIR_BUF_INIT, dir = WEIR_BUF_INIT, path = WEIR_BUF_INIT;
    CHECK_OK(weir_fs_read_file("/usr/share/zoneinfo/America/New_York", &data, 0, &err), &err);
    weir_path_join(&dir, weir_test_tmpdir(), "Test");
    CHECK_OK(weir_fs_mkdir_p(dir.ptr, &err), &err);
    weir_path_join(&path, dir.ptr, "Zone");
    CHECK_OK(weir_fs_write_atomic(path.ptr, data.ptr, data.len, &err), &err);
    setenv("TZDIR", weir_test_tmpdir(), 1);
    weir_tz *tz = load("Test/Zone");
    CHECK_INT(weir_tz_offset(tz, at("2024-07-01T00:00:00Z")), ==, -14400);
    weir_tz_free(tz);
    check_load_error("Europe/Paris", WEIR_ENOTFOUND, "unknown time zone 'Europe/Paris'");
    unsetenv("TZDIR");
    weir_buf_release(&data);
    weir_buf_release(&dir);
    weir_buf_release(&path);
}

TEST(truncated_and_corrupt_files)
{
    weir_error err = WEIR_ERROR_INIT;
    weir_buf data = WEIR_BUF_INIT;
    CHECK_OK(weir_fs_read_file("/usr/share/zoneinfo/Europe/Paris", &data, 0, &err), &err);
    weir_tz *tz;
    /* every prefix either loads or fails cleanly; the whole file loads */
    for (size_t n = 0; n < data.len; n++) {
        if (weir_tz_load_data("x", data.ptr, n, &tz, &err) == 0)
            weir_tz_free(tz);
        weir_error_clear(&err);
    }
    CHECK_OK(weir_tz_load_data("x", data.ptr, data.len, &tz, &err), &err);
    weir_tz_free(tz);
    CHECK_INT(weir_tz_load_data("x", "TZif", 4, &tz, &err), ==, WEIR_EINVALID);
    CHECK_STR(weir_error_str(&err), "invalid time zone file for 'x'");
    weir_error_release(&err);
    weir_buf_release(&data);
}
