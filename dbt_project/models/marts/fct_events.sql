-- Every event, attributed to a contact when one is known (directly, or through identity
-- stitching of the visitor's tracking id), with the common properties as typed columns.
--
-- Incremental: reads events loaded since the last build (minus a lookback), plus all events
-- of visitors whose identity links changed, so stitching also re-attributes old activity.
-- depends_on: {{ ref('int_identity_links') }}
{{ config(materialized=keyed_incremental(), unique_key='event_id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

{% if is_incremental() %}
{% set since %}{{ loaded_watermark() }}{% endset %}
{% endif %}

with candidates as (
    select * from {{ ref('stg_events') }}
    {% if is_incremental() %}
    where loaded_at > {{ since }}
       or anonymous_id in ({{ relinked_anonymous_ids(since) }})
    {% endif %}
),

attributed as (
    select
        candidates.*,
        coalesce(keys.email, stitched.email) as email,
        {{ json_fields('candidates.properties', [
            'url', 'path', 'title', 'referrer', 'page_id', 'email_id', 'link_url', 'form_id',
            'asset_id', 'sms_id', 'focus_id', 'dynamic_content_id', 'slot', 'variant',
            'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'delta',
            'channel', 'reason', 'bounce_type',
        ]) }} as p
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
    p.url as url,
    coalesce(
        p.path,
        nullif(regexp_extract(p.url, '^[a-z]+://[^/]+(/[^?#]*)', 1), '')
    ) as page_path,
    p.title as page_title,
    nullif(p.referrer, '') as referrer,
    p.page_id as page_id,
    p.email_id as email_id,
    p.link_url as link_url,
    p.form_id as form_id,
    p.asset_id as asset_id,
    p.sms_id as sms_id,
    p.focus_id as focus_item_id,
    p.dynamic_content_id as dynamic_content_id,
    p.slot as slot_name,
    p.variant as variant,
    lower(p.utm_source) as utm_source,
    lower(p.utm_medium) as utm_medium,
    p.utm_campaign as utm_campaign,
    p.utm_term as utm_term,
    p.utm_content as utm_content,
    try_cast(p.delta as integer) as points_delta,
    p.channel as dnc_channel,
    p.reason as reason,
    p.bounce_type as bounce_type,
    -- The payload only where downstream models read fields beyond the typed columns: contact
    -- fields (identify, form_submit), do-not-contact changes and campaign action reports. The
    -- tracking events' payloads (most of the rows, most of the bytes) stay in stg_events.
    case
        when event_type in ('identify', 'form_submit', 'dnc_change', 'campaign_action')
        then properties
    end as properties,
    source_file,
    loaded_at,
    {{ build_time() }} as built_at
from attributed
