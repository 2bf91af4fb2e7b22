{#- Text of a top-level key of a JSON column (null when absent), per engine. -#}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'funnelhouse')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro spark__json_text(column, key) -%}
    get_json_object({{ column }}, '$.{{ key }}')
{%- endmacro %}

{#- Whether a text looks like an email address (contact keys may also be external ids). -#}
{% macro is_email(column) -%}
    ({{ column }} like '%_@_%.__%')
{%- endmacro %}

{#- Several top-level keys of a JSON column parsed in one pass, as a struct of text fields
    (`alias.key`): far cheaper than one json_text per key on event-sized tables. -#}
{% macro json_fields(column, keys) -%}
    {{ return(adapter.dispatch('json_fields', 'funnelhouse')(column, keys)) }}
{%- endmacro %}

{% macro default__json_fields(column, keys) -%}
    json_transform({{ column }}, '{ {%- for key in keys -%} "{{ key }}":"VARCHAR"{{ "," if not loop.last }} {%- endfor -%} }')
{%- endmacro %}

{% macro spark__json_fields(column, keys) -%}
    from_json({{ column }}, '{%- for key in keys -%}`{{ key }}` STRING{{ ", " if not loop.last }}{%- endfor -%}')
{%- endmacro %}
