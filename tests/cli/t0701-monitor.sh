#!/usr/bin/env bash
# Scenario: the volume monitor on a school-like event stream: a calendar of
# holidays in monitors/, a backfill from the warehouse, checks of a few days
# (the outage flagged, the holiday not, too early said so), the choice of
# model explained, a chart written, and mistakes reported at their place.
. "$(dirname "$0")/../lib.sh"

run weir init school
expect_rc 0 "init a project"

# Thirteen weeks of events: weekdays ~200, weekends ~30, a winter break
# (2024-02-19 .. 2024-02-23) at a tenth, and an outage on 2024-03-13 that
# lost 45% of the day.
cat >school/events.sql <<'SQL'
CREATE SCHEMA IF NOT EXISTS raw;
CREATE OR REPLACE TABLE raw.events AS
WITH days AS (
    SELECT d::DATE AS day FROM range(DATE '2024-01-01', DATE '2024-04-01', INTERVAL 1 DAY) t(d)
), volume AS (
    SELECT day, CAST(round(200
        * CASE WHEN isodow(day) >= 6 THEN 0.15 ELSE 1.0 END
        * CASE WHEN day BETWEEN DATE '2024-02-19' AND DATE '2024-02-23' THEN 0.1 ELSE 1.0 END
        * CASE WHEN day = DATE '2024-03-13' THEN 0.55 ELSE 1.0 END
        * (0.95 + 0.1 * (hash(day, 3) % 1000) / 1000.0)) AS INTEGER) AS n
    FROM days
)
SELECT row_number() OVER () AS event_id,
       day + to_seconds(CAST(28800 + hash(day, i) % 30000 AS BIGINT)) AS occurred_at,
       1 + CAST(hash(day, i, 2) % 50 AS INTEGER) AS teacher_id
FROM volume, range(n) AS r(i);
SQL
run weir query --project-dir school "$(cat school/events.sql)"
expect_rc 0 "the event table is generated in the warehouse"

mkdir school/monitors
cat >school/monitors/events.yml <<'YML'
calendars:
  school:
    - 2024-01-01
    - { from: 2024-02-19, to: 2024-02-23, name: winter_break }
monitors:
  - table: raw.events
    date_column: occurred_at
    calendar: school
  # the same counts without the calendar, warning only: holidays then look wrong
  - name: events_no_calendar
    sql: select occurred_at::date, count(*) from raw.events group by 1
    on_anomaly: warn
YML
run weir check --project-dir school
expect_rc 0 "a project with monitors checks clean"

run weir monitor list --project-dir school
expect_rc 0 "list before any history"
expect_out_contains "row_count:raw.events" "list shows declared series without history"

run weir monitor backfill raw.events --project-dir school
expect_rc 0 "backfill a declared table"
expect_out_contains "row_count:raw.events: recorded 91 points; history 2024-01-01 .. 2024-03-31" \
    "backfill records one point per day"

run weir monitor backfill events_no_calendar --project-dir school
expect_rc 0 "backfill a custom metric"
expect_out_contains "recorded 91 points" "the custom metric has every day"

run weir monitor check raw.events --date 2024-01-12 --project-dir school
expect_rc 0 "too early to judge is no alarm"
expect_out_contains "insufficient history" "and is said so"

run weir monitor check raw.events --date 2024-03-13 --project-dir school
expect_rc 1 "the outage day fails the check"
expect_out_contains "anomaly" "the outage is an anomaly"
expect_out_contains "high" "with a high severity"
expect_err_contains "1 anomaly: 1 failing" "and a summary line"

run weir monitor check raw.events --date 2024-03-12 --project-dir school
expect_rc 0 "the day before the outage is fine"
expect_out_contains "| ok " "and judged ok"

run weir monitor check raw.events --date 2024-02-20 --project-dir school
expect_rc 0 "a named holiday raises no alarm"
expect_out_contains "winter_break" "the check names the calendar event"
expect_out_not_contains "anomaly" "the holiday is not an anomaly"

run weir monitor check events_no_calendar --date 2024-02-19 --project-dir school
expect_rc 0 "an anomaly of a warn-only series does not fail"
expect_out_contains "anomaly" "without the calendar the holiday looks like an outage"

run weir monitor check raw.events --date 2024-03-13 --format json --project-dir school
expect_rc 1 "check --format json"
expect_out_contains '"verdict": "anomaly"' "the JSON says anomaly"
expect_out_contains '"date": "2024-03-13"' "for the day asked"

run weir monitor check raw.events --from 2024-03-11 --to 2024-03-15 --format csv --project-dir school
expect_rc 1 "a range of days with the outage in it fails"
expect_true "one row per day" test "$(grep -c '^row_count:raw.events,2024-03-1' <<<"$out")" -eq 5
expect_true "only the outage is an anomaly" test "$(grep -c ',anomaly,' <<<"$out")" -eq 1
expect_true "and it is the outage" grep -q '^row_count:raw.events,2024-03-13,.*,anomaly,' <<<"$out"

run weir monitor check raw.events --from 2024-03-11 --project-dir school
expect_rc 2 "--from without --to is a usage error"

run weir monitor list --project-dir school --format csv
expect_rc 0 "list the series"
expect_out_contains "row_count:raw.events,91,2024-01-01,2024-03-31" "list shows the history"
expect_true "list shows the last check, its verdict and the anomaly count" \
    grep -q '^row_count:raw.events,91,.*,2024-03-15,ok,1$' <<<"$out"

run weir monitor explain raw.events --project-dir school
expect_rc 0 "explain the model"
expect_out_contains "chosen by backtest" "explain says how the model was chosen"
expect_out_contains "sMAPE" "with the scores"
expect_true "one candidate is marked chosen" grep -q '^\* ' <<<"$out"
run weir monitor explain raw.events --project-dir school --format json
expect_rc 0 "explain --format json"
expect_out_contains '"series": "row_count:raw.events"' "names the series"
expect_out_contains '"scores": [' "with the models' scores"

run weir monitor plot raw.events --project-dir school -o school/build/events.svg
expect_rc 0 "plot a series"
expect_out_contains "wrote school/build/events.svg" "plot says where it wrote"
expect_true "the SVG exists" test -s school/build/events.svg
svg=$(cat school/build/events.svg)
well_formed() {
    if command -v python3 >/dev/null; then
        python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$1"
    else
        # without a parser: one root, and every <g> closed
        [ "$(head -c 4 "$1")" = "<svg" ] && grep -q '</svg>$' "$1" &&
            [ "$(grep -o '<g[ >]' "$1" | wc -l)" -eq "$(grep -o '</g>' "$1" | wc -l)" ]
    fi
}
expect_true "the SVG is well-formed XML" well_formed school/build/events.svg
expect_true "the chart marks the outage" grep -q '2024-03-13' <<<"$svg"
expect_true "the chart shades the holiday" grep -q 'winter_break' <<<"$svg"

run weir monitor plot raw.events --from 2024-03-01 --to 2024-03-20 -o part.svg --project-dir school
expect_rc 0 "plot a range"
expect_out_contains "20 days" "only the range is judged"

# mistakes
run weir monitor check raw.evnts --project-dir school
expect_rc 1 "an unknown series fails"
expect_err_contains "no series 'raw.evnts' (did you mean 'raw.events'?)" "and suggests the nearest"

run weir monitor backfill raw.other --project-dir school
expect_rc 1 "an undeclared table needs a date column"
expect_err_contains "no date column for table 'raw.other'" "and says so"

run weir monitor plot raw.events --project-dir school
expect_rc 2 "plot without -o is a usage error"

run weir monitor chek --project-dir school
expect_rc 2 "an unknown subcommand"
expect_err_contains "did you mean 'check'?" "suggests the nearest"

cat >school/monitors/bad.yml <<'YML'
monitors:
  - table: raw.x
    calender: school
  - table: raw.y
    calendar: holidays
    on_anomaly: page
YML
run weir check --project-dir school
expect_rc 2 "weir check reports monitor mistakes"
expect_err_contains "monitors/bad.yml:3:5: error: unknown key 'calender'" "an unknown key at its place"
expect_err_contains "did you mean 'calendar'?" "with a suggestion"
expect_err_contains "monitors/bad.yml:6:17: error:" "a wrong value at its place"
run weir monitor list --project-dir school
expect_rc 2 "monitor commands refuse an invalid monitors folder"
expect_no_crash "and do not crash"

done_testing
