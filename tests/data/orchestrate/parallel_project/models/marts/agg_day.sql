{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by={'field': 'day', 'data_type': 'date'}, tags=['daily']) }}
select day, sum(n) as n, sum(v) as v, count(*) as kinds, '{{ var("ds", "all") }}' as built_for
from {{ ref('fct_day') }}
where day = '{{ var("ds", "1900-01-01") }}'
group by day
