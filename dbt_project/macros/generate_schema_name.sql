{#- Models land in the schema their folder names (staging, intermediate, marts, segments,
    reports) rather than dbt's default "<target>_<custom>" prefix. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
