-- one row per day and kind; a pipeline run rebuilds exactly its day
{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by={'field': 'day', 'data_type': 'date'}) }}
select day, kind, count(*) as n, sum(v) as v
from {{ ref('stg_events') }}
{% if var('ds', none) %}where day = '{{ var("ds") }}'{% endif %}
group by all
