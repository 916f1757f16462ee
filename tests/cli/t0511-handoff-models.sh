#!/usr/bin/env bash
# Scenario: work handed to `weir serve` runs model tasks as a local run
# does: the server binds the pipelines' models when it starts, a backfill
# and a clear by a model's name go through it, and the tables it builds
# equal those of a local rerun of the same days.
. "$(dirname "$0")/../lib.sh"
data="$WEIR_SRCDIR/tests/data/orchestrate/models_project"
cp -r "$data" p
weir query --project-dir p "$(cat p/setup.sql)" >/dev/null
table() { weir query --project-dir p --format csv "select * from main.$1 order by all"; }
# paused: the server creates no scheduled runs of its own, only what it is handed
weir pipeline pause daily --project-dir p >/dev/null

"$WEIR" serve --project-dir p >"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
spid=$!
for i in $(seq 1 100); do
    grep -q "pid $spid" "$T_DIR/serve.out" 2>/dev/null && break
    sleep 0.1
done

run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-03 --project-dir p
expect_rc 0 "a backfill of model tasks handed to the server"
expect_err_contains "the server (pid $spid) took request" "the server took it"
expect_err_contains "3 runs, 3 succeeded, 0 failed" "and ran every day"
run weir pipeline tasks daily --date 2024-01-02 --project-dir p --format json
expect_out_contains '"task": "fct_daily"' "the server ran one task per model"
expect_out_not_contains '"state": "failed"' "none failed"

run weir pipeline clear daily --date 2024-01-02 --task fct_daily --downstream --project-dir p
expect_rc 0 "a model task cleared by its model's name through the server"
expect_out_contains "cleared 2 task instances" "with what is downstream of it"
expect_out_contains "daily 2024-01-02: success" "and run again"

kill -TERM $spid
wait $spid
rc=$?
expect_rc 0 "the server stops cleanly"
grep -q "warning" "$T_DIR/serve.err" && fail "the server bound the models without a warning" || pass "the server bound the models without a warning"

run table agg_daily
expect_out_contains "2024-01-02,20,802,2024-01-02" "the server's run gave the model var('ds')"
table fct_daily >server.fct
table agg_daily >server.agg
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-03 --rerun --project-dir p
expect_rc 0 "the same days run here"
table fct_daily >local.fct
table agg_daily >local.agg
expect_true "the server built the same fct_daily as a local run" cmp -s server.fct local.fct
expect_true "the server built the same agg_daily as a local run" cmp -s server.agg local.agg

expect_no_crash "no crash"
done_testing
