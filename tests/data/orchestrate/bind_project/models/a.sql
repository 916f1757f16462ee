select 1 as x, date '2024-01-01' as day
