#!/usr/bin/env bash
# Scenario: crash safety. A backfill is killed with SIGKILL at random
# moments, many times, and resumed each time; in the end the tables equal
# those of an uninterrupted run and no task instance is left running.
# CRASHES (default 20) sets how many kills.
. "$(dirname "$0")/../lib.sh"
data="$WEIR_SRCDIR/tests/data/orchestrate"
crashes=${CRASHES:-20}

for p in clean crashed; do
    weir init $p >/dev/null
    mkdir -p $p/pipelines && cp "$data/events.yml" $p/pipelines/
    weir query --project-dir $p "$(cat "$data/events-setup.sql")" >/dev/null
done
snapshot() { weir query --project-dir "$1" --format csv "select * from mart.stage order by all" >"$1.stage"
             weir query --project-dir "$1" --format csv "select * from mart.agg order by all" >"$1.agg"; }

run weir pipeline backfill events --from 2024-01-01 --to 2024-01-20 --project-dir clean
expect_rc 0 "an uninterrupted backfill"
snapshot clean

RANDOM=42
killed=0
for i in $(seq 1 "$crashes"); do
    # --rerun: every attempt has all twenty days to do, so the kill lands mid-work
    "$WEIR" pipeline backfill events --from 2024-01-01 --to 2024-01-20 --rerun --project-dir crashed \
        >"$T_DIR/crash.out" 2>&1 &
    pid=$!
    # somewhere between 20 ms and 400 ms in: opening, mid-task, mid-commit
    sleep "0.$(printf '%03d' $((20 + RANDOM % 380)))"
    if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); fi
    wait $pid 2>/dev/null
done
echo "killed $killed of $crashes backfills"

run weir pipeline backfill events --from 2024-01-01 --to 2024-01-20 --project-dir crashed
expect_rc 0 "the backfill resumes and finishes"
snapshot crashed
expect_true "the tables equal those of an uninterrupted run (stage)" cmp -s clean.stage crashed.stage
expect_true "the tables equal those of an uninterrupted run (agg)" cmp -s clean.agg crashed.agg

run weir pipeline tasks events --project-dir crashed --format json
expect_out_not_contains '"state": "running"' "no instance is left running"
expect_out_not_contains '"state": "queued"' "nor queued"
expect_out_not_contains '"state": "failed"' "nor failed"
run weir pipeline runs events --project-dir crashed --format json
expect_out_not_contains '"state": "running"' "no run is left running"
n=$(grep -c '"state": "success"' <<<"$out")
if [ "$n" = 20 ]; then pass "every run succeeded once resumed"; else fail "successful runs: $n"; fi

expect_no_crash "no crash"
done_testing
