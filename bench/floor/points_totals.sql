-- Floor for the points totals (fct_points_ledger summed per contact = dim_contacts.points): one
-- hand-written query over raw.events (deduplicated by event_id, first arrival wins),
-- raw.contacts (external ids) and the rules.point_rules seed. One row per contact with at
-- least one ledger entry (its total may be 0); contacts without any have 0 in dim_contacts.
--
-- Contacts are emails. An event's contact_key names its contact directly when it looks like
-- an email, else through the external_id of the contact exports. Events with only a tracking
-- id go to the email that id was most recently linked to (identify, form_submit, email_click)
-- when they happened; events before its first link, to the first email. Keys are compared as
-- stored, as the models do (ingest has already trimmed and lower-cased them).
-- No decay: the points_decay_days var is null in dbt_project.yml.
-- Not here: the social monitors' points (the ledger's 'monitor' rows, which need handle
-- matching): the generator writes 40 monitored posts whatever the scale, so at 100k contacts
-- and more they change a handful of totals and nothing of the timing.
with rules as (
    select
        rule_id, event_type, lower(url_pattern) as url_pattern, form_id, asset_id, email_id,
        delta, repeatable, max_per_contact
    from rules.point_rules
    where is_active
),
arrived as (  -- the events scoring and identity stitching read
    select *
    from raw.events
    where event_type in (select event_type from rules)
       or event_type in ('manual_points', 'identify')
),
repeated_ids as (  -- event ids that arrived more than once (few): only those are ranked
    select event_id from arrived group by event_id having count(*) > 1
),
events as (
    select event_id, event_type, occurred_at, anonymous_id, contact_key, properties
    from arrived
    where event_id not in (select event_id from repeated_ids)
    union all
    select event_id, event_type, occurred_at, anonymous_id, contact_key, properties
    from arrived
    where event_id in (select event_id from repeated_ids)
    qualify row_number() over (
        partition by event_id order by _loaded_at, _source, _source_row
    ) = 1
),
external_ids as (  -- external_id → email: each email's latest non-empty external_id
    select external_id, max(email) as email
    from (
        select distinct
            email,
            last_value(external_id ignore nulls) over (
                partition by email order by _loaded_at, _source, _source_row
                rows between unbounded preceding and unbounded following
            ) as external_id
        from raw.contacts
        where email is not null
    )
    where external_id is not null
    group by external_id
),
keyed as (
    select
        events.*,
        case
            when events.contact_key like '%_@_%.__%' then events.contact_key
            else external_ids.email
        end as key_email
    from events
    left join external_ids on events.contact_key = external_ids.external_id
),
switches as (  -- the links that change who a tracking id belongs to
    select anonymous_id, email, linked_at
    from (
        select
            anonymous_id, key_email as email, occurred_at as linked_at,
            lag(key_email) over (partition by anonymous_id order by occurred_at, event_id)
                as previous_email
        from keyed
        where anonymous_id is not null and key_email is not null
          and event_type in ('identify', 'form_submit', 'email_click')
    )
    where previous_email is null or previous_email <> email
),
intervals as (
    select
        anonymous_id, email,
        case
            when row_number() over by_id = 1 then timestamp '1900-01-01' else linked_at
        end as valid_from,
        coalesce(lead(linked_at) over by_id, timestamp '9999-12-31') as valid_to
    from switches
    window by_id as (partition by anonymous_id order by linked_at)
),
scored as (  -- scoring events with their contact
    select
        keyed.event_id, keyed.event_type, keyed.occurred_at,
        coalesce(keyed.key_email, intervals.email) as contact,
        json_transform(
            keyed.properties,
            '{"url":"VARCHAR","link_url":"VARCHAR","form_id":"VARCHAR","asset_id":"VARCHAR","email_id":"VARCHAR","delta":"VARCHAR"}'
        ) as p
    from keyed
    left join intervals
        on keyed.anonymous_id = intervals.anonymous_id
        and keyed.occurred_at >= intervals.valid_from
        and keyed.occurred_at < intervals.valid_to
    where keyed.event_type <> 'identify'
),
matches as (
    select
        scored.contact, rules.delta, rules.repeatable, rules.max_per_contact,
        row_number() over (
            partition by scored.contact, rules.rule_id
            order by scored.occurred_at, scored.event_id
        ) as match_number
    from scored
    inner join rules
        on scored.event_type = rules.event_type
        and (rules.url_pattern is null or lower(coalesce(scored.p.url, scored.p.link_url)) like rules.url_pattern)
        and (rules.form_id is null or scored.p.form_id = rules.form_id)
        and (rules.asset_id is null or scored.p.asset_id = rules.asset_id)
        and (rules.email_id is null or scored.p.email_id = rules.email_id)
    where scored.contact is not null
),
deltas as (
    select
        contact,
        case
            when max_per_contact is null then delta
            else sign(delta) * least(
                abs(delta), greatest(max_per_contact - (match_number - 1) * abs(delta), 0)
            )
        end as delta
    from matches
    where repeatable = 'every_time' or match_number = 1
    union all
    select contact, try_cast(p.delta as integer) as delta
    from scored
    where event_type = 'manual_points' and contact is not null
)
select contact, sum(delta) as points
from deltas
where delta <> 0
group by contact
order by contact
