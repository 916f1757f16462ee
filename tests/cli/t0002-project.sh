#!/usr/bin/env bash
# Scenario: check and query on real projects, good and bad.
. "$(dirname "$0")/../lib.sh"

run weir init shop
expect_rc 0 "init a project"

run weir check --project-dir shop
expect_rc 0 "a new project checks clean"
expect_out_contains "project 'shop': ok" "check says the project is ok"

run weir check --project-dir shop --format json
expect_rc 0 "check --format json on a clean project"
expect_out_contains '"ok": true' "the JSON report says ok"

# Several mistakes in one file: all reported, each at its place.
cat >bad.yml <<'YML'
name: shop
warehouse:
  type: duckdb
  pth: warehouse.duckdb
defaults:
  retries: two
YML
mkdir bad && cp bad.yml bad/weir.yml
run weir check --project-dir bad
expect_rc 2 "an invalid project exits 2"
expect_err_contains "bad/weir.yml:4:3: error: unknown key 'pth'" "unknown key at its place"
expect_err_contains "did you mean 'path'?" "unknown key suggests the nearest"
expect_err_contains "bad/weir.yml:6:12: error:" "a wrong type at its place, in the same run"
expect_no_crash "check of a bad project does not crash"

# weir.yml's mistakes and another file's are reported in one run
mkdir bad/pipelines && printf 'pipeline: x\nschedule: [\n' >bad/pipelines/x.yml
run weir check --project-dir bad
expect_rc 2 "errors in several files exit 2"
expect_err_contains "bad/pipelines/x.yml:3:1: error:" "the pipeline file's error is reported"
expect_err_contains "bad/weir.yml:4:3: error: unknown key 'pth'" "along with weir.yml's"
expect_err_contains "3 errors, 0 warnings" "and counted"
rm -r bad/pipelines

run weir check --project-dir bad --format json
expect_rc 2 "check --format json exits 2 on errors"
expect_out_contains '"line": 4' "the JSON report gives lines"

# Malformed YAML
mkdir broken && printf 'name: shop\nwarehouse: [unclosed\n' >broken/weir.yml
run weir check --project-dir broken
expect_rc 2 "malformed YAML exits 2"
expect_err_contains "broken/weir.yml:" "malformed YAML names the file"
expect_no_crash "malformed YAML does not crash"

# A folder that is no project
mkdir empty
run weir check --project-dir empty
expect_rc 2 "a folder without weir.yml exits 2"
expect_err_contains "no weir.yml in 'empty'" "and says what is missing"
expect_err_contains "weir init" "and how to fix it"

# Unset variable in weir.yml
mkdir envp && printf 'name: envp\nwarehouse:\n  path: ${WEIR_TEST_SURELY_UNSET_VAR}\n' >envp/weir.yml
run weir check --project-dir envp
expect_rc 2 "an unset variable exits 2"
expect_err_contains "WEIR_TEST_SURELY_UNSET_VAR" "the error names the variable"
WEIR_TEST_SURELY_UNSET_VAR=env.duckdb run weir check --project-dir envp
expect_rc 0 "with the variable set the project is valid"

# A YAML syntax error in a pipeline file is found by check too.
printf 'pipeline: x\nschedule: "@daily\n' >shop/pipelines/x.yml
run weir check --project-dir shop
expect_rc 2 "a broken pipeline file fails check"
expect_err_contains "shop/pipelines/x.yml:" "the pipeline file is named"
rm shop/pipelines/x.yml

# query: formats
run weir query --project-dir shop "select 42 as answer, 'a,b' as s, null as n, 1.50::decimal(5,2) as d"
expect_rc 0 "query runs"
expect_out_contains " answer | s   | n    | d" "table header"
expect_out_contains "     42 | a,b | NULL | 1.50" "table row, numbers right-aligned"
expect_out_contains "(1 row)" "table footer"

run weir query --project-dir shop --format csv "select * from range(3) t(n)"
expect_out_eq "$(printf 'n\n0\n1\n2')" "csv output"

run weir query --project-dir shop --format json "select 1 as a, 'x' as b, null as c, true as t, date '2024-02-29' as d"
expect_rc 0 "query --format json"
expect_out_contains '"a": 1, "b": "x", "c": null, "t": true, "d": "2024-02-29"' "json is typed"

# query: state persists in the warehouse file
run weir query --project-dir shop "create table t as select range as i from range(5)"
expect_rc 0 "create a table"
run weir query --project-dir shop --format csv "select sum(i) as s from t"
expect_out_eq "$(printf 's\n10')" "the table is there in the next command"
echo "select count(*) as n from t" >q.sql
"$WEIR" query --project-dir shop --format csv - <q.sql >stdin.out 2>&1
expect_true "SQL from stdin" grep -qx 5 stdin.out

# query: errors
run weir query --project-dir shop "select * from nope"
expect_rc 1 "a SQL error exits 1"
expect_err_contains "Catalog Error: Table with name nope does not exist" "the engine's message is intact"
run weir query --project-dir shop
expect_rc 2 "query without SQL is a usage error"
run weir query --project-dir shop --format xml "select 1"
expect_rc 2 "an unknown format is a usage error"

# an unreadable database
mkdir garbage && printf 'name: garbage\nwarehouse:\n  path: not-a-db.duckdb\n' >garbage/weir.yml
head -c 100000 /dev/urandom >garbage/not-a-db.duckdb
run weir query --project-dir garbage "select 1"
expect_rc 1 "a file that is not a database exits 1"
expect_err_contains "not-a-db.duckdb" "the error names the file"
expect_no_crash "a garbage database does not crash"

# version
run weir version
expect_rc 0 "version"
expect_out_contains "duckdb v1.4.4" "version names DuckDB"
expect_out_contains "sqlite 3." "version names SQLite"
run weir version --format json
expect_out_contains '"duckdb": "v1.4.4"' "version --format json"

# global logging options
run weir --log-format json --verbose query --project-dir shop "select 1"
expect_rc 0 "global options before the command"
run weir query --quiet --project-dir shop "select 1"
expect_rc 0 "common options after the command"

done_testing
