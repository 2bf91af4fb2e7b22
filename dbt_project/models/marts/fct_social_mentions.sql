-- Social monitoring (Mautic's Social Monitoring): one row per post that matched at least one
-- monitor, with its author resolved as Mautic does it. An author whose handle a contact has
-- (int_social_handles: the contact's social field, or an identify with that handle) is that
-- contact; any other author is a new known contact keyed by platform and handle
-- (author_key 'social:<platform>:<handle>', no email until one is learned; once a contact
-- claims the handle, every post of it moves to that contact, and the handle-keyed contact
-- is gone). Either way contact_id is the contact's id in dim_contacts.
with hits as (
    select mention_id, sum(points) as points, count(*) as monitors
    from {{ ref('fct_social_monitor_hits') }}
    group by mention_id
),

authors as (
    select
        mentions.*,
        handles.email,
        coalesce(
            handles.email, 'social:' || mentions.platform || ':' || mentions.author_handle
        ) as author_key
    from {{ ref('stg_social_mentions') }} as mentions
    left join {{ ref('int_social_handles') }} as handles
        on mentions.platform = handles.platform
        and mentions.author_handle = handles.handle
)

select
    authors.mention_id,
    authors.platform,
    authors.post_id,
    authors.author_handle,
    authors.author_name,
    authors.text,
    authors.hashtags,
    authors.posted_at,
    authors.url,
    -- the same id dim_contacts gives an email, or the handle's key
    {{ dbt.hash('authors.author_key') }} as contact_id,
    authors.author_key,
    authors.email is not null as is_existing_contact,
    hits.monitors,
    hits.points,
    authors.loaded_at
from authors
inner join hits on authors.mention_id = hits.mention_id
