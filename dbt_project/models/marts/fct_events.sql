-- Every event once, attributed to a contact when one is known (directly, or through identity
-- stitching of the visitor's tracking id), with the typed properties of stg_events. The first
-- arrival of an event_id wins (earliest load, then earliest row of the file): re-sent or
-- re-exported copies are dropped.
--
-- Incremental: reads events loaded since the last build (minus a lookback) whose ids it does
-- not keep yet, plus the kept events of visitors whose identity links changed, so stitching
-- also re-attributes old activity. A kept event is written again only when its contact
-- changed (built_at then says when: models downstream follow it, see
-- reattributed_anonymous_ids). A kept id is never replaced by a later copy, so a full rebuild
-- gives the same rows.
-- depends_on: {{ ref('int_identity_links') }}
{{ config(materialized=keyed_incremental(), unique_key='event_id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

{#- The typed columns of stg_events, carried through as they are. -#}
{% set typed_columns = [
    'url', 'page_path', 'page_title', 'referrer', 'page_id', 'email_id', 'link_url', 'form_id',
    'asset_id', 'sms_id', 'focus_item_id', 'dynamic_content_id', 'slot_name', 'variant',
    'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'points_delta',
    'dnc_channel', 'reason', 'bounce_type', 'properties',
] %}
{% set event_columns = ['event_id', 'event_type', 'occurred_at', 'anonymous_id', 'contact_key']
    + typed_columns + ['source_file', 'loaded_at'] %}

{#- A table built before it kept contact_key is rebuilt whole, once: its rows could not be
    re-attributed from the table itself. -#}
{% set incremental = is_incremental()
    and 'contact_key' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}
{% if incremental %}
{% set since %}{{ loaded_watermark() }}{% endset %}
{% endif %}

{% set arrived %}
    (
        select * from {{ ref('stg_events') }}
        {% if incremental %}
        where loaded_at > {{ since }}
        {% endif %}
    ) as arrived
{% endset %}

with first_arrivals as (
    {{ deduplicate(arrived, 'event_id', 'loaded_at, source_file, source_row') }}
),

candidates as (
    select
        {{ event_columns | join(', ') }}
        {%- if incremental %},
        -- the contact a kept event has (the branches below), to tell whether it moved
        cast(null as {{ dbt.type_string() }}) as kept_email,
        false as is_kept
        {%- endif %}
    from first_arrivals
    {% if incremental %}
    -- not exists, not "not in": an anti join can hash the few new ids and stream the kept
    -- ones (not in's null semantics hash every kept id: 4x slower at 100k contacts)
    where not exists (
        select 1 from {{ this }} as kept where kept.event_id = first_arrivals.event_id
    )
    -- Kept events to attribute again: those within the lookback, and relinked visitors'.
    -- Disjoint branches: an "or" made every row be read whole to be tested.
    union all
    select {{ event_columns | join(', ') }}, email, true
    from {{ this }}
    where loaded_at > {{ since }}
    union all
    select {{ event_columns | join(', ') }}, email, true
    from {{ this }}
    where loaded_at <= {{ since }}
      and anonymous_id in ({{ relinked_anonymous_ids(since) }})
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
    contact_key,
    anonymous_id,
    coalesce(
        case when email is not null then {{ dbt.hash('email') }} end, 'anon:' || anonymous_id
    ) as visitor_id,
    {{ typed_columns | join(',\n    ') }},  -- as stg_events types them
    source_file,
    loaded_at,
    {{ build_time() }} as built_at
from attributed
{% if incremental %}
-- A re-sent identify call relinks a visitor without moving their events: those stay as kept
-- (at 1M contacts a 1% load relinked 17,737 visitors, whose 1,000,511 events all kept their
-- contact, and rewriting them cost this build, the publish and every model downstream).
where not is_kept or email is distinct from kept_email
{% endif %}
