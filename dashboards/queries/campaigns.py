"""Campaigns: each campaign's contacts by status, and its steps with contacts at, through and
out of each.

Reads the campaign models (documented in dbt_project/models/marts/_campaigns.yml):
``campaign_contact_state`` (each contact's latest entry into each campaign, with its status)
and ``fct_campaign_steps`` (every step each entry reached, with its state). A step's contacts
are those of their latest entry (as campaign_contact_state counts them):

- at the step: its state is scheduled, due or waiting;
- through it: sent, skipped (the contact moved on), or a decision / condition answered yes / no;
- out at it: failed (a failure ends the path) or cancelled (the entry ended while it was
  pending: left the segment, restarted).

A build made before the campaign models has neither table: ``missing()`` names what is absent
so the page can say so. The segment filter keeps the segment's members; "entered in the
period" keeps the entries that began during it.
"""

from __future__ import annotations

import polars as pl

from dashboards import data
from dashboards.data import Filters
from dashboards.queries import segment_filter

# The columns this page reads, per model.
NEEDED = {
    "campaign_contact_state": (
        "campaign_id", "campaign_name", "is_published", "contact_id", "entry_number",
        "entered_at", "status",
    ),
    "fct_campaign_steps": (
        "campaign_id", "contact_id", "entry_number", "step_id", "step_order", "step_type",
        "step_kind", "parent_step_id", "depth", "state",
    ),
}  # fmt: skip

AT_STEP = ("scheduled", "due", "waiting")
THROUGH = ("sent", "skipped", "yes", "no")
OUT = ("failed", "cancelled")

COLUMNS = """
select table_name, column_name
from information_schema.columns
where table_catalog = current_database() and table_schema = 'marts'
    and list_contains(?, table_name)
"""

_ENTRIES = f"""
    from marts.campaign_contact_state as state
    where {segment_filter("state.contact_id")}
        and (not $in_period or (state.entered_at >= $start and state.entered_at < $stop))
"""

CAMPAIGNS = f"""
select
    state.campaign_id,
    any_value(state.campaign_name) as campaign_name,
    bool_or(state.is_published) as is_published,
    count(*) as contacts,
    count(*) filter (where state.status = 'active') as active,
    count(*) filter (where state.status = 'waiting') as waiting,
    count(*) filter (where state.status = 'completed') as completed,
    count(*) filter (where state.status = 'exited') as exited,
    count(*) filter (where state.entered_at >= $start and state.entered_at < $stop)
        as entered_in_period
{_ENTRIES}
group by state.campaign_id
order by contacts desc, campaign_name
"""


def _states(states: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{state}'" for state in states) + ")"


STEPS = f"""
with entries as (
    select state.campaign_id, state.contact_id, state.entry_number
    {_ENTRIES}
        and state.campaign_id = $campaign
),
steps as (
    select step.*
    from marts.fct_campaign_steps as step
    join entries using (campaign_id, contact_id, entry_number)
    where step.campaign_id = $campaign
)
select
    step_id,
    any_value(step_order) as step_order,
    any_value(depth) as depth,
    any_value(step_type) as step_type,
    any_value(step_kind) as step_kind,
    any_value(parent_step_id) as parent_step_id,
    count(*) filter (where state in {_states(AT_STEP)}) as at_step,
    count(*) filter (where state in {_states(THROUGH)}) as through,
    count(*) filter (where state in {_states(OUT)}) as out,
    count(*) filter (where state = 'sent') as sent,
    count(*) filter (where state = 'skipped') as skipped,
    count(*) filter (where state = 'yes') as yes,
    count(*) filter (where state = 'no') as no,
    count(*) filter (where state = 'failed') as failed,
    count(*) filter (where state = 'cancelled') as cancelled
from steps
group by step_id
order by step_order, step_id
"""


def missing() -> list[str]:
    """The campaign models (or columns of them) this build lacks; empty when all are there."""
    found = data.query(COLUMNS, [list(NEEDED)])
    have = {(table, column) for table, column in found.iter_rows()}
    gaps = []
    for table, columns in NEEDED.items():
        absent = [c for c in columns if (table, c) not in have]
        if len(absent) == len(columns):
            gaps.append(f"marts.{table}")
        elif absent:
            gaps.extend(f"marts.{table}.{c}" for c in absent)
    return gaps


def _params(filters: Filters, in_period: bool) -> dict:
    return {**filters.params(), "in_period": in_period}


def campaigns(filters: Filters, in_period: bool) -> pl.DataFrame:
    return data.query(CAMPAIGNS, _params(filters, in_period))


def steps(filters: Filters, in_period: bool, campaign: str) -> pl.DataFrame:
    return data.query(STEPS, {**_params(filters, in_period), "campaign": campaign})
