with __dbt__cte__stg_b as (

select id from "main_stg"."stg_a" where id < 10
), x as (select * from __dbt__cte__stg_b)
select round(id * 1.0, 2) as m, 'dev' as t, "odd name" from x
