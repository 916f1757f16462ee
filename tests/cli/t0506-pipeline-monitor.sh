#!/usr/bin/env bash
# Scenario: a pipeline's monitor task records the day's row count of a
# table and checks it against its forecast: with on_anomaly: warn every run
# succeeds and the series is there for `weir monitor check`, which calls the
# day that lost 40% of its rows an anomaly; with on_anomaly: fail that day's
# task fails. (How well calibrated the forecasts are on a short history is
# the monitor's own tests' business, not this one's.)
. "$(dirname "$0")/../lib.sh"

weir init p >/dev/null
mkdir -p p/monitors
cat >p/pipelines/daily.yml <<'YML'
pipeline: daily
schedule: "@daily"
start: 2024-01-01
retries: 0
alert: { stderr: false }
tasks:
  - name: load
    sql: >
      delete from events where day = '{{ ds }}';
      insert into events select '{{ ds }}', i from range(
        cast(case when isodow(date '{{ ds }}') >= 6 then 400 else 2000 end
             * case when '{{ ds }}' = '2024-02-22' then 0.6 else 1 end
             + (hash('{{ ds }}') % 9) as int)) t(i)
monitor:
  row_count: [events]
YML
cat >p/monitors/events.yml <<'YML'
monitors:
  - table: events
    date_column: day
    on_anomaly: warn
YML

run weir check --project-dir p
expect_rc 0 "a pipeline with a monitor task checks clean"
# the table exists before runs that may load days side by side
run weir query --project-dir p "create table events (day date, n int)"
expect_rc 0 "create the table"

run weir pipeline backfill daily --from 2024-01-01 --to 2024-02-22 --parallel 1 --project-dir p
expect_rc 0 "with on_anomaly: warn every day's run succeeds"

run weir monitor check events --date 2024-02-22 --project-dir p --format json
expect_out_contains '"verdict": "anomaly"' "the series the tasks recorded shows the outage as an anomaly"
run weir monitor list --project-dir p --format json
expect_out_contains "row_count:events" "the day series is recorded"
expect_out_contains "row_total:events" "and the total"

sed -i 's/on_anomaly: warn/on_anomaly: fail/' p/monitors/events.yml
run weir pipeline run daily --date 2024-02-22 --project-dir p
expect_rc 1 "with on_anomaly: fail the outage day's run fails"
run weir pipeline tasks daily --project-dir p --format json
expect_out_contains "monitor of 'events'" "the task names the table"

done_testing
