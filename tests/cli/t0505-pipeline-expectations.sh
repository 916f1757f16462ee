#!/usr/bin/env bash
# Scenario: a pipeline's expectation-suite task validates the run's day,
# with the suite's kwargs rendered for the run's ds; a failing suite fails
# the task and its run and skips what depends on it; with severity: warn a
# failing suite only reports (task succeeds, result kept, warning logged).
. "$(dirname "$0")/../lib.sh"

weir init p >/dev/null
cat >p/pipelines/daily.yml <<'YML'
pipeline: daily
schedule: "@daily"
start: 2024-01-01
retries: 2
retry_delay: 1s
alert: { stderr: false }
tasks:
  - name: load
    sql: >
      create table if not exists events (day date, n int);
      delete from events where day = '{{ ds }}';
      insert into events select '{{ ds }}', i from range(case when '{{ ds }}' = '2024-01-03' then 2 else 10 end) t(i)
expectations: [events_day]
monitor:
  row_count: [events]
YML
mkdir -p p/monitors
cat >p/monitors/events.yml <<'YML'
monitors:
  - table: events
    date_column: day
    on_anomaly: warn
YML
cat >p/expectations/events_day.yml <<'YML'
expectation_suite_name: events_day
table: events
expectations:
  - expectation_type: expect_table_row_count_to_be_between
    kwargs: { min_value: 5, row_condition: "day = DATE '{{ ds }}'" }
  - expectation_type: expect_column_values_to_not_be_null
    kwargs: { column: n }
YML

run weir check --project-dir p
expect_rc 0 "the project with a suite task checks clean"

run weir pipeline run daily --date 2024-01-02 --project-dir p
expect_rc 0 "a day whose data meets the suite succeeds"
expect_true "the GX result is written" test -n "$(ls p/target/validations/events_day/*.json 2>/dev/null)"

run weir pipeline run daily --date 2024-01-03 --project-dir p
expect_rc 1 "a day with too few rows fails the run"
run weir pipeline tasks daily --project-dir p --format json
expect_out_contains "suite 'events_day' failed: 1 of 2 expectations passed" "the task says which suite failed and how"

expect_out_contains '"task": "monitor_row_count_events", "state": "upstream_failed"' "a failed suite (severity error) skips its dependants"
expect_out_contains '"task": "expect_events_day", "state": "failed", "attempts": 1,' "a failed suite is not retried (the data would fail again)"

# severity: warn only reports
sed -i 's/^expectations: \[events_day\]$/expectations:\n  - { suite: events_day, severity: warn }/' p/pipelines/daily.yml
run weir check --project-dir p
expect_rc 0 "an expectation item with a severity checks clean"
n_before=$(ls p/target/validations/events_day/ | wc -l)
run weir pipeline run daily --date 2024-01-04 --project-dir p
expect_rc 0 "a passing suite with severity warn succeeds"
run weir query --project-dir p "delete from events where day = DATE '2024-01-04' and n >= 2"
run weir pipeline clear daily --date 2024-01-04 --project-dir p --task expect_events_day
run weir pipeline run daily --date 2024-01-04 --project-dir p
expect_rc 0 "a failing suite with severity warn does not fail the run"
expect_err_contains "suite 'events_day' failed (severity warn): 1 of 2 expectations passed" "a warning is printed"
run weir pipeline tasks daily --project-dir p --format json
expect_out_contains '"task": "expect_events_day", "state": "success"' "the warn suite's task succeeds"
expect_out_not_contains '"ds": "2024-01-04", "task": "monitor_row_count_events", "state": "upstream_failed"' "its dependants run"
expect_true "every validation's result is kept" test "$(ls p/target/validations/events_day/ | wc -l)" -gt "$n_before"
run weir pipeline logs daily --date 2024-01-04 --project-dir p
expect_out_contains "warning: suite 'events_day' failed (severity warn)" "the warning is in the task's log"

cat >p/pipelines/bad.yml <<'YML'
pipeline: bad
expectations:
  - { suite: events_day, severity: fatal }
  - { severity: warn }
YML
run weir check --project-dir p
expect_rc 2 "a bad expectation item is refused"
expect_err_contains "bad.yml:3:" "with the place of a bad severity"
expect_err_contains "bad.yml:4:" "and of a missing suite"
rm p/pipelines/bad.yml

run weir query --project-dir p --format csv "select count(*) as n from events"
expect_out_contains "14" "the load ran before the suite for every day"

run weir query --project-dir p --format csv "select 1"
expect_rc 0 "the warehouse is free after the runs"

done_testing
