create schema if not exists raw;
create or replace table raw.events as
select (date '2024-01-01' + (i % 8)::int) as day, ['a','b','c'][1 + i % 3] as kind,
       case when i % 7 = 0 then null else i end as v
from range(400) t(i);
