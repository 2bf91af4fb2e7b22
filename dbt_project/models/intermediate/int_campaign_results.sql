-- What activation did with each queued action: one row per idempotency key, from the
-- campaign_action events activation writes back (status sent, skipped or failed). A key
-- reported more than once (a retry) keeps its best outcome — sent, then skipped, then failed —
-- and the earliest report of it. Events after the reference time do not count yet.
{{ config(tags=['campaign', 'clock']) }}

with reported as (
    select
        event_id,
        contact_id,
        occurred_at,
        loaded_at,
        {{ json_fields('properties', [
            'idempotency_key', 'campaign_id', 'step_id', 'action', 'channel', 'status', 'reason',
        ]) }} as p
    from {{ ref('fct_events') }}
    where event_type = 'campaign_action'
      and occurred_at <= {{ segment_reference_time() }}
),

flat as (
    select
        event_id,
        contact_id,
        occurred_at,
        loaded_at,
        p.idempotency_key as idempotency_key,
        p.campaign_id as campaign_id,
        p.step_id as step_id,
        p.action as action,
        p.channel as channel,
        lower(p.status) as status,
        p.reason as reason
    from reported
),

ranked as (
    select
        flat.*,
        row_number() over (
            partition by idempotency_key
            order by
                case status when 'sent' then 1 when 'skipped' then 2 else 3 end,
                occurred_at,
                event_id
        ) as preference,
        count(*) over (partition by idempotency_key) as reports
    from flat
    where idempotency_key is not null
      and status in ('sent', 'skipped', 'failed')
)

select
    idempotency_key,
    campaign_id,
    step_id,
    contact_id,
    action,
    channel,
    status,
    reason,
    occurred_at as executed_at,
    event_id,
    reports,
    loaded_at
from ranked
where preference = 1
