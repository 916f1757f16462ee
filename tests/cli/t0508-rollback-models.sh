#!/usr/bin/env bash
# Scenario: rollback of a pipeline with model tasks finds the tables its
# models write and their date columns from partition_by (or a date_column
# the pipeline names), deletes downstream first, refuses by name a table
# with neither before deleting anything; rollback then restore, and
# rollback then backfill, give the tables back identical.
. "$(dirname "$0")/../lib.sh"
data="$WEIR_SRCDIR/tests/data/orchestrate/models_project"
cp -r "$data" p
weir query --project-dir p "$(cat p/setup.sql)" >/dev/null
snapshot() { weir query --project-dir p --format csv "select * from main.fct_daily order by all" >"$1.fct"
             weir query --project-dir p --format csv "select * from main.agg_daily order by all" >"$1.agg"; }
same() { cmp -s "$1.fct" "$2.fct" && cmp -s "$1.agg" "$2.agg"; }

run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-05 --project-dir p
expect_rc 0 "backfill five days"
snapshot before

run weir pipeline rollback daily --from 2024-01-02 --to 2024-01-03 --dry-run --project-dir p
expect_rc 0 "a dry run"
expect_out_contains "main.fct_daily" "the incremental model's table is found"
expect_out_contains "(by day)" "with its partition_by column"
expect_out_not_contains "stg_events" "a view holds nothing to delete"
first=$(grep -n 'main\.' <<<"$out" | head -1)
case "$first" in *agg_daily*) pass "the downstream model comes first" ;; *) fail "the downstream model comes first" "got: $first" ;; esac
expect_out_contains "4 rows" "fct_daily's two days are counted (two kinds a day)"

run weir pipeline rollback daily --from 2024-01-02 --to 2024-01-03 --yes --project-dir p
expect_rc 0 "rollback"
run weir query --project-dir p --format csv "select count(*) from main.fct_daily where day between '2024-01-02' and '2024-01-03'"
expect_out_eq "$(printf 'count_star()\n0')" "the range is gone from fct_daily"
run weir pipeline restore 1 --project-dir p
expect_rc 0 "restore"
snapshot restored
expect_true "rollback then restore gives identical tables" same before restored

run weir pipeline rollback daily --from 2024-01-02 --to 2024-01-04 --yes --project-dir p
expect_rc 0 "rollback again"
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-05 --project-dir p
expect_rc 0 "backfill after the rollback"
expect_err_contains "3 intervals to run, 2 already successful" "only the rolled-back range runs"
snapshot rebuilt
expect_true "rollback then backfill gives identical tables" same before rebuilt

# a date_column under outputs: names the column for a model's table too
cat >>p/pipelines/daily.yml <<'YML'
outputs:
  - table: main.agg_daily
    date_column: built_for
YML
run weir pipeline rollback daily --from 2024-01-05 --to 2024-01-05 --dry-run --project-dir p
expect_out_contains "(by built_for)" "outputs: overrides partition_by for a model's table"

# a model table with neither is refused by name, and nothing is deleted
sed -i 's/^models: .*/models: "+agg_daily +totals"/' p/pipelines/daily.yml
cat >p/models/marts/totals.sql <<'SQL'
{{ config(materialized='table') }}
select kind, sum(v) as v from {{ ref('fct_daily') }} group by kind
SQL
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-01 --rerun --project-dir p
expect_rc 0 "a model without partition_by builds"
snapshot before2
run weir pipeline rollback daily --from 2024-01-02 --to 2024-01-03 --yes --project-dir p
expect_rc 1 "a table with no date column is refused"
expect_err_contains "table 'main.totals' has no date column" "by name"
expect_err_contains "nothing was deleted" "before deleting anything"
snapshot after2
expect_true "nothing was deleted" same before2 after2
expect_no_crash "no crash"
done_testing
