#!/usr/bin/env bash
# Scenario: while `weir serve` holds the warehouse, `weir pipeline run`,
# `backfill` and `clear` hand their work to it and follow it to the end
# (or return at once with --no-wait); commands that only read the store
# work; commands that need the warehouse say plainly who holds it; a
# server that dies loses no request, and a waiting client says it is gone.
. "$(dirname "$0")/../lib.sh"

weir init p >/dev/null
mkdir -p p/pipelines
cat >p/pipelines/daily.yml <<'YML'
pipeline: daily
schedule: "@daily"
start: 2024-01-01
catchup: false
tasks:
  - name: load
    sql: insert into seen values ('{{ ds }}')
  - name: after
    run: "true"
    depends_on: [load]
YML
cat >p/pipelines/broken.yml <<'YML'
pipeline: broken
retries: 1
retry_delay: 1s
schedule: "@daily"
start: 2024-01-01
catchup: false
tasks:
  - name: boom
    run: "echo no luck >&2; exit 3"
YML
cat >p/pipelines/slow.yml <<'YML'
pipeline: slow
schedule: "@daily"
start: 2024-01-01
catchup: false
tasks:
  - name: nap
    run: sleep 2
YML
weir query --project-dir p "create table seen (ds date)" >/dev/null

# start_serve [ARGS]: starts the server in the background, sets $spid, and
# waits until it has started (its first tick is done).
start_serve() {
    "$WEIR" serve --project-dir p "$@" >>"$T_DIR/serve.out" 2>>"$T_DIR/serve.err" &
    spid=$!
    for i in $(seq 1 100); do
        grep -q "pid $spid" "$T_DIR/serve.out" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.3
}
# wait_for DESCRIPTION CMD...: up to 15 s for CMD to succeed.
wait_for() {
    local d=$1; shift
    for i in $(seq 1 150); do
        if "$@" >/dev/null 2>&1; then pass "$d"; return 0; fi
        sleep 0.1
    done
    fail "$d" "gave up waiting for: $*"
}
request_state() { # request_state ID STATE
    "$WEIR" pipeline requests --project-dir p --format json |
        tr -d '\n ' | grep -q "\"request\":$1,[^}]*\"state\":\"$2\""
}

run weir pipeline run --help
expect_out_contains "--no-wait" "pipeline run --help shows --no-wait"
expect_out_contains "handed to" "and says a running server takes the run"
run weir pipeline backfill --help
expect_out_contains "handed to it as a request" "pipeline backfill --help says so too"
run weir pipeline clear --help
expect_out_contains "the clear is handed to it" "pipeline clear --help says so too"
run weir pipeline requests --help
expect_rc 0 "pipeline requests has help"
run weir serve --help
expect_out_contains "hand their work to it" "serve --help tells about requests"

start_serve

# --- reading the store works while the server runs -----------------------------------
run weir pipeline list --project-dir p
expect_rc 0 "pipeline list works while serve runs"
run weir pipeline runs daily --project-dir p
expect_rc 0 "pipeline runs works while serve runs"
run weir pipeline tasks daily --project-dir p
expect_rc 0 "pipeline tasks works while serve runs"

# --- the warehouse: a plain message --------------------------------------------------
run weir query --project-dir p "select 1"
expect_rc 1 "query cannot run while serve holds the warehouse"
expect_err_contains "the warehouse is in use by 'weir serve' (pid $spid)" "it names the server and its pid"
expect_err_contains "stop it with 'kill $spid'" "it says how to stop it"
expect_err_contains "'weir pipeline run', 'backfill' and 'clear' hand their work to the server" \
    "and that pipeline commands hand over"
if grep -q "Could not set lock" <<<"$err"; then fail "no engine lock message"; else pass "no engine lock message"; fi
run weir build --project-dir p
expect_rc 1 "build cannot run while serve holds the warehouse"
expect_err_contains "in use by 'weir serve' (pid $spid)" "build says who holds it"
run weir pipeline rollback daily --from 2024-01-01 --to 2024-01-01 --yes --project-dir p
expect_rc 1 "rollback is not handed over"
expect_err_contains "stop it with 'kill $spid'" "rollback says what to do"

# --- run -----------------------------------------------------------------------------
run weir pipeline run daily --date 2024-01-05 --project-dir p
expect_rc 0 "a run is handed to the server and succeeds"
expect_err_contains "'weir serve' (pid $spid) holds the warehouse: handed over to it as request 1" \
    "the client says it handed the run over"
expect_err_contains "the server (pid $spid) took request 1" "and that the server took it"
expect_out_contains "daily 2024-01-05: success" "the run's outcome is printed as a local run's"
run weir pipeline logs daily --date 2024-01-05 --task load --project-dir p
expect_rc 0 "pipeline logs works while serve runs"
expect_out_contains "== task load, attempt 1 (success) ==" "and shows the server's attempt"

run weir pipeline run daily --date 2024-01-05 --project-dir p --format json
expect_rc 0 "a successful date runs again when asked, through the server"
expect_out_contains '"request": 2' "the JSON names the request"
expect_out_contains '"state": "success"' "and the run's state"
expect_out_contains '"attempts": 2' "the tasks ran a second time"

run weir pipeline run broken --date 2024-01-02 --project-dir p
expect_rc 1 "a run that fails on the server exits 1"
expect_out_contains "broken 2024-01-02: failed" "its outcome is printed"
expect_err_contains "task 'boom' up_for_retry" "the retry is reported as it happens"
expect_err_contains "task 'boom' failed" "then the failed task"

# --- backfill ------------------------------------------------------------------------
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-03 --project-dir p
expect_rc 0 "a backfill is handed to the server"
expect_err_contains "3 intervals to run, 0 already successful" "the server's plan is shown"
expect_out_contains "daily 2024-01-02: success" "each run's outcome is printed"
expect_err_contains "3 runs, 3 succeeded, 0 failed, 0 skipped" "and the summary"

run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-04 --project-dir p --parallel 2
expect_rc 0 "a second backfill over the range"
expect_err_contains "1 interval to run, 3 already successful" "skips the successful intervals"
expect_err_contains "--parallel does not apply" "and says the server's settings apply"

run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-02 --rerun --project-dir p --format json
expect_rc 0 "--rerun through the server"
expect_out_contains '"runs": 2' "runs the intervals again"
expect_out_contains '"skipped": 0' "skipping none"

# --- clear ---------------------------------------------------------------------------
run weir pipeline clear daily --date 2024-01-03 --task load --downstream --project-dir p
expect_rc 0 "a clear is handed to the server, which runs the cleared tasks"
expect_out_contains "cleared 2 task instances of 'daily' on 2024-01-03" "it says what was cleared"
expect_out_contains "daily 2024-01-03: success" "and the run's outcome"
run weir pipeline tasks daily --date 2024-01-03 --project-dir p --format json
expect_out_contains '"attempts": 2' "the cleared tasks ran again"

run weir pipeline clear daily --date 2023-06-01 --project-dir p
expect_rc 1 "clearing a date without a run fails"
expect_err_contains "could not do request" "the client relays the server's refusal"
expect_err_contains "has no run for 2023-06-01" "with its reason"

# --- a pipeline added or edited while the server runs ------------------------------
# (tests/cli/t0514-serve-reload.sh has the details)
cat >p/pipelines/late.yml <<'YML'
pipeline: late
schedule: "@daily"
start: 2024-01-01
tasks:
  - name: t
    run: "true"
YML
run weir pipeline run late --date 2024-01-01 --project-dir p
expect_rc 0 "a pipeline added after the server started can be handed over"
expect_out_contains "late 2024-01-01: success" "the server loaded it and runs it"
rm p/pipelines/late.yml
run weir pipeline run late --date 2024-01-02 --project-dir p
expect_rc 2 "a removed pipeline cannot be run"

cp p/pipelines/daily.yml daily.yml.orig
echo "# edited" >>p/pipelines/daily.yml
run weir pipeline run daily --date 2024-01-07 --project-dir p
expect_rc 0 "a run of a pipeline edited since the server started"
if grep -q "file changed since" <<<"$err"; then fail "the server runs the edited file"; else pass "the server runs the edited file"; fi
cp daily.yml.orig p/pipelines/daily.yml
run weir pipeline run daily --date 2024-01-07 --project-dir p
expect_err_contains "took request" "and again with the file as it was"

# --- --no-wait -----------------------------------------------------------------------
run weir pipeline run daily --date 2024-01-09 --no-wait --project-dir p --format json
expect_rc 0 "--no-wait returns at once"
expect_out_contains '"state": "pending"' "with the request pending"
id=$(sed -n 's/.*"request": \([0-9]*\).*/\1/p' <<<"$out")
if [ -n "$id" ]; then pass "and its id"; else fail "--no-wait prints the request id"; fi
wait_for "the server runs a --no-wait request to the end" request_state "$id" done

# --- the server dies while a client waits --------------------------------------------
"$WEIR" pipeline run slow --date 2024-01-01 --project-dir p >"$T_DIR/c1.out" 2>"$T_DIR/c1.err" &
cpid=$!
slow_running() { "$WEIR" pipeline tasks slow --project-dir p --format json | grep -q '"state": "running"'; }
wait_for "the server runs the slow task" slow_running
kill -9 "$spid"
wait "$spid" 2>/dev/null
waited=0
while kill -0 "$cpid" 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
wait "$cpid"
rc=$?
out=$(cat "$T_DIR/c1.out")
err=$(cat "$T_DIR/c1.err")
expect_rc 1 "a waiting client fails when the server dies"
expect_err_contains "the server (pid $spid) is gone while running request" "and says the server is gone"
run weir pipeline requests --project-dir p --format json
expect_out_contains '"state": "running"' "the request is kept"

# a server that never gets to a request (its next tick is far away) dies
start_serve --tick 600000
"$WEIR" pipeline run daily --date 2024-01-20 --project-dir p >"$T_DIR/c2.out" 2>"$T_DIR/c2.err" &
cpid=$!
wait_for "the request waits for the busy server" grep -q "handed over" "$T_DIR/c2.err"
kill -9 "$spid"
wait "$spid" 2>/dev/null
wait "$cpid"
rc=$?
err=$(cat "$T_DIR/c2.err")
expect_rc 1 "the client of a pending request notices the server died"
expect_err_contains "is gone before it took request" "and says the request was not taken"
run weir pipeline requests --project-dir p --format json
expect_out_contains '"state": "pending"' "the pending request is kept"

# the next server finishes both
start_serve
last=$(( id + 2 ))
wait_for "the next server finishes the interrupted request" request_state $(( id + 1 )) done
wait_for "and runs the pending one" request_state "$last" done
run weir pipeline runs slow --project-dir p --format json
expect_out_contains '"state": "success"' "the interrupted run succeeded"
run weir pipeline tasks slow --project-dir p --format json
expect_out_not_contains '"state": "running"' "nothing is left running"

kill -TERM "$spid"
wait "$spid"
rc=$?
expect_rc 0 "the server stops cleanly"

run weir query --project-dir p --format csv "select count(*) = 0 from (select ds, count(*) c from seen group by ds having c <> (case when ds in (date '2024-01-01', date '2024-01-02', date '2024-01-03', date '2024-01-05', date '2024-01-07') then 2 else 1 end)) t"
expect_out_contains "true" "the warehouse has each handed-over run's rows, as many times as it ran"
run weir query --project-dir p --format csv "select count(distinct ds) from seen where ds between date '2024-01-01' and date '2024-01-20'"
expect_out_contains "8" "every handed-over date was run"

expect_no_crash "no crash"
done_testing
