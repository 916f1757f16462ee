-- a singular test: returns the orders whose total is negative
select order_id, amount
from {{ ref('orders') }}
where amount < 0
