#!/usr/bin/env bash
# Scenario: model tasks build side by side. Two independent model tasks of
# one run are inside their queries at the same time (each query reads a
# FIFO that the test opens only once both readers are waiting, so with
# builds taking turns the second would never start); a backfill running
# four intervals at once from an empty warehouse builds the same tables as
# one interval at a time: incremental insert_overwrite models (one reading
# the other), an ephemeral model and a singular test reading the run's ds,
# and a plain table every interval rebuilds.
. "$(dirname "$0")/../lib.sh"
data="$WEIR_SRCDIR/tests/data/orchestrate/parallel_project"
cp -r "$data" p
weir query --project-dir p "$(cat p/setup.sql)" >/dev/null

# --- two independent tasks overlap -----------------------------------------
mkdir fifos && mkfifo fifos/a fifos/b
export WEIR_TEST_FIFOS=$T_DIR/fifos
weir pipeline run overlap --date 2024-01-01 --project-dir p >run.out 2>run.err &
pid=$!
# opening a FIFO for writing waits for its reader: both opens return only
# when both queries are reading at once
timeout 30 bash -c 'exec 3>fifos/a 4>fifos/b; printf "x\n1\n" >&3; printf "x\n1\n2\n" >&4'
both=$?
if [ $both -ne 0 ]; then
    # let a reader still waiting finish, so the run ends
    for f in fifos/a fifos/b; do timeout 10 bash -c "exec 3>$f"; done
fi
wait $pid
rc=$?
out=$(cat run.out) err=$(cat run.err)
expect_true "both model tasks were reading their FIFOs at the same time" test $both -eq 0
expect_rc 0 "the run of the two tasks succeeds"
run weir query --project-dir p --format csv "select (select n from main.fifo_a) as a, (select n from main.fifo_b) as b"
expect_out_eq "$(printf 'a,b\n1,2')" "each task built its table from its own FIFO"
run weir pipeline tasks overlap --project-dir p --format json
field() { grep "\"task\": \"$1\"" <<<"$out" | sed "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/"; }
sa=$(field fifo_a started_at) ea=$(field fifo_a ended_at)
sb=$(field fifo_b started_at) eb=$(field fifo_b ended_at)
expect_true "the store shows each task started before the other ended ($sa-$ea, $sb-$eb)" \
    bash -c "[[ -n '$sa' && -n '$sb' && '$sa' < '$eb' && '$sb' < '$ea' ]]"

# --- a parallel backfill gives the tables of a sequential one ---------------
cp -r p q
tables() {
    for t in fct_day agg_day kinds; do
        echo "-- $t"
        weir query --project-dir "$1" --format csv "select * from main.$t order by all"
    done
}
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-08 --parallel 1 --project-dir p
expect_rc 0 "a backfill of eight days, one at a time"
tables p >seq.tables
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-08 --parallel 4 --project-dir q
expect_rc 0 "the same backfill, four days at once, from an empty warehouse"
expect_err_contains "8 runs, 8 succeeded" "every interval succeeded"
tables q >par.tables
expect_true "the tables are those of the sequential backfill" cmp -s seq.tables par.tables
expect_true "every day was built by its own run (the ephemeral model read its ds)" \
    grep -q "^2024-01-08,c,.*,20240108$" par.tables
expect_true "and so was the aggregate" grep -q "^2024-01-05,.*,2024-01-05$" par.tables
for d in 01 04 08; do
    log=q/.weir/logs/daily/2024-01-$d/fct_day.1.log
    expect_true "the singular test ran with its run's ds (2024-01-$d)" \
        grep -q "test fct_day_has_its_day: pass" "$log"
    expect_true "its SQL is its run's (2024-01-$d)" grep -q "cast('2024-01-$d' as date)" "$log"
done
run weir pipeline backfill daily --from 2024-01-01 --to 2024-01-08 --rerun --parallel 8 --project-dir q
expect_rc 0 "the backfill again, eight days at once, over the built tables"
tables q >again.tables
expect_true "gives the same tables again" cmp -s seq.tables again.tables
run weir query --project-dir q --format csv "select count(*) as c from main.fct_day"
expect_out_eq "$(printf 'c\n24')" "no day was written twice"
expect_no_crash "no crash"
done_testing
