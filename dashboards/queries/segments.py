"""Segments: sizes and change over the period, additions and removals, overlap, members."""

from __future__ import annotations

import polars as pl

from dashboards import data
from dashboards.data import SEGMENTS_SQL, Filters
from dashboards.queries import segment_filter

# Every segment with its members now and the changes segment_history logged: during the period
# (added, removed) and since its start and end, which give the size the segment had then
# (members now minus the net change since). A segment's first build is its baseline, not
# growth; a segment created during the period counts as 0 members before its first build.
# With a segment filter, everything is restricted to that segment's current members.
SIZES = f"""
with catalog as ({SEGMENTS_SQL}),
now as (
    select segment_id, count(*) as members
    from marts.segment_membership
    where {segment_filter("contact_id")}
    group by segment_id
),
changes as (
    select
        segment_id,
        count(*) filter (
            where not is_baseline and change = 'added'
                and changed_at >= $start and changed_at < $stop
        ) as added,
        count(*) filter (
            where not is_baseline and change = 'removed'
                and changed_at >= $start and changed_at < $stop
        ) as removed,
        sum(case when change = 'added' then 1 else -1 end) filter (where changed_at >= $start)
            as net_since_start,
        sum(case when change = 'added' then 1 else -1 end) filter (where changed_at >= $stop)
            as net_since_stop
    from marts.segment_history
    where changed_at >= $start and {segment_filter("contact_id")}
    group by segment_id
)
select
    catalog.segment_id,
    catalog.segment_name,
    coalesce(now.members, 0) as members,
    (coalesce(now.members, 0) - coalesce(changes.net_since_start, 0))::bigint
        as members_at_start,
    (coalesce(now.members, 0) - coalesce(changes.net_since_stop, 0))::bigint as members_at_end,
    coalesce(changes.added, 0) as added,
    coalesce(changes.removed, 0) as removed
from catalog
left join now using (segment_id)
left join changes using (segment_id)
order by members desc, catalog.segment_name
"""

# One segment's day by day over the period: members at the end of each day (replaying the
# log: baseline and additions count +1, removals -1) and the additions and removals that day.
HISTORY = f"""
with days as (
    select cast(unnest(range($start::timestamp, $stop::timestamp, interval 1 day)) as date)
        as day
),
log as (
    select cast(changed_at as date) as day, change, is_baseline
    from marts.segment_history
    where segment_id = $segment and changed_at < $stop and {segment_filter("contact_id")}
),
before as (
    select coalesce(sum(case when change = 'added' then 1 else -1 end), 0) as members
    from log
    where day < $start
),
daily as (
    select
        day,
        count(*) filter (where change = 'added' and not is_baseline) as added,
        count(*) filter (where change = 'removed') as removed,
        count(*) filter (where is_baseline) as baseline,
        sum(case when change = 'added' then 1 else -1 end) as net
    from log
    where day >= $start
    group by day
)
select
    days.day,
    coalesce(daily.added, 0) as added,
    coalesce(daily.removed, 0) as removed,
    coalesce(daily.baseline, 0) as baseline,
    ((select members from before)
        + sum(coalesce(daily.net, 0)) over (order by days.day))::bigint as members
from days
left join daily using (day)
order by days.day
"""

# First and latest build the history knows (for telling an analyst where it starts).
HISTORY_SPAN = """
select min(changed_at) as first_build, max(changed_at) as last_build
from marts.segment_history
"""

OVERLAP = f"""
with a as (
    select contact_id from marts.segment_membership
    where segment_id = $a and {segment_filter("contact_id")}
),
b as (
    select contact_id from marts.segment_membership
    where segment_id = $b and {segment_filter("contact_id")}
)
select
    (select count(*) from a) as a_members,
    (select count(*) from b) as b_members,
    (select count(*) from a semi join b using (contact_id)) as both_members
"""

_MEMBERS = f"""
from marts.segment_membership as member
join marts.dim_contacts as contact using (contact_id)
where member.segment_id = $segment and {segment_filter("member.contact_id")}
    and (not $joined_in_period or (member.since >= $start and member.since < $stop))
"""

MEMBERS_COLUMNS = """
select
    contact.email,
    contact.first_name,
    contact.last_name,
    contact.company_name,
    contact.country,
    contact.stage_name,
    contact.points::bigint as points,
    contact.last_active_at,
    member.since,
    member.matched_by
"""

MEMBERS = f"""
{MEMBERS_COLUMNS}
{_MEMBERS}
order by member.since desc, contact.email
limit $limit offset $offset
"""

MEMBERS_EXPORT = f"""
{MEMBERS_COLUMNS}
{_MEMBERS}
order by contact.email
"""

MEMBERS_COUNT = f"select count(*) {_MEMBERS}"


def sizes(filters: Filters) -> pl.DataFrame:
    return data.query(SIZES, filters.params())


def history(filters: Filters, segment: str) -> pl.DataFrame:
    return data.query(HISTORY, {**filters.params(), "segment": segment})


def history_span() -> dict:
    return data.query(HISTORY_SPAN).row(0, named=True)


def overlap(filters: Filters, a: str, b: str) -> dict:
    return data.query(OVERLAP, {**filters.params(), "a": a, "b": b}).row(0, named=True)


def _member_params(filters: Filters, segment: str, joined_in_period: bool) -> dict:
    return {**filters.params(), "segment": segment, "joined_in_period": joined_in_period}


def members(
    filters: Filters, segment: str, joined_in_period: bool, limit: int, offset: int
) -> pl.DataFrame:
    params = _member_params(filters, segment, joined_in_period)
    return data.query(MEMBERS, {**params, "limit": limit, "offset": offset})


def members_count(filters: Filters, segment: str, joined_in_period: bool) -> int:
    return data.scalar(MEMBERS_COUNT, _member_params(filters, segment, joined_in_period))


def members_csv(filters: Filters, segment: str, joined_in_period: bool) -> bytes:
    """Every member as CSV (uncached; run when the download button is clicked)."""
    return data.export_csv(MEMBERS_EXPORT, _member_params(filters, segment, joined_in_period))
