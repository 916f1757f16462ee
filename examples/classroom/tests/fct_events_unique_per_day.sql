-- A day loaded twice shows up as event ids seen more than once on the
-- run's day. Reported (severity warn): the expectation suite on the day is
-- what fails the run.
{{ config(severity='warn') }}
select event_id, count(*) as n
from {{ ref('fct_events') }}
where event_date = date '{{ var("ds", "1900-01-01") }}'
group by event_id
having count(*) > 1
