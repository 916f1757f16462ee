#!/usr/bin/env bash
# Scenario: rollback shows what it deletes, deletes downstream first,
# refuses tables without a date column, and is undone exactly by restore;
# rollback then backfill rebuilds identical tables; all of it audited.
. "$(dirname "$0")/../lib.sh"
data="$WEIR_SRCDIR/tests/data/orchestrate"

weir init p >/dev/null
mkdir -p p/pipelines && cp "$data/events.yml" p/pipelines/
weir query --project-dir p "$(cat "$data/events-setup.sql")" >/dev/null
snapshot() { weir query --project-dir p --format csv "select * from mart.stage order by all" >"$1.stage"
             weir query --project-dir p --format csv "select * from mart.agg order by all" >"$1.agg"; }
same() { cmp -s "$1.stage" "$2.stage" && cmp -s "$1.agg" "$2.agg"; }

run weir pipeline backfill events --from 2024-01-01 --to 2024-01-10 --project-dir p
expect_rc 0 "backfill ten days"
snapshot before

run weir pipeline rollback events --from 2024-01-03 --to 2024-01-05 --dry-run --project-dir p
expect_rc 0 "a dry run"
expect_out_contains "mart.agg" "it shows each table"
expect_out_contains "3 rows" "with the rows that would go"
snapshot dry
expect_true "a dry run deletes nothing" same before dry

run weir pipeline rollback events --from 2024-01-03 --to 2024-01-05 --project-dir p
expect_rc 2 "without --yes and without a terminal, nothing is deleted"
expect_err_contains "pass --yes" "and it says how to confirm"

run weir pipeline rollback events --from 2024-01-03 --to 2024-01-05 --yes --project-dir p --format json
expect_rc 0 "rollback"
expect_out_contains '"action_id": 1' "rollback gives an action id"
first=$(grep -n '"table"' <<<"$out" | head -1)
case "$first" in *mart.agg*) pass "downstream tables come first" ;; *) fail "downstream tables come first" ;; esac
run weir query --project-dir p --format csv "select count(*) from mart.agg where day between '2024-01-03' and '2024-01-05'"
expect_out_contains "0" "the range is gone"
run weir pipeline runs events --project-dir p
expect_out_contains "cancelled" "the range's runs are cancelled"

run weir pipeline trash --project-dir p
expect_out_contains "active" "the trash lists the action"

run weir pipeline restore 1 --project-dir p
expect_rc 0 "restore"
run weir pipeline trash --project-dir p --format json
expect_out_contains '"state": "restored"' "trash --format json shows the action restored"
expect_out_contains '"action": 1,' "by its number"
snapshot restored
expect_true "rollback then restore gives identical tables" same before restored
run weir pipeline runs events --project-dir p
expect_out_not_contains "cancelled" "restore puts the runs' states back"
run weir pipeline restore 1 --project-dir p
expect_rc 1 "a restored action cannot be restored twice"

# rollback then backfill rebuilds the same tables
run weir pipeline rollback events --from 2024-01-02 --to 2024-01-06 --yes --project-dir p
expect_rc 0 "rollback again"
run weir pipeline backfill events --from 2024-01-01 --to 2024-01-10 --project-dir p
expect_rc 0 "backfill after the rollback"
expect_err_contains "5 intervals to run, 5 already successful" "only the rolled-back range runs"
snapshot rebuilt
expect_true "rollback then backfill gives identical tables" same before rebuilt

run weir pipeline purge --all --yes --project-dir p --format json
expect_out_eq '{
  "purged": 1
}' "purge drops the trash (--format json)"
run weir pipeline purge --all --yes --project-dir p
expect_out_eq "purged 0 rollback actions" "a second purge has nothing to drop"
run weir pipeline purge --yes --project-dir p
expect_rc 2 "purge needs an action or --all"
expect_err_contains "expected one action id, or --all" "says so"
run weir pipeline restore --project-dir p
expect_rc 2 "restore needs an action"
expect_err_contains "expected one action id (see 'weir pipeline trash')" "says where to find one"
run weir pipeline restore x --project-dir p
expect_err_contains "invalid action id 'x'" "restore names a bad id"
run weir query --project-dir p --format csv "select count(*) from duckdb_tables() where schema_name = 'weir_trash'"
expect_out_contains "0" "no trash table is left"
run weir pipeline restore 2 --project-dir p
expect_rc 1 "a purged action cannot be restored"

if command -v sqlite3 >/dev/null; then
    n=$(sqlite3 p/.weir/store.db "select count(*) from audit_log where action in ('rollback','restore','purge')")
    if [ "$n" = 4 ]; then pass "every rollback, restore and purge is audited"; else fail "audited: $n"; fi
fi

# a table without a date column is refused by name before anything is deleted
cat >p/pipelines/nodate.yml <<'YML'
pipeline: nodate
tasks:
  - name: t
    sql: select 1
outputs:
  - table: mart.agg
    date_column: day
  - table: raw.events
YML
snapshot pre
run weir pipeline rollback nodate --from 2024-01-01 --to 2024-01-02 --yes --project-dir p
expect_rc 1 "a table without a date column is refused"
expect_err_contains "table 'raw.events' has no date column" "by name"
snapshot post
expect_true "nothing was deleted" same pre post

# restore as JSON, and its text form
run weir pipeline rollback events --from 2024-01-09 --to 2024-01-10 --yes --project-dir p
expect_rc 0 "a last rollback"
expect_out_contains "rolled back: action 3;" "is action 3"
run weir pipeline restore 3 --project-dir p --format json
expect_out_contains '"action_id": 3,' "restore --format json names the action"
expect_true "and the rows it put back" grep -qE '^  "rows": [1-9][0-9]*$' <<<"$out"
snapshot post2
expect_true "and the rows are back" same pre post2
run weir pipeline trash --project-dir p
expect_out_contains "(3 rows)" "trash lists every action"

expect_no_crash "no crash"
done_testing
