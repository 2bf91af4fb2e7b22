"""Emails: per-email performance, daily series, best send time, link clicks.

Counts follow rpt_email_performance: sends of the period (by send day) and what became of
them; rates are recomputed from the summed counts (open rate = opened sends / delivered).
"""

from __future__ import annotations

import polars as pl

from dashboards import data
from dashboards.data import Filters
from dashboards.queries import (
    A_SEGMENT,
    NO_SEGMENT,
    current_and_previous,
    period_params,
    segment_filter,
)

_COUNTS = """
    sum(sent)::bigint as sent,
    sum(delivered)::bigint as delivered,
    sum(bounced)::bigint as bounced,
    sum(unique_opens)::bigint as unique_opens,
    sum(unique_clicks)::bigint as unique_clicks,
    sum(unsubscribed)::bigint as unsubscribed,
    sum(total_opens)::bigint as total_opens,
    sum(total_clicks)::bigint as total_clicks
"""

_SEND_COUNTS = """
    count(*) as sent,
    count(*) filter (where is_delivered) as delivered,
    count(*) filter (where is_bounced) as bounced,
    count(*) filter (where is_opened) as unique_opens,
    count(*) filter (where is_clicked) as unique_clicks,
    count(*) filter (where is_unsubscribed) as unsubscribed,
    sum(open_count)::bigint as total_opens,
    sum(click_count)::bigint as total_clicks
"""

_RATES = """
    delivered / nullif(sent, 0) as delivery_rate,
    unique_opens / nullif(delivered, 0) as open_rate,
    unique_clicks / nullif(delivered, 0) as click_rate,
    unique_clicks / nullif(unique_opens, 0) as click_to_open_rate,
    bounced / nullif(sent, 0) as bounce_rate,
    unsubscribed / nullif(delivered, 0) as unsubscribe_rate
"""

# Per send day and email: rpt_email_performance_daily without a segment, else fct_email_sends
# of the segment's members (same definitions).
_DAILY_SENDS = f"""
daily_sends as (
    select sent_on, email_id, {_COUNTS}
    from reports.rpt_email_performance_daily
    where {NO_SEGMENT} and sent_on >= $from_day and sent_on < $stop
    group by all
    union all
    select sent_on, email_id, {_SEND_COUNTS}
    from marts.fct_email_sends
    where {A_SEGMENT} and sent_on >= $from_day and sent_on < $stop
        and {segment_filter("contact_id")}
    group by all
)
"""

TOTALS = f"""
with {_DAILY_SENDS},
periods as (
    select case when sent_on >= $start then 'current' else 'previous' end as period, {_COUNTS}
    from daily_sends
    group by all
)
select period, sent, delivered, bounced, unique_opens, unique_clicks, unsubscribed, {_RATES}
from periods
"""

PERFORMANCE = f"""
with {_DAILY_SENDS},
per_email as (
    select email_id, {_COUNTS}
    from daily_sends
    group by email_id
)
select
    coalesce(catalog.email_name, 'Email ' || per_email.email_id) as email_name,
    catalog.subject,
    catalog.email_category,
    per_email.*,
    {_RATES}
from per_email
left join (
    select email_id, email_name, subject, email_category from reports.rpt_email_performance
) as catalog using (email_id)
order by sent desc, email_name
"""

DAILY = f"""
with {_DAILY_SENDS},
days as (
    select sent_on as day, {_COUNTS}
    from daily_sends
    group by sent_on
)
select *, {_RATES}
from days
order by day
"""

# Weekday x hour (UTC) of the sends of the period: the heatmap of when to send.
SEND_TIMES = f"""
select
    isodow(sent_at) as weekday,
    hour(sent_at) as hour,
    count(*) as sent,
    count(*) filter (where is_delivered) as delivered,
    count(*) filter (where is_opened) as unique_opens,
    count(*) filter (where is_clicked) as unique_clicks,
    count(*) filter (where is_opened) / nullif(count(*) filter (where is_delivered), 0)
        as open_rate,
    count(*) filter (where is_clicked) / nullif(count(*) filter (where is_delivered), 0)
        as click_rate
from marts.fct_email_sends
where sent_on >= $start and sent_on < $stop and {segment_filter("contact_id")}
group by all
order by weekday, hour
"""

# Clicks of the period per email and link (email_click events).
LINKS = f"""
with clicks as (
    select email_id, link_url, count(*) as clicks, count(distinct contact_id) as clickers
    from marts.fct_events
    where event_type = 'email_click' and occurred_on >= $start and occurred_on < $stop
        and {segment_filter("contact_id")}
    group by all
)
select
    coalesce(catalog.email_name, 'Email ' || clicks.email_id) as email_name,
    clicks.link_url,
    clicks.clicks,
    clicks.clickers,
    clicks.clicks / sum(clicks.clicks) over (partition by clicks.email_id)
        as share_of_email_clicks
from clicks
left join reports.rpt_email_performance as catalog using (email_id)
order by clicks.clicks desc, email_name, clicks.link_url
limit $limit
"""


def totals(filters: Filters) -> dict[str, dict]:
    """{'current': {...}, 'previous': {...}}: sends and rates of the period and the one before."""
    return current_and_previous(TOTALS, filters)


def performance(filters: Filters) -> pl.DataFrame:
    return data.query(PERFORMANCE, period_params(filters))


def daily(filters: Filters) -> pl.DataFrame:
    return data.query(DAILY, period_params(filters))


def send_times(filters: Filters) -> pl.DataFrame:
    return data.query(SEND_TIMES, filters.params())


def links(filters: Filters, limit: int = 200) -> pl.DataFrame:
    return data.query(LINKS, {**filters.params(), "limit": limit})
