-- The lifecycle stage funnel: one row per stage of the stages seed, in order.
--
-- Contacts skip stages (fct_stage_changes has no row for a stage a contact jumped over) and
-- never move back, so a contact has "reached" a stage when it has a row for it or for any
-- later stage; reached counts only fall from stage to stage, and conversion_from_previous =
-- reached / reached at the previous stage (null for the first stage).
--
-- Time between stages, in days (fractional):
-- - median_days_from_previous_stage: from entering the previous stage (by stage_order) to
--   entering this one, over contacts that entered both (skippers left out);
-- - median_days_in_stage: from entering this stage to entering the contact's next one, over
--   contacts that have moved on (contacts still here are not counted).
with stages as (
    select stage_id, name as stage_name, stage_order from {{ ref('stages') }}
),

changes as (
    select
        contact_id,
        stage_id,
        stage_order,
        changed_at,
        is_current,
        lead(changed_at) over (partition by contact_id order by stage_order) as next_changed_at
    from {{ ref('fct_stage_changes') }}
),

highest as (  -- each contact's highest stage so far
    select contact_id, max(stage_order) as stage_order
    from changes
    group by contact_id
),

previous_stage as (  -- the stage before each, by order
    select
        stage_id,
        lag(stage_id) over (order by stage_order) as previous_stage_id
    from stages
),

steps as (  -- contacts that entered a stage and the stage right before it
    select
        this_stage.stage_id,
        {{ report_days_between('before_stage.changed_at', 'this_stage.changed_at') }} as days
    from changes as this_stage
    inner join previous_stage on this_stage.stage_id = previous_stage.stage_id
    inner join changes as before_stage
        on this_stage.contact_id = before_stage.contact_id
        and before_stage.stage_id = previous_stage.previous_stage_id
),

entered as (
    select
        stage_id,
        count(*) as contacts_entered,
        count(case when is_current then 1 end) as contacts_current,
        count(next_changed_at) as contacts_moved_on,
        {{ report_median(report_days_between('changed_at', 'next_changed_at')) }} as median_days_in_stage
    from changes
    group by stage_id
),

stepped as (
    select
        stage_id,
        count(*) as contacts_from_previous_stage,
        {{ report_median('days') }} as median_days_from_previous_stage
    from steps
    group by stage_id
),

reached as (
    select stages.stage_id, count(highest.contact_id) as contacts_reached
    from stages
    left join highest on highest.stage_order >= stages.stage_order
    group by stages.stage_id
),

funnel as (
    select
        stages.stage_id,
        stages.stage_name,
        stages.stage_order,
        reached.contacts_reached,
        coalesce(entered.contacts_entered, 0) as contacts_entered,
        coalesce(entered.contacts_current, 0) as contacts_current,
        coalesce(entered.contacts_moved_on, 0) as contacts_moved_on,
        lag(reached.contacts_reached) over (order by stages.stage_order) as previous_reached,
        first_value(reached.contacts_reached) over (
            order by stages.stage_order rows between unbounded preceding and current row
        ) as first_reached,
        coalesce(stepped.contacts_from_previous_stage, 0) as contacts_from_previous_stage,
        stepped.median_days_from_previous_stage,
        entered.median_days_in_stage
    from stages
    inner join reached on stages.stage_id = reached.stage_id
    left join entered on stages.stage_id = entered.stage_id
    left join stepped on stages.stage_id = stepped.stage_id
)

select
    stage_id,
    stage_name,
    stage_order,
    contacts_reached,
    contacts_entered,
    contacts_current,
    contacts_moved_on,
    {{ report_ratio('contacts_reached', 'previous_reached') }} as conversion_from_previous,
    {{ report_ratio('contacts_reached', 'first_reached') }} as conversion_from_first,
    contacts_from_previous_stage,
    median_days_from_previous_stage,
    median_days_in_stage
from funnel
