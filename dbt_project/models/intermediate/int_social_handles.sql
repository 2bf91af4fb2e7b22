-- Which contact a social handle belongs to: the contact's social fields (twitter, linkedin,
-- facebook of the contact exports) and handles learned from identify calls (traits twitter,
-- linkedin, facebook, mastodon). Handles are lower-cased without @; a handle claimed by two
-- contacts goes to the one that claimed it last.
with identify_calls as (  -- read once for the four traits (stg_events is a view of raw.events)
    select contact_key, occurred_at, properties
    from {{ ref('stg_events') }}
    where event_type = 'identify' and {{ is_email('contact_key') }}
),

claims as (
    select 'twitter' as platform, twitter as handle, email, last_loaded_at as claimed_at
    from {{ ref('stg_contacts') }}
    where twitter is not null and email is not null
    union all
    select 'linkedin', linkedin, email, last_loaded_at
    from {{ ref('stg_contacts') }}
    where linkedin is not null and email is not null
    union all
    select 'facebook', facebook, email, last_loaded_at
    from {{ ref('stg_contacts') }}
    where facebook is not null and email is not null
    {%- for platform in ['twitter', 'linkedin', 'facebook', 'mastodon'] %}
    union all
    select
        '{{ platform }}', {{ json_text('properties', platform) }}, contact_key, occurred_at
    from identify_calls
    where {{ json_text('properties', platform) }} is not null
    {%- endfor %}
),

normalised as (
    select
        platform,
        lower(trim(leading '@' from trim(handle))) as handle,
        email,
        claimed_at,
        row_number() over (
            partition by platform, lower(trim(leading '@' from trim(handle)))
            order by claimed_at desc, email
        ) as nth
    from claims
)

select platform, handle, email, claimed_at
from normalised
where nth = 1 and handle <> ''
