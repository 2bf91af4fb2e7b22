-- Search queries per quarter with the SEO opportunities (thresholds: seed desk_policy):
-- is_low_ctr — at least seo_min_impressions impressions and a click-through rate below
-- seo_max_ctr_percent; is_striking_distance — an impression-weighted average position from
-- seo_position_from to seo_position_to. previous_*: the same query the quarter before.
with policy as (
    select
        max(case when setting = 'seo_min_impressions' then value end) as min_impressions,
        max(case when setting = 'seo_max_ctr_percent' then value end) as max_ctr_percent,
        max(case when setting = 'seo_position_from' then value end) as position_from,
        max(case when setting = 'seo_position_to' then value end) as position_to
    from {{ ref('desk_policy') }}
),

quarters as (
    select
        {{ desk_quarter('day') }} as quarter,
        {{ desk_quarter_number('day') }} as quarter_number,
        query,
        sum(clicks) as clicks,
        sum(impressions) as impressions,
        sum(position * impressions)
            / nullif(sum(case when position is not null then impressions end), 0) as avg_position
    from {{ ref('stg_search_console') }}
    group by 1, 2, 3
)

select
    current_quarter.quarter,
    current_quarter.query,
    current_quarter.clicks,
    current_quarter.impressions,
    cast(current_quarter.clicks as double) / nullif(current_quarter.impressions, 0) as ctr,
    current_quarter.avg_position,
    current_quarter.impressions >= policy.min_impressions
        and 100.0 * current_quarter.clicks < policy.max_ctr_percent * current_quarter.impressions
        as is_low_ctr,
    coalesce(
        current_quarter.avg_position >= policy.position_from
        and current_quarter.avg_position <= policy.position_to,
        false
    ) as is_striking_distance,
    previous_quarter.clicks as previous_clicks,
    previous_quarter.impressions as previous_impressions,
    previous_quarter.avg_position as previous_avg_position
from quarters as current_quarter
cross join policy
left join quarters as previous_quarter
    on current_quarter.query = previous_quarter.query
    and previous_quarter.quarter_number = current_quarter.quarter_number - 1
