-- One row per email sent to a contact, with what happened to it: delivered, opened, clicked,
-- bounced, unsubscribed, and when first. Engagement counts for the send it follows: the
-- latest earlier send of the same email to the same contact.
--
-- Incremental: every (contact, email) pair with new email events is recomputed whole, and
-- the sends whose figures changed are written (delete+insert on send_id): a new event changes
-- the send it follows, or starts one, and leaves the pair's other sends as they were (at 1M
-- contacts a 1% load recomputed 1.46M sends). A send never disappears (forget deletes its
-- rows itself), so replacing sends one by one leaves none behind.
{{ config(materialized=keyed_incremental(), unique_key='send_id', incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}

-- Inlined where read (a full build reads it three times, through pair_events).
with email_events as {{ cte_materialized(false) }} (
    select
        event_id, event_type, occurred_at, contact_id, email, email_id, link_url, bounce_type,
        loaded_at,
        contact_id || ':' || email_id as contact_email_key
    from {{ ref('fct_events') }}
    where event_type like 'email\_%' {{ like_escape() }}
      and contact_id is not null
      and email_id is not null
),

{% if is_incremental() %}
-- Read straight from fct_events (its recent loads only): `email_events` is then read once and
-- not materialised whole.
changed_pairs as (
    select distinct contact_id, email_id
    from {{ ref('fct_events') }}
    where event_type like 'email\_%' {{ like_escape() }}
      and contact_id is not null
      and email_id is not null
      and loaded_at > {{ loaded_watermark() }}
),

-- Read three times (events, sends, newest load): the changed pairs' events are few, and kept.
pair_events as (
    select email_events.*
    from email_events
    inner join changed_pairs
        on email_events.contact_id = changed_pairs.contact_id
        and email_events.email_id = changed_pairs.email_id
),
{% else %}
-- Read three times (events, sends, newest load): inlined, as kept whole it held every email
-- event (21M at 1M contacts) and spilled.
pair_events as {{ cte_materialized(false) }} (select * from email_events),
{% endif %}

-- Each event belongs to the latest send of its pair at or before it (a send sorts before the
-- other events of its instant). One sort of the pair's events: a join of each send with the
-- events up to the next send held every pair's events twice and spilled at scale.
sequenced as (
    select
        event_type,
        occurred_at,
        bounce_type,
        loaded_at,
        {{ last_value_ignore_nulls("case when event_type = 'email_sent' then event_id end") }} over (
            partition by contact_email_key
            order by occurred_at, case when event_type = 'email_sent' then 0 else 1 end, event_id
            rows between unbounded preceding and current row
        ) as send_id
    from pair_events
),

sends as (
    select
        event_id as send_id,
        contact_email_key,
        contact_id,
        email,
        email_id,
        occurred_at as sent_at
    from pair_events
    where event_type = 'email_sent'
),

engagement as (  -- one row per send (its own row is in `sequenced`)
    select
        send_id,
        max(case when event_type = 'email_delivered' then 1 else 0 end) as delivered,
        max(case when event_type = 'email_bounce' then 1 else 0 end) as bounced,
        max(case when event_type = 'email_bounce' and bounce_type = 'hard' then 1 else 0 end)
            as hard_bounced,
        max(case when event_type = 'email_unsubscribe' then 1 else 0 end) as unsubscribed,
        sum(case when event_type = 'email_open' then 1 else 0 end) as open_count,
        sum(case when event_type = 'email_click' then 1 else 0 end) as click_count,
        min(case when event_type = 'email_open' then occurred_at end) as first_opened_at,
        min(case when event_type = 'email_click' then occurred_at end) as first_clicked_at,
        max(case when event_type <> 'email_sent' then loaded_at end) as loaded_at
    from sequenced
    where send_id is not null
    group by send_id
),

computed as (
    select
        sends.send_id,
        sends.contact_email_key,
        sends.contact_id,
        sends.email,
        sends.email_id,
        sends.sent_at,
        cast(sends.sent_at as date) as sent_on,
        engagement.delivered = 1 as is_delivered,
        engagement.bounced = 1 as is_bounced,
        engagement.hard_bounced = 1 as is_hard_bounced,
        -- a click implies an open even when the open pixel was blocked, as Mautic counts it
        (engagement.open_count > 0 or engagement.click_count > 0) as is_opened,
        engagement.click_count > 0 as is_clicked,
        engagement.unsubscribed = 1 as is_unsubscribed,
        engagement.open_count,
        engagement.click_count,
        coalesce(engagement.first_opened_at, engagement.first_clicked_at) as first_opened_at,
        engagement.first_clicked_at,
        {{ dbt.datediff('sends.sent_at', 'coalesce(engagement.first_opened_at, engagement.first_clicked_at)', 'minute') }}
            as minutes_to_open,
        coalesce(engagement.loaded_at, (select max(loaded_at) from pair_events)) as loaded_at,
        {{ build_time() }} as built_at
    from sends
    inner join engagement on sends.send_id = engagement.send_id
)

select computed.*
from computed
{% if is_incremental() %}
{#- Every column the kept sends have tells a recomputed send from its kept row, but loaded_at
    (a send with no engagement carries its pair's newest load, which moves with the other
    sends) and built_at. -#}
{%- set figures = adapter.get_columns_in_relation(this) | map(attribute='name')
    | reject('in', ['send_id', 'loaded_at', 'built_at']) | list %}
left join {{ this }} as kept on computed.send_id = kept.send_id
where kept.send_id is null
    {%- for column in figures %}
    or computed.{{ column }} is distinct from kept.{{ column }}
    {%- endfor %}
{% endif %}
