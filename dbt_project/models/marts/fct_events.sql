-- Every event, attributed to a contact when one is known (directly, or through identity
-- stitching of the visitor's tracking id), with the common properties as typed columns.
--
-- Incremental: reads events loaded since the last build (minus a lookback), plus all events
-- of visitors whose identity links changed, so stitching also re-attributes old activity.
-- depends_on: {{ ref('int_identity_links') }}
{{ config(materialized='incremental', unique_key='event_id', incremental_strategy='delete+insert') }}

{% if is_incremental() %}
{% set since %}(select {{ dbt.dateadd('hour', -var('lookback_hours'), 'max(loaded_at)') }} from {{ this }}){% endset %}
{% endif %}

with candidates as (
    select * from {{ ref('stg_events') }}
    {% if is_incremental() %}
    where loaded_at > {{ since }}
       or anonymous_id in (
            select anonymous_id from {{ ref('int_identity_links') }} where loaded_at > {{ since }}
       )
    {% endif %}
),

attributed as (
    select
        candidates.*,
        coalesce(keys.email, stitched.email) as email
    from candidates
    left join {{ ref('int_identity_contact_keys') }} as keys
        on candidates.contact_key = keys.contact_key
    left join {{ ref('int_identity_map') }} as stitched
        on candidates.anonymous_id = stitched.anonymous_id
        and candidates.occurred_at >= stitched.valid_from
        and candidates.occurred_at < stitched.valid_to
)

select
    event_id,
    event_type,
    occurred_at,
    cast(occurred_at as date) as occurred_on,
    case when email is not null then {{ dbt.hash('email') }} end as contact_id,
    email,
    anonymous_id,
    coalesce(
        case when email is not null then {{ dbt.hash('email') }} end, 'anon:' || anonymous_id
    ) as visitor_id,
    {{ json_text('properties', 'url') }} as url,
    coalesce(
        {{ json_text('properties', 'path') }},
        nullif(regexp_extract({{ json_text('properties', 'url') }}, '^[a-z]+://[^/]+(/[^?#]*)', 1), '')
    ) as page_path,
    {{ json_text('properties', 'title') }} as page_title,
    nullif({{ json_text('properties', 'referrer') }}, '') as referrer,
    {{ json_text('properties', 'page_id') }} as page_id,
    {{ json_text('properties', 'email_id') }} as email_id,
    {{ json_text('properties', 'link_url') }} as link_url,
    {{ json_text('properties', 'form_id') }} as form_id,
    {{ json_text('properties', 'asset_id') }} as asset_id,
    {{ json_text('properties', 'sms_id') }} as sms_id,
    {{ json_text('properties', 'focus_id') }} as focus_item_id,
    {{ json_text('properties', 'dynamic_content_id') }} as dynamic_content_id,
    {{ json_text('properties', 'slot') }} as slot_name,
    {{ json_text('properties', 'variant') }} as variant,
    lower({{ json_text('properties', 'utm_source') }}) as utm_source,
    lower({{ json_text('properties', 'utm_medium') }}) as utm_medium,
    {{ json_text('properties', 'utm_campaign') }} as utm_campaign,
    {{ json_text('properties', 'utm_term') }} as utm_term,
    {{ json_text('properties', 'utm_content') }} as utm_content,
    try_cast({{ json_text('properties', 'delta') }} as integer) as points_delta,
    {{ json_text('properties', 'channel') }} as dnc_channel,
    {{ json_text('properties', 'reason') }} as reason,
    {{ json_text('properties', 'bounce_type') }} as bounce_type,
    properties,
    source_file,
    loaded_at
from attributed
