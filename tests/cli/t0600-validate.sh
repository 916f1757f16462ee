#!/usr/bin/env bash
# Scenario: `weir validate` on a small project: passing and failing suites in
# JSON and YAML, the report, GX's JSON, the result file, bad suites.
. "$(dirname "$0")/../lib.sh"

run weir init shop
expect_rc 0 "init a project"
run weir query -C shop "CREATE TABLE orders AS SELECT i AS id,
    CASE WHEN i % 10 = 0 THEN NULL ELSE 'st' || (i % 3) END AS status,
    i * 1.5 AS amount FROM range(1, 101) t(i)"
expect_rc 0 "create a table"

cat >shop/expectations/orders.json <<'JSON'
{
  "expectation_suite_name": "orders",
  "meta": {"table": "orders"},
  "expectations": [
    {"expectation_type": "expect_table_row_count_to_be_between",
     "kwargs": {"min_value": 1, "max_value": 1000}},
    {"expectation_type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
    {"expectation_type": "expect_column_values_to_not_be_null",
     "kwargs": {"column": "status", "mostly": 0.9}},
    {"expectation_type": "expect_column_values_to_be_in_set",
     "kwargs": {"column": "status", "value_set": ["st0", "st1", "st2"]}},
    {"expectation_type": "expect_column_mean_to_be_between",
     "kwargs": {"column": "amount", "min_value": 50, "max_value": 100}}
  ]
}
JSON
run weir validate -C shop orders
expect_rc 0 "a passing suite exits 0"
expect_out_contains "suite 'orders' on 'orders': 5 of 5 expectations passed" "the report counts"
expect_out_contains "ok    expect_column_mean_to_be_between(amount): observed 75.75" "observed values shown"
expect_out_contains "suite passed; result in target/validations/orders/" "says where the result is"
expect_true "the result file is written" test -n "$(ls shop/target/validations/orders/*.json 2>/dev/null)"

cat >shop/expectations/strict.yml <<'YML'
expectation_suite_name: strict
table: orders
expectations:
  - expectation_type: expect_column_values_to_not_be_null
    kwargs: {column: status}
  - expectation_type: expect_column_values_to_be_between
    kwargs: {column: amount, min_value: 10, max_value: 1}
  - expectation_type: expect_column_values_to_match_regex
    kwargs: {column: statuz, regex: "^st"}
  - expectation_type: expect_column_values_to_be_in_set
    kwargs: {column: status, value_set: [st0, st1]}
YML
run weir validate -C shop strict
expect_rc 1 "a failing suite exits 1"
expect_no_crash "bad kwargs do not crash"
expect_out_contains "FAIL  expect_column_values_to_not_be_null(status): 10 unexpected of 100 (10%)" "unexpected count"
expect_out_contains "FAIL  expect_column_values_to_be_in_set(status): 30 unexpected of 100" "in_set fails"
expect_out_contains 'e.g. ["st2"' "unexpected samples are shown"
expect_out_contains "ERROR expect_column_values_to_be_between(amount): shop/expectations/strict.yml:7:41: kwarg 'min_value': 10 is greater than max_value 1" "min above max is the expectation's error"
expect_out_contains "column 'statuz' does not exist in 'orders'; did you mean 'status'?" "a missing column suggests"
expect_out_contains "suite FAILED" "the suite is said to fail"
expect_err_contains "shop/expectations/strict.yml:7:41: error: expectation 'expect_column_values_to_be_between'" "stderr names file:line:col"

run weir validate -C shop strict --format json
expect_rc 1 "json: a failing suite exits 1"
expect_out_contains '"success": false' "json has success"
expect_out_contains '"unsuccessful_expectations": 4' "json has statistics"
expect_out_contains '"partial_unexpected_list": [' "json has samples"
expect_out_contains '"raised_exception": true' "json has exception_info"
expect_true "the JSON parses" bash -c "printf '%s' \"\$1\" | python3 -m json.tool >/dev/null" _ "$out"

run weir validate -C shop orders --table main.orders --date 2024-01-02 --format json
expect_rc 0 "--table and --date"
expect_out_contains '"ds": "2024-01-02"' "the date is kept"

run weir validate -C shop orders --table nope
expect_rc 1 "a missing table exits 1"
expect_err_contains "cannot read table 'nope'" "a missing table is named"

run weir validate -C shop nosuch
expect_rc 2 "an unknown suite exits 2"
expect_err_contains "no suite 'nosuch'" "an unknown suite is named"

run weir validate -C shop orders --date 2024-13-01
expect_rc 2 "a bad date is a usage error"

run weir validate -C shop orders --result-format SUMMARY
expect_rc 0 "--result-format"

printf 'name: broken\nexpectations: [\n' >shop/expectations/broken.yml
run weir validate -C shop broken
expect_rc 2 "a broken suite file exits 2"
expect_err_contains "shop/expectations/broken.yml:" "a broken suite names its place"

run weir check -C shop
expect_rc 2 "weir check refuses a project with a bad suite"
expect_err_contains "shop/expectations/strict.yml:7:41: error: expectation 'expect_column_values_to_be_between': kwarg 'min_value'" "weir check checks kwargs"
expect_true "a YAML syntax error is reported once" test "$(grep -c 'broken.yml' <<<"$err")" -eq 1
rm shop/expectations/broken.yml shop/expectations/strict.yml
run weir check -C shop
expect_rc 0 "weir check accepts good suites"

if command -v sqlite3 >/dev/null; then
    n=$(sqlite3 shop/.weir/store.db "SELECT count(*) FROM validations WHERE suite = 'strict' AND success = 0")
    expect_true "validations are kept in the store" test "$n" -ge 2
fi

run weir validate --help
expect_rc 0 "validate --help"
expect_out_contains "usage: weir validate" "validate has usage"

done_testing
