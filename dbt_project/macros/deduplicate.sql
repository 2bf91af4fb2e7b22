{#- One row per `partition_by`: the first by `order_by`. A subquery rather than QUALIFY, so
    the SQL runs on engines without it. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
select * exclude (_row_in_partition)
from (
    select
        *,
        row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _row_in_partition
    from {{ relation }}
) as ranked
where _row_in_partition = 1
{%- endmacro %}
