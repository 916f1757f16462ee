#!/usr/bin/env bash
# Scenario: seeds (type inference, column_types, quoting, CRLF) and
# snapshots (timestamp and check strategies, hard deletes), hooks.
. "$(dirname "$0")/../lib.sh"

mkdir -p p/models p/seeds p/snapshots
cat >p/dbt_project.yml <<'YML'
name: snap
on-run-start: ["create table if not exists main.audit (what varchar)"]
on-run-end: ["insert into main.audit values ('end')"]
seeds:
  snap:
    typed:
      +column_types:
        code: varchar
models:
  snap:
    +post-hook: "insert into main.audit values ('{{ this }}')"
YML
printf 'id,code,price,active,day,at,note\r\n1,007,1.5,true,2024-01-01,2024-01-01 10:00:00,"hello, world"\r\n2,010,2,false,2024-01-02,2024-01-02T11:30:00,"say ""hi"""\r\n3,,,,,,\r\n' >p/seeds/typed.csv
printf 'id,status,updated_at\n1,new,2024-01-01 00:00:00\n2,new,2024-01-01 00:00:00\n3,new,2024-01-01 00:00:00\n' >p/seeds/src.csv
cat >p/snapshots/by_time.sql <<'SQL'
{% snapshot by_time %}
{{ config(target_schema='snapshots', unique_key='id', strategy='timestamp', updated_at='updated_at', invalidate_hard_deletes=True) }}
select * from {{ ref('src') }}
{% endsnapshot %}
SQL
cat >p/snapshots/by_check.sql <<'SQL'
{% snapshot by_check %}
{{ config(target_schema='snapshots', unique_key='id', strategy='check', check_cols=['status']) }}
select id, status from {{ ref('src') }}
{% endsnapshot %}
SQL
echo "select count(*) as n from {{ ref('typed') }}" >p/models/counted.sql
q() { weir query -C p --format csv "$1" | tail -n +2 | tr ',\n' '  ' | tr -d '"'; }

run weir seed -C p
expect_rc 0 "seed"
expect_out_contains "INSERT 3" "rows are counted"
r=$(q "select string_agg(column_name || ':' || data_type, ' ' order by ordinal_position) from information_schema.columns where table_name = 'typed'")
if [ "$r" = "id:INTEGER code:VARCHAR price:DOUBLE active:BOOLEAN day:DATE at:TIMESTAMP note:VARCHAR " ]; then
    pass "types are inferred as dbt does, column_types win"
else fail "seed types" "got $r"; fi
r=$(q "select code || '|' || note from typed where id = 2")
if [ "$r" = '010|say hi ' ] || [ "$r" = '010|say hi  ' ]; then pass "quoted fields and leading zeros kept"; else
    r2=$(weir query -C p --format csv "select note from typed where id = 2")
    if grep -qF 'say ""hi""' <<<"$r2"; then pass "quoted fields and leading zeros kept"; else fail "quoting" "got $r2"; fi
fi
r=$(q "select count(*) from typed where price is null and code is null and day is null")
if [ "$r" = "1 " ]; then pass "empty fields are NULL"; else fail "nulls" "got $r"; fi

run weir snapshot -C p
expect_rc 0 "first snapshot"
expect_out_contains "snapshot snapshots.by_time" "in its target schema"

printf 'id,status,updated_at\n1,shipped,2024-01-02 00:00:00\n2,new,2024-01-01 00:00:00\n' >p/seeds/src.csv
weir seed -C p >/dev/null
run weir snapshot -C p
expect_rc 0 "second snapshot"
r=$(q "select count(*), count(dbt_valid_to) from snapshots.by_time")
if [ "$r" = "4 2 " ]; then pass "timestamp: a changed row is closed and reopened, a deleted one closed"; else fail "timestamp snapshot" "got $r"; fi
r=$(q "select strftime(dbt_valid_to, '%Y-%m-%d') from snapshots.by_time where id = 1 and dbt_valid_to is not null")
if [ "$r" = "2024-01-02 " ]; then pass "valid_to is the new updated_at"; else fail "valid_to" "got $r"; fi
r=$(q "select count(*), count(dbt_valid_to), count(distinct dbt_scd_id) from snapshots.by_check")
if [ "$r" = "4 1 4 " ]; then pass "check: a changed status opens a new version"; else fail "check snapshot" "got $r"; fi
run weir snapshot -C p
r=$(q "select count(*) from snapshots.by_check")
if [ "$r" = "4 " ]; then pass "an unchanged source adds nothing"; else fail "idempotent snapshot" "got $r"; fi

run weir run -C p
expect_rc 0 "a run with hooks"
r=$(q "select count(*) filter (where what = '\"main\".\"counted\"'), count(*) filter (where what = 'end') from main.audit")
if [ "$r" = '1 6 ' ]; then pass "post-hook renders {{ this }}; on-run-end runs after every command"; else fail "hooks" "got $r"; fi

printf 'id|name\n1|x\n' >p/seeds/piped.csv
printf 'version: 2\nseeds:\n  - name: piped\n    config:\n      delimiter: "|"\n' >p/seeds/props.yml
run weir seed -C p -s piped
expect_rc 0 "a seed with another delimiter"
r=$(q "select name from piped where id = 1")
if [ "$r" = "x " ]; then pass "delimiter config"; else fail "delimiter" "got $r"; fi

printf 'a,b\n1,2,3\n' >p/seeds/broken.csv
run weir seed -C p -s broken
expect_rc 1 "a malformed CSV fails"
expect_out_contains "seeds/broken.csv:2: row has 3 fields, the header has 2" "and says where"
printf 'a,b\n"1,2\n' >p/seeds/broken.csv
run weir seed -C p -s broken
expect_out_contains "seeds/broken.csv:2:1: unterminated quoted field" "an open quote is located"
expect_no_crash "no crash on bad CSV"

done_testing
