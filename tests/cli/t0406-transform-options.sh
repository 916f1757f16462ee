#!/usr/bin/env bash
# Scenario: command options and smaller dbt features: --fail-fast, --vars,
# sources with tests, disabled models, env_var, weir.yml projects with
# dbt folders, exceptions.raise_compiler_error, adapter.dispatch.
. "$(dirname "$0")/../lib.sh"

mkdir -p p/models p/macros
cat >p/dbt_project.yml <<'YML'
name: opts
vars:
  greeting: hello
models:
  opts:
    off:
      +enabled: false
YML
cat >p/models/sources.yml <<'YML'
version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: things
        identifier: things_v1
        columns:
          - name: id
            tests: [not_null]
YML
mkdir -p p/models/off
echo "select 1 as never" >p/models/off/disabled_model.sql
echo "select id, '{{ var('greeting') }}' as g, '{{ env_var('WEIR_T_ENV', 'unset') }}' as e from {{ source('raw', 'things') }}" >p/models/a.sql
echo "select {{ my_cast('id') }} as id from {{ ref('a') }}" >p/models/b.sql
cat >p/macros/dispatch.sql <<'SQL'
{% macro my_cast(col) %}{{ return(adapter.dispatch('my_cast')(col)) }}{% endmacro %}
{% macro default__my_cast(col) %}cast({{ col }} as varchar){% endmacro %}
{% macro duckdb__my_cast(col) %}cast({{ col }} as bigint){% endmacro %}
SQL
weir query -C p "create schema raw; create table raw.things_v1 as select 1 as id union all select null" >/dev/null

run weir compile -C p --vars '{greeting: bonjour}'
expect_rc 0 "compile with --vars"
expect_true "--vars wins over the project's vars" grep -q "bonjour" p/target/compiled/opts/models/a.sql
expect_true "adapter.dispatch picks the duckdb__ macro" grep -q "cast(id as bigint)" p/target/compiled/opts/models/b.sql
expect_true "sources resolve to schema.identifier" grep -q '"raw"."things_v1"' p/target/compiled/opts/models/a.sql
run weir ls -C p --output name
expect_out_not_contains "disabled_model" "a disabled model is not listed"

WEIR_T_ENV=set run weir run -C p
expect_rc 0 "run"
run weir query -C p --format csv "select distinct e from a"
expect_out_contains "set" "env_var reads the environment at render time"

run weir test -C p
expect_rc 1 "a failing source test"
expect_out_contains "FAIL  test not_null_source_raw_things_id" "source tests run"

run weir test -C p -s source:raw
expect_rc 1 "source: selects the source's tests"

echo "select nope" >p/models/c.sql
echo "select 1 as independent" >p/models/zz.sql
run weir run -C p --fail-fast
expect_rc 1 "--fail-fast stops at the first failure"
expect_out_contains "ERROR view model main.c" "the failure is shown"
expect_out_contains "SKIP  view model main.zz" "an independent model left is skipped"
run weir run -C p
expect_out_contains "OK    view model main.zz" "without --fail-fast it runs"
rm p/models/c.sql p/models/zz.sql

echo "{{ exceptions.raise_compiler_error('bad config for ' ~ this) }}" >p/models/e.sql
run weir compile -C p
expect_rc 1 "raise_compiler_error fails compile"
expect_err_contains "models/e.sql:1:" "at its place"
expect_err_contains 'bad config for "main"."e"' "with the message"
rm p/models/e.sql

# relations have attributes, and print as their quoted names
echo "{{ config(post_hook='create or replace table {{ this.schema }}.rel_seen as select \\'{{ this.identifier }}\\' as id') }} select '{{ ref(\"a\").schema }}.{{ ref(\"a\").identifier }}' as r, '{{ source(\"raw\", \"things\").name }}' as s" >p/models/rels.sql
run weir run -C p -s rels
expect_rc 0 "a model reading relation attributes"
run weir query -C p --format csv "select r, s, (select id from main.rel_seen) as hook from rels"
expect_out_contains "main.a,things_v1,rels" "ref(), source() and this expose schema, identifier and name"
rm p/models/rels.sql

# run_query, as dbt_utils.get_column_values uses it
cat >p/models/kinds_wide.sql <<'SQL'
{% set kinds = run_query("select 'x' as k, 1 as n union all select 'y', 2 order by 1") %}
{% if execute %}
select {% for k in kinds.columns[0].values() %}'{{ k }}' as col_{{ k }}, {% endfor %}{{ kinds.rows | length }} as n_rows, {{ kinds.rows[1][1] + 1 }} as three
{% else %}
select 1 as not_executed
{% endif %}
SQL
run weir run -C p -s kinds_wide
expect_rc 0 "a model using run_query"
run weir query -C p --format csv "select col_x, col_y, n_rows, three from kinds_wide"
expect_out_contains "x,y,2,3" "run_query's columns and rows render"
run weir ls -C p -s kinds_wide
expect_rc 0 "ls renders with execute false, without the warehouse"
rm p/models/kinds_wide.sql

# statement / load_result, in a macro and in a model
cat >p/macros/stmt.sql <<'SQL'
{% macro max_n() %}
  {% call statement('mx', fetch_result=True) %}select max(n) as m from (select 41 as n){% endcall %}
  {% set r = load_result('mx') %}
  {{ return(r['data'][0][0] if r else 0) }}
{% endmacro %}
SQL
cat >p/models/stmt_model.sql <<'SQL'
{% set lim = 2 %}
{% call statement('direct', fetch_result=True) %}select {{ lim }} * 21 as v{% endcall %}
select {{ max_n() + 1 }} as answer, {{ load_result('direct')['data'][0][0] if execute else 0 }} as direct
SQL
run weir run -C p -s stmt_model
expect_rc 0 "a model using statement and load_result"
run weir query -C p --format csv "select answer, direct from stmt_model"
expect_out_contains "42,42" "the statements' results are loaded (the block sees the model's variables)"
rm p/models/stmt_model.sql p/macros/stmt.sql

run weir run -C p --threads 0
expect_rc 0 "--threads 0 uses the default"
run weir run -C p --threads x
expect_rc 2 "--threads needs a number"

# a weir.yml project uses the same folders
mkdir -p w/models
printf 'name: wproj\n' >w/weir.yml
echo "select 42 as answer" >w/models/answer.sql
run weir build -C w
expect_rc 0 "weir.yml projects build models too"
run weir query -C w --format csv "select answer from answer"
expect_out_contains "42" "the model is in the warehouse"
printf 'name: wproj\ndbt:\n  models:\n    wproj:\n      +materialized: table\n' >w/weir.yml
run weir run -C w
expect_out_contains "table model main.answer" "weir.yml's dbt: section holds the config tree"

done_testing
