#!/usr/bin/env bash
# Scenario: `weir source freshness`: max(loaded_at_field) per source table
# against warn_after / error_after, with filters, table-level overrides,
# statuses pass / warn / error / runtime error, the exit code, selection
# and target/sources.json.
. "$(dirname "$0")/../lib.sh"

mkdir -p p/models
cat >p/dbt_project.yml <<'YML'
name: fresh
YML
cat >p/models/sources.yml <<'YML'
version: 2
sources:
  - name: raw
    schema: raw
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 12, period: hour}
      error_after: {count: 2, period: day}
    tables:
      - name: recent       # loaded an hour ago: pass
      - name: yesterday    # 30 hours ago: past warn_after, not error_after
      - name: stale        # 5 days ago: error
      - name: filtered     # fresh rows exist, but the filter keeps only old ones
        freshness:
          warn_after: {count: 1, period: hour}
          filter: "kind = 'old'"
      - name: empty        # no rows: a runtime error
      - name: untracked    # freshness switched off at the table
        freshness: null
      - name: minutes
        loaded_at_field: "cast(ts_text as timestamp)"
        freshness:
          error_after: {count: 90, period: minute}
  - name: other
    schema: raw
    tables:
      - name: no_freshness
YML
echo "select * from {{ source('raw', 'recent') }}" >p/models/m.sql
weir query -C p "create schema raw;
create table raw.recent as select now()::timestamp - interval 1 hour as loaded_at;
create table raw.yesterday as select now()::timestamp - interval 30 hour as loaded_at
  union all select now()::timestamp - interval 40 hour;
create table raw.stale as select now()::timestamp - interval 5 day as loaded_at;
create table raw.filtered as select now()::timestamp as loaded_at, 'new' as kind
  union all select now()::timestamp - interval 3 hour, 'old';
create table raw.empty (loaded_at timestamp);
create table raw.untracked as select now()::timestamp - interval 50 day as loaded_at;
create table raw.minutes as select cast(now()::timestamp - interval 2 hour as varchar) as ts_text;
create table raw.no_freshness as select 1 as id" >/dev/null
# the warehouse's now() is local time; freshness compares in UTC
export TZ=UTC

run weir source freshness -C p
expect_rc 1 "a stale source makes the command fail"
expect_out_contains "PASS freshness of raw.recent" "an hour-old source passes"
expect_out_contains "WARN freshness of raw.yesterday" "a 30-hour-old source warns (the newest row counts)"
expect_out_contains "ERROR STALE freshness of raw.stale" "a 5-day-old source is stale"
expect_out_contains "WARN freshness of raw.filtered" "the filter decides which rows count"
expect_out_contains "ERROR freshness of raw.empty: source 'raw.empty' has no rows with a 'loaded_at'" "an empty source is a runtime error"
expect_out_contains "ERROR STALE freshness of raw.minutes" "an expression as loaded_at_field, minutes as period"
expect_out_not_contains "untracked" "freshness: null switches the check off"
expect_out_not_contains "no_freshness" "a source without freshness is not checked"
expect_out_contains "PASS=1 WARN=2 ERROR=3 TOTAL=6" "the summary counts each status"

s=p/target/sources.json
check() { # check DESCRIPTION PYTHON-EXPRESSION (r: results by unique_id)
    expect_true "$1" python3 -c "import json,sys; d=json.load(open('$s')); r={x['unique_id']: x for x in d['results']}; sys.exit(0 if ($2) else 1)"
}
check "sources.json has dbt's metadata" "d['metadata']['dbt_schema_version'].endswith('/sources/v3.json') and 'elapsed_time' in d"
check "statuses as dbt words them" \
    "[r['source.fresh.raw.' + t]['status'] for t in ('recent', 'yesterday', 'stale', 'empty')] == ['pass', 'warn', 'error', 'runtime error']"
check "the age is measured from the newest row" \
    "29.9 * 3600 < r['source.fresh.raw.yesterday']['max_loaded_at_time_ago_in_s'] < 30.5 * 3600"
check "criteria are recorded, the table's overriding the source's" \
    "r['source.fresh.raw.filtered']['criteria'] == {'warn_after': {'count': 1, 'period': 'hour'}, 'error_after': {'count': None, 'period': None}, 'filter': \"kind = 'old'\"}"
check "max_loaded_at and snapshotted_at are UTC timestamps" \
    "r['source.fresh.raw.recent']['max_loaded_at'].endswith('Z') and r['source.fresh.raw.recent']['snapshotted_at'] > r['source.fresh.raw.recent']['max_loaded_at']"
check "a runtime error carries its message" "'no rows' in r['source.fresh.raw.empty']['error']"

run weir source freshness -C p -s source:raw.recent source:raw.yesterday
expect_rc 0 "warnings alone do not fail the command"
expect_out_contains "TOTAL=2" "selection picks the sources checked"
check "sources.json holds the last run's sources" "len(d['results']) == 2"

cat >>p/models/sources.yml <<'YML'
  - name: bad
    schema: raw
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 1, period: fortnight}
    tables:
      - name: recent
YML
run weir source freshness -C p -s source:bad
expect_rc 1 "a bad period fails"
expect_out_contains "period' must be minute, hour or day" "a bad period is named"

run weir source
expect_rc 2 "a missing subcommand is a usage error"
expect_err_contains "expected 'freshness'" "the usage error names the subcommand"

done_testing
