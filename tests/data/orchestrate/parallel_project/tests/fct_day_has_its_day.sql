-- fails when the run's day is missing from fct_day
select 1 from (select count(*) as c from {{ ref('fct_day') }} f join {{ ref('run_day') }} r on f.day = r.ds) where c = 0
