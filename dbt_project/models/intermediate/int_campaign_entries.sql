-- Who entered which campaign, when and from where: one row per entry of a contact.
--
-- Triggers: a submission of a source form, or a spell of membership in a source segment (from
-- segment_history: 'added' up to the next 'removed'). Only triggers from the campaign's
-- entry_from (first publication minus the lookback, or the file's entry.from) up to its
-- entry_until and the reference time count; a membership spell that began before entry_from
-- and still lasts then triggers at entry_from (the members at publication enter, as in Mautic).
--
-- Without allow_restart a contact enters once, at its first trigger. With it, every later
-- trigger (another submission, joining the segment again) starts a new entry, numbered 1, 2 …
-- and ends the previous one (exit_reason 'restarted': its pending steps are cancelled). With
-- exit_on_segment_leave, an entry that came from a segment also ends when the contact leaves
-- that segment (exit_reason 'left segment'). entry_number is part of every idempotency key.
{{ config(tags=['campaign', 'clock']) }}

{%- set now = segment_reference_time() %}

with campaigns as (
    select campaign_id, allow_restart, exit_on_segment_leave, entry_from, entry_until
    from {{ ref('stg_campaign_definitions') }}
    where entry_from is not null
),

sources as (
    select campaign_id, source_type, source_id from {{ ref('stg_campaign_sources') }}
),

form_triggers as (
    select
        campaigns.campaign_id,
        events.contact_id,
        events.occurred_at as triggered_at,
        cast(null as {{ dbt.type_timestamp() }}) as trigger_ends_at,
        {{ dbt.concat(["'form '", 'events.form_id']) }} as entry_source,
        events.event_id as trigger_id
    from {{ ref('fct_events') }} as events
    inner join sources
        on sources.source_type = 'form'
        and events.form_id = sources.source_id
    inner join campaigns on sources.campaign_id = campaigns.campaign_id
    where events.event_type = 'form_submit'
      and events.contact_id is not null
      and events.occurred_at >= campaigns.entry_from
      and events.occurred_at <= {{ now }}
      and (campaigns.entry_until is null or events.occurred_at <= campaigns.entry_until)
),

history as (
    select
        segment_id,
        contact_id,
        change,
        changed_at,
        build_number,
        lead(changed_at) over (
            partition by segment_id, contact_id order by build_number
        ) as next_changed_at
    from {{ ref('segment_history') }}
    where segment_id in (select source_id from sources where source_type = 'segment')
      and changed_at <= {{ now }}
),

spells as (
    select
        segment_id,
        contact_id,
        changed_at as added_at,
        next_changed_at as removed_at,
        build_number
    from history
    where change = 'added'
),

segment_triggers as (
    select
        campaigns.campaign_id,
        spells.contact_id,
        case
            when spells.added_at > campaigns.entry_from then spells.added_at
            else campaigns.entry_from
        end as triggered_at,
        spells.removed_at as trigger_ends_at,
        {{ dbt.concat(["'segment '", 'spells.segment_id']) }} as entry_source,
        {{ dbt.concat([
            "'segment:'", 'spells.segment_id', "':'",
            'cast(spells.build_number as ' ~ dbt.type_string() ~ ')',
        ]) }} as trigger_id
    from spells
    inner join sources
        on sources.source_type = 'segment'
        and spells.segment_id = sources.source_id
    inner join campaigns on sources.campaign_id = campaigns.campaign_id
    where (spells.removed_at is null or spells.removed_at > campaigns.entry_from)
),

triggers as (
    select * from form_triggers
    union all
    select * from segment_triggers
),

-- one trigger per moment (a form submission and a segment join at the same instant are one)
distinct_triggers as (
    select
        triggers.*,
        row_number() over (
            partition by triggers.campaign_id, triggers.contact_id, triggers.triggered_at
            order by triggers.entry_source, triggers.trigger_id
        ) as nth_at_moment
    from triggers
    inner join campaigns on triggers.campaign_id = campaigns.campaign_id
    where triggers.triggered_at <= {{ now }}
      and (campaigns.entry_until is null or triggers.triggered_at <= campaigns.entry_until)
),

numbered as (
    select
        distinct_triggers.*,
        campaigns.allow_restart,
        campaigns.exit_on_segment_leave,
        row_number() over (
            partition by distinct_triggers.campaign_id, distinct_triggers.contact_id
            order by distinct_triggers.triggered_at
        ) as entry_number
    from distinct_triggers
    inner join campaigns on distinct_triggers.campaign_id = campaigns.campaign_id
    where distinct_triggers.nth_at_moment = 1
),

entries as (
    select
        numbered.*,
        lead(triggered_at) over (
            partition by campaign_id, contact_id order by entry_number
        ) as next_entry_at
    from numbered
    where allow_restart or entry_number = 1
),

ends as (
    select
        entries.*,
        case
            when exit_on_segment_leave and trigger_ends_at <= {{ now }} then trigger_ends_at
        end as left_segment_at
    from entries
)

select
    campaign_id,
    contact_id,
    entry_number,
    triggered_at as entered_at,
    entry_source,
    trigger_id,
    case
        when next_entry_at is not null and (left_segment_at is null or next_entry_at <= left_segment_at)
            then next_entry_at
        else left_segment_at
    end as ended_at,
    case
        when next_entry_at is not null and (left_segment_at is null or next_entry_at <= left_segment_at)
            then 'restarted'
        when left_segment_at is not null then 'left segment'
    end as exit_reason,
    next_entry_at is null as is_latest_entry
from ends
