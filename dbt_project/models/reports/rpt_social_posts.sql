-- Social posts: impressions, engagements and engagement rate per post (summed over its days).
select
    platform,
    post_id,
    min(day) as first_day,
    {{ desk_quarter('min(day)') }} as quarter,
    sum(impressions) as impressions,
    sum(engagements) as engagements,
    cast(sum(engagements) as double) / nullif(sum(impressions), 0) as engagement_rate
from {{ ref('stg_social_analytics') }}
where post_id is not null
group by platform, post_id
