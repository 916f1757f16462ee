#!/usr/bin/env bash
# Scenario: `weir pipeline requests cancel ID`. A pending request is
# cancelled at once and never runs (nor does the next server run it); a
# running backfill keeps the runs it started and drops the others, ends
# cancelled, and its client exits 1; a request cancelled while no server
# runs is not resumed by the next one; finished requests and bad ids are
# refused.
. "$(dirname "$0")/../lib.sh"

weir init p >/dev/null
mkdir -p p/pipelines
# one run at a time, each about a second: a backfill is cancelled half way;
# it ended long ago, so the server schedules no run of its own
cat >p/pipelines/slow.yml <<'YML'
pipeline: slow
schedule: "@daily"
start: 2024-01-01
end: 2024-12-31
catchup: false
max_active_runs: 1
tasks:
  - name: load
    sql: insert into seen values ('{{ ds }}')
  - name: nap
    run: sleep 1
    depends_on: [load]
YML
weir query --project-dir p "create table seen (ds date)" >/dev/null

start_serve() { # start_serve [ARGS]: the server in the background, $spid
    "$WEIR" serve --project-dir p "$@" >>"$T_DIR/serve.out" 2>>"$T_DIR/serve.err" &
    spid=$!
    for i in $(seq 1 100); do
        grep -q "pid $spid" "$T_DIR/serve.out" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.3
}
stop_serve() {
    kill -TERM "$spid"
    wait "$spid"
}
wait_for() { # wait_for DESCRIPTION CMD...: up to 20 s for CMD to succeed
    local d=$1; shift
    for i in $(seq 1 200); do
        if "$@" >/dev/null 2>&1; then pass "$d"; return 0; fi
        sleep 0.1
    done
    fail "$d" "gave up waiting for: $*"
}
request_state() { # request_state ID STATE
    "$WEIR" pipeline requests --project-dir p --format json |
        tr -d '\n ' | grep -q "\"request\":$1,[^}]*\"state\":\"$2\""
}
runs_in() { # runs_in STATE: how many runs of slow are in STATE
    "$WEIR" pipeline runs slow --project-dir p --limit 100 --format json |
        tr -d '\n ' | grep -o "\"state\":\"$1\"" | wc -l
}
successes_at_least() { [ "$(runs_in success)" -ge "$1" ]; }
store() { sqlite3 p/.weir/store.db "$1"; }

# --- help and usage ------------------------------------------------------------------
run weir pipeline requests cancel --help
expect_rc 0 "requests cancel has help"
expect_out_contains "usage: weir pipeline requests cancel ID" "with its usage"
expect_out_contains "drops" "saying what happens to the runs"
run weir pipeline requests --help
expect_out_contains "weir pipeline requests cancel ID" "requests --help shows cancel"
run weir pipeline requests cancel --project-dir p
expect_rc 2 "cancel needs an id"
expect_err_contains "expected one request id (see 'weir pipeline requests')" "and says where to find one"
run weir pipeline requests cancel x1 --project-dir p
expect_rc 2 "a malformed id is a usage error"
expect_err_contains "invalid request id 'x1'" "naming it"
run weir pipeline requests cancel 0 --project-dir p
expect_rc 2 "so is 0"
run weir pipeline requests cancel 99 --project-dir p
expect_rc 1 "an unknown request cannot be cancelled"
expect_err_contains "no request 99" "and the message says there is none"
run weir pipeline requests --project-dir p
expect_rc 0 "the listing still works"

# --- a pending request: cancelled at once, never run ---------------------------------
# the server's next tick is far away: the request stays pending
start_serve --tick 600000
run weir pipeline run slow --date 2024-02-01 --no-wait --project-dir p --format json
expect_rc 0 "a request is handed over"
pending=$(sed -n 's/.*"request": \([0-9]*\).*/\1/p' <<<"$out")
if request_state "$pending" pending; then pass "it is pending"; else fail "it is pending"; fi
run weir pipeline requests cancel "$pending" --project-dir p
expect_rc 0 "a pending request is cancelled"
expect_out_contains "request $pending cancelled: no server had taken it" "at once"
if request_state "$pending" cancelled; then pass "its state is cancelled"; else fail "its state is cancelled"; fi
run weir pipeline requests --project-dir p
expect_out_contains "before a server took it" "the listing says when it was cancelled"
run weir pipeline requests cancel "$pending" --project-dir p
expect_rc 1 "a cancelled request cannot be cancelled again"
expect_err_contains "request $pending is already cancelled: only a pending or running request can be cancelled" \
    "and the message says why"
stop_serve

# a client waiting on a pending request sees the cancel and fails
start_serve --tick 600000
"$WEIR" pipeline run slow --date 2024-02-02 --project-dir p >"$T_DIR/c0.out" 2>"$T_DIR/c0.err" &
cpid=$!
wait_for "a client waits on its pending request" grep -q "handed over" "$T_DIR/c0.err"
waiter=$(sed -n 's/.*as request \([0-9]*\).*/\1/p' "$T_DIR/c0.err")
run weir pipeline requests cancel "$waiter" --project-dir p --format json
expect_rc 0 "cancel --format json"
expect_out_contains '"state": "cancelled"' "says the request is cancelled"
wait "$cpid"
rc=$?
err=$(cat "$T_DIR/c0.err")
expect_rc 1 "the waiting client exits 1"
expect_err_contains "request $waiter was cancelled by" "saying it was cancelled"
stop_serve

# the next server (default tick) does not run them
start_serve
sleep 1.5
if [ "$(runs_in success)" = 0 ] && [ "$(runs_in queued)" = 0 ] && [ "$(runs_in running)" = 0 ]; then
    pass "cancelled pending requests are never run"
else
    fail "cancelled pending requests are never run" "$("$WEIR" pipeline runs slow --project-dir p)"
fi

# --- a running backfill: the started runs finish, the others are dropped ------------
"$WEIR" pipeline backfill slow --from 2024-01-01 --to 2024-01-08 --project-dir p \
    >"$T_DIR/c1.out" 2>"$T_DIR/c1.err" &
cpid=$!
wait_for "the server runs the backfill" grep -q "took request" "$T_DIR/c1.err"
back=$(sed -n 's/.*as request \([0-9]*\).*/\1/p' "$T_DIR/c1.err")
wait_for "its first run succeeds" successes_at_least 1
run weir pipeline requests cancel "$back" --project-dir p
expect_rc 0 "a running backfill is cancelled"
expect_out_contains "cancel requested; the server (pid $spid) drops its runs not started yet" \
    "the cancel says what the server does"
wait "$cpid"
rc=$?
out=$(cat "$T_DIR/c1.out")
err=$(cat "$T_DIR/c1.err")
expect_rc 1 "the backfill's client exits 1"
expect_err_contains "request $back is being cancelled" "it is told of the cancel while it follows"
expect_err_contains "request $back was cancelled by" "and that the request was cancelled"
expect_err_contains "runs dropped, " "with how many runs were dropped"
if request_state "$back" cancelled; then pass "the request ends cancelled"; else fail "the request ends cancelled"; fi
ok=$(runs_in success); dropped=$(runs_in cancelled)
if [ "$ok" -ge 1 ] && [ "$dropped" -ge 1 ] && [ $((ok + dropped)) = 8 ]; then
    pass "some runs finished ($ok), the others were dropped ($dropped)"
else
    fail "some runs finished, the others were dropped" "success $ok, cancelled $dropped"
fi
if [ "$(runs_in queued)" = 0 ] && [ "$(runs_in running)" = 0 ] && [ "$(runs_in failed)" = 0 ]; then
    pass "no run is left queued or running"
else
    fail "no run is left queued or running" "$("$WEIR" pipeline runs slow --project-dir p)"
fi
run weir pipeline tasks slow --project-dir p --format json
expect_out_not_contains '"state": "running"' "no task instance is left running"
expect_out_not_contains '"state": "queued"' "nor queued"
run weir pipeline tasks slow --project-dir p --format json
n=$(grep -c '"state": "success"' <<<"$out"); m=$(grep -c '"state": "none"' <<<"$out")
if [ "$n" = $((2 * ok)) ] && [ "$m" = $((2 * dropped)) ]; then
    pass "the finished runs' tasks all ran, the dropped runs' none"
else
    fail "the finished runs' tasks all ran, the dropped runs' none" "success $n, none $m"
fi
run weir pipeline requests --project-dir p --format json
expect_out_contains "$dropped runs dropped, $ok finished" \
    "the request's message counts dropped and finished runs"
grep -q "request $back (backfill slow 2024-01-01..2024-01-08, from .*): cancelled by" "$T_DIR/serve.out" &&
    pass "the server logs the cancel" || fail "the server logs the cancel" "$(cat "$T_DIR/serve.out")"
run weir pipeline requests cancel "$back" --project-dir p
expect_rc 1 "a cancelled backfill cannot be cancelled again"
stop_serve
run weir query --project-dir p --format csv "select count(distinct ds) as d, count(*) as n from seen"
expect_out_contains "$ok,$ok" "the warehouse has the rows of the finished runs, none of a dropped run"
start_serve

# a finished request cannot be cancelled
run weir pipeline run slow --date 2024-01-01 --project-dir p
expect_rc 0 "a run through the server"
done_id=$(sed -n 's/.*as request \([0-9]*\).*/\1/p' <<<"$err")
run weir pipeline requests cancel "$done_id" --project-dir p
expect_rc 1 "a done request cannot be cancelled"
expect_err_contains "request $done_id is already done" "and the message says so"

# a dropped run is not lost: a backfill runs it
run weir pipeline backfill slow --from 2024-01-01 --to 2024-01-08 --project-dir p
expect_rc 0 "a later backfill"
expect_err_contains "$dropped interval" "runs the dropped intervals again"
if [ "$(runs_in success)" = 8 ]; then pass "then every run succeeded"; else fail "then every run succeeded"; fi

# --- cancelled while the server is stopped: the next one does not resume it --------
run weir pipeline backfill slow --from 2024-03-01 --to 2024-03-06 --no-wait --project-dir p --format json
late=$(sed -n 's/.*"request": \([0-9]*\).*/\1/p' <<<"$out")
wait_for "the server takes it" request_state "$late" running
wait_for "and runs some of it" successes_at_least 9
# stopping interrupts the run in progress (back to queued): once the
# request is cancelled, the next server drops it too, as it was not
# running any more
stop_serve
run weir pipeline requests cancel "$late" --project-dir p
expect_rc 0 "a running request is cancelled while no server runs"
expect_out_contains "cancel requested" "it waits for a server"
before=$(runs_in success)
start_serve
wait_for "the next server ends the request cancelled" request_state "$late" cancelled
sleep 1.5
if [ "$(runs_in success)" = "$before" ]; then pass "without running its runs left"; else fail "without running its runs left" "$before then $(runs_in success)"; fi
if [ "$(runs_in queued)" = 0 ] && [ "$(runs_in running)" = 0 ]; then
    pass "nothing of it is left queued or running"
else
    fail "nothing of it is left queued or running" "$("$WEIR" pipeline runs slow --project-dir p)"
fi

stop_serve
rc=$?
expect_rc 0 "the server stops cleanly"
if command -v sqlite3 >/dev/null; then
    n=$(store "select count(*) from audit_log where action = 'cancel request'")
    if [ "$n" = 4 ]; then pass "every cancel is audited"; else fail "every cancel is audited" "$n"; fi
fi

err=$(cat "$T_DIR/serve.err")
expect_no_crash "no crash (the servers' stderr included)"
done_testing
