-- Each contact's position in each campaign (its latest entry): when it entered, where it is
-- now, what it has done, which branch it took at each decision and condition, and its status:
--   active     an action is due now (it is in activation_queue)
--   waiting    an action is scheduled later, or a decision or condition is waiting
--   completed  nothing left to do
--   exited     the entry ended before completing (left the source segment, with
--              exit_on_segment_leave) or an action failed, which ends its path
{{ config(tags=['campaign', 'clock']) }}

with entries as (
    select * from {{ ref('int_campaign_entries') }} where is_latest_entry
),

entry_counts as (
    select campaign_id, contact_id, count(*) as entries
    from {{ ref('int_campaign_entries') }}
    group by campaign_id, contact_id
),

steps as (
    select steps.*
    from {{ ref('fct_campaign_steps') }} as steps
    inner join entries
        on steps.campaign_id = entries.campaign_id
        and steps.contact_id = entries.contact_id
        and steps.entry_number = entries.entry_number
),

summary as (
    select
        campaign_id,
        contact_id,
        sum(case when state = 'due' then 1 else 0 end) as steps_due,
        sum(case when state in ('scheduled', 'waiting') then 1 else 0 end) as steps_waiting,
        sum(case when state in ('sent', 'skipped', 'yes', 'no') then 1 else 0 end) as steps_done,
        sum(case when state = 'failed' then 1 else 0 end) as steps_failed,
        max(case when state in ('sent', 'skipped', 'yes', 'no', 'failed') then completed_at end)
            as last_step_at,
        min(case
            when state in ('due', 'scheduled') then due_at
            when state = 'waiting' then coalesce(window_ends_at, check_at)
        end) as next_at,
        max(case when state = 'failed' then completed_at end) as failed_at,
        min(case when state = 'failed' then step_id end) as failed_step_id,
        {{ dbt.listagg(
            "case when state in ('sent', 'skipped', 'yes', 'no', 'failed') then step_id end",
            "' > '",
            "order by completed_at nulls last, depth, step_order",
        ) }} as steps_path,
        {{ dbt.listagg(
            "case when step_type in ('decision', 'condition') and state in ('yes', 'no') then "
                ~ dbt.concat(["'\"'", 'step_id', "'\": \"'", 'state', "'\"'"]) ~ " end",
            "', '",
            "order by depth, step_order",
        ) }} as branch_pairs
    from steps
    group by campaign_id, contact_id
),

pending as (
    select
        campaign_id,
        contact_id,
        step_id,
        state,
        activated_at,
        row_number() over (
            partition by campaign_id, contact_id
            order by
                case state when 'due' then 1 when 'scheduled' then 2 else 3 end,
                activated_at,
                depth,
                step_order
        ) as nth
    from steps
    where state in ('due', 'scheduled', 'waiting')
),

positioned as (
    select
        entries.campaign_id,
        entries.contact_id,
        entries.entry_number,
        entries.entered_at,
        entries.entry_source,
        entries.ended_at,
        entries.exit_reason,
        summary.steps_due,
        summary.steps_waiting,
        coalesce(summary.steps_done, 0) as steps_done,
        coalesce(summary.steps_failed, 0) as steps_failed,
        summary.last_step_at,
        summary.next_at,
        summary.failed_at,
        summary.failed_step_id,
        summary.steps_path,
        summary.branch_pairs,
        pending.step_id as current_step_id,
        pending.state as current_step_state,
        pending.activated_at as current_step_since,
        case
            when summary.steps_due > 0 then 'active'
            when summary.steps_waiting > 0 then 'waiting'
            when entries.ended_at is not null or summary.steps_failed > 0 then 'exited'
            else 'completed'
        end as status
    from entries
    left join summary
        on entries.campaign_id = summary.campaign_id
        and entries.contact_id = summary.contact_id
    left join pending
        on entries.campaign_id = pending.campaign_id
        and entries.contact_id = pending.contact_id
        and pending.nth = 1
)

select
    positioned.campaign_id,
    campaigns.campaign_name,
    campaigns.is_published,
    positioned.contact_id,
    contacts.email,
    positioned.entry_number,
    entry_counts.entries,
    positioned.entered_at,
    positioned.entry_source,
    positioned.status,
    positioned.current_step_id,
    positioned.current_step_state,
    positioned.current_step_since,
    positioned.next_at,
    positioned.steps_done,
    positioned.steps_failed,
    positioned.steps_path,
    {{ dbt.concat(["'{'", "coalesce(positioned.branch_pairs, '')", "'}'"]) }} as branches,
    positioned.last_step_at,
    case when positioned.status = 'completed' then positioned.last_step_at end as completed_at,
    case
        when positioned.status = 'exited' then coalesce(positioned.ended_at, positioned.failed_at)
    end as exited_at,
    case
        when positioned.status <> 'exited' then null
        when positioned.ended_at is not null then positioned.exit_reason
        else {{ dbt.concat(["'failed at '", 'positioned.failed_step_id']) }}
    end as exit_reason
from positioned
inner join {{ ref('stg_campaign_definitions') }} as campaigns
    on positioned.campaign_id = campaigns.campaign_id
inner join entry_counts
    on positioned.campaign_id = entry_counts.campaign_id
    and positioned.contact_id = entry_counts.contact_id
left join {{ ref('dim_contacts') }} as contacts on positioned.contact_id = contacts.contact_id
