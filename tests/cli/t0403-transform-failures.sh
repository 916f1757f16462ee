#!/usr/bin/env bash
# Scenario: what failures do: a failing model leaves the old relation
# readable, a failing test skips what depends on its model in a build,
# cycles and unknown refs are reported with their names and places.
. "$(dirname "$0")/../lib.sh"

mkdir -p p/models p/seeds
cat >p/dbt_project.yml <<'YML'
name: fails
models:
  fails:
    +materialized: table
YML
printf 'id,name\n1,a\n2,b\n2,c\n' >p/seeds/people.csv
echo "select id, name from {{ ref('people') }}" >p/models/people_t.sql
echo "select count(*) as n from {{ ref('people_t') }}" >p/models/people_count.sql
echo "select * from {{ ref('people_count') }}" >p/models/people_report.sql
cat >p/models/schema.yml <<'YML'
version: 2
models:
  - name: people_t
    columns:
      - name: id
        tests: [unique]
      - name: name
        tests:
          - not_null
          - accepted_values:
              values: [a, b, c, d]
              config:
                severity: warn
YML

run weir build -C p
expect_rc 1 "a failing test fails the build"
expect_out_contains "FAIL  test unique_people_t_id" "the unique test fails"
expect_out_contains "Got 1 result, configured to fail if != 0" "with dbt's message"
expect_out_contains "SKIP  table model main.people_count" "its model's dependants are skipped"
expect_out_contains "SKIP  table model main.people_report" "transitively"
expect_out_contains "PASS  test not_null_people_t_name" "other tests of the model still run"
expect_true "run_results says fail and skipped" grep -q '"status": "skipped"' p/target/run_results.json
expect_true "failures are counted" grep -q '"failures": 1' p/target/run_results.json

run weir test -C p -s people_t --exclude test_name:unique
expect_rc 0 "tests without the failing one pass"

sed -i 's/tests: \[unique\]/tests: [{unique: {config: {store_failures: true}}}]/' p/models/schema.yml
run weir test -C p -s test_name:unique
expect_rc 1 "store_failures: the test still fails"
run weir query -C p --format csv "select unique_field, n_records from main_dbt_test__audit.unique_people_t_id"
expect_out_contains "2,2" "and its failing rows are stored in <schema>_dbt_test__audit"

# severity warn
printf 'id,name\n1,a\n2,b\n3,z\n' >p/seeds/people.csv
weir seed -C p >/dev/null && weir run -C p >/dev/null
run weir test -C p
expect_rc 0 "a warning does not fail"
expect_out_contains "WARN  test accepted_values_people_t_name" "severity warn gives WARN"

# a failing model leaves the old table
weir run -C p >/dev/null
echo "select id, name, no_such_column from {{ ref('people') }}" >p/models/people_t.sql
run weir run -C p
expect_rc 1 "a SQL error fails the run"
expect_out_contains "ERROR table model main.people_t" "the model is named"
expect_out_contains "no_such_column" "with the engine's message"
expect_out_contains "SKIP  table model main.people_count" "its dependants are skipped"
run weir query -C p --format csv "select count(*) from people_t"
expect_rc 0 "the old table is still readable"
expect_out_contains "3" "with its rows"

# views too
echo "{{ config(materialized='view') }} select 1 as x" >p/models/v.sql
weir run -C p -s v >/dev/null
echo "{{ config(materialized='view') }} select nope" >p/models/v.sql
run weir run -C p -s v
expect_rc 1 "a failing view"
run weir query -C p --format csv "select x from v"
expect_out_contains "1" "the old view stays"

# an engine error with a position points at the line of the compiled SQL
printf "{{ config(materialized='view') }}\nselect 1 as a,\n  nope_col\nfrom (select 1 as b)\n" >p/models/at_line.sql
run weir run -C p -s at_line
expect_rc 1 "a model with an unknown column"
expect_out_contains "is line 3 of the model's compiled SQL, target/compiled/fails/models/at_line.sql" "the error points at the compiled SQL's line"
rm p/models/at_line.sql

# Jinja errors name the file, line and column
echo "select id, name from {{ ref('people') }}" >p/models/people_t.sql
printf 'select 1\nfrom {{ ref("peple_t") }}\n' >p/models/typo.sql
run weir compile -C p
expect_rc 1 "an unknown ref fails compile"
expect_err_contains "models/typo.sql:2:" "at its place"
expect_err_contains "did you mean 'people_t'?" "with the nearest name"
rm p/models/typo.sql
printf 'select {{ 1 + }}\n' >p/models/bad.sql
run weir compile -C p
expect_rc 1 "a syntax error"
expect_err_contains "models/bad.sql:1:" "names the file and line"
rm p/models/bad.sql

# cycles
echo "select * from {{ ref('c2') }}" >p/models/c1.sql
echo "select * from {{ ref('c3') }}" >p/models/c2.sql
echo "select * from {{ ref('c1') }}" >p/models/c3.sql
run weir run -C p
expect_rc 1 "a cycle fails"
expect_err_contains "dependency cycle: c" "the cycle is printed"
expect_err_contains "c1 -> c2 -> c3 -> c1" "with every model on it"
expect_no_crash "no crash on a cycle"

done_testing
