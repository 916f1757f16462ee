-- ephemeral: the run's day, inlined as a CTE into the models that read it
{{ config(materialized='ephemeral', tags=['daily']) }}
select cast('{{ var("ds", "2024-01-01") }}' as date) as ds, '{{ var("ds_nodash", "none") }}' as tag
