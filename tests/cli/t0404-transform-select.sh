#!/usr/bin/env bash
# Scenario: dbt's selection syntax through `weir ls`.
. "$(dirname "$0")/../lib.sh"

mkdir -p p/models/staging p/models/marts
cat >p/dbt_project.yml <<'YML'
name: sel
models:
  sel:
    staging:
      +tags: [stage]
    marts:
      +materialized: table
      +tags: [mart]
YML
cat >p/models/sources.yml <<'YML'
version: 2
sources:
  - name: raw
    tables:
      - name: users
      - name: orders
YML
echo "select * from {{ source('raw', 'users') }}" >p/models/staging/stg_users.sql
echo "select * from {{ source('raw', 'orders') }}" >p/models/staging/stg_orders.sql
echo "select * from {{ ref('stg_users') }} join {{ ref('stg_orders') }} using (id)" >p/models/marts/fct.sql
echo "{{ config(materialized='incremental', tags=['nightly']) }} select * from {{ ref('fct') }}" >p/models/marts/agg.sql
echo "select * from {{ ref('agg') }}" >p/models/marts/report.sql
cat >p/models/marts/schema.yml <<'YML'
version: 2
models:
  - name: fct
    columns:
      - name: id
        tests: [not_null]
YML

ls_names() { run weir ls -C p --output name --resource-type model "$@"; out=$(sort <<<"$out" | tr '\n' ' '); }

ls_names -s fct
expect_out_eq "fct " "a name"
ls_names -s +fct
expect_out_eq "fct stg_orders stg_users " "+name: the model and its ancestors"
ls_names -s fct+
expect_out_eq "agg fct report " "name+: the model and its descendants"
ls_names -s fct+1
expect_out_eq "agg fct " "name+1: one generation down"
ls_names -s 1+agg
expect_out_eq "agg fct " "1+name: one generation up"
ls_names -s @agg
expect_out_eq "agg fct report stg_orders stg_users " "@name: descendants and their ancestors"
ls_names -s tag:stage
expect_out_eq "stg_orders stg_users " "tag:"
ls_names -s tag:mart,config.materialized:incremental
expect_out_eq "agg " "intersection with config.materialized:"
ls_names -s "tag:nightly stg_users"
expect_out_eq "agg stg_users " "a space is a union"
ls_names -s stg_users -s report
expect_out_eq "report stg_users " "repeated -s is a union"
ls_names -s path:models/marts --exclude report
expect_out_eq "agg fct " "path: with --exclude"
ls_names -s source:raw+
expect_out_eq "agg fct report stg_orders stg_users " "source:name+"
ls_names -s source:raw.users+1
expect_out_eq "stg_users " "source:src.table+1"
ls_names -s "stg_*"
expect_out_eq "stg_orders stg_users " "wildcards"
ls_names -s staging
expect_out_eq "stg_orders stg_users " "a folder name selects by fqn"

run weir ls -C p -s fct --output name
expect_out_contains "not_null_fct_id" "tests of a selected model come along"
run weir ls -C p -s test_type:generic --output name
expect_out_eq "not_null_fct_id" "test_type:generic"
run weir ls -C p -s resource_type:source
expect_out_contains "source:sel.raw.users" "sources are listed with source:"
run weir ls -C p -s color:red
expect_rc 2 "an unknown method is a usage error"
expect_err_contains "unknown selector method 'color'" "and says which"

done_testing
