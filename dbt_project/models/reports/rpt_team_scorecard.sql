-- The marketing team's scorecard: one row per (quarter, section, kpi) with the value, the
-- quarter before's and the change. Sections: website, seo, social, newsletter. Rates are
-- ratios of the quarter's sums (not averages of days); avg_position is impression-weighted.
{%- set q = desk_quarter %}

with website as (
    select {{ q('occurred_on') }} as quarter, 'page_views' as kpi, count(*) as value
    from {{ ref('fct_events') }} where event_type = 'page_hit' group by 1
    union all
    select {{ q('occurred_on') }}, 'blog_page_views', count(*)
    from {{ ref('fct_events') }}
    where event_type = 'page_hit' and page_path like '/blog/%' group by 1
    union all
    select {{ q('occurred_on') }}, 'visitors', count(distinct visitor_id)
    from {{ ref('fct_events') }} where event_type = 'page_hit' group by 1
    union all
    select {{ q('occurred_on') }}, 'conversions', count(*)
    from {{ ref('fct_events') }} where event_type = 'form_submit' group by 1
    union all
    select {{ q('started_on') }}, 'sessions', count(*) from {{ ref('fct_sessions') }} group by 1
    union all
    select {{ q('started_on') }}, 'avg_engaged_seconds', avg(duration_seconds)
    from {{ ref('fct_sessions') }} group by 1
),

seo as (
    select quarter, kpi, value
    from (
        select
            {{ q('day') }} as quarter,
            sum(clicks) as clicks,
            sum(impressions) as impressions,
            cast(sum(clicks) as double) / nullif(sum(impressions), 0) as ctr,
            sum(position * impressions)
                / nullif(sum(case when position is not null then impressions end), 0)
                as avg_position
        from {{ ref('stg_search_console') }}
        group by 1
    ) unpivot (value for kpi in (clicks, impressions, ctr, avg_position))
),

social as (
    select quarter, kpi, value
    from (
        select
            quarter,
            sum(followers_end) as followers,
            sum(follower_growth) as follower_growth,
            sum(impressions) as impressions,
            sum(engagements) as engagements,
            cast(sum(engagements) as double) / nullif(sum(impressions), 0) as engagement_rate
        from {{ ref('rpt_social_platforms') }}
        group by quarter
    ) unpivot (value for kpi in (followers, follower_growth, impressions, engagements, engagement_rate))
    union all
    select {{ q('posted_at') }}, 'mentions', count(*)
    from {{ ref('fct_social_mentions') }} group by 1
),

newsletter as (
    select quarter, kpi, value
    from (
        select
            quarter,
            count(*) as issues,
            sum(sent) as recipients,
            cast(sum(unique_opens) as double) / nullif(sum(delivered), 0) as open_rate,
            cast(sum(unique_clicks) as double) / nullif(sum(delivered), 0) as click_rate
        from {{ ref('rpt_newsletter_issues') }}
        group by quarter
    ) unpivot (value for kpi in (issues, recipients, open_rate, click_rate))
    union all
    select {{ q('created_at') }}, 'new_contacts', count(*)
    from {{ ref('dim_contacts') }} where created_at is not null group by 1
    union all
    select {{ q('occurred_on') }}, 'unsubscribes', count(*)
    from {{ ref('fct_events') }} where event_type = 'email_unsubscribe' group by 1
),

kpis as (
    select quarter, 'website' as section, kpi, cast(value as double) as value from website
    union all
    select quarter, 'seo', kpi, cast(value as double) from seo
    union all
    select quarter, 'social', kpi, cast(value as double) from social
    union all
    select quarter, 'newsletter', kpi, cast(value as double) from newsletter
),

-- Every KPI of a section in every quarter the section has data for: a count with no rows
-- that quarter is 0 (no unsubscribes), a rate or an average stays null.
grid as (
    select section_quarters.quarter, section_quarters.section, section_kpis.kpi
    from (select distinct quarter, section from kpis) as section_quarters
    inner join (select distinct section, kpi from kpis) as section_kpis
        on section_quarters.section = section_kpis.section
),

numbered as (
    select
        grid.quarter,
        grid.section,
        grid.kpi,
        case
            when kpis.value is not null then kpis.value
            when grid.kpi in (
                'ctr', 'avg_position', 'avg_engaged_seconds', 'engagement_rate', 'open_rate',
                'click_rate', 'followers'
            ) then null
            else 0
        end as value,
        cast(left(grid.quarter, 4) as integer) * 4 + cast(right(grid.quarter, 1) as integer)
            as quarter_number
    from grid
    left join kpis
        on grid.quarter = kpis.quarter
        and grid.section = kpis.section
        and grid.kpi = kpis.kpi
)

select
    current_quarter.quarter,
    current_quarter.section,
    current_quarter.kpi,
    current_quarter.value,
    previous_quarter.value as previous_value,
    current_quarter.value - previous_quarter.value as change,
    (current_quarter.value - previous_quarter.value) / nullif(previous_quarter.value, 0)
        as change_ratio
from numbered as current_quarter
left join numbered as previous_quarter
    on current_quarter.section = previous_quarter.section
    and current_quarter.kpi = previous_quarter.kpi
    and previous_quarter.quarter_number = current_quarter.quarter_number - 1
