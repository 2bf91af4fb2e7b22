-- Social posts, once per (platform, post id): the latest loaded version. Platforms are
-- lower-cased ('x' is twitter); handles lower-cased without the leading @; hashtags a list of
-- lower-cased tags without # (from a JSON array or a comma, space or | separated list).
with latest as (
    select *
    from (
        select
            *,
            case lower(trim(platform)) when 'x' then 'twitter' else lower(trim(platform)) end
                as platform_name,
            row_number() over (
                partition by lower(trim(platform)), trim(post_id)
                order by _loaded_at desc, _source_row desc
            ) as nth
        from {{ source('raw', 'social_mentions') }}
    ) as ranked
    where nth = 1
)

select
    platform_name || ':' || trim(post_id) as mention_id,
    platform_name as platform,
    trim(post_id) as post_id,
    lower(trim(leading '@' from trim(author_handle))) as author_handle,
    author_name,
    text,
    {{ hashtag_list('hashtags') }} as hashtags,
    posted_at,
    url,
    _loaded_at as loaded_at
from latest
