#!/usr/bin/env bash
# Scenario: a model task waiting for its turn obeys its timeout. Two
# intervals of one model build at once (a backfill, --parallel 2); builds
# of one model take turns, so one of them waits while the other's query
# reads a FIFO the test leaves empty past the pipeline's 1s timeout. The
# waiting task must time out at its deadline, saying it was waiting, and
# not hang on until the other build is done.
. "$(dirname "$0")/../lib.sh"
mkdir -p p/models p/pipelines fifos
mkfifo fifos/20240101 fifos/20240102
export WEIR_TEST_FIFOS=$T_DIR/fifos
cat >p/weir.yml <<'EOF'
name: turn_project
warehouse:
  type: duckdb
  path: warehouse.duckdb
store:
  type: sqlite
  path: .weir/store.db
defaults:
  timezone: UTC
  retries: 0
EOF
cat >p/models/slow_day.sql <<'EOF'
-- reads the FIFO $WEIR_TEST_FIFOS/<ds_nodash>: its query waits until the test writes it
{{ config(materialized='table') }}
select count(*) as n, '{{ var("ds", "none") }}' as ds
from read_csv('{{ env_var("WEIR_TEST_FIFOS", "/nonexistent") }}/{{ var("ds_nodash", "none") }}',
              header=true, columns={'x': 'INTEGER'})
EOF
cat >p/pipelines/turn.yml <<'EOF'
pipeline: turn
schedule: "@daily"
start: 2024-01-01
timeout: 1s
models: "slow_day"
EOF

# feed FIFO: lets a query reading it finish (opened read-write, so this
# never blocks when no query reads it)
feed() { bash -c "exec 3<>'$1'; printf 'x\n1\n' >&3; sleep 0.2"; }

weir pipeline backfill turn --from 2024-01-01 --to 2024-01-02 --parallel 2 --project-dir p \
    >run.out 2>run.err &
pid=$!
t0=$(date +%s)
sleep 3.5
# the build holding the turn is still in its query: let it finish
feed fifos/20240101
feed fifos/20240102
# a waiting build that missed its timeout would now take its turn and wait
# on a FIFO fed already: feed again until the backfill ends
for _ in $(seq 1 40); do
    kill -0 $pid 2>/dev/null || break
    sleep 0.5
    feed fifos/20240101
    feed fifos/20240102
done
wait $pid
rc=$?
out=$(cat run.out) err=$(cat run.err)
expect_rc 1 "the backfill fails: one interval timed out"
run weir pipeline tasks turn --project-dir p --format json
expect_out_contains "timed out after 1s: build of model 'slow_day' interrupted while waiting for another build of it to finish" \
    "the waiting task timed out while waiting for its turn"
waited=$(grep "interrupted while waiting" <<<"$out")
start=$(sed 's/.*"started_at": "\([^"]*\)".*/\1/' <<<"$waited")
end=$(sed 's/.*"ended_at": "\([^"]*\)".*/\1/' <<<"$waited")
secs=$(python3 -c "
from datetime import datetime as d
f=lambda s: d.fromisoformat(s.replace('Z', '+00:00'))
print((f('$end') - f('$start')).total_seconds())" 2>/dev/null)
expect_true "it ended at its deadline, not when the other build let go (${secs}s)" \
    python3 -c "import sys; sys.exit(0 if 0.9 <= float('${secs:-99}') < 3.0 else 1)"
ds=$(sed 's/.*"ds": "\([^"]*\)".*/\1/' <<<"$waited")
run weir pipeline logs turn --date "$ds" --task slow_day --project-dir p
expect_out_contains "interrupted while waiting" "its log says so"
expect_no_crash "no crash"
done_testing
