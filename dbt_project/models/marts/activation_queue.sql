-- Actions due now, one row per action and contact entry: what activation executes. The key is
-- deterministic (campaign, step, contact and entry number), so a row that stays in the queue
-- across builds keeps its key, and activation's ledger sends it at most once. A row leaves the
-- queue on the next build after activation reports it (a campaign_action event with its key,
-- status sent, skipped or failed). Contacts on the channel's do-not-contact list, or without
-- the address, are never queued for that channel (the step is skipped and the campaign moves
-- on); send_marketing_message is queued on the channel it resolved to. Unpublished campaigns
-- queue nothing (their contacts wait where they are).
{{ config(tags=['campaign', 'clock']) }}

select
    idempotency_key,
    campaign_id,
    campaign_name,
    step_id,
    step_kind as action,
    channel,
    contact_id,
    email,
    mobile,
    timezone,
    payload_ref,
    params,
    due_at,
    {{ segment_reference_time() }} as queued_at,
    entry_number,
    campaign_kind,
    activated_at
from {{ ref('fct_campaign_steps') }}
where state = 'due'
  and step_type = 'action'
  and is_published
