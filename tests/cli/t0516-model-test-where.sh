#!/usr/bin/env bash
# Scenario: a model task's generic tests read the run's vars. The tests of
# a model keep to the run's day with dbt's `where` config,
# "day = '{{ var('ds') }}'", and only 2024-01-02 has bad rows: a backfill
# (one compile, three runs) passes the clean days and fails the bad one,
# with the tests batched through the quality layer and each on its own
# query (WEIR_TEST_BATCH=0); a custom generic test's templated argument
# reads the run's vars as well.
. "$(dirname "$0")/../lib.sh"
mkdir -p p/models p/macros p/pipelines
cat >p/weir.yml <<'EOF'
name: where_project
warehouse:
  type: duckdb
  path: warehouse.duckdb
store:
  type: sqlite
  path: .weir/store.db
defaults:
  timezone: UTC
  retries: 0
EOF
cat >p/models/readings.sql <<'EOF'
-- every day's readings: each run rebuilds the table, its tests look at the run's day
{{ config(materialized='table') }}
select * from raw.readings
EOF
cat >p/macros/tests.sql <<'EOF'
{% test at_most(model, column_name, max_value) %}
select * from {{ model }} where {{ column_name }} > {{ max_value }}
{% endtest %}
EOF
cat >p/models/schema.yml <<'EOF'
version: 2
models:
  - name: readings
    columns:
      - name: v
        tests:
          - not_null:
              config:
                where: "day = '{{ var('ds') }}'"
          - at_most:
              name: v_at_most
              max_value: "{{ var('ds_nodash')[-1:] }}0"
              config:
                where: "day = '{{ var('ds') }}'"
      - name: sensor
        tests:
          - accepted_values:
              values: [a, b]
              where: "day = '{{ var(\"ds\") }}'"
EOF
cat >p/pipelines/readings.yml <<'EOF'
pipeline: readings
schedule: "@daily"
start: 2024-01-01
models: "readings"
EOF
# v is null on 2024-01-02 only, and sensor 'c' is there only; at_most's
# limit is 10 on 2024-01-01, 30 on 2024-01-03 (whose 25 passes)
weir query --project-dir p "create schema raw; create table raw.readings as
    select * from (values
      (date '2024-01-01', 'a', 5), (date '2024-01-01', 'b', 6),
      (date '2024-01-02', 'a', null), (date '2024-01-02', 'c', 7),
      (date '2024-01-03', 'a', 8), (date '2024-01-03', 'b', 25)
    ) t(day, sensor, v)" >/dev/null

failed_day() { # the ds of each failed model task, and why
    weir pipeline tasks readings --project-dir p --format json |
        grep '"state": "failed"' | sed 's/.*"ds": "\([^"]*\)".*"error": "\(.*\)"}.*/\1 \2/'
}

for mode in batched own; do
    if [ $mode = own ]; then export WEIR_TEST_BATCH=0; else unset WEIR_TEST_BATCH; fi
    run weir pipeline backfill readings --from 2024-01-01 --to 2024-01-02 --rerun --project-dir p
    expect_rc 1 "$mode: a backfill of a clean day and a bad one fails"
    expect_err_contains "2 runs, 1 succeeded, 1 failed" "$mode: the clean day passed, the bad day failed"
    fails=$(failed_day)
    case "$fails" in
        "2024-01-02 test 'not_null_readings_v' of model 'readings' failed"*) pass "$mode: the bad day failed its not_null test" ;;
        *) fail "$mode: the bad day failed its not_null test" "got: $fails" ;;
    esac
    log=$(ls p/.weir/logs/readings/2024-01-02/readings.*.log | tail -1)
    expect_true "$mode: the test's SQL is the run's" grep -q "where day = '2024-01-02'" "$log"
    expect_true "$mode: accepted_values kept to the day too" grep -q "test accepted_values_readings_sensor__a__b: fail" "$log"
    log=$(ls p/.weir/logs/readings/2024-01-01/readings.*.log | tail -1)
    expect_true "$mode: the clean day's tests passed" grep -q "test not_null_readings_v: pass" "$log"
    if [ $mode = batched ]; then
        expect_true "batched: the tests were computed together" grep -q "computed together" "$log"
    else
        expect_true "own: each test ran its own query" bash -c "! grep -q 'computed together' '$log'"
    fi
done
unset WEIR_TEST_BATCH

# the custom test's limit is the run's: 10 on 2024-01-01, 30 on 2024-01-03
run weir pipeline run readings --date 2024-01-03 --project-dir p
expect_rc 0 "a templated argument reads the run's vars (2024-01-03: at most 30)"
weir query --project-dir p "update raw.readings set v = 11 where day = '2024-01-01' and sensor = 'a'" >/dev/null
run weir pipeline run readings --date 2024-01-01 --project-dir p
expect_rc 1 "and 2024-01-01's limit is 10"
case "$(failed_day)" in
    *"2024-01-01 test 'v_at_most'"*) pass "the custom test failed, on the run's limit" ;;
    *) fail "the custom test failed, on the run's limit" "got: $(failed_day)" ;;
esac
expect_no_crash "no crash"
done_testing
