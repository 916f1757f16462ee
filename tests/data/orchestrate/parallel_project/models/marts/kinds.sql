-- independent of the others: a plain table rebuilt each run
{{ config(materialized='table', tags=['daily']) }}
select kind, count(*) as n from {{ source('raw', 'events') }} group by kind
