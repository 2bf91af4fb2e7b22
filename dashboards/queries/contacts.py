"""Contacts: search, the contact card, its timeline, points and stage history."""

from __future__ import annotations

import polars as pl

from dashboards import data
from dashboards.data import Filters
from dashboards.queries import segment_filter

# Search by email, name or company (case-insensitive substring; the pattern arrives escaped for
# LIKE). Without a search term: the contacts active in the period, most recent first.
_MATCHES = f"""
from marts.dim_contacts
where {segment_filter("contact_id")}
    and case
        when $term = ''
            then last_active_at >= $start and last_active_at < $stop
        else email ilike $pattern escape '\\'
            or concat_ws(' ', first_name, last_name) ilike $pattern escape '\\'
            or company_name ilike $pattern escape '\\'
    end
"""

SEARCH = f"""
select
    contact_id,
    email,
    nullif(concat_ws(' ', first_name, last_name), '') as name,
    company_name,
    stage_name,
    points::bigint as points,
    last_active_at
{_MATCHES}
order by email = $term desc, last_active_at desc nulls last, email
limit $limit
"""

SEARCH_COUNT = f"select count(*) as matches {_MATCHES}"

CONTACT = """
select
    contact.* exclude (custom_fields),
    contact.custom_fields::varchar as custom_fields,
    contact.points::bigint as points_now,
    company.industry as company_industry,
    company.website as company_website,
    company.employee_count as company_employees,
    company.engagement_score as company_engagement_score
from marts.dim_contacts as contact
left join marts.dim_companies as company using (company_id)
where contact.contact_id = $contact_id
"""

POINT_GROUPS = """
select point_group, sum(delta)::bigint as points, count(*) as entries
from marts.fct_points_ledger
where contact_id = $contact_id
group by point_group
order by points desc, point_group
"""

CONTACT_SEGMENTS = """
select segment_id, segment_name, since, matched_by
from marts.segment_membership
where contact_id = $contact_id
order by segment_name
"""

# The contact's events, found through the published index on contact_id (pipelines/publish.py):
# DuckDB uses it only for a scan whose one filter is on that column, so the period and the
# types filter the materialised rows after it (a filter beside it made a scan of every event).
CONTACT_EVENTS = """
contact_events as materialized (
    select * from marts.fct_events where contact_id = $contact_id
)
"""

EVENT_TYPES = f"""
with {CONTACT_EVENTS}
select event_type, count(*) as events
from contact_events
where occurred_on >= $start and occurred_on < $stop
group by event_type
order by events desc, event_type
"""

# Catalog names come from the report models (the published file has no staging tables).
_TIMELINE = f"""
with {CONTACT_EVENTS},
emails as (select email_id, email_name from reports.rpt_email_performance),
forms as (select form_id, form_name from reports.rpt_form_conversions),
assets as (
    select asset_id, any_value(asset_title) as asset_title
    from reports.rpt_asset_downloads_daily
    group by asset_id
),
events as (
    select *
    from contact_events
    where occurred_on >= $start and occurred_on < $stop
        and ($types = '' or list_contains(string_split($types, ','), event_type))
)
"""

TIMELINE = f"""
{_TIMELINE}
select
    events.occurred_at,
    events.event_type,
    case
        when events.event_type = 'page_hit'
            then coalesce(events.page_title || ' (' || events.page_path || ')', events.url)
        when events.event_type like 'email\\_%' escape '\\'
            then coalesce(emails.email_name, 'Email ' || events.email_id)
                || coalesce(' → ' || events.link_url, '')
                || coalesce(' (' || events.bounce_type || ' bounce)', '')
        when events.event_type = 'form_submit'
            then coalesce(forms.form_name, 'Form ' || events.form_id)
        when events.event_type = 'asset_download'
            then coalesce(assets.asset_title, 'Asset ' || events.asset_id)
        when events.event_type like 'focus\\_%' escape '\\'
            then 'Focus item ' || events.focus_item_id
        when events.event_type = 'dynamic_content_view'
            then events.slot_name || ': ' || events.variant
        when events.event_type like 'sms\\_%' escape '\\' then 'Text message ' || events.sms_id
        when events.event_type = 'manual_points'
            then printf('%+d points', events.points_delta) || coalesce(': ' || events.reason, '')
        when events.event_type = 'dnc_change'
            then 'Do not contact (' || events.dnc_channel || ')'
                || coalesce(': ' || events.reason, '')
        else coalesce(events.page_title, events.url, events.reason)
    end as detail,
    coalesce(events.utm_source || ' / ' || events.utm_medium, events.referrer) as source
from events
left join emails using (email_id)
left join forms using (form_id)
left join assets using (asset_id)
order by events.occurred_at desc, events.event_id
limit $limit offset $offset
"""

# The running total of the ledger (all history: points add up from the first entry).
POINTS_HISTORY = """
select
    occurred_on as day,
    sum(delta)::bigint as change,
    sum(sum(delta)) over (order by occurred_on)::bigint as points
from marts.fct_points_ledger
where contact_id = $contact_id
group by occurred_on
order by day
"""

STAGE_HISTORY = """
select changed_at, stage_order, stage_name, previous_stage_id, reason
from marts.fct_stage_changes
where contact_id = $contact_id
order by changed_at, stage_order
"""

STAGES = "select stage_order, stage_name from reports.rpt_stage_funnel order by stage_order"


def like_pattern(term: str) -> str:
    """A case-insensitive substring pattern with LIKE's wildcards in the term escaped."""
    escaped = term.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_params(filters: Filters, term: str) -> dict:
    return {**filters.params(), "pattern": like_pattern(term), "term": term.strip().lower()}


def search(filters: Filters, term: str, limit: int = 50) -> pl.DataFrame:
    return data.query(SEARCH, {**_search_params(filters, term), "limit": limit})


def search_count(filters: Filters, term: str) -> int:
    return data.scalar(SEARCH_COUNT, _search_params(filters, term))


def contact(contact_id: str) -> dict | None:
    frame = data.query(CONTACT, {"contact_id": contact_id})
    return frame.row(0, named=True) if frame.height else None


def point_groups(contact_id: str) -> pl.DataFrame:
    return data.query(POINT_GROUPS, {"contact_id": contact_id})


def contact_segments(contact_id: str) -> pl.DataFrame:
    return data.query(CONTACT_SEGMENTS, {"contact_id": contact_id})


def event_types(filters: Filters, contact_id: str) -> pl.DataFrame:
    return data.query(EVENT_TYPES, {**filters.params(), "contact_id": contact_id})


def _timeline_params(filters: Filters, contact_id: str, types: list[str]) -> dict:
    return {**filters.params(), "contact_id": contact_id, "types": ",".join(sorted(types))}


def timeline(
    filters: Filters, contact_id: str, types: list[str], limit: int = 100, offset: int = 0
) -> pl.DataFrame:
    params = _timeline_params(filters, contact_id, types)
    return data.query(TIMELINE, {**params, "limit": limit, "offset": offset})


def points_history(contact_id: str) -> pl.DataFrame:
    return data.query(POINTS_HISTORY, {"contact_id": contact_id})


def stage_history(contact_id: str) -> pl.DataFrame:
    return data.query(STAGE_HISTORY, {"contact_id": contact_id})


def stages() -> pl.DataFrame:
    return data.query(STAGES)
