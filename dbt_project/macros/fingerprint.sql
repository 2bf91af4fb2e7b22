{#- One text of a row's `columns` (nulls as ''), '|'-separated: listagg it over a rule
    seed and hash the result to tell when the rules changed. -#}
{% macro row_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ return(dbt.concat(parts)) }}
{%- endmacro %}
