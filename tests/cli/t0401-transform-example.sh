#!/usr/bin/env bash
# Scenario: the example dbt project (examples/jaffle) builds unmodified, twice,
# and leaves dbt's artifacts in target/.
. "$(dirname "$0")/../lib.sh"
cp -r "$WEIR_SRCDIR/examples/jaffle" jaffle
rm -rf jaffle/target jaffle/warehouse.duckdb*

run weir ls --project-dir jaffle
expect_rc 0 "ls lists the project"
expect_out_contains "jaffle.marts.customers" "models by their fqn"
expect_out_contains "jaffle.not_null_orders_order_id" "generic tests"
expect_out_contains "jaffle.assert_no_negative_order_totals" "singular tests"

run weir compile --project-dir jaffle
expect_rc 0 "compile"
expect_true "manifest.json written" test -s jaffle/target/manifest.json
expect_true "compiled SQL written" test -s jaffle/target/compiled/jaffle/models/marts/orders.sql
expect_true "the Jinja loop is unrolled" grep -q "gift_card_amount" jaffle/target/compiled/jaffle/models/marts/orders.sql
expect_true "ephemeral models become CTEs" grep -q "__dbt__cte__stg_payments as" jaffle/target/compiled/jaffle/models/marts/orders.sql
expect_true "the manifest has dbt's keys" grep -q '"parent_map"' jaffle/target/manifest.json

run weir build --project-dir jaffle --threads 2
expect_rc 0 "build the whole project"
expect_out_contains "seed main.raw_orders" "seeds are loaded"
expect_out_contains "table model main.customers" "tables are built"
expect_out_contains "incremental model main.daily_revenue" "incremental models are built"
expect_out_contains "snapshot snapshots.orders_snapshot" "snapshots are taken"
expect_out_contains "PASS  test relationships_orders_customer_id" "relationships test passes"
expect_out_contains "PASS  test positive_customers_lifetime_value" "a custom generic test runs"
expect_out_contains "Done. PASS=22 WARN=0 ERROR=0 SKIP=0 TOTAL=22" "summary line"
expect_true "run_results.json written" test -s jaffle/target/run_results.json
expect_true "run_results has dbt's status words" grep -q '"status": "success"' jaffle/target/run_results.json
expect_true "tests report pass" grep -q '"status": "pass"' jaffle/target/run_results.json
expect_true "run/ SQL written" test -s jaffle/target/run/jaffle/models/marts/customers.sql

run weir query -C jaffle --format csv "select customer_id, number_of_orders, lifetime_value from customers order by 1 limit 2"
expect_out_contains "1,2,40.0" "customers are right"

run weir build --project-dir jaffle
expect_rc 0 "a second build passes too"
run weir query -C jaffle --format csv "select count(*) from daily_revenue"
expect_out_contains "4" "the incremental model keeps one row per day"
run weir query -C jaffle --format csv "select count(*) from snapshots.orders_snapshot"
expect_out_contains "8" "an unchanged source adds no snapshot rows"

run weir compile -C jaffle --inline "select * from {{ ref('customers') }} where x = {{ var('payment_methods')[0] | tojson }}"
expect_rc 0 "compile --inline"
expect_out_contains 'select * from "main"."customers" where x = "credit_card"' "inline SQL is rendered"

run weir docs generate -C jaffle
expect_rc 0 "docs generate"
expect_true "the docs page is written" test -s jaffle/target/index.html
expect_true "it documents every model" grep -q 'id="model.jaffle.customer_latest_order"' jaffle/target/index.html
expect_true "descriptions render doc() blocks" grep -q "One row per customer" jaffle/target/index.html
expect_true "columns list their tests" grep -q '<span class="test">relationships</span>' jaffle/target/index.html
expect_true "the lineage graph is drawn" grep -q "<svg" jaffle/target/index.html
run weir docs serve -C jaffle
expect_rc 2 "an unknown docs command is a usage error"

done_testing
