-- Social analytics, once per (platform, day, post): the latest loaded version. A row without
-- post_id is the account's day (followers, and impressions and engagements outside posts).
select day, platform, post_id, followers, impressions, engagements
from (
    select
        cast(date as date) as day,
        lower(trim(platform)) as platform,
        nullif(trim(post_id), '') as post_id,
        followers,
        coalesce(impressions, 0) as impressions,
        coalesce(engagements, 0) as engagements,
        row_number() over (
            partition by cast(date as date), lower(trim(platform)), coalesce(trim(post_id), '')
            order by _loaded_at desc, _source_row desc
        ) as nth
    from {{ source('raw', 'social_analytics') }}
) as ranked
where nth = 1
