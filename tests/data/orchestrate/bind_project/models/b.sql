{{ config(materialized='table', partition_by={'field': 'day'}) }} select * from {{ ref('e') }}
