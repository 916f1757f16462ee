create schema raw; create schema mart;
create table raw.events as
  select date '2024-01-01' + (i % 30)::int as day,
         ['click', 'view', 'buy'][1 + (hash(i) % 3)::int] as kind,
         (hash(i * 7) % 1000)::int as v
  from range(30000) t(i);
create table mart.stage (day date, kind varchar, n bigint, v hugeint);
create table mart.agg (day date, n hugeint, v hugeint);
