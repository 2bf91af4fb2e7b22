{#- One row per `partition_by` (a single column): the first by `order_by`.
    Only keys that occur more than once are ranked — duplicates are rare, and ranking tens
    of millions of unique rows costs a sort of everything. The repeated keys are found once
    (a small CTE), and `relation` is read directly by each branch: a CTE of whole rows read
    three times would be materialised, spilling at scale. A subquery rather than QUALIFY, so
    the SQL runs on engines without it. `relation` is anything a FROM takes (a relation, or a
    parenthesised select with an alias). -#}
{% macro deduplicate(relation, partition_by, order_by) -%}
with repeated_keys as (
    select {{ partition_by }} from {{ relation }}
    group by {{ partition_by }} having count(*) > 1
)
select * from {{ relation }}
where {{ partition_by }} not in (select {{ partition_by }} from repeated_keys)
union all
select {{ star_except('ranked', ['_row_in_partition']) }}
from (
    select
        *,
        row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _row_in_partition
    from {{ relation }}
    where {{ partition_by }} in (select {{ partition_by }} from repeated_keys)
) as ranked
where _row_in_partition = 1
{%- endmacro %}
