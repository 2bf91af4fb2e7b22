"""Integrations: the directory's home-page ranking, proposals, votes and maintenance (issue 12).

Everything comes from the desk's published models: rpt_integrations_homepage,
rpt_integration_proposals, fct_integration_votes, rpt_integrations_maintenance. The directory's
figures are quarterly and as of the build, so the sidebar's period does not apply here.
"""

from __future__ import annotations

import polars as pl

from dashboards import data

QUARTERS = """
select distinct quarter from reports.rpt_integrations_homepage order by quarter desc
"""

RANKING = """
select
    rank,
    name,
    integration_id,
    votes,
    previous_rank,
    rank_change,
    previous_votes,
    is_open_source,
    is_member,
    use_case_score
from reports.rpt_integrations_homepage
where quarter = $quarter
order by rank
"""

FUNNEL = """
select
    count(*) as proposed,
    count(*) filter (where is_endorsed) as endorsed,
    count(*) filter (where is_eligible) as eligible,
    count(*) filter (where is_listed) as listed
from reports.rpt_integration_proposals
"""

PROPOSALS = """
select
    title,
    proposal_reference,
    state,
    portal_supports,
    member_supports,
    is_endorsed,
    is_eligible,
    is_listed
from reports.rpt_integration_proposals
order by is_eligible desc, member_supports desc, title
"""

VOTES_BY_QUARTER = """
select
    votes.quarter,
    integrations.name,
    count(*) as votes
from marts.fct_integration_votes as votes
join marts.dim_integrations as integrations using (integration_id)
group by votes.quarter, integrations.name
order by votes.quarter, integrations.name
"""

MAINTENANCE = """
select
    name,
    status,
    days_since_activity,
    last_activity_at,
    at_risk_since,
    notice_sent_at,
    removal_due_at,
    review_due_at,
    is_review_overdue,
    maintainer_email
from reports.rpt_integrations_maintenance
order by
    case status when 'notice sent' then 1 when 'at risk' then 2 when 'removed' then 3 else 4 end,
    removal_due_at nulls last,
    days_since_activity desc
"""

STATUS_COUNTS = """
select status, count(*) as integrations
from reports.rpt_integrations_maintenance
group by status
"""


def quarters() -> list[str]:
    return data.query(QUARTERS)["quarter"].to_list()


def ranking(quarter: str) -> pl.DataFrame:
    return data.query(RANKING, {"quarter": quarter})


def ranking_csv(quarter: str) -> bytes:
    return data.export_csv(RANKING, {"quarter": quarter})


def funnel() -> dict:
    return data.query(FUNNEL).row(0, named=True)


def proposals() -> pl.DataFrame:
    return data.query(PROPOSALS)


def votes_by_quarter() -> pl.DataFrame:
    return data.query(VOTES_BY_QUARTER)


def maintenance() -> pl.DataFrame:
    return data.query(MAINTENANCE)


def status_counts() -> dict[str, int]:
    frame = data.query(STATUS_COUNTS)
    return dict(zip(frame["status"], frame["integrations"], strict=True))
