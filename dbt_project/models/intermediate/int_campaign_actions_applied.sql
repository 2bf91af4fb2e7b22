-- Campaign actions that activation carried out and other models apply to the contact:
-- add_to_segment / remove_from_segment (the segment models read them as manual membership,
-- macros/segment_model.sql) and change_stage (fct_stage_changes). One row per campaign_action
-- event with status 'sent' of such an action; the target (segment or stage id) is the event's
-- payload_ref, as activation copies it from the queue row. Reads nothing but events, so the
-- segment and stage models do not depend on the campaign definitions.
-- Not clock-dependent: readers keep only rows up to their reference time.
with reported as (
    select
        event_id,
        contact_id,
        occurred_at,
        loaded_at,
        {{ json_fields('properties', ['campaign_id', 'step_id', 'action', 'status', 'payload_ref']) }} as p
    from {{ ref('fct_events') }}
    where event_type = 'campaign_action'
      and contact_id is not null
),

flat as (
    select
        event_id,
        contact_id,
        occurred_at,
        loaded_at,
        p.campaign_id as campaign_id,
        p.step_id as step_id,
        p.action as action,
        lower(p.status) as status,
        p.payload_ref as target_id
    from reported
)

select
    event_id,
    contact_id,
    campaign_id,
    step_id,
    action,
    target_id,
    occurred_at,
    loaded_at
from flat
where status = 'sent'
  and action in ('add_to_segment', 'remove_from_segment', 'change_stage')
  and target_id is not null
