{{ config(materialized='ephemeral') }}
select id from {{ ref('stg_a') }} where id < {{ var('limit_rows') }}
