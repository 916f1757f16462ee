{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by={'field': 'order_date', 'data_type': 'date'},
    post_hook="select 1 as weir_post_hook"
) }}
-- one row per day; a run replaces whole days, so running a day twice
-- gives the same table
select
    order_date,
    count(*) as orders,
    sum(amount) as revenue
from {{ ref('orders') }}
{% if is_incremental() %}
where order_date >= (select max(order_date) from {{ this }})
{% endif %}
group by order_date
