"""The SQL behind the dashboard pages: one module per page, run through ``dashboards.data.query``.

Every statement is constant text with named parameters (``$start``, ``$stop``, ``$prev_start``,
``$segment_id`` from ``Filters.params()``, plus page ones such as ``$contact_id``); nothing a
user types ever becomes SQL. Each function returns a small, aggregated frame (or one page of
rows), so a page stays quick on a home of a million contacts.

Where a ``rpt_*`` report model has the needed grain it is read while no segment is chosen; with
a segment the same figures are computed from the marts, restricted to the segment's members
(``data.segment_filter``). The two branches of such a statement are joined by ``union all`` and
guarded by ``$segment_id is null`` / ``is not null``: DuckDB plans with the parameter's value,
so the other branch costs nothing.
"""

from __future__ import annotations

from dashboards import data
from dashboards.data import Filters, segment_filter

NO_SEGMENT = "$segment_id::varchar is null"
A_SEGMENT = "$segment_id::varchar is not null"


def period_params(filters: Filters, with_previous: bool = False) -> dict:
    """``Filters.params()`` plus ``$from_day``: the first day a statement reads (the previous
    period's start when it compares the two)."""
    params = filters.params()
    params["from_day"] = params["prev_start"] if with_previous else params["start"]
    return params


def current_and_previous(sql: str, filters: Filters) -> dict[str, dict]:
    """Run a statement with a ``period`` column ('current' / 'previous'):
    ``{'current': {...}, 'previous': {...}}``, empty dicts for a period without rows."""
    frame = data.query(sql, period_params(filters, with_previous=True))
    found = {row["period"]: row for row in frame.iter_rows(named=True)}
    return {period: found.get(period, {}) for period in ("current", "previous")}


__all__ = [
    "A_SEGMENT",
    "NO_SEGMENT",
    "current_and_previous",
    "period_params",
    "segment_filter",
]
