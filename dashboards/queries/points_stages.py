"""Points & stages: points given in the period, distribution, leaderboard, rules, stage funnel.

Points are read from the ledger (``fct_points_ledger``: a contact's points are the sum of its
deltas), so every figure can be taken "at the end of the period" ([..., $stop)) and restricted
to a segment's members; at the default period (up to the newest event day) they equal
``dim_contacts.points`` and the rpt_points_* models. The stage funnel replays
``fct_stage_changes`` up to the period's end as ``rpt_stage_funnel`` does for all time: a
contact has reached a stage when it entered it or a later one (stages only move forward).
The stage list (with stages nobody entered) comes from ``rpt_stage_funnel``; the bucket edges
of the distribution from ``rpt_points_distribution``.
"""

from __future__ import annotations

from datetime import datetime, time

import polars as pl

from dashboards import data
from dashboards.data import Filters
from dashboards.queries import A_SEGMENT, NO_SEGMENT, segment_filter

# The ledger of the segment's members ('reset' rows are transient: never counted).
_LEDGER = f"""
    from marts.fct_points_ledger
    where entry_type <> 'reset' and {segment_filter("contact_id")}
"""

# A contact's points at the end of the period are its points now (dim_contacts.points, the sum
# of its ledger) minus what the ledger gave it since ($stop on): only the ledger rows from the
# period's start on are read, never a contact's whole history.
_SINCE_START = f"""
since_start as (
    select
        contact_id,
        coalesce(sum(delta) filter (where occurred_at >= $stop), 0) as after_stop,
        coalesce(sum(delta) filter (where occurred_at < $stop), 0) as gained
    {_LEDGER}
        and occurred_at >= $start
    group by contact_id
)
"""

# This period and the one before: points awarded (positive deltas), deducted (negative), and
# contacts with an entry (grouped per contact first: cheaper than filtered count distincts);
# and contacts with more than 0 points at the end of the period.
KPIS = f"""
with per_contact as (
    select
        contact_id,
        sum(delta) filter (where delta > 0 and occurred_at >= $start) as awarded,
        -sum(delta) filter (where delta < 0 and occurred_at >= $start) as deducted,
        sum(delta) filter (where delta > 0 and occurred_at < $start) as awarded_prev,
        -sum(delta) filter (where delta < 0 and occurred_at < $start) as deducted_prev,
        bool_or(occurred_at >= $start) as scored,
        bool_or(occurred_at < $start) as scored_prev
    {_LEDGER}
        and occurred_at >= $prev_start and occurred_at < $stop
    group by contact_id
),
periods as (
    select
        coalesce(sum(awarded), 0)::bigint as awarded,
        coalesce(sum(deducted), 0)::bigint as deducted,
        count(*) filter (where scored) as contacts_scored,
        coalesce(sum(awarded_prev), 0)::bigint as awarded_prev,
        coalesce(sum(deducted_prev), 0)::bigint as deducted_prev,
        count(*) filter (where scored_prev) as contacts_scored_prev
    from per_contact
),
after_stop as (
    select contact_id, sum(delta) as points
    {_LEDGER}
        and occurred_at >= $stop
    group by contact_id
),
at_end as (
    select
        count(*) filter (
            where contact.points - coalesce(after_stop.points, 0) > 0
        ) as scored_contacts
    from marts.dim_contacts as contact
    left join after_stop using (contact_id)
    where {segment_filter("contact.contact_id")}
)
select periods.*, at_end.* from periods, at_end
"""

# Contacts by points at the end of the period, in the buckets of rpt_points_distribution;
# every contact created by then counts (without ledger rows: 0 points), as the report counts
# every known contact. Contacts are counted per points value first: the range join to the
# buckets sees a few hundred rows, not every contact.
DISTRIBUTION = f"""
with after_stop as (
    select contact_id, sum(delta) as points
    {_LEDGER}
        and occurred_at >= $stop
    group by contact_id
),
by_points as (
    select
        coalesce(contact.points, 0) - coalesce(after_stop.points, 0) as points,
        count(*) as contacts
    from marts.dim_contacts as contact
    left join after_stop using (contact_id)
    where contact.created_at < $stop and {segment_filter("contact.contact_id")}
    group by 1
)
select
    bucket.bucket_order,
    bucket.points_bucket,
    coalesce(sum(by_points.contacts), 0)::bigint as contacts,
    coalesce(sum(by_points.points * by_points.contacts), 0)::bigint as total_points
from reports.rpt_points_distribution as bucket
left join by_points
    on (bucket.min_points is null or by_points.points >= bucket.min_points)
    and (bucket.max_points is null or by_points.points <= bucket.max_points)
group by all
order by bucket.bucket_order
"""

# The top contacts by points at the end of the period ($by_period: by points gained during
# it), with their stage then. Ties as rpt_points_leaderboard: most recently active first, then
# contact id. Each ranking reads only what it needs (top-N of dim_contacts, or the period's
# ledger); the other figure is then computed for the few contacts listed.
LEADERBOARD = f"""
with after_stop as (
    select contact_id, sum(delta) as points
    {_LEDGER}
        and occurred_at >= $stop
    group by contact_id
),
by_points as (
    select
        contact.contact_id,
        contact.last_active_at,
        (contact.points - coalesce(after_stop.points, 0))::bigint as score
    from marts.dim_contacts as contact
    left join after_stop using (contact_id)
    where not $by_period and {segment_filter("contact.contact_id")}
        and contact.points - coalesce(after_stop.points, 0) > 0
    order by score desc, contact.last_active_at desc nulls last, contact.contact_id
    limit $limit
),
gains as (
    select contact_id, sum(delta)::bigint as score
    {_LEDGER}
        and $by_period and occurred_at >= $start and occurred_at < $stop
    group by contact_id
    having sum(delta) > 0
),
best_gains as (  -- the top $limit scores, ties at the cut included
    select gains.contact_id, contact.last_active_at, gains.score
    from gains
    join marts.dim_contacts as contact using (contact_id)
    where gains.score >= (
        select coalesce(min(score), 0) from (
            select score from gains order by score desc limit $limit
        )
    )
),
by_gains as (
    select * from best_gains
    order by score desc, last_active_at desc nulls last, contact_id
    limit $limit
),
top as (
    select * from by_points
    union all
    select * from by_gains
),
figures as (  -- points at the period's end and gained during it, for the listed contacts
    select
        contact.contact_id,
        (contact.points - coalesce(sum(ledger.delta) filter (where ledger.occurred_at >= $stop), 0))
            ::bigint as points,
        coalesce(sum(ledger.delta) filter (where ledger.occurred_at < $stop), 0)::bigint
            as gained
    from marts.dim_contacts as contact
    left join marts.fct_points_ledger as ledger
        on ledger.contact_id = contact.contact_id
        and ledger.occurred_at >= $start
        and ledger.entry_type <> 'reset'
    where contact.contact_id in (select contact_id from top)
    group by contact.contact_id, contact.points
),
stage_then as (
    select contact_id, arg_max(stage_name, stage_order) as stage_name
    from marts.fct_stage_changes
    where changed_at < $stop and contact_id in (select contact_id from top)
    group by contact_id
)
select
    row_number() over (
        order by top.score desc, top.last_active_at desc nulls last, top.contact_id
    ) as rank,
    contact.email,
    nullif(concat_ws(' ', contact.first_name, contact.last_name), '') as name,
    contact.company_name,
    figures.points,
    figures.gained,
    stage_then.stage_name,
    top.last_active_at
from top
join marts.dim_contacts as contact using (contact_id)
join figures using (contact_id)
left join stage_then using (contact_id)
order by rank
"""

# The rules (and social monitors, manual adjustments, expiries) that moved points in the period,
# biggest first. A rule's name is the ledger's reason for its awards; decay rows read
# 'expired: <rule>'.
RULES = f"""
select
    entry_type,
    coalesce(rule_id, monitor_id, '(' || entry_type || ')') as rule_id,
    case
        when entry_type = 'manual' then 'Manual adjustment'
        when entry_type = 'decay'
            then 'Expired: ' || any_value(regexp_replace(reason, '^expired: ', ''))
        else any_value(reason)
    end as rule_name,
    point_group,
    count(*) as entries,
    count(distinct contact_id) as contacts,
    sum(delta)::bigint as points,
    coalesce(sum(delta) filter (where delta > 0), 0)::bigint as points_awarded,
    coalesce(sum(delta) filter (where delta < 0), 0)::bigint as points_deducted
{_LEDGER}
    and occurred_at >= $start and occurred_at < $stop
group by entry_type, coalesce(rule_id, monitor_id, '(' || entry_type || ')'), point_group
order by abs(sum(delta)) desc, rule_id, point_group
"""

# Points awarded and deducted per day and point group over the period: the daily report model
# without a segment, the members' ledger with one.
DAILY = f"""
select
    day,
    point_group,
    sum(points_awarded)::bigint as awarded,
    sum(points_deducted)::bigint as deducted
from reports.rpt_points_by_rule_daily
where {NO_SEGMENT} and day >= $start and day < $stop
group by all
union all
select
    occurred_on as day,
    point_group,
    coalesce(sum(delta) filter (where delta > 0), 0)::bigint as awarded,
    coalesce(sum(delta) filter (where delta < 0), 0)::bigint as deducted
{_LEDGER}
    and {A_SEGMENT} and occurred_at >= $start and occurred_at < $stop
group by all
order by day, point_group
"""

# The stage funnel at the end of the period, as rpt_stage_funnel computes it for all time:
# reached (entered this stage or a later one), entered (this stage itself), current, moved on;
# conversion from the previous stage and from the first; median days from the previous stage
# (contacts that entered both) and in the stage (contacts that moved on by the period's end).
# With $all_time (no segment, and no stage change since the period's end) those are the report
# model's own figures; otherwise they are replayed from fct_stage_changes. The period's columns
# (reached and entered during it) read only the contacts that changed stage in the period.
FUNNEL = f"""
with stages as (
    select stage_id, stage_name, stage_order from reports.rpt_stage_funnel
),
report as (
    select
        stage_id,
        contacts_reached as reached,
        contacts_entered as entered,
        contacts_current as current,
        contacts_moved_on as moved_on,
        contacts_from_previous_stage as from_previous,
        median_days_from_previous_stage as median_days_from_previous,
        median_days_in_stage
    from reports.rpt_stage_funnel
    where $all_time
),
changes as (
    select
        contact_id,
        stage_id,
        stage_order,
        changed_at,
        lead(changed_at) over (partition by contact_id order by stage_order) as next_changed_at
    from marts.fct_stage_changes
    where not $all_time and changed_at < $stop and {segment_filter("contact_id")}
),
furthest as (
    select max(stage_order) as top_order, count(*) as contacts
    from changes
    group by contact_id
),
levels as (
    select top_order, count(*) as contacts from furthest group by all
),
reached as (
    select
        stages.stage_id,
        coalesce(sum(levels.contacts) filter (where levels.top_order >= stages.stage_order), 0)
            ::bigint as reached
    from stages
    left join levels on true
    group by stages.stage_id
),
entered as (
    select
        stage_id,
        count(*) as entered,
        count(*) filter (where next_changed_at is null) as current,
        count(next_changed_at) as moved_on,
        median(date_diff('second', changed_at, next_changed_at) / 86400.0) as median_days_in_stage
    from changes
    group by stage_id
),
previous_stage as (
    select stage_id, lag(stage_id) over (order by stage_order) as previous_stage_id
    from stages
),
steps as (
    select
        this_stage.stage_id,
        count(*) as from_previous,
        median(date_diff('second', before_stage.changed_at, this_stage.changed_at) / 86400.0)
            as median_days_from_previous
    from changes as this_stage
    join previous_stage using (stage_id)
    join changes as before_stage
        on before_stage.contact_id = this_stage.contact_id
        and before_stage.stage_id = previous_stage.previous_stage_id
    group by this_stage.stage_id
),
replayed as (
    select
        stages.stage_id,
        reached.reached,
        coalesce(entered.entered, 0) as entered,
        coalesce(entered.current, 0) as current,
        coalesce(entered.moved_on, 0) as moved_on,
        coalesce(steps.from_previous, 0) as from_previous,
        steps.median_days_from_previous,
        entered.median_days_in_stage
    from stages
    join reached using (stage_id)
    left join entered using (stage_id)
    left join steps using (stage_id)
    where not $all_time
),
totals as (
    select * from report
    union all
    select * from replayed
),
movers as (  -- contacts that entered a stage during the period
    select distinct contact_id
    from marts.fct_stage_changes
    where changed_at >= $start and changed_at < $stop and {segment_filter("contact_id")}
),
moved as (
    select
        max(stage_order) as top_order,
        coalesce(max(stage_order) filter (where changed_at < $start), 0) as top_before
    from marts.fct_stage_changes
    where changed_at < $stop and contact_id in (select contact_id from movers)
    group by contact_id
),
in_period as (
    select
        stages.stage_id,
        count(moved.top_order) filter (
            where moved.top_order >= stages.stage_order and moved.top_before < stages.stage_order
        ) as reached_in_period
    from stages
    left join moved on true
    group by stages.stage_id
),
entered_in_period as (
    select stage_id, count(*) as entered_in_period
    from marts.fct_stage_changes
    where changed_at >= $start and changed_at < $stop and {segment_filter("contact_id")}
    group by stage_id
)
select
    stages.stage_order,
    stages.stage_id,
    stages.stage_name,
    totals.reached,
    in_period.reached_in_period,
    totals.entered,
    coalesce(entered_in_period.entered_in_period, 0) as entered_in_period,
    totals.current,
    totals.moved_on,
    totals.reached / nullif(lag(totals.reached) over (order by stages.stage_order), 0)
        as conversion_from_previous,
    totals.reached / nullif(first_value(totals.reached) over (order by stages.stage_order), 0)
        as conversion_from_first,
    totals.from_previous,
    totals.median_days_from_previous,
    totals.median_days_in_stage
from stages
join totals using (stage_id)
join in_period using (stage_id)
left join entered_in_period using (stage_id)
order by stages.stage_order
"""

LAST_STAGE_CHANGE = "select max(changed_at) from marts.fct_stage_changes"


def kpis(filters: Filters) -> dict:
    return data.query(KPIS, filters.params()).row(0, named=True)


def distribution(filters: Filters) -> pl.DataFrame:
    return data.query(DISTRIBUTION, filters.params())


def leaderboard(filters: Filters, by_period: bool, limit: int) -> pl.DataFrame:
    return data.query(LEADERBOARD, {**filters.params(), "by_period": by_period, "limit": limit})


def rules(filters: Filters) -> pl.DataFrame:
    return data.query(RULES, filters.params())


def daily(filters: Filters) -> pl.DataFrame:
    return data.query(DAILY, filters.params())


def funnel(filters: Filters) -> pl.DataFrame:
    """The funnel at the end of the period; the report model's figures when they are the same."""
    last_change = data.scalar(LAST_STAGE_CHANGE)
    all_time = filters.segment_id is None and (
        last_change is None or last_change < datetime.combine(filters.stop, time())
    )
    return data.query(FUNNEL, {**filters.params(), "all_time": all_time})
