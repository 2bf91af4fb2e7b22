-- Web sessions: a visitor's page hits until 30 minutes of inactivity, with landing and exit
-- page, duration and traffic source (UTM tags of the landing hit, else the referrer's class).
--
-- Incremental: visitors with new page hits since the last build (minus a lookback) have all
-- their sessions rebuilt, since a late hit can join or split sessions.
{{ config(materialized=keyed_incremental(), unique_key='anonymous_id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

{% if is_incremental() %}
{% set since %}{{ loaded_watermark() }}{% endset %}
with visitors as (
    select distinct anonymous_id
    from {{ ref('fct_events') }}
    where event_type = 'page_hit' and anonymous_id is not null
      and loaded_at > {{ since }}
    union
    -- visitors whose events stitching moved to another contact: their sessions change owner
    {{ reattributed_anonymous_ids(since) }}
),
{% else %}
with
{% endif %}

{#- The landing hit's fields a session keeps (landing_<column>). -#}
{% set landing_columns = ['url', 'page_path', 'page_id', 'referrer', 'utm_source', 'utm_medium',
                          'utm_campaign', 'utm_term', 'utm_content'] %}

-- The window sorts carry only the small columns the sessions add up (sorting whole hits, with
-- URLs and UTM tags, spilled at scale); the landing and exit hits' other fields join back by
-- event_id once sessions are known.
visitor_hits as (
    select
        event_id,
        anonymous_id,
        occurred_at,
        contact_id,
        loaded_at,
        lag(occurred_at) over by_time as previous_hit_at,
        lead(occurred_at) over by_time as next_hit_at
    from {{ ref('fct_events') }}
    where event_type = 'page_hit' and anonymous_id is not null
    {% if is_incremental() %}
      and anonymous_id in (select anonymous_id from visitors)
    {% endif %}
    window by_time as (partition by anonymous_id order by occurred_at, event_id)
),

-- A hit starts a session after a gap longer than the timeout (or as the visitor's first) and
-- ends one before such a gap (or as the last): the landing and exit hits.
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

sessions as (  -- one row per session: what its hits add up to
    select
        anonymous_id,
        session_number,
        max(contact_id) as contact_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as page_views,
        max(loaded_at) as loaded_at
    from hits
    group by anonymous_id, session_number
),

boundaries as (  -- the landing and exit hits (one hit is both in a one-page session)
    select
        hits.anonymous_id,
        hits.session_number,
        hits.starts_session,
        hits.ends_session,
        {%- for column in landing_columns %}
        events.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from hits
    inner join {{ ref('fct_events') }} as events on hits.event_id = events.event_id
    where hits.starts_session = 1 or hits.ends_session
),

landing as (  -- each session with the fields of its landing hit and its exit path
    select
        sessions.*,
        {%- for column in landing_columns %}
        landing_hit.{{ column }} as landing_{{ column }},
        {%- endfor %}
        exit_hit.page_path as exit_path
    from sessions
    inner join boundaries as landing_hit
        on sessions.anonymous_id = landing_hit.anonymous_id
        and sessions.session_number = landing_hit.session_number
        and landing_hit.starts_session = 1
    inner join boundaries as exit_hit
        on sessions.anonymous_id = exit_hit.anonymous_id
        and sessions.session_number = exit_hit.session_number
        and exit_hit.ends_session
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
