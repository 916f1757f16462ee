select * from {{ ref('prec', 'c') }}{% if is_incremental() %} where false{% endif %}
