-- One row per author of monitored posts: an existing contact (matched by social handle) or
-- a new known contact keyed by handle (one per platform and handle, however many posts);
-- both are rows of dim_contacts. points: the monitors' points of their posts (their rows in
-- fct_points_ledger); last_mentioned_at feeds the segment filter mentioned_us().
select
    contact_id,
    min(author_key) as author_key,
    bool_or(is_existing_contact) as is_existing_contact,
    min(platform) as platform,
    min(author_handle) as author_handle,
    max(author_name) as author_name,
    count(*) as mentions,
    sum(points) as points,
    min(posted_at) as first_mentioned_at,
    max(posted_at) as last_mentioned_at
from {{ ref('fct_social_mentions') }}
group by contact_id
