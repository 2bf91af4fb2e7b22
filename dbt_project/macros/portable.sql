{#- SQL that DuckDB and Spark spell differently, one implementation per engine (documented
    in _portable_macros.yml). default__ is the DuckDB spelling the models always had. -#}


{#- Every column of `qualifier` but `columns` (a list): DuckDB `* exclude`, Spark `* except`. -#}
{% macro star_except(qualifier, columns) -%}
    {{ return(adapter.dispatch('star_except', 'funnelhouse')(qualifier, columns)) }}
{%- endmacro %}

{% macro default__star_except(qualifier, columns) -%}
    {{ qualifier }}.* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(qualifier, columns) -%}
    {{ qualifier }}.* except ({{ columns | join(', ') }})
{%- endmacro %}


{#- The last non-null value of `expr` in the window frame (put `over (…)` after it). -#}
{% macro last_value_ignore_nulls(expr) -%}
    {{ return(adapter.dispatch('last_value_ignore_nulls', 'funnelhouse')(expr)) }}
{%- endmacro %}

{% macro default__last_value_ignore_nulls(expr) -%}
    last_value({{ expr }} ignore nulls)
{%- endmacro %}

{% macro spark__last_value_ignore_nulls(expr) -%}
    last_value({{ expr }}, true)
{%- endmacro %}


{#- The materialization of the models that merge new rows by key (delete+insert on a
    unique_key: fct_events, fct_sessions, fct_email_sends, fct_stage_changes,
    fct_points_ledger, stg_events). DuckDB: incremental. Spark with this project's Parquet
    tables: a full rebuild (table) each run, because Parquet tables take only append and
    insert_overwrite (whole partitions), neither of which replaces the rows of a key; merge
    needs Delta/Iceberg (README, "Running on Spark"). Results are the same, only the cost
    differs. -#}
{% macro keyed_incremental() -%}
    {{ return(adapter.dispatch('keyed_incremental', 'funnelhouse')()) }}
{%- endmacro %}

{% macro default__keyed_incremental() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__keyed_incremental() -%}
    {{ return('table') }}
{%- endmacro %}


{#- A text as an SQL string literal. DuckDB doubles a quote ('It''s'); Spark escapes with a
    backslash ('It\'s', and '\\' for a backslash), where '' would end the literal. -#}
{% macro sql_string_literal(text) -%}
    {{ return(adapter.dispatch('sql_string_literal', 'funnelhouse')(text)) }}
{%- endmacro %}

{% macro default__sql_string_literal(text) -%}
    '{{ text | string | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_string_literal(text) -%}
    '{{ text | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{#- The ESCAPE clause of a LIKE whose pattern escapes % and _ with a backslash: the backslash
    itself is a literal '\' in DuckDB and '\\' in Spark. -#}
{% macro like_escape() -%}
    {{ return(adapter.dispatch('like_escape', 'funnelhouse')()) }}
{%- endmacro %}

{% macro default__like_escape() -%}
    escape '\'
{%- endmacro %}

{% macro spark__like_escape() -%}
    escape '\\'
{%- endmacro %}
