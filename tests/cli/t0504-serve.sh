#!/usr/bin/env bash
# Scenario: weir serve creates the runs of closed intervals (catching up,
# or only the latest with catchup: false, none for a paused pipeline), other
# commands say plainly that it holds the warehouse, and SIGTERM stops it
# with nothing left running.
. "$(dirname "$0")/../lib.sh"

start=$(date -u -d '3 days ago' +%F)
weir init p >/dev/null
mkdir -p p/pipelines
cat >p/pipelines/caught.yml <<YML
pipeline: caught
schedule: "@daily"
start: $start
tasks:
  - name: t
    sql: insert into seen values ('{{ ds }}')
YML
cat >p/pipelines/latest.yml <<'YML'
pipeline: latest
schedule: "@daily"
start: 2024-01-01
catchup: false
tasks:
  - name: t
    run: "true"
YML
cat >p/pipelines/sleeper.yml <<'YML'
pipeline: sleeper
schedule: "@daily"
catchup: false
tasks:
  - name: long
    run: sleep 60
YML
cat >p/pipelines/held.yml <<'YML'
pipeline: held
schedule: "@daily"
start: 2024-01-01
tasks:
  - name: t
    run: "true"
YML
weir query --project-dir p "create table seen (ds date)" >/dev/null
run weir pipeline pause held --project-dir p
expect_rc 0 "pause a pipeline before serving"

"$WEIR" serve --project-dir p >"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
spid=$!
ok=0
for i in $(seq 1 100); do
    n=$("$WEIR" pipeline runs caught --project-dir p --format json 2>/dev/null | grep -c '"state": "success"')
    s=$("$WEIR" pipeline tasks sleeper --project-dir p --format json 2>/dev/null | grep -c '"state": "running"')
    if [ "$n" = 3 ] && [ "$s" = 1 ]; then ok=1; break; fi
    sleep 0.1
done
if [ $ok = 1 ]; then pass "serve catches up the missed intervals"; else fail "serve catches up (runs: $n, sleeper running: $s)"; fi

run weir pipeline runs latest --project-dir p --format json
n=$(grep -c '"ds"' <<<"$out")
if [ "$n" = 1 ]; then pass "catchup: false runs only the latest interval"; else fail "catchup false: $n runs"; fi
expect_out_contains "\"ds\": \"$(date -u -d yesterday +%F)\"" "the latest closed interval is yesterday's"

run weir pipeline runs held --project-dir p --format json
expect_out_not_contains '"ds"' "a paused pipeline gets no runs"

run weir query --project-dir p "select 1"
expect_rc 1 "a command that needs the warehouse fails while serve runs"
expect_err_contains "the warehouse is in use by 'weir serve' (pid $spid)" "and says plainly who holds it"
expect_err_contains "kill $spid" "and what to do"
run weir pipeline rollback caught --from "$start" --to "$start" --dry-run --project-dir p
expect_err_contains "in use by 'weir serve' (pid $spid)" "pipeline rollback says it too"

# a cleared run is picked up by the running server
run weir pipeline clear caught --date "$start" --project-dir p
expect_rc 0 "clear works while serve runs (the server clears and runs the instances)"
ok=0
for i in $(seq 1 100); do
    n=$("$WEIR" pipeline tasks caught --date "$start" --project-dir p --format json 2>/dev/null | grep -c '"attempts": 2')
    if [ "$n" = 1 ]; then ok=1; break; fi
    sleep 0.1
done
if [ $ok = 1 ]; then pass "the server runs what was cleared"; else fail "the server runs what was cleared"; fi

kill -TERM $spid
wait $spid
rc=$?
expect_rc 0 "serve exits 0 on SIGTERM"
out=$(cat "$T_DIR/serve.out")
expect_out_contains "nothing left running" "and says nothing is left running"

run weir pipeline tasks sleeper --project-dir p --format json
expect_out_not_contains '"state": "running"' "the interrupted task is not left running"
expect_out_contains '"state": "up_for_retry"' "it is up for retry"
run weir pipeline runs sleeper --project-dir p --format json
expect_out_contains '"state": "queued"' "its run is queued for the next start"

run weir query --project-dir p --format csv "select count(*) from seen"
expect_out_contains "4" "the caught-up runs did their work, the cleared one twice"

expect_no_crash "no crash"
done_testing
