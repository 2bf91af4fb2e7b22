-- Floor for rpt_email_performance: the same per-email figures in one hand-written query over
-- raw.events (deduplicated by event_id, first arrival wins). Email events carry the contact's
-- email as contact_key, so the contact is that key, trimmed and lower-cased.
with events as (
    select
        event_id,
        event_type,
        occurred_at,
        lower(trim(contact_key)) as contact,
        json_extract_string(properties, '$.email_id') as email_id,
        json_extract_string(properties, '$.bounce_type') as bounce_type
    from raw.events
    where event_type like 'email\_%' escape '\' and contact_key is not null
    qualify row_number() over (
        partition by event_id order by _loaded_at, _source, _source_row
    ) = 1
),
sends as (
    select
        event_id as send_id, contact, email_id, occurred_at as sent_at,
        lead(occurred_at, 1, timestamp '9999-12-31') over (
            partition by contact, email_id order by occurred_at, event_id
        ) as next_sent_at
    from events
    where event_type = 'email_sent' and email_id is not null
),
per_send as (
    select
        s.send_id, s.email_id, s.contact,
        bool_or(e.event_type = 'email_delivered') as delivered,
        bool_or(e.event_type = 'email_bounce') as bounced,
        bool_or(e.event_type = 'email_open') as opened,
        bool_or(e.event_type = 'email_click') as clicked,
        count(*) filter (where e.event_type = 'email_open') as opens,
        count(*) filter (where e.event_type = 'email_click') as clicks
    from sends as s
    left join events as e
        on e.contact = s.contact and e.email_id = s.email_id
        and e.occurred_at >= s.sent_at and e.occurred_at < s.next_sent_at
        and e.event_type <> 'email_sent'
    group by all
)
select
    email_id,
    count(*) as sent,
    count(distinct contact) as recipients,
    count(*) filter (where delivered) as delivered,
    count(*) filter (where bounced) as bounced,
    count(*) filter (where opened) as unique_opens,
    count(*) filter (where clicked) as unique_clicks,
    sum(opens) as total_opens,
    sum(clicks) as total_clicks
from per_send
group by email_id
order by email_id
