select * from {{ ref('u') }}
