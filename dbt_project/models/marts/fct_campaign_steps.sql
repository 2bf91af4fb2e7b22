-- Every step every campaign entry has reached, with its state: the campaign engine.
--
-- Each entry (int_campaign_entries) starts at the campaign's first steps when it enters; a step
-- is reached when its parent finished — an action with sent or skipped (any child), a decision
-- or condition on the branch it took. The graph is walked level by level (depth 0, 1, … up to
-- var campaign_max_depth), so no recursive SQL is needed.
--
-- Actions: planned at activation + `wait`, or at `at` (if still ahead), then moved to the next
-- opening of the send window in the contact's time zone (else the campaign's) → due_at. State:
-- sent / skipped / failed once activation reported it (int_campaign_results, by idempotency
-- key); 'scheduled' before due_at; 'due' from then (activation_queue); 'skipped' at due_at when
-- the channel cannot be used (do-not-contact, no address), so the contact moves on; a failed
-- action ends its path (activation retries transient errors before it reports 'failed').
-- Decisions: 'yes' at the first matching event from activation until the window ends, 'no'
-- when the window has passed without one, 'waiting' until then. Conditions: evaluated on the
-- contact's current data once reached (after their wait): 'yes' or 'no'.
-- Evidence wins: a step below that activation already ran proves the path — a decision or
-- condition keeps the branch it lies on (late events or changed data cannot flip it), an action
-- above it counts as passed. A step pending when its entry ended is 'cancelled'.
{{ config(tags=['campaign', 'clock'], post_hook="{{ campaign_drop_level_tables() }}") }}

{%- set now = segment_reference_time() %}
{%- set max_depth = var('campaign_max_depth', 12) | int %}
{%- set entry_columns = [
    'campaign_id', 'campaign_name', 'campaign_kind', 'is_published', 'contact_id', 'entry_number',
    'entered_at', 'entry_ended_at', 'entry_exit_reason', 'email', 'mobile', 'timezone',
    'preferred_channel', 'is_dnc_email', 'is_dnc_sms',
] %}
{%- set step_columns = [
    'step_id', 'step_order', 'step_type', 'step_kind', 'parent_step_id', 'depth', 'wait_minutes',
    'run_at', 'window_days', 'window_start_minute', 'window_end_minute', 'channel', 'payload_ref',
    'email_id', 'sms_id', 'params', 'within_minutes', 'match_id', 'match_url',
] %}
{%- set decision_events = {
    'opened_email': 'email_open', 'clicked_link': 'email_click', 'submitted_form': 'form_submit',
    'visited_page': 'page_hit', 'downloaded_asset': 'asset_download', 'replied_sms': 'sms_reply',
} %}

{%- set shared_ctes %}
campaigns as (
    select
        campaign_id,
        campaign_name,
        kind as campaign_kind,
        is_published,
        default_timezone
    from {{ ref('stg_campaign_definitions') }}
),

steps as {{ cte_materialized() }} (
    select campaign_id, parent_branch, {{ step_columns | join(', ') }}
    from {{ ref('stg_campaign_steps') }}
    where depth < {{ max_depth }}
),

known_timezones as (
    {{ campaign_known_timezones() }}
),

entries as {{ cte_materialized() }} (
    select
        entries.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_kind,
        campaigns.is_published,
        entries.contact_id,
        entries.entry_number,
        entries.entered_at,
        entries.ended_at as entry_ended_at,
        entries.exit_reason as entry_exit_reason,
        contacts.email,
        contacts.mobile,
        coalesce(known_timezones.timezone_name, campaigns.default_timezone, 'UTC') as timezone,
        contacts.preferred_channel,
        coalesce(contacts.is_dnc_email, false) as is_dnc_email,
        coalesce(contacts.is_dnc_sms, false) as is_dnc_sms
    from {{ ref('int_campaign_entries') }} as entries
    inner join campaigns on entries.campaign_id = campaigns.campaign_id
    left join {{ ref('dim_contacts') }} as contacts on entries.contact_id = contacts.contact_id
    left join known_timezones on contacts.timezone = known_timezones.timezone_name
),

-- Activation's reports, matched to the entry whose key they carry.
results as {{ cte_materialized() }} (
    select
        results.idempotency_key,
        results.status as result_status,
        results.reason as result_reason,
        results.executed_at,
        entries.campaign_id,
        entries.contact_id,
        entries.entry_number,
        results.step_id
    from {{ ref('int_campaign_results') }} as results
    inner join entries
        on results.campaign_id = entries.campaign_id
        and results.contact_id = entries.contact_id
        and results.idempotency_key = {{ campaign_key(
            'entries.campaign_id', 'results.step_id', 'entries.contact_id', 'entries.entry_number') }}
),

-- Per entry and step: a step below it has run, on this branch (null below an action).
evidence as {{ cte_materialized() }} (
    select
        results.campaign_id,
        results.contact_id,
        results.entry_number,
        paths.ancestor_step_id as step_id,
        min(paths.branch) as branch
    from results
    inner join {{ ref('stg_campaign_step_paths') }} as paths
        on results.campaign_id = paths.campaign_id
        and results.step_id = paths.step_id
    group by results.campaign_id, results.contact_id, results.entry_number, paths.ancestor_step_id
),

-- What decisions wait for: the entered contacts' events of those types.
decision_events as {{ cte_materialized() }} (
    select
        events.contact_id,
        events.event_type,
        events.occurred_at,
        case events.event_type
            when 'email_open' then events.email_id
            when 'email_click' then events.email_id
            when 'form_submit' then events.form_id
            when 'page_hit' then events.page_id
            when 'asset_download' then events.asset_id
            when 'sms_reply' then events.sms_id
        end as matched_id,
        lower(coalesce(events.link_url, events.url)) as url
    from {{ ref('fct_events') }} as events
    where events.event_type in (
        {%- for event_type in decision_events.values() %}'{{ event_type }}'{{ ', ' if not loop.last }}{% endfor -%}
    )
      and events.contact_id in (select contact_id from entries)
      and events.occurred_at >= (select min(entered_at) from entries)
      and events.occurred_at <= {{ now }}
),

-- Conditions check the contact's current data; the result is the same at every level.
condition_inputs as (
    select
        entered.campaign_id,
        entered.contact_id,
        steps.step_id,
        steps.step_kind,
        steps.condition_operator,
        steps.condition_value,
        {{ campaign_contact_field('contact', 'steps.condition_field') }} as field_text,
        contact.points,
        contact.stage_id,
        contact.stage_order,
        contact.is_dnc_email,
        contact.is_dnc_sms,
        members.contact_id is not null as is_member,
        target_stage.stage_order as target_stage_order
    from (select distinct campaign_id, contact_id from entries) as entered
    inner join {{ ref('stg_campaign_steps') }} as steps
        on entered.campaign_id = steps.campaign_id
        and steps.step_type = 'condition'
    left join {{ ref('dim_contacts') }} as contact on entered.contact_id = contact.contact_id
    left join {{ ref('segment_membership') }} as members
        on steps.step_kind = 'segment_membership'
        and members.segment_id = steps.condition_value
        and members.contact_id = entered.contact_id
    left join {{ ref('stages') }} as target_stage
        on steps.step_kind = 'stage'
        and target_stage.stage_id = steps.condition_value
),

condition_results as {{ cte_materialized() }} (
    select
        campaign_id,
        contact_id,
        step_id,
        case step_kind
            when 'field_value'
                then {{ campaign_field_matches('field_text', 'condition_operator', 'condition_value') }}
            when 'segment_membership' then is_member
            when 'points_at_least'
                then coalesce(points, 0) >= {{ segment_text_to('condition_value', 'number') }}
            when 'stage' then
                case
                    when condition_operator = 'at_least'
                        then coalesce(stage_order >= target_stage_order, false)
                    else coalesce(stage_id = condition_value, false)
                end
            when 'dnc_status' then
                case
                    when condition_value = 'sms' then coalesce(is_dnc_sms, false)
                    else coalesce(is_dnc_email, false)
                end
            else false
        end as holds
    from condition_inputs
)
{%- endset %}

{%- set levels = [] %}
{%- for level in range(max_depth) %}
{%- set level_ctes %}

-- ── depth {{ level }} ──
reached_{{ level }} as (
    {%- if level == 0 %}
    select
        {%- for column in entry_columns %}
        entries.{{ column }},
        {%- endfor %}
        {%- for column in step_columns %}
        steps.{{ column }},
        {%- endfor %}
        entries.entered_at as activated_at
    from entries
    inner join steps
        on entries.campaign_id = steps.campaign_id
        and steps.depth = 0
    {%- else %}
    select
        {%- for column in entry_columns %}
        parent.{{ column }},
        {%- endfor %}
        {%- for column in step_columns %}
        steps.{{ column }},
        {%- endfor %}
        parent.completed_at as activated_at
    from evaluated_{{ level - 1 }} as parent
    inner join steps
        on parent.campaign_id = steps.campaign_id
        and parent.step_id = steps.parent_step_id
        and (
            (steps.parent_branch is null and parent.state in ('sent', 'skipped'))
            or steps.parent_branch = parent.state
        )
    {%- endif %}
),

timed_{{ level }} as (
    select
        reached.*,
        {{ campaign_key('reached.campaign_id', 'reached.step_id', 'reached.contact_id', 'reached.entry_number') }}
            as idempotency_key,
        case
            when reached.step_type = 'decision' then reached.activated_at
            when reached.run_at is not null and reached.run_at > reached.activated_at
                then reached.run_at
            when reached.run_at is not null then reached.activated_at
            else {{ dbt.dateadd('minute', 'coalesce(reached.wait_minutes, 0)', 'reached.activated_at') }}
        end as planned_at,
        case reached.step_kind
            when 'send_email' then 'email'
            when 'send_sms' then 'sms'
            when 'call_webhook' then 'webhook'
            when 'send_marketing_message' then
                case
                    when reached.preferred_channel = 'sms'
                        and reached.sms_id is not null and reached.mobile is not null
                        and not reached.is_dnc_sms then 'sms'
                    when reached.email_id is not null and reached.email is not null
                        and not reached.is_dnc_email then 'email'
                    when reached.sms_id is not null and reached.mobile is not null
                        and not reached.is_dnc_sms then 'sms'
                end
            else 'none'
        end as resolved_channel,
        case
            when reached.step_kind = 'send_email' and reached.email is null then 'no email address'
            when reached.step_kind = 'send_email' and reached.is_dnc_email then 'do not contact: email'
            when reached.step_kind = 'send_sms' and reached.mobile is null then 'no mobile number'
            when reached.step_kind = 'send_sms' and reached.is_dnc_sms then 'do not contact: sms'
        end as unreachable_reason
    from reached_{{ level }} as reached
),

localized_{{ level }} as (
    select
        timed.*,
        case
            when timed.step_type = 'action'
                and (timed.window_days is not null or timed.window_start_minute is not null)
            then {{ campaign_to_local('timed.planned_at', 'timed.timezone') }}
        end as planned_local
    from timed_{{ level }} as timed
),

-- the send window, in the contact's wall-clock time: how many days until it next opens
windowed_{{ level }} as (
    select
        localized.*,
        {{ dbt.date_trunc('day', 'localized.planned_local') }} as local_midnight,
        extract(hour from localized.planned_local) * 60
            + extract(minute from localized.planned_local) as local_minute,
        {{ campaign_window_day_offset(
            campaign_isodow('localized.planned_local'),
            'extract(hour from localized.planned_local) * 60 + extract(minute from localized.planned_local)',
            'localized.window_days', 'localized.window_end_minute') }} as window_day_offset
    from localized_{{ level }} as localized
),

scheduled_{{ level }} as (
    select
        windowed.*,
        case
            when windowed.step_type <> 'action' then null
            when windowed.planned_local is null then windowed.planned_at
            when windowed.window_day_offset = 0
                and windowed.local_minute >= coalesce(windowed.window_start_minute, 0)
                then windowed.planned_at
            else {{ campaign_from_local(dbt.dateadd(
                'minute', 'coalesce(windowed.window_start_minute, 0)',
                dbt.dateadd('day', 'windowed.window_day_offset', 'windowed.local_midnight')),
                'windowed.timezone') }}
        end as due_at,
        case
            when windowed.step_type = 'decision' and windowed.within_minutes is not null
            then {{ dbt.dateadd('minute', 'windowed.within_minutes', 'windowed.activated_at') }}
        end as window_ends_at
    from windowed_{{ level }} as windowed
),

-- Each scheduled step once, with the events that match it if it is a decision, the first
-- numbered 1. The level is read once here (judged keeps number 1), not once for the hits and
-- again to join them: Spark copies a CTE at every reference, so two reads per level doubled
-- the plan with every level.
hits_{{ level }} as (
    select
        scheduled.*,
        decision_events.occurred_at as matched_at,
        row_number() over (
            partition by scheduled.idempotency_key order by decision_events.occurred_at
        ) as hit_number
    from scheduled_{{ level }} as scheduled
    left join decision_events
        on scheduled.step_type = 'decision'
        and scheduled.contact_id = decision_events.contact_id
        and decision_events.event_type = case scheduled.step_kind
            {%- for kind, event_type in decision_events.items() %}
            when '{{ kind }}' then '{{ event_type }}'
            {%- endfor %}
        end
        and (scheduled.match_id is null or decision_events.matched_id = scheduled.match_id)
        and (scheduled.match_url is null or decision_events.url like scheduled.match_url {{ like_escape() }})
        and decision_events.occurred_at >= scheduled.activated_at
        and (scheduled.window_ends_at is null or decision_events.occurred_at < scheduled.window_ends_at)
),

judged_{{ level }} as (
    select
        scheduled.*,
        results.result_status,
        results.result_reason,
        results.executed_at,
        evidence.step_id is not null as has_evidence,
        evidence.branch as evidence_branch,
        condition_results.holds
    from hits_{{ level }} as scheduled
    left join results on scheduled.idempotency_key = results.idempotency_key
    left join evidence
        on scheduled.campaign_id = evidence.campaign_id
        and scheduled.contact_id = evidence.contact_id
        and scheduled.entry_number = evidence.entry_number
        and scheduled.step_id = evidence.step_id
    left join condition_results
        on scheduled.step_type = 'condition'
        and scheduled.campaign_id = condition_results.campaign_id
        and scheduled.contact_id = condition_results.contact_id
        and scheduled.step_id = condition_results.step_id
    where scheduled.hit_number = 1
),

stated_{{ level }} as (
    select
        judged.*,
        case
            when judged.step_type = 'action' then
                case
                    when judged.result_status is not null then judged.result_status
                    when judged.has_evidence then 'skipped'
                    when judged.entry_ended_at is not null then 'cancelled'
                    when judged.due_at > {{ now }} then 'scheduled'
                    when judged.unreachable_reason is not null then 'skipped'
                    when judged.step_kind = 'send_marketing_message'
                        and judged.resolved_channel is null then 'skipped'
                    else 'due'
                end
            when judged.step_type = 'decision' then
                case
                    when judged.evidence_branch is not null then judged.evidence_branch
                    when judged.matched_at is not null
                        and (judged.entry_ended_at is null or judged.matched_at < judged.entry_ended_at)
                        then 'yes'
                    when judged.window_ends_at <= {{ now }}
                        and (judged.entry_ended_at is null or judged.window_ends_at <= judged.entry_ended_at)
                        then 'no'
                    when judged.entry_ended_at is not null then 'cancelled'
                    else 'waiting'
                end
            else
                case
                    when judged.evidence_branch is not null then judged.evidence_branch
                    when judged.entry_ended_at is not null
                        and judged.entry_ended_at <= judged.planned_at then 'cancelled'
                    when judged.planned_at > {{ now }} then 'waiting'
                    when judged.holds then 'yes'
                    else 'no'
                end
        end as state
    from judged_{{ level }} as judged
),

evaluated_{{ level }} as {{ cte_materialized() }} (
    select
        stated.*,
        case
            when stated.executed_at is not null and stated.state in ('sent', 'skipped', 'failed')
                then stated.executed_at
            when stated.step_type = 'action' and stated.state = 'skipped' then stated.due_at
            when stated.step_type = 'decision' and stated.state = 'yes'
                then coalesce(stated.matched_at, stated.window_ends_at, stated.activated_at)
            when stated.step_type = 'decision' and stated.state = 'no'
                then coalesce(stated.window_ends_at, stated.activated_at)
            when stated.step_type = 'condition' and stated.state in ('yes', 'no')
                then stated.planned_at
            when stated.state = 'cancelled' then stated.entry_ended_at
        end as completed_at,
        case
            when stated.result_status is not null then stated.result_reason
            when stated.step_type = 'action' and stated.has_evidence
                then 'a later step of this path already ran'
            when stated.state = 'skipped'
                then coalesce(stated.unreachable_reason, 'no reachable channel')
            when stated.state = 'cancelled' then coalesce(stated.entry_exit_reason, 'entry ended')
        end as reason
    from stated_{{ level }} as stated
)
{%- endset %}
{%- do levels.append(level_ctes) %}
{%- endfor %}

{#- DuckDB: one statement, each level a materialized CTE. Spark (no materialized CTEs, and a
    plan that would grow exponentially with the depth): each level is written to its own table
    first, reading the level above from its table, so every level is computed once; the model
    then unions those tables (campaign_levels_as_tables, campaigns.sql). -#}
{%- if campaign_levels_as_tables() %}
{#- The inputs every level reads are written once too, and the levels read them as tables. -#}
{%- set input_ctes = [] %}
{%- for name in campaign_level_names() if name is string %}
{%- do campaign_write_level(name, 'with ' ~ shared_ctes ~ '\nselect * from ' ~ name) %}
{%- do input_ctes.append(name ~ ' as (select * from ' ~ campaign_level_relation(name) ~ ')') %}
{%- endfor %}
{%- set sources = [] %}
{%- for level in range(max_depth) %}
{%- set parent_cte %}
{%- if level > 0 %},
evaluated_{{ level - 1 }} as (select * from {{ campaign_level_relation(level - 1) }})
{%- endif %}
{%- endset %}
{%- do campaign_write_level(
    level, 'with ' ~ input_ctes | join(',\n') ~ parent_cte ~ ',\n' ~ levels[level]
    ~ '\nselect * from evaluated_' ~ level) %}
{%- do sources.append(campaign_level_relation(level)) %}
{%- endfor %}
{%- else %}
{%- set sources = [] %}
{%- for level in range(max_depth) %}{% do sources.append('evaluated_' ~ level) %}{% endfor %}
with {{ shared_ctes }},
{{ levels | join(',\n') }}
{%- endif %}

{% for source in sources %}
select
    idempotency_key,
    campaign_id,
    campaign_name,
    campaign_kind,
    is_published,
    contact_id,
    entry_number,
    entered_at,
    entry_ended_at,
    step_id,
    step_order,
    step_type,
    step_kind,
    parent_step_id,
    depth,
    activated_at,
    case when step_type = 'condition' then planned_at end as check_at,
    due_at,
    window_ends_at,
    state,
    reason,
    completed_at,
    matched_at,
    result_status,
    executed_at,
    case when step_type = 'action' then resolved_channel end as channel,
    case
        when step_kind = 'send_marketing_message' and resolved_channel = 'email' then email_id
        when step_kind = 'send_marketing_message' and resolved_channel = 'sms' then sms_id
        else payload_ref
    end as payload_ref,
    params,
    email,
    mobile,
    timezone
from {{ source }}
{{ 'union all' if not loop.last }}
{%- endfor %}
