#!/usr/bin/env bash
# Scenario: `weir profile TABLE`: per-column statistics and a suggested
# suite that holds on the data and validates as written.
. "$(dirname "$0")/../lib.sh"

run weir init shop
expect_rc 0 "init a project"
run weir query -C shop "CREATE TABLE orders AS SELECT i AS id,
    CASE WHEN i % 10 = 0 THEN NULL ELSE 'st' || (i % 3) END AS status,
    i * 1.5 AS amount, DATE '2024-01-01' + CAST(i % 5 AS INTEGER) AS day,
    i % 7 AS bucket FROM range(1, 101) t(i)"
expect_rc 0 "create a table"

run weir profile -C shop orders
expect_rc 0 "profile a table"
expect_out_contains "table 'orders': 100 rows, 5 columns" "the table's size"
expect_out_contains "status               VARCHAR        10.00%" "null share per column"
expect_out_contains "unique mean 50.5" "uniqueness and mean"
expect_out_contains '"expectation_suite_name": "orders"' "the suggested suite is printed"
expect_out_contains '"mostly": 0.9' "nulls become mostly"
expect_out_contains '"expect_column_values_to_be_in_set"' "few values become a set"

run weir profile -C shop orders --suite-name orders_v1 -o expectations/orders_v1.json
expect_rc 0 "write the suggestion"
expect_out_contains "suggested suite (" "says where it went"
expect_true "the file is there" test -f shop/expectations/orders_v1.json
run weir validate -C shop orders_v1
expect_rc 0 "the suggested suite passes on the data it came from"
expect_out_contains "expect_column_values_to_be_unique(id)" "it checks the key"
expect_out_contains "expect_column_values_to_be_between(day)" "and the dates' range"

run weir profile -C shop orders --format json
expect_out_contains '"profile": {' "json has the profile"
expect_out_contains '"suggested_suite": {' "and the suite"

run weir profile -C shop nope
expect_rc 2 "a missing table is a usage error"
expect_err_contains "cannot read table 'nope'" "named"

done_testing
