-- The demo's product event stream, generated deterministically (same rows on
-- every run): a classroom app used by teachers in schools. Weekdays far above
-- weekends, a spring break with almost no activity, slow growth, and one
-- broken day: an upstream outage on 2024-03-14 that lost 40% of the events
-- (the corrected source, with `SET VARIABLE demo_clean = true` first, has
-- them all; demo/break_days.sql breaks two more days).
CREATE SCHEMA IF NOT EXISTS raw;

CREATE OR REPLACE TABLE raw.events AS
WITH days AS (
    SELECT d::DATE AS day
    FROM range(DATE '2024-01-08', DATE '2024-05-06', INTERVAL 1 DAY) AS t(d)
),
volume AS (
    SELECT day,
           CAST(round(
               300 * (1 + 0.003 * (day - DATE '2024-01-08'))                  -- growth
                   * CASE WHEN isodow(day) >= 6 THEN 0.12 ELSE 1.0 END        -- weekends
                   * CASE WHEN day BETWEEN DATE '2024-04-01' AND DATE '2024-04-12'
                          THEN 0.08 ELSE 1.0 END                              -- spring break
                   * CASE WHEN day = DATE '2024-03-14'                        -- the outage
                               AND NOT coalesce(getvariable('demo_clean'), false)     -- (SET VARIABLE
                          THEN 0.6 ELSE 1.0 END                                       --  demo_clean: none)
                   * (0.92 + 0.16 * (hash(day, 7) % 1000) / 1000.0)           -- noise
           ) AS INTEGER) AS n
    FROM days
)
SELECT CAST(strftime(day, '%Y%m%d') AS BIGINT) * 10000 + i AS event_id,  -- stable per day
       day + to_seconds(CAST(28800 + hash(day, i) % 32400 AS BIGINT)) AS occurred_at,
       (['award_points', 'award_points', 'award_points', 'message_parent', 'post_story'])
           [1 + CAST(hash(day, i, 1) % 5 AS INTEGER)] AS event_type,
       1 + CAST(hash(day, i, 2) % 400 AS INTEGER) AS teacher_id,
       1 + CAST(hash(day, i, 3) % 9000 AS INTEGER) AS student_id,
       1 + CAST(hash(day, i, 4) % 40 AS INTEGER) AS school_id,
       (['ios', 'android', 'web'])[1 + CAST(hash(day, i, 5) % 3 AS INTEGER)] AS platform
FROM volume, range(n) AS r(i);
