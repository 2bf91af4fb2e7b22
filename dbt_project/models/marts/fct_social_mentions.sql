-- Social monitoring (Mautic's Social Monitoring): one row per post that matched at least one
-- monitor, with its author resolved as Mautic does it. An author whose handle a contact has
-- (int_social_handles: the contact's social field, or an identify with that handle) is that
-- contact; any other author is a new known contact keyed by platform and handle
-- (author_key 'social:<platform>:<handle>', no email until one is learned; once a contact
-- claims the handle, every post of it moves to that contact).
with hits as (
    select mention_id, sum(points) as points, count(*) as monitors
    from {{ ref('fct_social_monitor_hits') }}
    group by mention_id
)

select
    mentions.mention_id,
    mentions.platform,
    mentions.post_id,
    mentions.author_handle,
    mentions.author_name,
    mentions.text,
    mentions.hashtags,
    mentions.posted_at,
    mentions.url,
    contacts.contact_id,
    coalesce(
        contacts.contact_id, 'social:' || mentions.platform || ':' || mentions.author_handle
    ) as author_key,
    contacts.contact_id is not null as is_existing_contact,
    hits.monitors,
    hits.points
from {{ ref('stg_social_mentions') }} as mentions
inner join hits on mentions.mention_id = hits.mention_id
left join {{ ref('int_social_handles') }} as handles
    on mentions.platform = handles.platform
    and mentions.author_handle = handles.handle
left join {{ ref('dim_contacts') }} as contacts on handles.email = contacts.email
