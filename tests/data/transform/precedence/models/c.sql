{{ config(tags=['c'], alias='c_final') }}
with x as (select * from {{ ref('stg_b') }})
select {{ money('id') }} as m, '{{ target.name }}' as t, {{ adapter.quote('odd name') }} from x
