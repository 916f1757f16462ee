#!/usr/bin/env bash
# Scenario: a pipeline's expectation-suite task validates the run's day,
# with the suite's kwargs rendered for the run's ds; a failing suite fails
# the task and its run; the results are written and kept with the run.
. "$(dirname "$0")/../lib.sh"

weir init p >/dev/null
cat >p/pipelines/daily.yml <<'YML'
pipeline: daily
schedule: "@daily"
start: 2024-01-01
retries: 0
alert: { stderr: false }
tasks:
  - name: load
    sql: >
      create table if not exists events (day date, n int);
      delete from events where day = '{{ ds }}';
      insert into events select '{{ ds }}', i from range(case when '{{ ds }}' = '2024-01-03' then 2 else 10 end) t(i)
expectations: [events_day]
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

run weir query --project-dir p --format csv "select count(*) as n from events"
expect_out_contains "12" "the load ran before the suite for both days"

run weir query --project-dir p --format csv "select 1"
expect_rc 0 "the warehouse is free after the runs"

done_testing
