#!/usr/bin/env bash
# Scenario: `weir validate --docs` writes Data Docs: an index of suites, a
# page per suite with its history from the store, a page per run.
. "$(dirname "$0")/../lib.sh"

run weir init shop
expect_rc 0 "init a project"
run weir query -C shop "CREATE TABLE t AS SELECT i AS id, ['a', 'b', '<x>'][1 + i % 3] AS s
    FROM range(0, 30) t(i)"
expect_rc 0 "create a table"
cat >shop/expectations/t_suite.yml <<'YML'
expectation_suite_name: t_suite
table: t
expectations:
  - {expectation_type: expect_table_row_count_to_be_between, kwargs: {min_value: 10}}
  - {expectation_type: expect_column_values_to_be_in_set, kwargs: {column: s, value_set: [a, b]}}
  - {expectation_type: expect_column_values_to_be_unique, kwargs: {column: id}}
YML
run weir validate -C shop t_suite --date 2024-03-01
expect_rc 1 "the first run fails"
expect_true "no docs without --docs" test ! -e shop/target/data_docs
run weir validate -C shop t_suite --date 2024-03-02 --docs --result-format SUMMARY
expect_rc 1 "the second run fails too"
expect_err_contains "Data Docs in target/data_docs/index.html" "says where the docs are"
D=shop/target/data_docs
expect_true "an index" test -f $D/index.html
expect_true "a page per suite" test -f $D/suites/t_suite.html
expect_true "a page per run, both runs" test "$(ls $D/runs/t_suite/*.html | wc -l)" -eq 2
expect_true "the index links the suite" grep -q 'href="suites/t_suite.html"' $D/index.html
expect_true "the history shows both dates" \
    sh -c "grep -q 2024-03-01 $D/suites/t_suite.html && grep -q 2024-03-02 $D/suites/t_suite.html"
RUN=$(ls $D/runs/t_suite/*.html | tail -1)
expect_true "a run shows pass and fail" sh -c "grep -q 'badge ok' $RUN && grep -q 'badge fail' $RUN"
expect_true "unexpected values are escaped, with counts" grep -q '&quot;&lt;x&gt;&quot;</span>&nbsp;&times;10' "$RUN"
expect_true "observed values are shown" grep -q '>30<' "$RUN"
expect_true "nothing is fetched from elsewhere" sh -c "! grep -qE '<(script|link)|https?://' $D/index.html $D/suites/t_suite.html $RUN"

# without a store, the result files are the history
run weir validate -C shop t_suite --no-store --docs
expect_rc 1 "a run without the store"
expect_true "docs from the result files hold the three runs" test "$(ls $D/runs/t_suite/*.html | wc -l)" -eq 3

# the project's docs site writes the Data Docs too and links them
rm -rf shop/target/data_docs
run weir docs generate -C shop
expect_rc 0 "docs generate"
expect_out_contains "data_docs/index.html" "says it wrote the Data Docs"
expect_true "the Data Docs are written with the site" test -f $D/suites/t_suite.html
expect_true "the site links them" grep -q 'href="data_docs/index.html"' shop/target/index.html

done_testing
