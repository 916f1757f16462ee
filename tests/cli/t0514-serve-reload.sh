#!/usr/bin/env bash
# Scenario: `weir serve` picks up edits without a restart. A pipeline file
# added while it runs can be handed a run; an edited model builds its new
# SQL; a run in flight when its pipeline changes finishes as it started
# while the next run uses the edit; a file with an error is reported once
# (file:line:col), the server goes on with what it loaded and runs it, and
# loads the file once it is fixed; a replaced load is freed once no run in
# flight uses it; a removed pipeline gets no new runs, and its run in
# flight finishes; a new warehouse in weir.yml is said to need a restart.
. "$(dirname "$0")/../lib.sh"

weir init p >/dev/null
mkdir -p p/pipelines p/models
# put FILE: writes stdin to FILE at once (a file renamed into place), so
# the server never sees it half written (it would say so, and the checks
# below count what it says)
put() { cat >"$T_DIR/.put" && mv "$T_DIR/.put" "$1"; }
# `end:` keeps the server from scheduling runs of its own: it runs what it
# is handed
put p/models/report.sql <<'SQL'
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by={'field': 'ds', 'data_type': 'date'}) }}
select cast('{{ var("ds") }}' as date) as ds, 'v1' as version
SQL
put p/pipelines/daily.yml <<'YML'
pipeline: daily
schedule: "@daily"
start: 2024-01-01
end: 2024-01-31
models: report
YML
slow_yml() { # slow_yml VERSION: waits for a file 'release', then marks the version
    put p/pipelines/slow.yml <<YML
pipeline: slow
schedule: "@daily"
start: 2024-01-01
end: 2024-01-31
tasks:
  - name: nap
    run: while [ ! -e release ]; do sleep 0.05; done
  - name: mark
    run: echo $1 >"slow-\$WEIR_DS.out"
    depends_on: [nap]
YML
}
slow_yml v1

"$WEIR" serve --project-dir p --tick 100 -v >"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
spid=$!
for i in $(seq 1 100); do
    grep -q "pid $spid" "$T_DIR/serve.out" 2>/dev/null && break
    sleep 0.1
done

# wait_for DESCRIPTION CMD...: up to 20 s for CMD to succeed.
wait_for() {
    local d=$1; shift
    for i in $(seq 1 200); do
        if "$@" >/dev/null 2>&1; then pass "$d"; return 0; fi
        sleep 0.1
    done
    fail "$d" "gave up waiting for: $*" "server stdout: $(tail -5 "$T_DIR/serve.out")" \
        "server stderr: $(tail -5 "$T_DIR/serve.err")"
}
served() { grep -qF -- "$1" "$T_DIR/serve.out"; }
served_err() { grep -qF -- "$1" "$T_DIR/serve.err"; }
fails() { # fails N: the server said N times that files do not load
    test "$(count "goes on with what it loaded before" serve.err)" -eq "$1"
}
reloaded() { # reloaded N TEXT: the server's Nth reload said TEXT
    grep '^reloaded:' "$T_DIR/serve.out" | sed -n "$1p" | grep -qF -- "$2"
}
count() { grep -cF -- "$1" "$T_DIR/$2"; }

run weir serve --help
expect_out_contains "loads them again" "serve --help says the server picks up edits"

run weir pipeline run daily --date 2024-01-02 --project-dir p
expect_rc 0 "a run handed to the server before any edit"
expect_out_contains "daily 2024-01-02: success" "succeeds"

# --- a new pipeline file -------------------------------------------------------------
put p/pipelines/extra.yml <<'YML'
pipeline: extra
schedule: "@daily"
start: 2024-01-01
end: 2024-01-31
tasks:
  - name: hello
    run: echo hello >"extra-$WEIR_DS.out"
YML
wait_for "the server reloads when a pipeline file is added" \
    reloaded 1 "reloaded: 3 pipelines (added 1, removed 0, changed 0)"
run weir pipeline run extra --date 2024-01-03 --project-dir p
expect_rc 0 "the added pipeline can be handed a run"
expect_out_contains "extra 2024-01-03: success" "and the server runs it"
expect_true "its task ran" test -f p/extra-2024-01-03.out

# --- an edited model -----------------------------------------------------------------
sed -i 's/v1/v2/' p/models/report.sql
wait_for "the server reloads when a model changes" \
    reloaded 2 "reloaded: 3 pipelines (added 0, removed 0, changed 1)"
run weir pipeline run daily --date 2024-01-04 --project-dir p
expect_rc 0 "a run after the model's edit"
run weir pipeline logs daily --date 2024-01-04 --task report --project-dir p
expect_out_contains "'v2' as version" "builds the new SQL"
run weir pipeline logs daily --date 2024-01-02 --task report --project-dir p
expect_out_contains "'v1' as version" "the run before the edit built the old one"

# --- a pipeline edited while its run is in flight -------------------------------------
run weir pipeline run slow --date 2024-01-05 --no-wait --project-dir p
expect_rc 0 "a slow run is handed over"
wait_for "the slow run starts" served "slow 2024-01-05: started"
slow_yml v2
wait_for "the server reloads while the run is in flight" \
    reloaded 3 "reloaded: 3 pipelines (added 0, removed 0, changed 1)"
freed() { test "$(count "a replaced load of the project is freed" serve.err)" -eq "$1"; }
wait_for "the loads replaced before are freed" freed 2
sleep 0.3
expect_true "the load the run in flight uses is kept" freed 2
if served "slow 2024-01-05: success"; then fail "the run is still in flight"; else pass "the run is still in flight"; fi
touch p/release
wait_for "the run in flight finishes" served "slow 2024-01-05: success"
wait_for "then the load it used is freed" freed 3
expect_true "with the pipeline as it started (v1)" grep -qx v1 p/slow-2024-01-05.out
run weir pipeline run slow --date 2024-01-06 --project-dir p
expect_rc 0 "the next run of the edited pipeline"
expect_true "uses the edit (v2)" grep -qx v2 p/slow-2024-01-06.out

# --- a file with an error -------------------------------------------------------------
# a pipeline the server schedules by itself, to see it go on while the
# files do not load: hourly runs since ten days ago, one at a time (one a
# tick at most: they outlast this test)
start=$(date -u -d '10 days ago' +%F)
put p/pipelines/ticker.yml <<YML
pipeline: ticker
schedule: "@hourly"
start: $start
max_active_runs: 1
tasks:
  - name: tick
    run: "true"
YML
wait_for "the server loads the ticker" reloaded 4 "reloaded: 4 pipelines (added 1, removed 0, changed 0)"
wait_for "and schedules its runs" served "ticker $start: success"

put p/pipelines/broken.yml <<'YML'
pipeline: broken
schedule: "@daily"
start: 2024-01-01
end: 2024-01-31
tasks:
  - name: t
    runn: "true"
YML
wait_for "a pipeline file with an error is reported with its place" \
    served_err "p/pipelines/broken.yml:7:5: error: unknown key 'runn'"
wait_for "and the server says it goes on with what it loaded" \
    served_err "'weir serve' goes on with what it loaded before"
before=$(count "ticker " serve.out)
sleep 1
after=$(count "ticker " serve.out)
if [ "$after" -gt "$before" ]; then pass "the old pipelines still run"; else fail "the old pipelines still run" "ticker lines: $before then $after"; fi
if kill -0 "$spid" 2>/dev/null; then pass "the server keeps serving"; else fail "the server keeps serving"; fi
expect_true "the problem is said once, not every tick" \
    test "$(count "goes on with what it loaded before" serve.err)" -eq 1
expect_true "the diagnostic is printed once" test "$(count "broken.yml:7:5" serve.err)" -eq 1

# an error in weir.yml as well
cp p/weir.yml weir.yml.orig
{ cat weir.yml.orig; echo "warehouse: [oops"; } | put p/weir.yml
wait_for "an error in weir.yml is reported" served_err "p/weir.yml:"
expect_true "and said once per change" fails 2
put p/weir.yml <weir.yml.orig
wait_for "weir.yml fixed, the pipeline's error is said again" fails 3

sed -i 's/runn:/run:/' p/pipelines/broken.yml
wait_for "the fixed file is loaded" reloaded 5 "reloaded: 5 pipelines (added 1, removed 0, changed 0)"
run weir pipeline run broken --date 2024-01-07 --project-dir p
expect_rc 0 "the fixed pipeline can be handed a run"
expect_out_contains "broken 2024-01-07: success" "and the server runs it"

# a model that does not compile, then an edit of the pipeline: the server
# keeps both as they were, and tells a client that the file it has differs
cp p/models/report.sql report.sql.orig
cp p/pipelines/daily.yml daily.yml.orig
printf "select * from {{ ref('nowhere') }}\n" | put p/models/report.sql
wait_for "a model that does not compile is reported" served_err "nowhere"
wait_for "and the server says it goes on with what it loaded" fails 4
{ cat daily.yml.orig; echo "retries: 2"; } | put p/pipelines/daily.yml
wait_for "an edit while the model does not compile is not loaded either" fails 5
run weir pipeline run daily --date 2024-01-09 --project-dir p
expect_rc 0 "the pipeline runs meanwhile"
expect_err_contains "the server runs pipeline 'daily' as it last loaded it; its file changed since" \
    "the client is told the server runs what it last loaded"
expect_err_contains "see the server's output" "and where to look"
run weir pipeline logs daily --date 2024-01-09 --task report --project-dir p
expect_out_contains "'v2' as version" "with the model as it last loaded"
put p/pipelines/daily.yml <daily.yml.orig
wait_for "the pipeline's file restored, the model still fails" fails 6
put p/models/report.sql <report.sql.orig
wait_for "the model restored, the files load again" \
    reloaded 6 "reloaded: 5 pipelines (added 0, removed 0, changed 0)"

# --- a removed pipeline ---------------------------------------------------------------
rm p/pipelines/ticker.yml
wait_for "a removed pipeline file is reloaded" \
    reloaded 7 "reloaded: 4 pipelines (added 0, removed 1, changed 0)"
sleep 0.5 # its run in flight, if any, finishes
before=$(count "ticker " serve.out)
sleep 1
after=$(count "ticker " serve.out)
expect_true "a removed pipeline gets no new runs" test "$before" -eq "$after"
expect_true "its runs started before all finished" \
    test "$(grep -c '^ticker .*: started' "$T_DIR/serve.out")" -eq \
    "$(grep -cE '^ticker .*: (success|failed)' "$T_DIR/serve.out")"
run weir pipeline run extra --date 2024-01-08 --project-dir p
expect_rc 0 "the others still run"

# a pipeline removed while its run is in flight: the run finishes
rm p/release
run weir pipeline run slow --date 2024-01-10 --no-wait --project-dir p
wait_for "a run of the pipeline about to be removed starts" served "slow 2024-01-10: started"
rm p/pipelines/slow.yml
wait_for "the pipeline is removed while its run is in flight" \
    reloaded 8 "reloaded: 3 pipelines (added 0, removed 1, changed 0)"
touch p/release
wait_for "the run finishes" served "slow 2024-01-10: success"
expect_true "with its pipeline as it was" grep -qx v2 p/slow-2024-01-10.out

# what the server opened when it started stays: it says so
sed 's/path: warehouse.duckdb/path: elsewhere.duckdb/' weir.yml.orig | put p/weir.yml
wait_for "a new warehouse in weir.yml is reported as needing a restart" \
    served_err "restart it to use the new ones"
wait_for "the rest of weir.yml is loaded" \
    reloaded 9 "reloaded: 3 pipelines (added 0, removed 0, changed 0)"
run weir pipeline run extra --date 2024-01-11 --project-dir p
expect_rc 0 "and the server still runs in the warehouse it opened"
expect_true "not in the new one" test ! -e p/elsewhere.duckdb

kill -TERM "$spid"
wait "$spid"
rc=$?
expect_rc 0 "the server stops cleanly"
err=$(cat "$T_DIR/serve.err")
expect_no_crash "no crash or sanitizer report in the server"

put p/weir.yml <weir.yml.orig

run weir query --project-dir p --format csv "select ds, version from report order by ds"
expect_out_contains "2024-01-02,v1" "the table holds the day built before the edit"
expect_out_contains "2024-01-04,v2" "and the day built after it"

done_testing
