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
    fct_points_ledger). DuckDB: incremental. Spark with this project's Parquet
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


{#- Whether `expression` contains a match of the regular expression `pattern` (both SQL
    expressions; case-sensitive): DuckDB regexp_matches, Spark rlike. -#}
{% macro regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'funnelhouse')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ pattern }})
{%- endmacro %}

{% macro spark__regex_matches(expression, pattern) -%}
    ({{ expression }} rlike {{ pattern }})
{%- endmacro %}


{#- Whether the list (array) `list` holds `value`: DuckDB list_contains, Spark
    array_contains. -#}
{% macro list_has(list, value) -%}
    {{ return(adapter.dispatch('list_has', 'funnelhouse')(list, value)) }}
{%- endmacro %}

{% macro default__list_has(list, value) -%}
    list_contains({{ list }}, {{ value }})
{%- endmacro %}

{% macro spark__list_has(list, value) -%}
    array_contains({{ list }}, {{ value }})
{%- endmacro %}


{#- A text of hashtags — a JSON array, or a list separated by commas, spaces or | — as a list
    of lower-cased tags without # and without empty ones. DuckDB: from_json to VARCHAR[],
    string_split, list_transform/list_filter with lambdas; Spark: from_json to array<string>,
    split, transform/filter with `->` lambdas. -#}
{% macro hashtag_list(column) -%}
    {{ return(adapter.dispatch('hashtag_list', 'funnelhouse')(column)) }}
{%- endmacro %}

{% macro default__hashtag_list(column) -%}
    list_filter(
        list_transform(
            case
                when ltrim(coalesce({{ column }}, '')) like '[%'
                    then from_json({{ column }}, '["VARCHAR"]')
                else string_split(regexp_replace(coalesce({{ column }}, ''), '[,|\s]+', ' ', 'g'), ' ')
            end,
            lambda tag: lower(ltrim(trim(tag), '#'))
        ),
        lambda tag: tag <> ''
    )
{%- endmacro %}

{% macro spark__hashtag_list(column) -%}
    filter(
        transform(
            case
                when ltrim(coalesce({{ column }}, '')) like '[%'
                    then from_json({{ column }}, 'array<string>')
                else split(regexp_replace(coalesce({{ column }}, ''), '[,|\\s]+', ' '), ' ')
            end,
            tag -> lower(trim(leading '#' from trim(tag)))
        ),
        tag -> tag <> ''
    )
{%- endmacro %}


{#- dbt.listagg on Spark. dbt-spark's collect_list drops the order (with a warning), so a
    concatenation would differ from DuckDB's string_agg(… order by …); Spark 4 has listagg with
    WITHIN GROUP (ORDER BY …), which keeps it. Overrides dbt-spark's (the root project comes first
    in the dbt namespace). -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg: limit_num is not supported on Spark here") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}


{#- dbt.datediff on Spark for hour, minute and second: the boundaries crossed, as DuckDB (and
    dbt's other adapters) count them, not dbt-spark's ceil(elapsed seconds / unit), which makes
    09:30 the 10th hour of its day and 09:00:50 → 09:01:10 a minute. In the session time zone
    (UTC here), so hours start at whole multiples of 3600 s. Other parts: dbt-spark's. -#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set seconds = {'hour': 3600, 'minute': 60, 'second': 1}.get(datepart) -%}
    {%- if seconds -%}
        (floor(unix_timestamp({{ second_date }}) / {{ seconds }})
            - floor(unix_timestamp({{ first_date }}) / {{ seconds }}))
    {%- else -%}
        {{ return(dbt.spark__datediff(first_date, second_date, datepart)) }}
    {%- endif -%}
{%- endmacro %}


{#- How a CTE read by several others is computed, where WITH takes the keyword
    (x AS [NOT] MATERIALIZED (…)): `kept` (true) computes it once and keeps it, as a result
    several readers must share; false inlines it into each reader, as a CTE each reader reads
    with its own filter and columns (kept whole, it would be computed in full and spill).
    Engines without the keyword (Spark: it always inlines) get nothing. -#}
{% macro cte_materialized(kept=true) -%}
    {{ return(adapter.dispatch('cte_materialized', 'funnelhouse')(kept)) }}
{%- endmacro %}

{% macro default__cte_materialized(kept) -%}
{%- endmacro %}

{% macro duckdb__cte_materialized(kept) -%}
    {{ '' if kept else 'not ' }}materialized
{%- endmacro %}

{% macro postgres__cte_materialized(kept) -%}
    {{ duckdb__cte_materialized(kept) }}
{%- endmacro %}
