-- One row per author of monitored posts: an existing contact (matched by social handle) or
-- a new known contact keyed by handle (one per platform and handle, however many posts).
-- points: the monitors' points of their posts; last_mentioned_at feeds the segment filter
-- mentioned_us().
select
    author_key,
    max(contact_id) as contact_id,
    max(contact_id) is not null as is_existing_contact,
    min(platform) as platform,
    min(author_handle) as author_handle,
    max(author_name) as author_name,
    count(*) as mentions,
    sum(points) as points,
    min(posted_at) as first_mentioned_at,
    max(posted_at) as last_mentioned_at
from {{ ref('fct_social_mentions') }}
group by author_key
