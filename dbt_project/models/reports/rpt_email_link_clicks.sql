-- Clicks per email and link: which links of an email get clicked. One row per (email_id,
-- link_url) clicked at least once; link_url is the link as written in the email (with its
-- UTM tags), link_target the same without query string or fragment.
with clicks as (
    select email_id, link_url, contact_id, occurred_at
    from {{ ref('fct_events') }}
    where event_type = 'email_click'
      and email_id is not null
      and link_url is not null
),

per_link as (
    select
        email_id,
        link_url,
        count(*) as clicks,
        count(distinct contact_id) as unique_clickers,
        min(occurred_at) as first_clicked_at,
        max(occurred_at) as last_clicked_at
    from clicks
    group by email_id, link_url
),

per_email as (
    select email_id, sum(clicks) as email_clicks
    from per_link
    group by email_id
)

select
    per_link.email_id,
    coalesce(emails.name, 'Email ' || per_link.email_id) as email_name,
    per_link.link_url,
    {{ dbt.split_part(dbt.split_part('per_link.link_url', "'?'", 1), "'#'", 1) }} as link_target,
    per_link.clicks,
    per_link.unique_clickers,
    {{ report_ratio('per_link.clicks', 'per_email.email_clicks') }} as share_of_email_clicks,
    row_number() over (
        partition by per_link.email_id order by per_link.clicks desc, per_link.link_url
    ) as link_rank,
    per_link.first_clicked_at,
    per_link.last_clicked_at
from per_link
inner join per_email on per_link.email_id = per_email.email_id
left join {{ ref('stg_emails') }} as emails on per_link.email_id = emails.email_id
