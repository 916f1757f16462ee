{{ config(materialized='ephemeral') }} select * from {{ ref('a') }}
