{#- A catalog staged: the latest version of each id, `id` renamed to `<id_name>`, the
    catalog's own columns, and the columns every catalog shares. -#}
{% macro stage_catalog(catalog, id_name, columns) -%}
with latest as (
    {{ deduplicate(source('raw', catalog), 'id', '_loaded_at desc, _source_row desc') }}
)

select
    id as {{ id_name }},
    {%- for column in columns %}
    {{ column }},
    {%- endfor %}
    coalesce(published, true) as is_published,
    created_at,
    attributes
from latest
{%- endmacro %}


{#- One row per `key` from rows that describe the same thing in several files: each column
    (source name → staged name) takes its latest non-empty value, as a Mautic import updates
    a record without blanking what the file leaves empty. -#}
{% macro latest_values(relation, key, columns) -%}
select *
from (
    select
        {{ key }},
        {%- for source_name, name in columns %}
        {{ last_value_ignore_nulls(source_name) }} over same_key as {{ name }},
        {%- endfor %}
        min(_loaded_at) over same_key as first_loaded_at,
        max(_loaded_at) over same_key as last_loaded_at,
        -- its own window: Spark rejects an explicit frame on row_number()
        row_number() over (
            partition by {{ key }} order by _loaded_at, _source, _source_row
        ) as _row_in_key
    from {{ relation }}
    window same_key as (
        partition by {{ key }} order by _loaded_at, _source, _source_row
        rows between unbounded preceding and unbounded following
    )
) as merged
where _row_in_key = 1
{%- endmacro %}
