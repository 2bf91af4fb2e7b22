-- Campaign actions that activation carried out and other models apply to the contact:
-- add_to_segment / remove_from_segment (the segment models read them as manual membership,
-- macros/segment_model.sql) and change_stage (fct_stage_changes). One row per campaign_action
-- event with status 'sent' of such an action. The target (segment or stage id) is the event's
-- payload_ref when activation wrote one, else the step's, from the campaign definition.
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
        p.payload_ref as payload_ref
    from reported
)

select
    flat.event_id,
    flat.contact_id,
    flat.campaign_id,
    flat.step_id,
    coalesce(flat.action, steps.step_kind) as action,
    coalesce(flat.payload_ref, steps.payload_ref) as target_id,
    flat.occurred_at,
    flat.loaded_at
from flat
left join {{ ref('stg_campaign_steps') }} as steps
    on flat.campaign_id = steps.campaign_id
    and flat.step_id = steps.step_id
where flat.status = 'sent'
  and coalesce(flat.action, steps.step_kind) in ('add_to_segment', 'remove_from_segment', 'change_stage')
  and coalesce(flat.payload_ref, steps.payload_ref) is not null
