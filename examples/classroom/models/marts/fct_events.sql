-- One row per event, partitioned by day. A pipeline run (var 'ds' set)
-- rebuilds exactly its day: insert_overwrite replaces the day's partition,
-- so running a day again, or backfilling a range, gives the same table.
-- Without 'ds' (`weir build`) it builds every day at once.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by={'field': 'event_date', 'data_type': 'date'}
) }}
select event_id, occurred_at, event_date, event_type, teacher_id, student_id, school_id, platform
from {{ ref('stg_events') }}
{% if var('ds', none) %}
where event_date = date '{{ var("ds") }}'
{% endif %}
