#!/usr/bin/env bash
# Scenario: dbt's incremental semantics on DuckDB: append adds only new rows,
# delete+insert and insert_overwrite are idempotent, merge updates in place,
# merge_update_columns and incremental_predicates
cat >p/models/partial.sql <<'SQL'
{{ config(unique_key='id', incremental_strategy='merge', merge_update_columns=['amount'],
          incremental_predicates=["DBT_INTERNAL_DEST.id > 1"]) }}
select id, kind, amount from {{ ref('events') }}
SQL
weir run -C p -s partial >/dev/null
sed -i 's/^1,2024-01-01,a,11$/1,2024-01-01,z,99/; s/^2,2024-01-01,b,20$/2,2024-01-01,z,21/' p/seeds/events.csv
weir seed -C p >/dev/null
run weir run -C p -s partial
expect_rc 0 "merge with update columns and predicates"
r=$(q "select string_agg(id || kind || amount, ' ' order by id) from partial where id <= 2")
# id 2: only amount updated; id 1: the predicate keeps the old row out of
# the match, so the new one is inserted (dbt puts predicates in the ON clause)
if [ "$r" = "1a11 1z99 2b21 " ]; then pass "only amount is updated; predicates limit the match"; else fail "merge options" "got $r"; fi

# on_schema_change and --full-refresh.
. "$(dirname "$0")/../lib.sh"

mkdir -p p/models p/seeds
cat >p/dbt_project.yml <<'YML'
name: inc
models:
  inc:
    +materialized: incremental
YML
cat >p/seeds/events.csv <<'CSV'
id,day,kind,amount
1,2024-01-01,a,10
2,2024-01-01,b,20
3,2024-01-02,a,30
CSV
cat >p/models/appended.sql <<'SQL'
{{ config(incremental_strategy='append') }}
select id, day, kind, amount from {{ ref('events') }}
{% if is_incremental() %}
where id > (select max(id) from {{ this }})
{% endif %}
SQL
cat >p/models/by_key.sql <<'SQL'
{{ config(unique_key=['id', 'kind'], incremental_strategy='delete+insert') }}
select id, day, kind, amount from {{ ref('events') }}
SQL
cat >p/models/by_day.sql <<'SQL'
{{ config(incremental_strategy='insert_overwrite', partition_by={'field': 'day', 'data_type': 'date'}) }}
select day, count(*) as n, sum(amount) as total from {{ ref('events') }}
{% if is_incremental() %}
where day >= '{{ var("from", "1900-01-01") }}'
{% endif %}
group by day
SQL
cat >p/models/merged.sql <<'SQL'
{{ config(unique_key='id', incremental_strategy='merge') }}
select id, amount from {{ ref('events') }}
SQL
q() { weir query -C p --format csv "$1" | tail -n +2 | tr ',\n' '  ' | tr -d '"'; }

run weir seed -C p
expect_rc 0 "seed"
run weir run -C p
expect_rc 0 "first run builds every model as a table"
expect_out_contains "Done. PASS=4" "four models"

# new and changed rows upstream
cat >p/seeds/events.csv <<'CSV'
id,day,kind,amount
1,2024-01-01,a,11
2,2024-01-01,b,20
3,2024-01-02,a,30
4,2024-01-02,b,40
5,2024-01-03,a,50
CSV
weir seed -C p >/dev/null
run weir run -C p
expect_rc 0 "second run"
r=$(q 'select count(*), sum(amount) from appended')
if [ "$r" = "5 150 " ]; then pass "append adds only the new rows (old row 1 keeps 10)"; else fail "append adds only the new rows" "got $r"; fi
r=$(q 'select count(*), sum(amount) from by_key')
if [ "$r" = "5 151 " ]; then pass "delete+insert replaces rows by composite key"; else fail "delete+insert" "got $r"; fi
r=$(q 'select count(*), sum(amount) from merged')
if [ "$r" = "5 151 " ]; then pass "merge updates and inserts"; else fail "merge" "got $r"; fi

run weir run -C p -s by_key by_day merged
expect_rc 0 "a third run of the idempotent models"
r=$(q 'select count(*), sum(amount) from by_key')
if [ "$r" = "5 151 " ]; then pass "delete+insert run twice gives the same table"; else fail "delete+insert idempotent" "got $r"; fi
r=$(q "select string_agg(day || '=' || n || '/' || total, ',' order by day) from by_day")
if [ "$r" = "2024-01-01=2/31 2024-01-02=2/70 2024-01-03=1/50 " ]; then pass "insert_overwrite replaces whole days, idempotently"; else fail "insert_overwrite" "got $r"; fi

# one day rebuilt through --vars: only that day changes
cat >p/seeds/events.csv <<'CSV'
id,day,kind,amount
1,2024-01-01,a,11
2,2024-01-01,b,20
3,2024-01-02,a,30
4,2024-01-02,b,40
5,2024-01-03,a,50
6,2024-01-03,a,1
CSV
weir seed -C p >/dev/null
run weir run -C p -s by_day --vars '{from: 2024-01-03}'
expect_rc 0 "run one interval"
r=$(q "select string_agg(day || '=' || n || '/' || total, ',' order by day) from by_day")
if [ "$r" = "2024-01-01=2/31 2024-01-02=2/70 2024-01-03=2/51 " ]; then pass "only the run's day is replaced"; else fail "interval overwrite" "got $r"; fi

# merge_update_columns and incremental_predicates
cat >p/models/partial.sql <<'SQL'
{{ config(unique_key='id', incremental_strategy='merge', merge_update_columns=['amount'],
          incremental_predicates=["DBT_INTERNAL_DEST.id > 1"]) }}
select id, kind, amount from {{ ref('events') }}
SQL
weir run -C p -s partial >/dev/null
sed -i 's/^1,2024-01-01,a,11$/1,2024-01-01,z,99/; s/^2,2024-01-01,b,20$/2,2024-01-01,z,21/' p/seeds/events.csv
weir seed -C p >/dev/null
run weir run -C p -s partial
expect_rc 0 "merge with update columns and predicates"
r=$(q "select string_agg(id || kind || amount, ' ' order by id) from partial where id <= 2")
# id 2: only amount updated; id 1: the predicate keeps the old row out of
# the match, so the new one is inserted (dbt puts predicates in the ON clause)
if [ "$r" = "1a11 1z99 2b21 " ]; then pass "only amount is updated; predicates limit the match"; else fail "merge options" "got $r"; fi

# on_schema_change
cat >p/models/strict.sql <<'SQL'
{{ config(on_schema_change='fail') }}
select id from {{ ref('events') }}
SQL
cat >p/models/growing.sql <<'SQL'
{{ config(on_schema_change='append_new_columns', incremental_strategy='append') }}
select id from {{ ref('events') }}
SQL
weir run -C p -s strict growing >/dev/null
sed -i 's/select id from/select id, amount from/' p/models/strict.sql p/models/growing.sql
run weir run -C p -s strict
expect_rc 1 "on_schema_change=fail fails when columns change"
expect_out_contains "on_schema_change is 'fail'" "and says why"
run weir run -C p -s growing
expect_rc 0 "append_new_columns"
r=$(q "select count(*), count(amount) from growing")
if [ "$r" = "12 6 " ]; then pass "the new column is added, old rows NULL"; else fail "append_new_columns" "got $r"; fi
run weir run -C p -s strict --full-refresh
expect_rc 0 "--full-refresh rebuilds"
r=$(q "select count(*), count(amount) from strict")
if [ "$r" = "6 6 " ]; then pass "the rebuilt table has the new column"; else fail "full refresh" "got $r"; fi

done_testing
