"""Pipeline health: the publish, rows per layer, raw loads, quarantine, failed files, freshness.

Everything comes from the published file: ``pipeline.publish`` (when this build was published,
by which run), ``pipeline.loads`` (the ingest ledger: one row per file version) and
``pipeline.quarantine`` (every row ingest refused, with its reason), and the row counts of the
published tables. The page's period (optional) selects loads by when they started and
quarantined rows by when they were quarantined; contacts and segments do not apply here.
"""

from __future__ import annotations

import polars as pl

from dashboards import data
from dashboards.data import Filters

PUBLISHED_LAYERS = ("marts", "segments", "reports", "pipeline")

PUBLISH = """
select published_at, run_id, tables
from pipeline.publish
order by published_at desc
limit 1
"""

TABLES = """
select table_schema as layer, table_name
from information_schema.tables
where table_catalog = current_database() and list_contains(?, table_schema)
order by list_position(?, table_schema), table_name
"""

# Loads started in [$start, $stop) when $in_period, else all of them.
_LOADS_IN_SCOPE = "(not $in_period or (started_at >= $start and started_at < $stop))"

# Rows per raw table from the load ledger (loaded files; a file that changed was loaded again
# as a new version, so its rows count once per version, as in raw.*).
RAW = f"""
select
    target_table,
    count(*) filter (where status = 'loaded') as files,
    coalesce(sum(rows_read) filter (where status = 'loaded'), 0)::bigint as rows_read,
    coalesce(sum(rows_loaded) filter (where status = 'loaded'), 0)::bigint as rows_loaded,
    coalesce(sum(rows_quarantined) filter (where status = 'loaded'), 0)::bigint
        as rows_quarantined,
    count(*) filter (where status = 'failed') as failed_attempts,
    max(finished_at) filter (where status = 'loaded') as last_loaded_at
from pipeline.loads
where {_LOADS_IN_SCOPE}
group by target_table
order by target_table
"""

# Files whose latest attempt failed (as the pipeline's files_readable check counts them).
FAILED = f"""
select path, source_kind, target_table, error, size_bytes, started_at
from pipeline.loads
where {_LOADS_IN_SCOPE}
qualify row_number() over (partition by path order by finished_at desc nulls first) = 1
    and status = 'failed'
order by started_at desc, path
"""

_QUARANTINE_IN_SCOPE = "(not $in_period or (quarantined_at >= $start and quarantined_at < $stop))"

QUARANTINE_REASONS = f"""
select
    target_table,
    field,
    reason,
    count(*) as rows,
    count(distinct file) as files,
    max(quarantined_at) as last_at
from pipeline.quarantine
where {_QUARANTINE_IN_SCOPE}
group by all
order by rows desc, target_table, field, reason
"""

_QUARANTINE_ROWS = f"""
from pipeline.quarantine
where {_QUARANTINE_IN_SCOPE} and ($reason::varchar is null or reason = $reason)
"""

QUARANTINE_ROWS = f"""
select file, source_row, field, reason, raw_text, target_table, quarantined_at
{_QUARANTINE_ROWS}
order by quarantined_at desc, file, source_row
limit $limit offset $offset
"""

QUARANTINE_COUNT = f"select count(*) {_QUARANTINE_ROWS}"

QUARANTINE_EXPORT = f"""
select file, source_row, field, reason, raw_text, target_table, quarantined_at
{_QUARANTINE_ROWS}
order by file, source_row
"""

# Newest event (by when it happened and when it was loaded), newest load, ledger totals.
FRESHNESS = """
select
    (select max(occurred_at) from marts.fct_events) as newest_event_at,
    (select max(loaded_at) from marts.fct_events) as newest_event_loaded_at,
    (select max(finished_at) from pipeline.loads) as last_load_at,
    (select coalesce(sum(rows_read), 0)::bigint from pipeline.loads where status = 'loaded')
        as rows_read,
    (select coalesce(sum(rows_quarantined), 0)::bigint from pipeline.loads
        where status = 'loaded') as rows_quarantined
"""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def publish() -> dict | None:
    frame = data.query(PUBLISH)
    return frame.row(0, named=True) if frame.height else None


def table_rows() -> pl.DataFrame:
    """Rows of every published table: ``layer``, ``table_name``, ``rows``.

    One statement of ``count(*)`` per table, whose names come from the published catalog
    (quoted) and travel to the result as parameters.
    """
    layers = list(PUBLISHED_LAYERS)
    tables = data.query(TABLES, [layers, layers])
    if tables.is_empty():
        return pl.DataFrame(schema={"layer": pl.String, "table_name": pl.String, "rows": pl.Int64})
    parts, params = [], []
    for layer, name in tables.iter_rows():
        parts.append(
            f"select ? as layer, ? as table_name, count(*) as rows "
            f"from {_quote(layer)}.{_quote(name)}"
        )
        params += [layer, name]
    return data.query("\nunion all\n".join(parts), params)


def _scope(filters: Filters, in_period: bool) -> dict:
    return {**filters.params(), "in_period": in_period}


def raw(filters: Filters, in_period: bool) -> pl.DataFrame:
    return data.query(RAW, _scope(filters, in_period))


def failed(filters: Filters, in_period: bool) -> pl.DataFrame:
    return data.query(FAILED, _scope(filters, in_period))


def quarantine_reasons(filters: Filters, in_period: bool) -> pl.DataFrame:
    return data.query(QUARANTINE_REASONS, _scope(filters, in_period))


def _rows_params(filters: Filters, in_period: bool, reason: str | None) -> dict:
    return {**_scope(filters, in_period), "reason": reason}


def quarantine_count(filters: Filters, in_period: bool, reason: str | None) -> int:
    return data.scalar(QUARANTINE_COUNT, _rows_params(filters, in_period, reason))


def quarantine_rows(
    filters: Filters, in_period: bool, reason: str | None, limit: int, offset: int
) -> pl.DataFrame:
    params = _rows_params(filters, in_period, reason)
    return data.query(QUARANTINE_ROWS, {**params, "limit": limit, "offset": offset})


def quarantine_csv(filters: Filters, in_period: bool, reason: str | None) -> bytes:
    """Every quarantined row in scope as CSV (uncached; run when the button is clicked)."""
    return data.export_csv(QUARANTINE_EXPORT, _rows_params(filters, in_period, reason))


def freshness() -> dict:
    return data.query(FRESHNESS).row(0, named=True)
