-- Asset downloads per day and asset. One row per (day, asset_id) with a download; unique
-- downloaders are visitors (the contact when known, else the tracking id) on that day.
with downloads as (
    select occurred_on as day, asset_id, visitor_id, contact_id
    from {{ ref('fct_events') }}
    where event_type = 'asset_download' and asset_id is not null
),

grouped as (
    select
        day,
        asset_id,
        count(*) as downloads,
        count(distinct visitor_id) as unique_downloaders,
        count(case when contact_id is not null then 1 end) as known_contact_downloads
    from downloads
    group by day, asset_id
)

select
    grouped.day,
    grouped.asset_id,
    coalesce(assets.title, 'Asset ' || grouped.asset_id) as asset_title,
    assets.category as asset_category,
    assets.extension as asset_extension,
    grouped.downloads,
    grouped.unique_downloaders,
    grouped.known_contact_downloads,
    grouped.downloads - grouped.known_contact_downloads as anonymous_downloads
from grouped
left join {{ ref('stg_assets') }} as assets on grouped.asset_id = assets.asset_id
