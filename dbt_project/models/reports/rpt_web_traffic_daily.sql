-- Web traffic per day: sessions, page views, visitors new and returning, bounces. One row per
-- calendar day from the first session's day to the last one's (days without traffic have
-- zeros). Sessions count on the day they started, with all their page views. Visitors are
-- tracking ids (devices), as sessions are: a new visitor had their first session that day, a
-- returning one a later session (and no first one that day).
{%- set sessions_table = ref('fct_sessions') %}

with days as (
    {{ report_day_spine(
        '(select min(started_on) from ' ~ sessions_table ~ ')',
        '(select max(started_on) from ' ~ sessions_table ~ ')'
    ) }}
),

daily as (
    select
        started_on as day,
        count(*) as sessions,
        cast(sum(page_views) as {{ dbt.type_bigint() }}) as page_views,
        count(distinct anonymous_id) as visitors,
        count(distinct case when is_first_session then anonymous_id end) as new_visitors,
        count(case when is_first_session then 1 end) as new_sessions,
        count(case when not is_first_session then 1 end) as returning_sessions,
        count(case when is_bounce then 1 end) as bounces,
        count(case when contact_id is not null then 1 end) as identified_sessions,
        cast(sum(duration_seconds) as {{ dbt.type_bigint() }}) as total_duration_seconds
    from {{ sessions_table }}
    group by started_on
)

select
    days.day,
    coalesce(daily.sessions, 0) as sessions,
    coalesce(daily.page_views, 0) as page_views,
    coalesce(daily.visitors, 0) as visitors,
    coalesce(daily.new_visitors, 0) as new_visitors,
    coalesce(daily.visitors, 0) - coalesce(daily.new_visitors, 0) as returning_visitors,
    coalesce(daily.new_sessions, 0) as new_sessions,
    coalesce(daily.returning_sessions, 0) as returning_sessions,
    coalesce(daily.bounces, 0) as bounces,
    coalesce(daily.identified_sessions, 0) as identified_sessions,
    {{ report_ratio('daily.bounces', 'daily.sessions') }} as bounce_rate,
    {{ report_ratio('daily.page_views', 'daily.sessions') }} as pages_per_session,
    {{ report_ratio('daily.total_duration_seconds', 'daily.sessions') }} as avg_session_seconds
from days
left join daily on days.day = daily.day
