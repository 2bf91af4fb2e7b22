"""Data access for the dashboards: cached, parameterised, read-only queries on the published marts.

Every query opens its own short read-only connection to the published file (never the build
database, never a connection kept across a publish) and is cached under the file's identity, so
a new publish invalidates the cache by itself. Values from the user always travel as ``?``
parameters; SQL text is constant or built from identifiers this code chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from ingest.home import Home
from pipelines.publish import published_path


def home() -> Home:
    """The data home from ``FUNNELHOUSE_HOME`` (``funnelhouse dashboard --home`` sets it)."""
    return Home.resolve()


def published_file() -> Path:
    return published_path(home())


def has_build() -> bool:
    return published_file().exists()


def build_stamp() -> tuple[str, int, int]:
    """Identifies one published file: a new publish (a new inode) changes it."""
    path = published_file()
    stat = path.stat()
    return (str(path), stat.st_ino, stat.st_mtime_ns)


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_query(sql: str, params: tuple, stamp: tuple[str, int, int]) -> pl.DataFrame:
    with duckdb.connect(stamp[0], read_only=True) as con:
        return con.sql(sql, params=list(params)).pl()


def query(sql: str, params: Sequence = ()) -> pl.DataFrame:
    """Run one read-only query on the published marts (cached per published build)."""
    return _cached_query(sql, tuple(params), build_stamp())


def scalar(sql: str, params: Sequence = ()):
    frame = query(sql, params)
    return frame.item(0, 0) if frame.height else None


@dataclass(frozen=True)
class Filters:
    """The sidebar's global filters; every page honours them."""

    start: date  # first day included
    end: date  # last day included
    segment_id: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before this one (for "change vs previous")."""
        return Filters(
            self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.segment_id
        )

    def time_params(self) -> list:
        """``[start, end_exclusive]`` for ``col >= ? and col < ?`` on timestamps."""
        return [self.start, self.end + timedelta(days=1)]


def in_segment(contact_column: str) -> str:
    """A predicate keeping rows whose contact is in the filter's segment (or all when unset).

    Takes two parameters: the segment id twice (``filters.segment_params()``).
    """
    return (
        f"(?::varchar is null or {contact_column} in "
        "(select contact_id from marts.segment_membership where segment_id = ?))"
    )


def segment_params(filters: Filters) -> list:
    return [filters.segment_id, filters.segment_id]


def data_window() -> tuple[date, date] | None:
    """First and last day with events in the published build."""
    frame = query("select min(occurred_at)::date, max(occurred_at)::date from marts.fct_events")
    first, last = frame.row(0)
    return (first, last) if first is not None else None


FILTERS_KEY = "filters"


def current_filters() -> Filters:
    """The filters the sidebar (app.py) stored for this session; last 30 days by default."""
    filters = st.session_state.get(FILTERS_KEY)
    if filters is None:
        today = date.today()
        filters = Filters(today - timedelta(days=29), today)
    return filters
