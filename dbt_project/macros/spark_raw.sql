{#- Spark target: register ingest's Parquet snapshot of raw.* (ingest/spark_export.py) as
    external tables raw.<name>, re-created on every run so a new export is picked up. Runs as
    on-run-start; does nothing on other engines (raw.* is already in the DuckDB file). -#}
{% macro spark_register_raw() -%}
    {{ return(adapter.dispatch('spark_register_raw', 'funnelhouse')()) }}
{%- endmacro %}

{% macro default__spark_register_raw() -%}
    select 1
{%- endmacro %}

{% macro spark__spark_register_raw() -%}
    {%- if execute -%}
        {%- set root = env_var('FUNNELHOUSE_HOME', '../data') ~ '/spark/raw' -%}
        {%- do run_query('create database if not exists raw') -%}
        {#- Jinja cannot list a folder: dbt_env() (pipelines/dbt_project.py) names the
            exported tables in FUNNELHOUSE_SPARK_RAW_TABLES. -#}
        {%- set listing = env_var('FUNNELHOUSE_SPARK_RAW_TABLES', '').split(',') | select | list -%}
        {%- if not listing -%}
            {{ exceptions.raise_compiler_error(
                "No raw Parquet export in " ~ root ~ ": funnelhouse ingest writes it "
                ~ "(ingest.spark_export.export_raw_parquet) when the target is spark") }}
        {%- endif -%}
        {%- for name in listing | sort -%}
            {%- do run_query('drop table if exists raw.`' ~ name ~ '`') -%}
            {%- do run_query("create table raw.`" ~ name ~ "` using parquet location '"
                ~ root ~ '/' ~ name ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
