"""Overview: KPI tiles against the previous period, daily trends, top segments, stage funnel."""

from __future__ import annotations

import polars as pl

from dashboards import data
from dashboards.data import Filters
from dashboards.queries import A_SEGMENT, NO_SEGMENT, segment_filter

# One row: every KPI for the period [$start, $stop) and, suffixed _prev, for the period of the
# same length before it [$prev_start, $start). Definitions follow the report models: a contact
# counts from dim_contacts.created_at, is identified at identified_at, is active when it did
# something (has a row in fct_contact_activity_daily); email rates are over the sends of the
# period (opened or clicked sends / delivered sends, as rpt_email_performance).
KPIS = f"""
with contacts as (
    select
        count(*) filter (where created_at < $stop) as contacts,
        count(*) filter (where created_at < $start) as contacts_prev,
        count(*) filter (where created_at >= $start and created_at < $stop) as new_contacts,
        count(*) filter (where created_at >= $prev_start and created_at < $start)
            as new_contacts_prev,
        count(*) filter (where identified_at >= $start and identified_at < $stop) as identified,
        count(*) filter (where identified_at >= $prev_start and identified_at < $start)
            as identified_prev
    from marts.dim_contacts
    where {segment_filter("contact_id")}
),
activity as (
    -- one row per active contact first: far cheaper than two filtered count(distinct)s
    select
        count(*) filter (where active_now) as active,
        count(*) filter (where active_before) as active_prev
    from (
        select
            contact_id,
            bool_or(activity_on >= $start) as active_now,
            bool_or(activity_on < $start) as active_before
        from marts.fct_contact_activity_daily
        where activity_on >= $prev_start and activity_on < $stop
            and {segment_filter("contact_id")}
        group by contact_id
    ) as per_contact
),
forms as (
    select
        count(*) filter (where occurred_on >= $start) as form_submissions,
        count(*) filter (where occurred_on < $start) as form_submissions_prev
    from marts.fct_events
    where event_type = 'form_submit' and occurred_on >= $prev_start and occurred_on < $stop
        and {segment_filter("contact_id")}
),
emails as (
    select
        count(*) filter (where sent_on >= $start) as emails_sent,
        count(*) filter (where sent_on < $start) as emails_sent_prev,
        count(*) filter (where sent_on >= $start and is_delivered) as delivered,
        count(*) filter (where sent_on < $start and is_delivered) as delivered_prev,
        count(*) filter (where sent_on >= $start and is_opened) as opened,
        count(*) filter (where sent_on < $start and is_opened) as opened_prev,
        count(*) filter (where sent_on >= $start and is_clicked) as clicked,
        count(*) filter (where sent_on < $start and is_clicked) as clicked_prev
    from marts.fct_email_sends
    where sent_on >= $prev_start and sent_on < $stop and {segment_filter("contact_id")}
),
sessions as (
    select
        count(*) filter (where started_on >= $start) as sessions,
        count(*) filter (where started_on < $start) as sessions_prev
    from marts.fct_sessions
    where started_on >= $prev_start and started_on < $stop and {segment_filter("contact_id")}
)
select * from contacts, activity, forms, emails, sessions
"""

# One row per day of the period, zeros on quiet days. Without a segment the daily report
# models give new and active contacts (rpt_contact_growth_daily, same definitions), sessions
# (rpt_web_traffic_daily) and sends (rpt_email_performance_daily); with one, the marts of the
# segment's members. Form submissions count form_submit events by their own day.
DAILY = f"""
with days as (
    select cast(unnest(range($start::timestamp, $stop::timestamp, interval 1 day)) as date)
        as day
),
created as (
    select day, new_contacts
    from reports.rpt_contact_growth_daily
    where {NO_SEGMENT} and day >= $start and day < $stop
    union all
    select cast(created_at as date) as day, count(*) as new_contacts
    from marts.dim_contacts
    where {A_SEGMENT} and created_at >= $start and created_at < $stop
        and {segment_filter("contact_id")}
    group by all
),
active as (
    select day, active_contacts
    from reports.rpt_contact_growth_daily
    where {NO_SEGMENT} and day >= $start and day < $stop
    union all
    select activity_on as day, count(distinct contact_id) as active_contacts
    from marts.fct_contact_activity_daily
    where {A_SEGMENT} and activity_on >= $start and activity_on < $stop
        and {segment_filter("contact_id")}
    group by all
),
forms as (
    select occurred_on as day, count(*) as form_submissions
    from marts.fct_events
    where event_type = 'form_submit' and occurred_on >= $start and occurred_on < $stop
        and {segment_filter("contact_id")}
    group by all
),
sends as (
    select sent_on as day, sum(sent)::bigint as emails_sent
    from reports.rpt_email_performance_daily
    where {NO_SEGMENT} and sent_on >= $start and sent_on < $stop
    group by all
    union all
    select sent_on as day, count(*) as emails_sent
    from marts.fct_email_sends
    where {A_SEGMENT} and sent_on >= $start and sent_on < $stop
        and {segment_filter("contact_id")}
    group by all
),
visits as (
    select day, sessions
    from reports.rpt_web_traffic_daily
    where {NO_SEGMENT} and day >= $start and day < $stop
    union all
    select started_on as day, count(*) as sessions
    from marts.fct_sessions
    where {A_SEGMENT} and started_on >= $start and started_on < $stop
        and {segment_filter("contact_id")}
    group by all
)
select
    days.day,
    coalesce(created.new_contacts, 0) as new_contacts,
    coalesce(active.active_contacts, 0) as active_contacts,
    coalesce(visits.sessions, 0) as sessions,
    coalesce(sends.emails_sent, 0) as emails_sent,
    coalesce(forms.form_submissions, 0) as form_submissions
from days
left join created using (day)
left join active using (day)
left join forms using (day)
left join sends using (day)
left join visits using (day)
order by days.day
"""

# The biggest segments (members now, of the chosen segment when one is) and their additions and
# removals logged during the period (a segment's first build is its baseline, not growth).
TOP_SEGMENTS = f"""
with sizes as (
    select segment_id, any_value(segment_name) as segment_name, count(*) as members
    from marts.segment_membership
    where {segment_filter("contact_id")}
    group by segment_id
),
changes as (
    select
        segment_id,
        count(*) filter (where change = 'added') as added,
        count(*) filter (where change = 'removed') as removed
    from marts.segment_history
    where not is_baseline and changed_at >= $start and changed_at < $stop
        and {segment_filter("contact_id")}
    group by segment_id
)
select
    sizes.segment_id,
    sizes.segment_name,
    sizes.members,
    coalesce(changes.added, 0) as added,
    coalesce(changes.removed, 0) as removed,
    coalesce(changes.added, 0) - coalesce(changes.removed, 0) as net_change
from sizes
left join changes using (segment_id)
order by sizes.members desc, sizes.segment_name
limit $limit
"""

# The lifecycle funnel at the end of the period: a contact has reached a stage when it entered
# it or a later one by then (stages only move forward, as rpt_stage_funnel counts them);
# reached_in_period counts those that got there during the period.
STAGE_FUNNEL = f"""
with stages as (
    select stage_id, stage_name, stage_order from reports.rpt_stage_funnel
),
furthest as (
    select
        max(stage_order) as top_order,
        coalesce(max(stage_order) filter (where changed_at < $start), 0) as top_before
    from marts.fct_stage_changes
    where changed_at < $stop and {segment_filter("contact_id")}
    group by contact_id
),
levels as (
    select top_order, top_before, count(*) as contacts from furthest group by all
)
select
    stages.stage_order,
    stages.stage_id,
    stages.stage_name,
    coalesce(sum(levels.contacts) filter (where levels.top_order >= stages.stage_order), 0)
        ::bigint as reached,
    coalesce(sum(levels.contacts) filter (
        where levels.top_order >= stages.stage_order and levels.top_before < stages.stage_order
    ), 0)::bigint as reached_in_period
from stages
cross join levels
group by all
order by stages.stage_order
"""


def kpis(filters: Filters) -> dict:
    return data.query(KPIS, filters.params()).row(0, named=True)


def daily(filters: Filters) -> pl.DataFrame:
    return data.query(DAILY, filters.params())


def top_segments(filters: Filters, limit: int = 10) -> pl.DataFrame:
    return data.query(TOP_SEGMENTS, {**filters.params(), "limit": limit})


def stage_funnel(filters: Filters) -> pl.DataFrame:
    return data.query(STAGE_FUNNEL, filters.params())
