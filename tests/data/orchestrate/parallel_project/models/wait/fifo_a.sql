-- reads the FIFO $WEIR_TEST_FIFOS/a: its query waits until the test writes it
{{ config(materialized='table', tags=['fifo']) }}
select count(*) as n from read_csv('{{ env_var("WEIR_TEST_FIFOS", "/nonexistent") }}/a', header=true, columns={'x': 'INTEGER'})
