-- Who is in which segment now: the union of every segment model (every model tagged
-- `segment`, found in dbt's graph when this runs), with `since`, the build at which the
-- contact entered the segment and has stayed in it since.
--
-- `since` comes from segment_history, built just before from the same segment models: the
-- changed_at of the pair's latest 'added' row (by build number) while the log has the pair
-- as a member. A member the log does not know as one yet (segment_history left out of the
-- selection) gets this build's reference time.
{{ segment_registry() }}

with current_members as (
    {{ segment_union() }}
),

logged as (  -- per pair: member after the last logged build?, and its latest 'added' build
    select
        segment_id,
        contact_id,
        sum(case when change = 'added' then 1 else -1 end) as balance,
        max(case when change = 'added' then build_number end) as last_added_build
    from {{ ref('segment_history') }}
    group by segment_id, contact_id
),

entered as (
    select logged.segment_id, logged.contact_id, history.changed_at as since
    from logged
    inner join {{ ref('segment_history') }} as history
        on logged.segment_id = history.segment_id
        and logged.contact_id = history.contact_id
        and logged.last_added_build = history.build_number
        and history.change = 'added'
    where logged.balance > 0
)

select
    current_members.segment_id,
    current_members.segment_name,
    current_members.contact_id,
    coalesce(entered.since, current_members.matched_at) as since,
    current_members.matched_by,
    current_members.matched_at as evaluated_at
from current_members
left join entered
    on current_members.segment_id = entered.segment_id
    and current_members.contact_id = entered.contact_id
