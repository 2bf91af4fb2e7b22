"""Campaigns: whether the campaign models are published, and what they hold.

The campaign models (``marts.campaign_contact_state``: each contact's position in each
campaign) come with the campaign issue and are not built yet. Their columns are not fixed, so
nothing here names one: the page checks the catalog for the table and, once it is published,
shows its size and a sample of its rows (restricted to the segment when it has a
``contact_id`` column) until the step view is written against the real model.
"""

from __future__ import annotations

import polars as pl

from dashboards import data
from dashboards.data import Filters

STATE_SCHEMA = "marts"
STATE_TABLE = "campaign_contact_state"
STATE = f'"{STATE_SCHEMA}"."{STATE_TABLE}"'
SAMPLE_ROWS = 50

COLUMNS = """
select column_name, data_type
from information_schema.columns
where table_catalog = current_database() and table_schema = ? and table_name = ?
order by ordinal_position
"""


def columns() -> pl.DataFrame:
    """The state model's columns (no row when the table is not published)."""
    return data.query(COLUMNS, [STATE_SCHEMA, STATE_TABLE])


def _where(filters: Filters, has_contact: bool) -> tuple[str, dict]:
    if has_contact and filters.segment_id is not None:
        return (
            "where contact_id in (select contact_id from marts.segment_membership "
            "where segment_id = $segment_id)",
            {"segment_id": filters.segment_id},
        )
    return "", {}


def rows(filters: Filters, has_contact: bool) -> int:
    where, params = _where(filters, has_contact)
    return data.scalar(f"select count(*) from {STATE} {where}", params)


def sample(filters: Filters, has_contact: bool) -> pl.DataFrame:
    where, params = _where(filters, has_contact)
    return data.query(
        f"select * from {STATE} {where} limit $limit", {**params, "limit": SAMPLE_ROWS}
    )
