-- Web traffic per day by source, medium and campaign of the session (fct_sessions: UTM tags,
-- else the referrer's class). One row per (day, source, medium, campaign) with sessions;
-- sessions without a campaign have campaign '(not set)'. Sessions count on the day they started.
with sessions as (
    select
        started_on as day,
        coalesce(source, '(direct)') as source,
        coalesce(medium, 'direct') as medium,
        coalesce(campaign, '(not set)') as campaign,
        anonymous_id,
        contact_id,
        is_first_session,
        is_bounce,
        page_views,
        duration_seconds
    from {{ ref('fct_sessions') }}
),

grouped as (
    select
        day,
        source,
        medium,
        campaign,
        count(*) as sessions,
        count(case when is_first_session then 1 end) as new_sessions,
        count(distinct anonymous_id) as visitors,
        count(case when contact_id is not null then 1 end) as identified_sessions,
        cast(sum(page_views) as {{ dbt.type_bigint() }}) as page_views,
        count(case when is_bounce then 1 end) as bounces,
        cast(sum(duration_seconds) as {{ dbt.type_bigint() }}) as total_duration_seconds
    from sessions
    group by day, source, medium, campaign
)

select
    day,
    source,
    medium,
    campaign,
    sessions,
    new_sessions,
    sessions - new_sessions as returning_sessions,
    visitors,
    identified_sessions,
    page_views,
    bounces,
    {{ report_ratio('bounces', 'sessions') }} as bounce_rate,
    {{ report_ratio('page_views', 'sessions') }} as pages_per_session,
    {{ report_ratio('total_duration_seconds', 'sessions') }} as avg_session_seconds
from grouped
