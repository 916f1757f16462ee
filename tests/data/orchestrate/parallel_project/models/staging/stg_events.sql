{{ config(tags=['daily']) }}
select day, kind, v from {{ source('raw', 'events') }} where kind is not null
