-- Search performance per day (Search Console): clicks, impressions, click-through rate and
-- the impression-weighted average position.
select
    day,
    {{ desk_quarter('day') }} as quarter,
    sum(clicks) as clicks,
    sum(impressions) as impressions,
    cast(sum(clicks) as double) / nullif(sum(impressions), 0) as ctr,
    sum(position * impressions) / nullif(sum(case when position is not null then impressions end), 0)
        as avg_position
from {{ ref('stg_search_console') }}
group by day
