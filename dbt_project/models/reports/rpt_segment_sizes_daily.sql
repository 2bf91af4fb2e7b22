-- Segment sizes over time, from the additions and removals segment_history logs per build.
-- One row per (day, segment_id) from the day of the segment's first logged build to the day of
-- the latest logged build of any segment; days without a build carry the size forward.
-- members is the size at the end of the day; added / removed are the day's changes, without
-- the members recorded when the segment was first built (baseline_members), so growth and
-- churn charts leave the baseline out.
{%- set history = ref('segment_history') %}

with days as (
    {{ report_day_spine(
        '(select min(changed_at) from ' ~ history ~ ')',
        '(select max(changed_at) from ' ~ history ~ ')'
    ) }}
),

changes as (
    select
        segment_id,
        cast(changed_at as date) as day,
        count(case when change = 'added' and is_baseline then 1 end) as baseline_members,
        count(case when change = 'added' and not is_baseline then 1 end) as added,
        count(case when change = 'removed' then 1 end) as removed
    from {{ history }}
    group by segment_id, cast(changed_at as date)
),

segments as (
    select segment_id, min(day) as first_day
    from changes
    group by segment_id
),

names as (
    select segment_id, max(segment_name) as segment_name
    from {{ ref('segment_membership') }}
    group by segment_id
),

daily as (
    select
        days.day,
        segments.segment_id,
        coalesce(changes.baseline_members, 0) as baseline_members,
        coalesce(changes.added, 0) as added,
        coalesce(changes.removed, 0) as removed
    from segments
    inner join days on days.day >= segments.first_day
    left join changes on segments.segment_id = changes.segment_id and days.day = changes.day
)

select
    daily.day,
    daily.segment_id,
    coalesce(names.segment_name, daily.segment_id) as segment_name,
    cast(sum(daily.baseline_members + daily.added - daily.removed) over (
        partition by daily.segment_id order by daily.day rows between unbounded preceding and current row
    ) as {{ dbt.type_bigint() }}) as members,
    daily.added,
    daily.removed,
    daily.added - daily.removed as net_change,
    daily.baseline_members
from daily
left join names on daily.segment_id = names.segment_id
