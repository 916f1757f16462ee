{{ config(materialized='incremental', incremental_strategy='insert_overwrite',
          partition_by={'field': 'day', 'data_type': 'date'}) }}
select day, sum(n) as n, sum(v) as v, '{{ var("ds", "all") }}' as built_for
from {{ ref('fct_daily') }}
{% if var('ds', none) %}where day = '{{ var("ds") }}'{% endif %}
group by day
