-- What a data team looks at first: events per week, school days against
-- weekends, and the days that look wrong.
SELECT date_trunc('week', occurred_at)::DATE AS week,
       count(*) FILTER (WHERE isodow(occurred_at) <= 5) AS school_day_events,
       count(*) FILTER (WHERE isodow(occurred_at) >= 6) AS weekend_events,
       round(count(*) FILTER (WHERE isodow(occurred_at) <= 5) / 5.0) AS per_school_day
FROM raw.events
GROUP BY ALL
ORDER BY week;
