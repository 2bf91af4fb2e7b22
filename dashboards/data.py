"""Data access for the dashboards: cached, parameterised, read-only queries on the published marts.

Queries read the published file only (never the build database), through one read-only
database per published build: the file is ATTACHed (as catalog ``funnelhouse``, its own name)
to a private in-memory DuckDB, and each query runs on a fresh cursor of it. Attaching, unlike
``duckdb.connect(path)``, never hands back a database a previous file at the same path still
holds open, so a publish (a rename over the old file) is seen by the next query. Results are
cached under the file's identity, so a new publish invalidates the cache by itself; the
databases of builds two publishes old are closed. Values from the user always travel as
parameters (``?`` or ``$name``); SQL text is constant or built from identifiers this code chose.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from ingest.home import Home
from pipelines.publish import PUBLISHED_FILE, published_path


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


Params = Sequence | Mapping[str, object]

_NAMED_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _bind(sql: str, params: Params) -> list | dict:
    """Positional parameters as a list; named ones (``$name``) only those the SQL uses.

    DuckDB refuses a named parameter the statement does not mention, so a page can pass one
    dict of everything it knows (``Filters.params()``) to every query.
    """
    if isinstance(params, Mapping):
        used = set(_NAMED_PARAMETER.findall(sql))
        return {name: value for name, value in params.items() if name in used}
    return list(params)


CATALOG = Path(PUBLISHED_FILE).stem  # the catalog name the file has when opened directly
_KEEP_BUILDS = 2  # databases kept open: the build on show and the one before
_databases: dict[tuple[str, int, int], duckdb.DuckDBPyConnection] = {}
_databases_lock = threading.Lock()


def _database(stamp: tuple[str, int, int]) -> duckdb.DuckDBPyConnection:
    """The read-only database of one published build, opened on first use."""
    with _databases_lock:
        database = _databases.get(stamp)
        if database is None:
            database = duckdb.connect()
            database.execute(f"attach ? as {CATALOG} (read_only)", [stamp[0]])
            _databases[stamp] = database
            while len(_databases) > _KEEP_BUILDS:  # builds replaced twice: nobody reads them
                _databases.pop(next(iter(_databases))).close()
        return database


def _run(stamp: tuple[str, int, int], sql: str, params: Params) -> pl.DataFrame:
    cursor = _database(stamp).cursor()  # a cursor per query: sessions run in threads
    try:
        cursor.execute(f"use {CATALOG}")
        return cursor.sql(sql, params=_bind(sql, params)).pl()
    finally:
        cursor.close()


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_query(
    sql: str, params: tuple, named: bool, stamp: tuple[str, int, int]
) -> pl.DataFrame:
    return _run(stamp, sql, dict(params) if named else list(params))


def query(sql: str, params: Params = ()) -> pl.DataFrame:
    """Run one read-only query on the published marts (cached per published build).

    ``params`` are positional (``?``) as a sequence, or named (``$start``) as a mapping, of
    which only the names the SQL mentions are sent.
    """
    if isinstance(params, Mapping):
        return _cached_query(sql, tuple(sorted(params.items())), True, build_stamp())
    return _cached_query(sql, tuple(params), False, build_stamp())


def clear_cache() -> None:
    """Forget every cached result (benchmarks; a new publish does not need it)."""
    _cached_query.clear()


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection:
# =HYPERLINK(…), =cmd|' /C calc'!A0, @SUM(…)); tab and carriage return hide such a start.
FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula, prefixed with ' (shown as text, as
    OWASP advises); numbers, dates and other text are left as they are."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )


def export_csv(sql: str, params: Params = ()) -> bytes:
    """A query's whole result as CSV bytes, uncached: for download buttons (run on click).
    Text that a spreadsheet would evaluate is neutralised (``neutralise_formulas``)."""
    return neutralise_formulas(_run(build_stamp(), sql, params)).write_csv().encode()


def scalar(sql: str, params: Params = ()):
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

    @property
    def stop(self) -> date:
        """The day after the last one (exclusive upper bound)."""
        return self.end + timedelta(days=1)

    def params(self) -> dict[str, object]:
        """Named parameters for ``query``: ``$start``, ``$stop`` (exclusive), ``$prev_start``
        (the previous period is ``[$prev_start, $start)``) and ``$segment_id`` (may be null).
        """
        return {
            "start": self.start,
            "stop": self.stop,
            "prev_start": self.previous().start,
            "segment_id": self.segment_id,
        }


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


def segment_filter(contact_column: str) -> str:
    """``in_segment`` for named parameters: reads ``$segment_id`` (``Filters.params()``)."""
    return (
        f"($segment_id::varchar is null or {contact_column} in "
        "(select contact_id from marts.segment_membership where segment_id = $segment_id))"
    )


# Every segment model is a table segments.seg_<id>; a segment without members has no row in
# segment_membership, so the list comes from the catalog and the names from the members.
SEGMENTS_SQL = """
with models as (
    select substr(table_name, 5) as segment_id
    from information_schema.tables
    where table_schema = 'segments' and starts_with(table_name, 'seg_')
),
members as (
    select segment_id, any_value(segment_name) as segment_name, count(*) as members
    from marts.segment_membership
    group by segment_id
)
select
    coalesce(models.segment_id, members.segment_id) as segment_id,
    coalesce(members.segment_name, coalesce(models.segment_id, members.segment_id))
        as segment_name,
    coalesce(members.members, 0) as members
from models
full join members on models.segment_id = members.segment_id
order by segment_name
"""


def segments() -> pl.DataFrame:
    """Every segment: ``segment_id``, ``segment_name``, ``members`` (now)."""
    return query(SEGMENTS_SQL)


def published_at() -> datetime | None:
    """When the build on show was published (UTC)."""
    return scalar("select max(published_at) from pipeline.publish")


def data_window() -> tuple[date, date] | None:
    """First and last day with events in the published build."""
    frame = query("select min(occurred_at)::date, max(occurred_at)::date from marts.fct_events")
    first, last = frame.row(0)
    return (first, last) if first is not None else None


FILTERS_KEY = "filters"


def default_filters(days: int = 30) -> Filters:
    """The last ``days`` days up to the newest event day of the build (today without one)."""
    window = data_window() if has_build() else None
    last = window[1] if window else date.today()
    return Filters(last - timedelta(days=days - 1), last)


def current_filters() -> Filters:
    """The filters the sidebar (app.py) stored for this session; last 30 days by default."""
    filters = st.session_state.get(FILTERS_KEY)
    if filters is None:
        filters = default_filters()
    return filters
