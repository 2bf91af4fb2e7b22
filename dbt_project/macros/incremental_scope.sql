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
    their events from one contact to another. -#}
{% macro relinked_anonymous_ids(since) -%}
    select anonymous_id from {{ ref('int_identity_links') }} where loaded_at > {{ since }}
{%- endmacro %}

{#- Every contact ever linked to such a tracking id: each may have gained or lost events. -#}
{% macro relinked_contacts(since) -%}
    select {{ dbt.hash('email') }} as contact_id
    from {{ ref('int_identity_links') }}
    where anonymous_id in ({{ relinked_anonymous_ids(since) }})
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
