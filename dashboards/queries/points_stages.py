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

import polars as pl

from dashboards import data
from dashboards.data import Filters
from dashboards.queries import segment_filter

# The ledger of the segment's members ('reset' rows are transient: never counted).
_LEDGER = f"""
    from marts.fct_points_ledger
    where entry_type <> 'reset' and {segment_filter("contact_id")}
"""

# This period and the one before: points awarded (positive deltas), deducted (negative), net,
# and contacts with an entry; plus, at the end of each period, contacts with points > 0.
KPIS = f"""
with periods as (
    select
        coalesce(sum(delta) filter (where delta > 0 and occurred_at >= $start), 0)::bigint
            as awarded,
        coalesce(-sum(delta) filter (where delta < 0 and occurred_at >= $start), 0)::bigint
            as deducted,
        count(distinct contact_id) filter (where occurred_at >= $start) as contacts_scored,
        coalesce(sum(delta) filter (where delta > 0 and occurred_at < $start), 0)::bigint
            as awarded_prev,
        coalesce(-sum(delta) filter (where delta < 0 and occurred_at < $start), 0)::bigint
            as deducted_prev,
        count(distinct contact_id) filter (where occurred_at < $start) as contacts_scored_prev
    {_LEDGER}
        and occurred_at >= $prev_start and occurred_at < $stop
),
balances as (
    select
        contact_id,
        sum(delta) as points,
        sum(delta) filter (where occurred_at < $start) as points_before
    {_LEDGER}
        and occurred_at < $stop
    group by contact_id
)
select
    periods.*,
    (select count(*) filter (where points > 0) from balances) as scored_contacts,
    (select count(*) filter (where points_before > 0) from balances) as scored_contacts_prev
from periods
"""

# Contacts by points at the end of the period, in the buckets of rpt_points_distribution;
# every contact created by then counts (without ledger rows: 0 points), as the report counts
# every known contact.
DISTRIBUTION = f"""
with balances as (
    select contact_id, sum(delta) as points
    {_LEDGER}
        and occurred_at < $stop
    group by contact_id
),
contacts as (
    select coalesce(balances.points, 0) as points
    from marts.dim_contacts as contact
    left join balances using (contact_id)
    where contact.created_at < $stop and {segment_filter("contact.contact_id")}
)
select
    bucket.bucket_order,
    bucket.points_bucket,
    count(contacts.points) as contacts,
    coalesce(sum(contacts.points), 0)::bigint as total_points
from reports.rpt_points_distribution as bucket
left join contacts
    on (bucket.min_points is null or contacts.points >= bucket.min_points)
    and (bucket.max_points is null or contacts.points <= bucket.max_points)
group by all
order by bucket.bucket_order
"""

# The top contacts by points at the end of the period ($by_period: by points gained during
# it), with their stage then. Ties as rpt_points_leaderboard: most recently active first, then
# contact id.
LEADERBOARD = f"""
with balances as (
    select
        contact_id,
        sum(delta)::bigint as points,
        coalesce(sum(delta) filter (where occurred_at >= $start), 0)::bigint as gained
    {_LEDGER}
        and occurred_at < $stop
    group by contact_id
),
top as (
    select balances.*, contact.last_active_at
    from balances
    join marts.dim_contacts as contact using (contact_id)
    where case when $by_period then balances.gained else balances.points end > 0
    order by
        case when $by_period then balances.gained else balances.points end desc,
        contact.last_active_at desc nulls last,
        contact_id
    limit $limit
),
stage_then as (
    select contact_id, arg_max(stage_name, stage_order) as stage_name
    from marts.fct_stage_changes
    where changed_at < $stop and contact_id in (select contact_id from top)
    group by contact_id
)
select
    row_number() over (
        order by
            case when $by_period then top.gained else top.points end desc,
            top.last_active_at desc nulls last,
            top.contact_id
    ) as rank,
    contact.email,
    nullif(concat_ws(' ', contact.first_name, contact.last_name), '') as name,
    contact.company_name,
    top.points,
    top.gained,
    stage_then.stage_name,
    top.last_active_at
from top
join marts.dim_contacts as contact using (contact_id)
left join stage_then using (contact_id)
order by rank
"""

# The rules (and manual adjustments, expiries) that moved points in the period, biggest first.
# A rule's name is the ledger's reason for its awards; decay rows read 'expired: <rule>'.
RULES = f"""
select
    entry_type,
    coalesce(rule_id, '(' || entry_type || ')') as rule_id,
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
group by entry_type, rule_id, point_group
order by abs(sum(delta)) desc, rule_id, point_group
"""

# Points awarded and deducted per day and point group over the period.
DAILY = f"""
select
    occurred_on as day,
    point_group,
    coalesce(sum(delta) filter (where delta > 0), 0)::bigint as awarded,
    coalesce(sum(delta) filter (where delta < 0), 0)::bigint as deducted
{_LEDGER}
    and occurred_at >= $start and occurred_at < $stop
group by all
order by day, point_group
"""

# The stage funnel at the end of the period, as rpt_stage_funnel computes it for all time:
# reached (entered this stage or a later one), reached during the period, entered (this stage
# itself), current, moved on; conversion from the previous stage and from the first; median
# days from the previous stage (contacts that entered both) and in the stage (contacts that
# moved on by the period's end).
FUNNEL = f"""
with stages as (
    select stage_id, stage_name, stage_order from reports.rpt_stage_funnel
),
changes as (
    select
        contact_id,
        stage_id,
        stage_order,
        changed_at,
        lead(changed_at) over (partition by contact_id order by stage_order) as next_changed_at
    from marts.fct_stage_changes
    where changed_at < $stop and {segment_filter("contact_id")}
),
furthest as (
    select
        max(stage_order) as top_order,
        coalesce(max(stage_order) filter (where changed_at < $start), 0) as top_before
    from changes
    group by contact_id
),
levels as (
    select top_order, top_before, count(*) as contacts from furthest group by all
),
reached as (
    select
        stages.stage_id,
        coalesce(sum(levels.contacts) filter (where levels.top_order >= stages.stage_order), 0)
            ::bigint as reached,
        coalesce(sum(levels.contacts) filter (
            where levels.top_order >= stages.stage_order
                and levels.top_before < stages.stage_order
        ), 0)::bigint as reached_in_period
    from stages
    left join levels on true
    group by stages.stage_id
),
entered as (
    select
        stage_id,
        count(*) as entered,
        count(*) filter (where changed_at >= $start) as entered_in_period,
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
)
select
    stages.stage_order,
    stages.stage_id,
    stages.stage_name,
    reached.reached,
    reached.reached_in_period,
    coalesce(entered.entered, 0) as entered,
    coalesce(entered.entered_in_period, 0) as entered_in_period,
    coalesce(entered.current, 0) as current,
    coalesce(entered.moved_on, 0) as moved_on,
    reached.reached / nullif(lag(reached.reached) over (order by stages.stage_order), 0)
        as conversion_from_previous,
    reached.reached / nullif(first_value(reached.reached) over (order by stages.stage_order), 0)
        as conversion_from_first,
    coalesce(steps.from_previous, 0) as from_previous,
    steps.median_days_from_previous,
    entered.median_days_in_stage
from stages
join reached using (stage_id)
left join entered using (stage_id)
left join steps using (stage_id)
order by stages.stage_order
"""


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
    return data.query(FUNNEL, filters.params())
