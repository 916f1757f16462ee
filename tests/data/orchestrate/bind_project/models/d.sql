{{ config(materialized='table') }} select b.x, b.day from {{ ref('b') }} b join {{ ref('c') }} c using (x)
