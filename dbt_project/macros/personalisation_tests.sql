{#- Generic data tests for the personalisation rules seed. -#}


{#- Every non-empty value of the column names a dim_contacts column a rule may test
    (personalisation_fields()), whatever its case. -#}
{% test personalisation_known_field(model, column_name) %}
select {{ column_name }}
from {{ model }}
where nullif(trim({{ column_name }}), '') is not null
  and lower(trim({{ column_name }})) not in (
    {%- for name in personalisation_fields() %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor -%}
  )
{% endtest %}


{#- Every rule's item (this column) is in the catalog of the rule's kind (`kind_column`):
    stg_dynamic_content for dynamic_content, stg_focus_items for focus. A kind whose catalog
    is empty is not checked: a home without that catalog loaded (yet) shows none of its
    rules, and the rest of the build should not fail for it. -#}
{% test personalisation_item_exists(model, column_name, kind_column='kind') %}
{%- set catalogs = [
    ('dynamic_content', ref('stg_dynamic_content'), 'dynamic_content_id'),
    ('focus', ref('stg_focus_items'), 'focus_item_id'),
] %}
select rules.{{ kind_column }}, rules.{{ column_name }}
from {{ model }} as rules
where
{%- for kind, catalog, id_column in catalogs %}
    {{ 'or ' if not loop.first }}(
        lower(trim(rules.{{ kind_column }})) = '{{ kind }}'
        and exists (select 1 from {{ catalog }})
        and trim(cast(rules.{{ column_name }} as {{ dbt.type_string() }})) not in (
            select {{ id_column }} from {{ catalog }}
        )
    )
{%- endfor %}
{% endtest %}
