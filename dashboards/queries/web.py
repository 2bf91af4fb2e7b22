"""Web: sessions and page views, sources, landing pages, new vs returning, forms, assets.

Without a segment the rpt_* daily report models are summed over the period; with one, the same
figures come from fct_sessions and fct_events of the segment's members (anonymous sessions
belong to no segment).
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

_SESSION_COUNTS = """
    count(*) as sessions,
    sum(page_views)::bigint as page_views,
    count(*) filter (where is_first_session) as new_sessions,
    count(*) filter (where not is_first_session) as returning_sessions,
    count(*) filter (where is_bounce) as bounces,
    count(contact_id) as identified_sessions,
    sum(duration_seconds)::bigint as session_seconds
"""

# Per day: rpt_web_traffic_daily, or the segment's sessions.
_DAILY = f"""
daily as (
    select
        day, sessions, page_views, new_sessions, returning_sessions, bounces,
        identified_sessions, round(avg_session_seconds * sessions)::bigint as session_seconds
    from reports.rpt_web_traffic_daily
    where {NO_SEGMENT} and day >= $from_day and day < $stop
    union all
    select started_on as day, {_SESSION_COUNTS}
    from marts.fct_sessions
    where {A_SEGMENT} and started_on >= $from_day and started_on < $stop
        and {segment_filter("contact_id")}
    group by started_on
)
"""

_SESSION_RATES = """
    bounces / nullif(sessions, 0) as bounce_rate,
    page_views / nullif(sessions, 0) as pages_per_session,
    session_seconds / nullif(sessions, 0) as avg_session_seconds
"""

TOTALS = f"""
with {_DAILY},
periods as (
    select
        case when day >= $start then 'current' else 'previous' end as period,
        sum(sessions)::bigint as sessions,
        sum(page_views)::bigint as page_views,
        sum(new_sessions)::bigint as new_sessions,
        sum(returning_sessions)::bigint as returning_sessions,
        sum(bounces)::bigint as bounces,
        sum(identified_sessions)::bigint as identified_sessions,
        sum(session_seconds)::bigint as session_seconds
    from daily
    group by all
)
select *, {_SESSION_RATES} from periods
"""

DAILY = f"""
with {_DAILY}
select * exclude (session_seconds), {_SESSION_RATES}
from daily
order by day
"""

SOURCES = f"""
with rows as (
    select
        source, medium, campaign, sessions, new_sessions, page_views, bounces,
        identified_sessions
    from reports.rpt_traffic_sources_daily
    where {NO_SEGMENT} and day >= $start and day < $stop
    union all
    select
        source, medium, coalesce(campaign, '(not set)') as campaign, 1 as sessions,
        is_first_session::int as new_sessions, page_views, is_bounce::int as bounces,
        1 as identified_sessions
    from marts.fct_sessions
    where {A_SEGMENT} and started_on >= $start and started_on < $stop
        and {segment_filter("contact_id")}
),
sources as (
    select
        source, medium, campaign,
        sum(sessions)::bigint as sessions,
        sum(new_sessions)::bigint as new_sessions,
        sum(page_views)::bigint as page_views,
        sum(bounces)::bigint as bounces,
        sum(identified_sessions)::bigint as identified_sessions
    from rows
    group by all
)
select *, bounces / nullif(sessions, 0) as bounce_rate,
    page_views / nullif(sessions, 0) as pages_per_session
from sources
order by sessions desc, source, medium, campaign
limit $limit
"""

# Landing pages: entrances (sessions that started on the page), their bounces, and the page's
# views. rpt_pages_daily without a segment; the segment's sessions and page hits with one.
LANDING_PAGES = f"""
with rows as (
    select page_path, page_title, entrances, bounces, page_views
    from reports.rpt_pages_daily
    where {NO_SEGMENT} and day >= $start and day < $stop
    union all
    select landing_path as page_path, null as page_title, 1 as entrances,
        is_bounce::int as bounces, 0 as page_views
    from marts.fct_sessions
    where {A_SEGMENT} and started_on >= $start and started_on < $stop
        and {segment_filter("contact_id")}
    union all
    select page_path, page_title, 0 as entrances, 0 as bounces, 1 as page_views
    from marts.fct_events
    where {A_SEGMENT} and event_type = 'page_hit' and occurred_on >= $start
        and occurred_on < $stop and {segment_filter("contact_id")}
),
pages as (
    select
        coalesce(page_path, '(unknown)') as page_path,
        any_value(page_title) as page_title,
        sum(entrances)::bigint as entrances,
        sum(bounces)::bigint as bounces,
        sum(page_views)::bigint as page_views
    from rows
    group by all
)
select *, bounces / nullif(entrances, 0) as bounce_rate
from pages
where entrances > 0
order by entrances desc, page_path
limit $limit
"""

FORMS = f"""
with rows as (
    select form_id, form_views, viewing_sessions, submissions, converted_sessions,
        null::varchar as contact_id
    from reports.rpt_form_conversions_daily
    where {NO_SEGMENT} and day >= $start and day < $stop
    union all
    select form_id, null, null, 1, null, contact_id
    from marts.fct_events
    where {A_SEGMENT} and event_type = 'form_submit' and occurred_on >= $start
        and occurred_on < $stop and {segment_filter("contact_id")}
),
forms as (
    select
        form_id,
        sum(form_views)::bigint as form_views,
        sum(viewing_sessions)::bigint as viewing_sessions,
        sum(submissions)::bigint as submissions,
        sum(converted_sessions)::bigint as converted_sessions,
        case when {A_SEGMENT} then count(distinct contact_id) end as submitting_contacts
    from rows
    group by form_id
)
select
    coalesce(catalog.form_name, 'Form ' || forms.form_id) as form_name,
    forms.*,
    forms.converted_sessions / nullif(forms.viewing_sessions, 0) as conversion_rate
from forms
left join (select form_id, form_name from reports.rpt_form_conversions) as catalog
    using (form_id)
order by forms.submissions desc, form_name
"""

ASSETS = f"""
with titles as (
    select asset_id, any_value(asset_title) as asset_title,
        any_value(asset_category) as asset_category
    from reports.rpt_asset_downloads_daily
    group by asset_id
),
rows as (
    select asset_id, downloads, known_contact_downloads
    from reports.rpt_asset_downloads_daily
    where {NO_SEGMENT} and day >= $start and day < $stop
    union all
    select asset_id, 1, 1
    from marts.fct_events
    where {A_SEGMENT} and event_type = 'asset_download' and occurred_on >= $start
        and occurred_on < $stop and {segment_filter("contact_id")}
),
assets as (
    select asset_id, sum(downloads)::bigint as downloads,
        sum(known_contact_downloads)::bigint as known_contact_downloads
    from rows
    group by asset_id
)
select
    coalesce(titles.asset_title, 'Asset ' || assets.asset_id) as asset_title,
    titles.asset_category,
    assets.downloads,
    assets.known_contact_downloads,
    assets.downloads - assets.known_contact_downloads as anonymous_downloads
from assets
left join titles using (asset_id)
order by assets.downloads desc, asset_title
"""


def totals(filters: Filters) -> dict[str, dict]:
    return current_and_previous(TOTALS, filters)


def daily(filters: Filters) -> pl.DataFrame:
    return data.query(DAILY, period_params(filters))


def sources(filters: Filters, limit: int = 100) -> pl.DataFrame:
    return data.query(SOURCES, {**filters.params(), "limit": limit})


def landing_pages(filters: Filters, limit: int = 50) -> pl.DataFrame:
    return data.query(LANDING_PAGES, {**filters.params(), "limit": limit})


def forms(filters: Filters) -> pl.DataFrame:
    return data.query(FORMS, filters.params())


def assets(filters: Filters) -> pl.DataFrame:
    return data.query(ASSETS, filters.params())
