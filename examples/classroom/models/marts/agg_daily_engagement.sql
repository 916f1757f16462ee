-- The KPI table: per day, how many teachers and students were active and
-- what they did. Rebuilt a day at a time, like fct_events.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by={'field': 'day', 'data_type': 'date'}
) }}
select
    event_date as day,
    count(*) as events,
    count(distinct teacher_id) as active_teachers,
    count(distinct student_id) as active_students,
    count(distinct school_id) as active_schools,
    count(*) filter (where event_type = 'award_points') as points_awarded,
    count(*) filter (where event_type = 'message_parent') as parent_messages,
    count(*) filter (where event_type = 'post_story') as stories,
    count(*) filter (where platform = 'web') as web_events
from {{ ref('fct_events') }}
{% if var('ds', none) %}
where event_date = date '{{ var("ds") }}'
{% endif %}
group by event_date
