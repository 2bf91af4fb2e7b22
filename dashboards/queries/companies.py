"""Companies: the list ranked by engagement, with the period's activity; one company's detail."""

from __future__ import annotations

import polars as pl

from dashboards import data
from dashboards.data import Filters
from dashboards.queries import segment_filter

# Companies of rpt_company_engagement matching the name search; with a segment, those with a
# member in it.
_LISTED = f"""
listed as (
    select *
    from reports.rpt_company_engagement
    where ($term = '' or company_name ilike $pattern escape '\\')
        and ($segment_id::varchar is null or company_id in (
            select company_id from marts.dim_contacts where {segment_filter("contact_id")}
        ))
)
"""

# One page of the list, and for its companies only, the period's activity of their contacts
# (of the segment's members with a segment): contacts active, and their events.
COMPANIES = f"""
with {_LISTED},
page as (
    select * from listed order by engagement_rank limit $limit offset $offset
),
people as (
    select company_id, contact_id
    from marts.dim_contacts
    where company_id in (select company_id from page) and {segment_filter("contact_id")}
),
activity as (
    select
        people.company_id,
        count(distinct activity.contact_id) as active_in_period,
        sum(activity.events)::bigint as events_in_period
    from marts.fct_contact_activity_daily as activity
    join people using (contact_id)
    where activity.activity_on >= $start and activity.activity_on < $stop
    group by people.company_id
),
members as (
    select company_id, count(*) as contacts_in_segment from people group by company_id
)
select
    page.engagement_rank,
    page.company_id,
    page.company_name,
    page.industry,
    page.country,
    page.company_size,
    page.contact_count,
    members.contacts_in_segment,
    coalesce(activity.active_in_period, 0) as active_in_period,
    coalesce(activity.events_in_period, 0) as events_in_period,
    page.engagement_score,
    page.total_points,
    page.highest_stage_name,
    page.last_active_at
from page
left join activity using (company_id)
left join members using (company_id)
order by page.engagement_rank
"""

COMPANIES_COUNT = f"with {_LISTED} select count(*) from listed"

COMPANY = """
select
    engagement.*,
    company.website,
    company.city,
    company.state,
    company.annual_revenue,
    company.is_imported
from reports.rpt_company_engagement as engagement
join marts.dim_companies as company using (company_id)
where engagement.company_id = $company_id
"""

COMPANY_CONTACTS = f"""
select
    email,
    nullif(concat_ws(' ', first_name, last_name), '') as name,
    job_title,
    stage_name,
    points::bigint as points,
    is_dnc_email,
    last_active_at
from marts.dim_contacts
where company_id = $company_id and {segment_filter("contact_id")}
order by points desc, email
limit $limit
"""

# The company's contacts' activity per day of the period, by kind of event.
COMPANY_ACTIVITY = f"""
select
    activity_on as day,
    case
        when event_type in ('page_hit', 'asset_download', 'focus_view', 'focus_click',
            'dynamic_content_view') then 'Web'
        when event_type like 'email\\_%' escape '\\' then 'Email'
        when event_type = 'form_submit' then 'Forms'
        else 'Other'
    end as kind,
    sum(events)::bigint as events
from marts.fct_contact_activity_daily
where activity_on >= $start and activity_on < $stop
    and contact_id in (
        select contact_id from marts.dim_contacts
        where company_id = $company_id and {segment_filter("contact_id")}
    )
group by all
order by day, kind
"""

COMPANY_STAGES = f"""
select coalesce(stage_name, '(none)') as stage_name, min(stage_order) as stage_order,
    count(*) as contacts
from marts.dim_contacts
where company_id = $company_id and {segment_filter("contact_id")}
group by all
order by stage_order
"""


def _list_params(filters: Filters, term: str) -> dict:
    from dashboards.queries.contacts import like_pattern

    return {**filters.params(), "term": term.strip(), "pattern": like_pattern(term)}


def companies(filters: Filters, term: str = "", limit: int = 50, offset: int = 0) -> pl.DataFrame:
    params = {**_list_params(filters, term), "limit": limit, "offset": offset}
    return data.query(COMPANIES, params)


def companies_count(filters: Filters, term: str = "") -> int:
    return data.scalar(COMPANIES_COUNT, _list_params(filters, term))


def company(company_id: str) -> dict | None:
    frame = data.query(COMPANY, {"company_id": company_id})
    return frame.row(0, named=True) if frame.height else None


def company_contacts(filters: Filters, company_id: str, limit: int = 200) -> pl.DataFrame:
    params = {**filters.params(), "company_id": company_id, "limit": limit}
    return data.query(COMPANY_CONTACTS, params)


def company_activity(filters: Filters, company_id: str) -> pl.DataFrame:
    return data.query(COMPANY_ACTIVITY, {**filters.params(), "company_id": company_id})


def company_stages(filters: Filters, company_id: str) -> pl.DataFrame:
    return data.query(COMPANY_STAGES, {**filters.params(), "company_id": company_id})
