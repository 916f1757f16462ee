#!/usr/bin/env bash
# Scenario: crash safety. A backfill of the demo pipeline (examples/classroom:
# sensor, model tasks with their tests, the day's expectation suite, the
# monitor) is killed with SIGKILL at random moments, many times, and resumed
# each time; in the end the tables equal those of an uninterrupted run and
# no task instance is left running. CRASHES (default 20) sets how many kills.
. "$(dirname "$0")/../lib.sh"
demo="$WEIR_SRCDIR/examples/classroom"
crashes=${CRASHES:-20}
from=2024-03-18 to=2024-03-31

for p in clean crashed; do
    mkdir $p
    cp -r "$demo/." $p
    rm -rf $p/target $p/.weir $p/warehouse.duckdb*
    # crash safety, not the monitor's verdicts, is on trial here: its
    # anomalies are reported, not failed (the demo shows them failing)
    sed -i 's/on_anomaly: fail/on_anomaly: warn/' $p/monitors/*.yml
    { echo "SET VARIABLE demo_clean = true;"; cat $p/demo/generate_events.sql; } |
        weir query --project-dir $p --format csv - >/dev/null
    # the monitor's history before the range, as in the demo
    weir monitor backfill raw.events --from 2024-01-08 --to 2024-03-17 --project-dir $p >/dev/null
done
snapshot() { weir query --project-dir "$1" --format csv "select * from main.fct_events order by all" >"$1.fct"
             weir query --project-dir "$1" --format csv "select * from main.agg_daily_engagement order by all" >"$1.agg"; }

run weir pipeline backfill events_daily --from $from --to $to --project-dir clean
expect_rc 0 "an uninterrupted backfill"
snapshot clean
expect_true "it built the range" test "$(wc -l <clean.agg)" = 15

RANDOM=42
killed=0
for i in $(seq 1 "$crashes"); do
    # --rerun: every attempt has all the days to do, so the kill lands mid-work
    "$WEIR" pipeline backfill events_daily --from $from --to $to --rerun --project-dir crashed \
        >"$T_DIR/crash.out" 2>&1 &
    pid=$!
    # somewhere between 20 ms and 900 ms in: loading the models, mid-task, mid-commit
    sleep "0.$(printf '%03d' $((20 + RANDOM % 880)))"
    if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); fi
    wait $pid 2>/dev/null
done
echo "killed $killed of $crashes backfills"

run weir pipeline backfill events_daily --from $from --to $to --project-dir crashed
expect_rc 0 "the backfill resumes and finishes"
snapshot crashed
expect_true "the tables equal those of an uninterrupted run (fct_events)" cmp -s clean.fct crashed.fct
expect_true "the tables equal those of an uninterrupted run (agg_daily_engagement)" cmp -s clean.agg crashed.agg

run weir pipeline tasks events_daily --project-dir crashed --format json
expect_out_contains '"task": "fct_events"' "the model tasks ran"
expect_out_not_contains '"state": "running"' "no instance is left running"
expect_out_not_contains '"state": "queued"' "nor queued"
expect_out_not_contains '"state": "failed"' "nor failed"
run weir pipeline runs events_daily --project-dir crashed --format json
expect_out_not_contains '"state": "running"' "no run is left running"
n=$(grep -c '"state": "success"' <<<"$out")
if [ "$n" = 14 ]; then pass "every run succeeded once resumed"; else fail "successful runs: $n"; fi

expect_no_crash "no crash"
done_testing
