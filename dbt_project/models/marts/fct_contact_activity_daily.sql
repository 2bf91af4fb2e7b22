-- What each contact did, per day and event type: one row per (contact, day, event type) with
-- the number of events. Only what the contact did counts, as for dim_contacts.last_active_at
-- (not sends, deliveries, bounces, DNC changes, manual points, campaign actions:
-- `passive_event_types`; nor identify calls a campaign wrote), so "active in a period" is "has
-- a row in it". Period figures (active contacts, a company's activity by day) read this
-- instead of fct_events: at 1M contacts it is 9M rows against 50M events, and published in day
-- order, so a period reads only its own days.
with contact_events as (
    select contact_id, occurred_on, event_type
    from {{ ref('fct_events') }}
    where contact_id is not null
      and event_type not in {{ passive_event_types() }}
      and not {{ is_campaign_write() }}
)

select
    contact_id,
    occurred_on as activity_on,
    event_type,
    count(*) as events
from contact_events
group by contact_id, occurred_on, event_type
