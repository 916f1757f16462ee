#!/usr/bin/env bash
# Scenario: templated kwargs in a suite: {{ ds }} and the data interval from
# --date, var() from weir.yml's vars, and template errors at their place.
. "$(dirname "$0")/../lib.sh"

run weir init shop
expect_rc 0 "init a project"
cat >>shop/weir.yml <<'YML'
vars:
  min_rows: 3
  share: 0.5
YML
run weir query -C shop "CREATE TABLE events AS SELECT i AS id,
    DATE '2024-01-01' + CAST(i % 3 AS INTEGER) AS day,
    CASE WHEN i % 2 = 0 THEN NULL ELSE i END AS v FROM range(0, 12) t(i)"
expect_rc 0 "create a table"

cat >shop/expectations/daily.yml <<'YML'
expectation_suite_name: daily
table: events
expectations:
  - expectation_type: expect_table_row_count_to_be_between
    kwargs:
      min_value: "{{ var('min_rows') }}"
      row_condition: "day = DATE '{{ ds }}'"
  - expectation_type: expect_column_values_to_not_be_null
    kwargs:
      column: v
      mostly: "{{ var('share') }}"
      row_condition: "day >= DATE '{{ data_interval_start }}' AND day < DATE '{{ data_interval_end }}'"
  - expectation_type: expect_column_values_to_be_between
    kwargs: {column: day, min_value: "{{ ds }}", max_value: "{{ ds }}", row_condition: "id < 100"}
YML
run weir validate -C shop daily --date 2024-01-02 --format json
expect_rc 1 "the day's partition is checked (the between fails on other days)"
expect_out_contains '"row_condition": "day = DATE '"'"'2024-01-02'"'"'"' "ds is rendered into row_condition"
expect_out_contains '"min_value": 3' "a var keeps its type"
expect_out_contains '"mostly": 0.5' "a float var is a number"
expect_out_contains '"observed_value": 4' "the row count is the day's"
expect_out_contains "day < DATE '2024-01-03'" "data_interval_end is the next day"

run weir validate -C shop daily --date 2024-01-02
expect_out_contains "ok    expect_table_row_count_to_be_between: observed 4" "text report"
expect_out_contains "FAIL  expect_column_values_to_be_between(day): 8 unexpected of 12" "ds as a bound"

cat >shop/expectations/broken.yml <<'YML'
expectation_suite_name: broken
table: events
expectations:
  - expectation_type: expect_table_row_count_to_be_between
    kwargs: {min_value: 1}
  - expectation_type: expect_column_values_to_not_be_null
    kwargs:
      column: v
      mostly: "{{ var('nope') }}"
  - expectation_type: expect_column_values_to_not_be_null
    kwargs:
      column: "{{ colum }}"
YML
run weir validate -C shop broken
expect_rc 1 "a template error fails its expectation only"
expect_no_crash "no crash on template errors"
expect_err_contains "shop/expectations/broken.yml:9:15: error: expectation 'expect_column_values_to_not_be_null': kwarg 'mostly': cannot render" "a missing var is reported at its kwarg"
expect_err_contains "required var 'nope' not found" "the var is named"
expect_err_contains "shop/expectations/broken.yml:12:15:" "an undefined name at its kwarg"
expect_out_contains "ok    expect_table_row_count_to_be_between" "the other expectations run"

run weir validate -C shop daily
expect_no_crash "without --date, ds is none"
expect_out_contains "ERROR" "a suite needing ds without --date reports errors"

done_testing
