-- Social accounts per quarter and platform: followers at the quarter's first and last day
-- with data, their growth, impressions and engagements (account days and posts), and the
-- engagement rate (engagements / impressions).
with days as (
    select
        platform,
        day,
        {{ desk_quarter('day') }} as quarter,
        max(followers) as followers,
        sum(impressions) as impressions,
        sum(engagements) as engagements
    from {{ ref('stg_social_analytics') }}
    group by platform, day
),

bounds as (
    select
        quarter,
        platform,
        min_by(followers, day) filter (where followers is not null) as followers_start,
        max_by(followers, day) filter (where followers is not null) as followers_end,
        sum(impressions) as impressions,
        sum(engagements) as engagements
    from days
    group by quarter, platform
)

select
    quarter,
    platform,
    followers_start,
    followers_end,
    followers_end - followers_start as follower_growth,
    impressions,
    engagements,
    cast(engagements as double) / nullif(impressions, 0) as engagement_rate
from bounds
