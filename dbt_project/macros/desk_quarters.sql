{#- A quarter's number that counts on across years (year * 4 + quarter): the quarter before is
    this minus 1. -#}
{% macro desk_quarter_number(ts) -%}
    cast(extract(year from {{ ts }}) * 4 + extract(quarter from {{ ts }}) as integer)
{%- endmacro %}
