-- Pages ranked by views over all time: views, unique visitors, entrances (sessions landing
-- there), bounces, exits and their rates. One row per page_path viewed or landed on.
with hits as (
    select
        coalesce(page_path, '(unknown)') as page_path,
        max(page_id) as page_id,
        max(page_title) as page_title,
        count(*) as page_views,
        count(distinct visitor_id) as unique_visitors,
        min(occurred_at) as first_viewed_at,
        max(occurred_at) as last_viewed_at
    from {{ ref('fct_events') }}
    where event_type = 'page_hit'
    group by coalesce(page_path, '(unknown)')
),

sessions as (
    select
        coalesce(landing_path, '(unknown)') as landing_path,
        coalesce(exit_path, '(unknown)') as exit_path,
        is_bounce
    from {{ ref('fct_sessions') }}
),

entrances as (
    select
        landing_path as page_path,
        count(*) as entrances,
        count(case when is_bounce then 1 end) as bounces
    from sessions
    group by landing_path
),

exits as (
    select exit_path as page_path, count(*) as exits
    from sessions
    group by exit_path
),

pages as (
    select page_path from hits
    union
    select page_path from entrances
)

select
    pages.page_path,
    hits.page_id,
    coalesce(catalog.title, hits.page_title) as page_title,
    coalesce(hits.page_views, 0) as page_views,
    coalesce(hits.unique_visitors, 0) as unique_visitors,
    coalesce(entrances.entrances, 0) as entrances,
    coalesce(entrances.bounces, 0) as bounces,
    coalesce(exits.exits, 0) as exits,
    {{ report_ratio('entrances.bounces', 'entrances.entrances') }} as bounce_rate,
    {{ report_ratio('exits.exits', 'hits.page_views') }} as exit_rate,
    row_number() over (
        order by coalesce(hits.page_views, 0) desc, coalesce(entrances.entrances, 0) desc, pages.page_path
    ) as page_rank,
    hits.first_viewed_at,
    hits.last_viewed_at
from pages
left join hits on pages.page_path = hits.page_path
left join entrances on pages.page_path = entrances.page_path
left join exits on pages.page_path = exits.page_path
left join {{ ref('stg_pages') }} as catalog on hits.page_id = catalog.page_id
