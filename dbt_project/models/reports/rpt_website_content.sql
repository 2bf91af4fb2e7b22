-- Website content per quarter and page: page views and visitors (page_hit events), sessions
-- that landed on it and their engaged time (fct_sessions' duration), and conversions (form
-- submissions on the page). is_blog_post: the path is under /blog/.
with views as (
    select
        {{ desk_quarter('occurred_on') }} as quarter,
        page_path,
        count(*) as page_views,
        count(distinct visitor_id) as visitors
    from {{ ref('fct_events') }}
    where event_type = 'page_hit' and page_path is not null
    group by 1, 2
),

landings as (
    select
        {{ desk_quarter('started_on') }} as quarter,
        landing_path as page_path,
        count(*) as sessions,
        sum(duration_seconds) as engaged_seconds
    from {{ ref('fct_sessions') }}
    where landing_path is not null
    group by 1, 2
),

conversions as (
    select
        {{ desk_quarter('occurred_on') }} as quarter,
        page_path,
        count(*) as conversions
    from {{ ref('fct_events') }}
    where event_type = 'form_submit' and page_path is not null
    group by 1, 2
)

select
    views.quarter,
    views.page_path,
    views.page_path like '/blog/%' as is_blog_post,
    views.page_views,
    views.visitors,
    coalesce(landings.sessions, 0) as sessions,
    coalesce(landings.engaged_seconds, 0) as engaged_seconds,
    coalesce(conversions.conversions, 0) as conversions
from views
left join landings
    on views.quarter = landings.quarter and views.page_path = landings.page_path
left join conversions
    on views.quarter = conversions.quarter and views.page_path = conversions.page_path
