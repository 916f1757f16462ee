#!/usr/bin/env bash
# Scenario: model tasks. A pipeline's `models:` selector becomes one task
# per model with its tests right after it, in build order; the run's ds
# reaches the models as var('ds'); insert_overwrite by partition_by
# replaces exactly the run's day (reruns and backfills are idempotent); a
# failing model keeps its previous table, is retried, fails its task and
# skips what is downstream; a failing error test fails, a warn test only
# reports.
. "$(dirname "$0")/../lib.sh"
data="$WEIR_SRCDIR/tests/data/orchestrate/models_project"
cp -r "$data" p
weir query --project-dir p "$(cat p/setup.sql)" >/dev/null
table() { weir query --project-dir p --format csv "select * from main.$1 order by all"; }

run weir pipeline run daily --date 2024-01-02 --project-dir p
expect_rc 0 "a run of the model tasks"
run weir pipeline tasks daily --project-dir p --format json
expect_out_contains '"task": "stg_events"' "one task per model (the staging view)"
expect_out_contains '"task": "fct_daily"' "one task per model (the incremental model)"
expect_out_contains '"task": "agg_daily"' "one task per model (the aggregate)"
# build order: each task started after the one it reads had ended
prev_end="" ordered=yes
for t in wait_raw_events stg_events fct_daily agg_daily; do
    line=$(grep "\"task\": \"$t\"" <<<"$out")
    start=$(sed 's/.*"started_at": "\([^"]*\)".*/\1/' <<<"$line")
    end=$(sed 's/.*"ended_at": "\([^"]*\)".*/\1/' <<<"$line")
    if [ -z "$start" ] || [[ "$start" < "$prev_end" ]]; then ordered="no ($t)"; fi
    prev_end=$end
done
expect_true "tasks ran in build order: sensor, staging view, fct_daily, agg_daily" test "$ordered" = yes
run table agg_daily
expect_out_contains "2024-01-02,20,802,2024-01-02" "var('ds') reached the model's template"
expect_out_not_contains "2024-01-03" "and the run built its own day only"
log=p/.weir/logs/daily/2024-01-02/fct_daily.1.log
expect_true "the model's tests ran right after it, in its task's log" grep -q "test not_null_fct_daily_day: pass" "$log"

run weir pipeline clear daily --date 2024-01-02 --task fct_daily --downstream --project-dir p
expect_rc 0 "a model task can be cleared by its model's name"
expect_out_contains "cleared 2 task instances" "with what is downstream of it"

run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-05 --project-dir p
expect_rc 0 "a backfill of five days"
expect_err_contains "5 intervals to run, 0 already successful" "the cleared day runs again"
table fct_daily >before.fct
table agg_daily >before.agg
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-05 --rerun --project-dir p
expect_rc 0 "the same backfill again"
table fct_daily >again.fct
table agg_daily >again.agg
expect_true "a rerun gives the same tables (fct_daily)" cmp -s before.fct again.fct
expect_true "a rerun gives the same tables (agg_daily)" cmp -s before.agg again.agg
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-05 --rerun --parallel 5 --project-dir p
expect_rc 0 "the same backfill, five days at once"
table fct_daily >par.fct
table agg_daily >par.agg
expect_true "days built side by side give the same tables" cmp -s before.fct par.fct
expect_true "days built side by side give the same tables (agg_daily)" cmp -s before.agg par.agg

# a day whose source rows the staging view now filters out: the new rows
# hold none of it, and insert_overwrite still replaces the whole day
weir query --project-dir p "update raw.events set kind = null where day = '2024-01-03'" >/dev/null
run weir pipeline run daily --date 2024-01-03 --project-dir p
expect_rc 0 "a run of a day that has no rows left"
run weir query --project-dir p --format csv "select count(*) from main.fct_daily where day = '2024-01-03'"
expect_out_eq "$(printf 'count_star()\n0')" "insert_overwrite replaced exactly the run's day"
run weir query --project-dir p --format csv "select count(*) from main.fct_daily where day <> '2024-01-03'"
expect_out_eq "$(printf 'count_star()\n8')" "and left the other days alone"
weir query --project-dir p "update raw.events set kind = ['a','b'][1 + (v % 2)::int] where day = '2024-01-03' and v is not null" >/dev/null
weir query --project-dir p "update raw.events set kind = 'a' where day = '2024-01-03' and kind is null" >/dev/null

# a warn test reports and does not fail: every v of a day is null
weir query --project-dir p "update raw.events set v = null where day = '2024-01-04'" >/dev/null
run weir pipeline run daily --date 2024-01-04 --project-dir p
expect_rc 0 "a warn test does not fail the run"
run weir pipeline logs daily --date 2024-01-04 --task fct_daily --project-dir p
expect_out_contains "test not_null_fct_daily_v: warn, 2 rows" "it is reported in the task's log"

# an error test fails the model's task and skips what is downstream
mkdir -p p/tests
cat >p/tests/assert_v_not_negative.sql <<'SQL'
select * from {{ ref('fct_daily') }} where day = '{{ var("ds", "1900-01-01") }}' and v < 0
SQL
weir query --project-dir p "update raw.events set v = -v where day = '2024-01-05'" >/dev/null
run weir pipeline run daily --date 2024-01-05 --project-dir p
expect_rc 1 "an error test fails the run"
run weir pipeline tasks daily --project-dir p --format json
fct=$(tr -d '\n' <<<"$out" | grep -o '"ds": "2024-01-05", "task": "fct_daily"[^}]*')
agg=$(tr -d '\n' <<<"$out" | grep -o '"ds": "2024-01-05", "task": "agg_daily"[^}]*')
case "$fct" in *'"state": "failed"'*assert_v_not_negative*) pass "the model's task failed, naming the test" ;;
    *) fail "the model's task failed, naming the test" "got: $fct" ;; esac
case "$agg" in *'"state": "upstream_failed"'*) pass "downstream is upstream_failed" ;;
    *) fail "downstream is upstream_failed" "got: $agg" ;; esac
run weir pipeline run daily --date 2024-01-02 --project-dir p
expect_rc 0 "the singular test is rendered per run: another day passes"
rm p/tests/assert_v_not_negative.sql
weir query --project-dir p "update raw.events set v = -v where day = '2024-01-05'" >/dev/null

# a failing model keeps its previous table, is retried, and skips downstream
table fct_daily >kept.fct
sed -i 's/sum(v) as v/sum(no_such_column) as v/' p/models/marts/fct_daily.sql
logs_before=$(ls p/.weir/logs/daily/2024-01-02/fct_daily.*.log | wc -l)
run weir pipeline run daily --date 2024-01-02 --project-dir p
expect_rc 1 "a failing model fails the run"
logs_after=$(ls p/.weir/logs/daily/2024-01-02/fct_daily.*.log | wc -l)
expect_true "it was tried twice (retries: 1)" test $((logs_after - logs_before)) = 2
run weir pipeline logs daily --date 2024-01-02 --task fct_daily --project-dir p
expect_out_contains 'Referenced column "no_such_column" not found' "its error is in the log"
table fct_daily >after.fct
expect_true "the previous table stays" cmp -s kept.fct after.fct
run weir pipeline tasks daily --project-dir p --format json
agg=$(tr -d '\n' <<<"$out" | grep -o '"ds": "2024-01-02", "task": "agg_daily"[^}]*')
case "$agg" in *'"state": "upstream_failed"'*) pass "downstream of the failed model is upstream_failed" ;;
    *) fail "downstream of the failed model is upstream_failed" "got: $agg" ;; esac
sed -i 's/sum(no_such_column) as v/sum(v) as v/' p/models/marts/fct_daily.sql

# a selector with a typo is refused by its place in the file
sed -i 's/^models: .*/models: "+agg_dialy"/' p/pipelines/daily.yml
run weir pipeline run daily --date 2024-01-02 --project-dir p
expect_rc 2 "a selector that selects nothing is refused"
expect_err_contains "daily.yml:" "naming the file"
expect_no_crash "no crash"
done_testing
