{#- One row per `partition_by` (a single column): the first by `order_by`.
    Only keys that occur more than once are ranked — duplicates are rare, and ranking tens
    of millions of unique rows costs a sort of everything. A subquery rather than QUALIFY,
    so the SQL runs on engines without it. -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
select * from {{ relation }}
where {{ partition_by }} not in (
    select {{ partition_by }} from {{ relation }}
    group by {{ partition_by }} having count(*) > 1
)
union all
select {{ star_except('ranked', ['_row_in_partition']) }}
from (
    select
        *,
        row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _row_in_partition
    from {{ relation }}
    where {{ partition_by }} in (
        select {{ partition_by }} from {{ relation }}
        group by {{ partition_by }} having count(*) > 1
    )
) as ranked
where _row_in_partition = 1
{%- endmacro %}
