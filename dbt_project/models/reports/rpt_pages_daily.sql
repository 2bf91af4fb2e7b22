-- Page traffic per day and page: views, unique visitors, and the sessions that entered (landed)
-- or left (exited) the site on it. One row per (day, page_path) with a page view or a session
-- landing or exiting there. Page views count on the day they happened; entrances, exits and
-- bounces on the day their session started.
with hits as (
    select
        occurred_on as day,
        coalesce(page_path, '(unknown)') as page_path,
        page_id,
        page_title,
        visitor_id
    from {{ ref('fct_events') }}
    where event_type = 'page_hit'
),

views as (
    select
        day,
        page_path,
        max(page_id) as page_id,
        max(page_title) as page_title,
        count(*) as page_views,
        count(distinct visitor_id) as unique_visitors
    from hits
    group by day, page_path
),

sessions as (
    select
        started_on as day,
        coalesce(landing_path, '(unknown)') as landing_path,
        coalesce(exit_path, '(unknown)') as exit_path,
        is_bounce
    from {{ ref('fct_sessions') }}
),

entrances as (
    select
        day,
        landing_path as page_path,
        count(*) as entrances,
        count(case when is_bounce then 1 end) as bounces
    from sessions
    group by day, landing_path
),

exits as (
    select day, exit_path as page_path, count(*) as exits
    from sessions
    group by day, exit_path
),

pages as (
    select day, page_path from views
    union
    select day, page_path from entrances
    union
    select day, page_path from exits
)

select
    pages.day,
    pages.page_path,
    views.page_id,
    coalesce(catalog.title, views.page_title) as page_title,
    coalesce(views.page_views, 0) as page_views,
    coalesce(views.unique_visitors, 0) as unique_visitors,
    coalesce(entrances.entrances, 0) as entrances,
    coalesce(entrances.bounces, 0) as bounces,
    coalesce(exits.exits, 0) as exits
from pages
left join views on pages.day = views.day and pages.page_path = views.page_path
left join entrances on pages.day = entrances.day and pages.page_path = entrances.page_path
left join exits on pages.day = exits.day and pages.page_path = exits.page_path
left join {{ ref('stg_pages') }} as catalog on views.page_id = catalog.page_id
