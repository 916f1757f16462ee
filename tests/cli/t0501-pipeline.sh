#!/usr/bin/env bash
# Scenario: pipelines on the command line: check, list, run, runs, tasks,
# logs, clear, pause, backfill skipping successful intervals, failures and
# placeholders, the warehouse lock message.
. "$(dirname "$0")/../lib.sh"

weir init p >/dev/null
mkdir -p p/pipelines p/landing/2024-01-02
touch p/landing/2024-01-02/_SUCCESS
cat >p/pipelines/daily.yml <<'YML'
pipeline: daily
schedule: "@daily"
start: 2024-01-01
retries: 0
alert: { stderr: true }
inputs:
  - file: landing/{{ ds }}/_SUCCESS
    poke_interval: 50ms
    timeout: 300ms
tasks:
  - name: setup
    sql: create schema if not exists mart; create table if not exists mart.daily (day date, n int)
  - name: load
    sql: delete from mart.daily where day = '{{ ds }}'; insert into mart.daily select '{{ ds }}', i from range(5) t(i)
    depends_on: [setup, wait_file_1]
  - name: report
    run: echo "loaded $WEIR_DS from $WEIR_DATA_INTERVAL_START to $WEIR_DATA_INTERVAL_END"
    depends_on: [load]
outputs:
  - table: mart.daily
    date_column: day
YML

run weir check --project-dir p
expect_rc 0 "a project with a pipeline checks clean"

run weir pipeline list --project-dir p
expect_rc 0 "pipeline list"
expect_out_contains "daily" "lists the pipeline"

run weir pipeline list --project-dir p --format json
expect_out_contains '"pipeline": "daily"' "list --format json"

run weir pipeline run daily --date 2024-01-02 --project-dir p
expect_rc 0 "run one date"
expect_out_contains "daily 2024-01-02: success" "the run succeeded"

run weir pipeline logs daily --date 2024-01-02 --task report --project-dir p
expect_rc 0 "logs of a task"
expect_out_contains "loaded 2024-01-02 from 2024-01-02T00:00:00+00:00 to 2024-01-03T00:00:00+00:00" \
    "shell tasks get the interval in their environment"
expect_out_contains "attempt 1 (success)" "logs name the attempt"

run weir pipeline logs daily --date 2024-01-02 --task wait_file_1 --attempt 1 --project-dir p
expect_out_contains "condition met" "the sensor's pokes are logged"

run weir query --project-dir p "select count(*) as n from mart.daily"
expect_out_contains " 5" "the SQL task's rows are in the warehouse"

# the sensor waits for a file that never comes: the run fails, downstream is upstream_failed
run weir pipeline run daily --date 2024-01-03 --project-dir p
expect_rc 1 "a failed run exits 1"
expect_err_contains "task 'wait_file_1' failed: sensor timed out" "the failure is reported"
expect_err_contains "weir: alert: weir: task 'wait_file_1' of pipeline 'daily' failed for 2024-01-03" \
    "and alerted on stderr"

run weir pipeline tasks daily --date 2024-01-03 --project-dir p --format json
expect_out_contains '"state": "upstream_failed"' "downstream tasks are upstream_failed"

run weir pipeline runs daily --project-dir p
expect_out_contains "failed" "runs shows the failed run"
expect_out_contains "manual" "and the kind"

# the file arrives; clearing the sensor and running resumes the failed run
mkdir -p p/landing/2024-01-03 && touch p/landing/2024-01-03/_SUCCESS
run weir pipeline clear daily --date 2024-01-03 --task wait_file_1 --downstream --project-dir p
expect_rc 0 "clear a task and its downstream"
expect_out_contains "cleared 4 task instances" "clear counts them"
run weir pipeline run daily --date 2024-01-03 --project-dir p
expect_rc 0 "the cleared run succeeds"
run weir pipeline tasks daily --date 2024-01-03 --project-dir p
expect_out_not_contains "failed" "no failed instance is left"

# backfill: successful intervals are skipped unless --rerun
for d in 01 04 05; do mkdir -p p/landing/2024-01-$d && touch p/landing/2024-01-$d/_SUCCESS; done
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-05 --parallel 2 --project-dir p
expect_rc 0 "backfill"
expect_err_contains "3 intervals to run, 2 already successful" "backfill skips successful intervals"
expect_out_contains "daily 2024-01-05: success" "plain lines when not on a terminal"
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-05 --project-dir p --format json
expect_out_contains '"skipped": 5' "a second backfill has nothing to do"
run weir pipeline backfill daily --from 2024-01-04 --to 2024-01-05 --rerun --project-dir p --format json
expect_out_contains '"runs": 2' "--rerun runs them again"
run weir query --project-dir p --format csv "select count(*) from mart.daily"
expect_out_contains "25" "reruns do not duplicate rows"

# pause
run weir pipeline pause daily --project-dir p
expect_out_contains "paused" "pause"
run weir pipeline list --project-dir p --format json
expect_out_contains '"paused": true' "list shows it paused"
run weir pipeline unpause daily --project-dir p
expect_rc 0 "unpause"

# the formats not checked above, so that each subcommand's output is pinned
run weir pipeline pause daily --project-dir p --format json
expect_out_eq '{
  "pipeline": "daily",
  "paused": true
}' "pause --format json"
run weir pipeline unpause daily --project-dir p --format json
expect_out_eq '{
  "pipeline": "daily",
  "paused": false
}' "unpause --format json"
run weir pipeline unpause daily --project-dir p
expect_out_eq "pipeline 'daily' unpaused" "unpause says so"
run weir pipeline logs daily --date 2024-01-02 --task report --project-dir p --format json
expect_out_contains '"attempt": 1' "logs --format json"
expect_out_contains '\nloaded 2024-01-02 from' "with the log's text"
run weir pipeline logs daily --date 2024-01-09 --project-dir p
expect_rc 1 "logs of a date without attempts"
expect_err_contains "weir: error: no attempts of pipeline 'daily' on 2024-01-09" "say there are none"
run weir pipeline logs daily --date 2024-01-09 --task report --project-dir p --format json
expect_rc 0 "logs --format json without attempts"
expect_out_eq "[]" "prints an empty array"
run weir pipeline clear daily --date 2024-01-05 --task report --project-dir p --format json
expect_out_eq '{
  "pipeline": "daily",
  "ds": "2024-01-05",
  "cleared": 1
}' "clear --format json"
run weir pipeline run daily --date 2024-01-05 --project-dir p --format json
expect_rc 0 "run --format json"
expect_out_contains '"state": "success"' "gives the run's state"
expect_out_contains '"task": "report"' "and its tasks"
run weir pipeline runs daily --limit 2 --project-dir p --format json
expect_out_contains '"ds": "2024-01-04"' "runs --limit keeps the newest"
expect_out_not_contains '"ds": "2024-01-03"' "and only them"
run weir pipeline tasks daily --date 2024-01-05 --project-dir p
expect_out_contains "(4 rows)" "tasks of one date as a table"
run weir pipeline requests --project-dir p
expect_rc 0 "requests with none"
expect_out_contains "(0 rows)" "an empty table"
run weir pipeline requests --project-dir p --format json
expect_out_eq "[]" "requests --format json with none"
run weir pipeline trash --project-dir p --format json
expect_out_eq "[]" "trash --format json with none"

# a models selector that picks nothing is refused before anything runs
cat >p/pipelines/models.yml <<'YML'
pipeline: models_only
models: "tag:engagement"
YML
run weir pipeline run models_only --date 2024-01-02 --project-dir p
expect_rc 2 "a models selector that selects nothing is refused"
expect_err_contains "models.yml:2:9: models 'tag:engagement' of pipeline 'models_only' selects no model" "by its place in the file"
rm p/pipelines/models.yml

# usage errors
run weir pipeline run nope --date 2024-01-02 --project-dir p
expect_rc 2 "an unknown pipeline"
expect_err_contains "no pipeline 'nope'" "is named"
run weir pipeline run daly --date 2024-01-02 --project-dir p
expect_err_contains "did you mean 'daily'?" "with a suggestion"
run weir pipeline run daily --date 2024-13-02 --project-dir p
expect_rc 2 "a bad date"
run weir pipeline rnu
expect_err_contains "did you mean 'run'?" "unknown subcommands get a suggestion"
run weir pipeline runs --project-dir p
expect_rc 2 "runs needs a pipeline"
expect_err_contains "expected one pipeline name" "says so"
run weir pipeline tasks nope --project-dir p
expect_rc 2 "tasks of an unknown pipeline"
expect_err_contains "weir: error: no pipeline 'nope' in" "is named"
run weir pipeline tasks daily --date 2024-1-3 --project-dir p
expect_rc 2 "tasks with a bad date"
expect_err_contains "invalid date '2024-1-3' for --date (expected YYYY-MM-DD)" "names it"
run weir pipeline requests extra --project-dir p
expect_rc 2 "requests takes no argument"
expect_err_contains "unexpected argument 'extra'" "and names the one given"
run weir pipeline trash extra --project-dir p
expect_rc 2 "trash takes no arguments"
expect_err_contains "unexpected argument 'extra'" "and says which one"
run weir pipeline list --project-dir p --format csv
expect_rc 2 "pipeline commands print text or json"
expect_err_contains "csv" "the format is named"
run weir pipeline runs --help
expect_rc 0 "runs --help"
expect_out_contains "--limit N" "lists its options"
run weir pipeline tasks --help
expect_out_contains "--date DATE" "tasks --help lists --date"

# a bad pipeline file: every problem at its place, in weir check too
cat >p/pipelines/bad.yml <<'YML'
pipeline: bad
schedule: "0 25 * * *"
tasks:
  - name: a
    run: x
    depend_on: [b]
YML
run weir check --project-dir p
expect_rc 2 "check fails on a bad pipeline"
expect_err_contains "p/pipelines/bad.yml:2:14: error: invalid 'schedule'" "the cron error names its column"
expect_err_contains "p/pipelines/bad.yml:6:5: error: unknown key 'depend_on'" "unknown keys are located"
expect_err_contains "did you mean 'depends_on'?" "with did you mean"
run weir pipeline list --project-dir p
expect_rc 2 "commands refuse invalid pipelines"
rm p/pipelines/bad.yml

expect_no_crash "no crash"
done_testing
