-- Web sessions: a visitor's page hits until 30 minutes of inactivity, with landing and exit
-- page, duration and traffic source (UTM tags of the landing hit, else the referrer's class).
--
-- Incremental: visitors with new page hits since the last build (minus a lookback) have all
-- their sessions rebuilt, since a late hit can join or split sessions.
-- depends_on: {{ ref('int_identity_links') }}
{{ config(materialized=keyed_incremental(), unique_key='anonymous_id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

{% if is_incremental() %}
{% set since %}{{ loaded_watermark() }}{% endset %}
{% endif %}

with visitors as (
    select distinct anonymous_id
    from {{ ref('fct_events') }}
    where event_type = 'page_hit' and anonymous_id is not null
    {% if is_incremental() %}
      and loaded_at > {{ since }}
    union
    -- visitors newly stitched to a contact: their sessions change owner
    {{ relinked_anonymous_ids(since) }}
    {% endif %}
),

visitor_hits as (
    select
        events.event_id, events.anonymous_id, events.contact_id, events.occurred_at, events.loaded_at,
        events.url, events.page_path, events.page_id, events.referrer, events.utm_source,
        events.utm_medium, events.utm_campaign, events.utm_term, events.utm_content,
        lag(events.occurred_at) over by_time as previous_hit_at,
        lead(events.occurred_at) over by_time as next_hit_at
    from {{ ref('fct_events') }} as events
    inner join visitors on events.anonymous_id = visitors.anonymous_id
    where events.event_type = 'page_hit'
    window by_time as (partition by events.anonymous_id order by events.occurred_at, events.event_id)
),

-- A hit starts a session after a gap longer than the timeout (or as the visitor's first) and
-- ends one before such a gap (or as the last): the landing and exit hits, found in the same
-- pass as the gaps, so sessions need no join back to their hits.
flagged as (
    select
        *,
        case
            when previous_hit_at is null then 1
            when {{ dbt.datediff('previous_hit_at', 'occurred_at', 'second') }}
                > {{ var('session_timeout_minutes') }} * 60 then 1
            else 0
        end as starts_session,
        next_hit_at is null
            or {{ dbt.datediff('occurred_at', 'next_hit_at', 'second') }}
                > {{ var('session_timeout_minutes') }} * 60 as ends_session
    from visitor_hits
),

hits as (
    select
        *,
        sum(starts_session) over (
            partition by anonymous_id order by occurred_at, event_id rows unbounded preceding
        ) as session_number
    from flagged
),

landing as (  -- one row per session; the landing hit's fields (exactly one hit starts it)
    select
        anonymous_id,
        session_number,
        max(contact_id) as contact_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as page_views,
        max(loaded_at) as loaded_at,
        {%- for column in ['url', 'page_path', 'page_id', 'referrer', 'utm_source', 'utm_medium',
                           'utm_campaign', 'utm_term', 'utm_content'] %}
        max(case when starts_session = 1 then {{ column }} end) as landing_{{ column }},
        {%- endfor %}
        max(case when ends_session then page_path end) as exit_path
    from hits
    group by anonymous_id, session_number
),

landing_hosts as (
    select
        *,
        lower(regexp_extract(landing_referrer, '^[a-z]+://([^/:?#]+)', 1)) as referrer_host,
        lower(regexp_extract(landing_url, '^[a-z]+://([^/:?#]+)', 1)) as site_host
    from landing
),

referrer_class as (
    select
        landing.anonymous_id,
        landing.session_number,
        min(classes.medium) as medium,
        min(classes.source) as source
    from landing_hosts as landing
    inner join {{ ref('referrer_classes') }} as classes
        on landing.referrer_host like classes.host_pattern
    group by landing.anonymous_id, landing.session_number
)

select
    {{ dbt.hash("landing.anonymous_id || ':' || cast(landing.session_number as " ~ dbt.type_string() ~ ")") }}
        as session_id,
    landing.anonymous_id,
    landing.contact_id,
    landing.session_number,
    landing.session_number = 1 as is_first_session,
    landing.started_at,
    landing.ended_at,
    cast(landing.started_at as date) as started_on,
    {{ dbt.datediff('landing.started_at', 'landing.ended_at', 'second') }} as duration_seconds,
    landing.page_views,
    landing.page_views = 1 as is_bounce,
    landing.landing_url,
    landing.landing_page_path as landing_path,
    landing.landing_page_id,
    landing.exit_path,
    landing.landing_referrer as referrer,
    landing.referrer_host,
    case
        when landing.landing_utm_source is not null then landing.landing_utm_source
        when landing.referrer_host is null or landing.referrer_host = landing.site_host then '(direct)'
        else coalesce(referrer_class.source, landing.referrer_host)
    end as source,
    case
        when landing.landing_utm_medium is not null then landing.landing_utm_medium
        when landing.landing_utm_source is not null then 'unknown'
        when landing.referrer_host is null or landing.referrer_host = landing.site_host then 'direct'
        else coalesce(referrer_class.medium, 'referral')
    end as medium,
    landing.landing_utm_campaign as campaign,
    landing.landing_utm_term as term,
    landing.landing_utm_content as content,
    landing.loaded_at,
    {{ build_time() }} as built_at
from landing_hosts as landing
left join referrer_class
    on landing.anonymous_id = referrer_class.anonymous_id
    and landing.session_number = referrer_class.session_number
