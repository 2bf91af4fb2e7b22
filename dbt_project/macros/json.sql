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
