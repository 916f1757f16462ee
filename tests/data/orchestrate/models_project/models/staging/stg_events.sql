-- every event, cleaned: the staging view the marts read
select day, kind, v from {{ source('raw', 'events') }} where kind is not null
