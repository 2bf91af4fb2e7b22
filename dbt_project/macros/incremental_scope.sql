{#- Pieces incremental models share to find what a run must redo. `since` is the model's
    load-time watermark (a scalar subquery). -#}

{#- The model's load-time watermark: the newest `loaded_at` it holds, minus `lookback_hours`;
    the beginning of time while it is empty (an empty first build must not stay empty). -#}
{% macro loaded_watermark() -%}
    (select coalesce(
        {{ dbt.dateadd('hour', -var('lookback_hours'), 'max(loaded_at)') }},
        cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
    ) from {{ this }})
{%- endmacro %}

{#- Tracking ids that got a new identity link since the watermark: stitching may have moved
    their events from one contact to another (fct_events attributes them again). -#}
{% macro relinked_anonymous_ids(since) -%}
    select anonymous_id from {{ ref('int_identity_links') }} where loaded_at > {{ since }}
{%- endmacro %}

{#- For models built from fct_events: tracking ids whose events it moved to another contact
    since this model's last build. fct_events writes a kept event again only when its contact
    changed, so a kept event (loaded by `since`) with a newer built_at than any of this model's
    rows moved; events loaded after `since` are new to this model anyway. While the model has
    no built_at (a table built before it had the column), every kept event counts, once. (In a
    unit test `this` is the name of its given rows, which say their columns themselves.) -#}
{% macro reattributed_anonymous_ids(since) -%}
    {%- set has_built_at = this is string or (execute and 'built_at' in (
        adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list)) -%}
    {%- set beginning %}cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }}){% endset -%}
    select anonymous_id from {{ ref('fct_events') }}
    where anonymous_id is not null
      and loaded_at <= {{ since }}
      and built_at > {% if has_built_at -%}
          (select coalesce(max(model.built_at), {{ beginning }}) from {{ this }} as model)
      {%- else -%}
          {{ beginning }}
      {%- endif %}
{%- endmacro %}

{#- Every contact ever linked to such a tracking id: each may have gained or lost events. -#}
{% macro reattributed_contacts(since) -%}
    select {{ dbt.hash('email') }} as contact_id
    from {{ ref('int_identity_links') }}
    where anonymous_id in ({{ reattributed_anonymous_ids(since) }})
{%- endmacro %}

{#- One row, `is_changed`: whether rows of this model were built under another rules
    version than the `rules_version` CTE of the current run. -#}
{% macro rules_changed() -%}
    select count(*) > 0 as is_changed
    from (
        select 1 as stale
        from {{ this }}
        where rules_version <> (select rules_version from rules_version)
        limit 1
    ) as stale_rows
{%- endmacro %}
