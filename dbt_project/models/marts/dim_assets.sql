-- Downloadable assets with their download counts; the collector redirects /asset/{id} to
-- `url`.
with downloads as (
    select
        asset_id,
        count(*) as downloads,
        count(distinct visitor_id) as downloaders
    from {{ ref('fct_events') }}
    where event_type = 'asset_download' and asset_id is not null
    group by asset_id
)

select
    assets.asset_id,
    assets.title,
    assets.alias,
    assets.url,
    assets.extension,
    assets.category,
    assets.is_published,
    coalesce(downloads.downloads, 0) as downloads,
    coalesce(downloads.downloaders, 0) as downloaders
from {{ ref('stg_assets') }} as assets
left join downloads on assets.asset_id = downloads.asset_id
