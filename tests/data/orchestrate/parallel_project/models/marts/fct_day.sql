-- one row per day and kind; a run rebuilds exactly its day
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by={'field': 'day', 'data_type': 'date'}, tags=['daily']) }}
select e.day, e.kind, count(*) as n, sum(e.v) as v, r.tag as built_for
from {{ ref('stg_events') }} e join {{ ref('run_day') }} r on e.day = r.ds
group by all
