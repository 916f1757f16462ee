{% macro money(col) %}round({{ col }} * 1.0, 2){% endmacro %}
