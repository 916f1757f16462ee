{{ config(materialized='incremental', unique_key='customer_id', incremental_strategy='merge') }}
select customer_id, max(order_date) as latest_order_date, count(*) as orders_seen
from {{ ref('orders') }}
group by customer_id
