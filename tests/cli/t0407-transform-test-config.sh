#!/usr/bin/env bash
# Scenario: the config of data tests (where, limit, warn_if, error_if,
# severity) and on_schema_change=sync_all_columns.
. "$(dirname "$0")/../lib.sh"

mkdir -p p/models p/seeds
printf 'name: tc\n' >p/dbt_project.yml
printf 'id,kind\n1,a\n2,a\n3,b\n4,\n5,\n6,\n' >p/seeds/items.csv
echo "select * from {{ ref('items') }}" >p/models/items_v.sql
cat >p/models/schema.yml <<'YML'
version: 2
models:
  - name: items_v
    columns:
      - name: kind
        tests:
          - not_null:
              name: kind_where
              config:
                where: "id < 4"
          - not_null:
              config:
                warn_if: ">= 1"
                error_if: "> 5"
          - accepted_values:
              values: [x]
              config:
                error_if: "> 1"
                limit: 1
YML
weir seed -C p >/dev/null && weir run -C p >/dev/null
run weir test -C p
expect_rc 0 "no test fails"
expect_out_contains "PASS  test kind_where" "where: filters the rows tested; name: names the test"
expect_out_contains "WARN  test not_null_items_v_kind " "warn_if/error_if: 3 NULLs warn but do not fail"
expect_out_contains "WARN  test accepted_values_items_v_kind__x" "limit: caps the failures counted (2 found, 1 counted, error_if > 1)"
expect_true "warn status in run_results" grep -q '"status": "warn"' p/target/run_results.json
expect_true "the model's generic tests ran together" grep -q "computed together" p/target/run/tc/models/schema.yml/kind_where.sql
strip() { sed -E 's/^[0-9:]+ +[0-9]+ of [0-9]+ //; s/ in [0-9.]+s\]/]/' | grep -E "PASS|WARN|FAIL|ERROR|Done" | sort; }
batched_out=$(printf '%s\n' "$out" | strip)
expect_true "the batched run printed its tests" test "$(printf "%s\n" "$batched_out" | grep -c "test ")" -ge 3
WEIR_TEST_BATCH=0 run weir test -C p
expect_rc 0 "WEIR_TEST_BATCH=0: each test its own query"
expect_true "each test's own query ran" sh -c '! grep -q "computed together" p/target/run/tc/models/schema.yml/kind_where.sql'
expect_true "the same results either way" test "$(printf '%s\n' "$out" | strip)" = "$batched_out"

# sync_all_columns: new columns added, removed ones dropped
cat >p/models/inc.sql <<'SQL'
{{ config(materialized='incremental', on_schema_change='sync_all_columns', incremental_strategy='append') }}
select id, kind from {{ ref('items') }}
SQL
weir run -C p -s inc >/dev/null
sed -i 's/select id, kind from/select id, id * 10 as tenfold from/' p/models/inc.sql
run weir run -C p -s inc
expect_rc 0 "sync_all_columns run"
run weir query -C p --format csv "select string_agg(column_name, ' ' order by ordinal_position) from information_schema.columns where table_name = 'inc'"
expect_out_contains "id tenfold" "kind is dropped and tenfold added"
run weir query -C p --format csv "select count(*), count(tenfold) from inc"
expect_out_contains "12,6" "old rows keep NULL in the new column"

done_testing
