-- The product event stream as the marts read it: typed, with its day.
select
    event_id,
    occurred_at,
    cast(occurred_at as date) as event_date,
    event_type,
    teacher_id,
    student_id,
    school_id,
    platform
from {{ source('raw', 'events') }}
