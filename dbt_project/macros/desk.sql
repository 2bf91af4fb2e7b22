{#- A threshold of the marketing team's desk (seed desk_policy), as a scalar subquery: the
    models never write a threshold themselves. -#}
{% macro desk_threshold(setting) -%}
    (select value from {{ ref('desk_policy') }} where setting = '{{ setting }}')
{%- endmacro %}


{#- The calendar quarter of a timestamp as 'YYYY-Qn' (sorts in time order). -#}
{% macro desk_quarter(ts) -%}
    cast(extract(year from {{ ts }}) as {{ dbt.type_string() }}) || '-Q' || cast(extract(quarter from {{ ts }}) as {{ dbt.type_string() }})
{%- endmacro %}
