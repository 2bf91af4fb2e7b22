"""Ingest: load every landing file not loaded yet into ``raw.*``, exactly once.

A file is loaded in batches, one transaction each, so memory stays that of one batch whatever
the file's size (DuckDB holds a transaction's appended rows in memory until it commits). Its
ledger row in ``raw._loads`` says ``loading`` until the last batch is in and ``loaded`` after:
a file that fails has its rows removed again, and a crash mid-file is undone by the next
ingest (``undo_interrupted``), so no file is ever half-loaded. For every file, rows read =
rows loaded + rows quarantined, or the file fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingest import warehouse
from ingest.campaigns import CAMPAIGNS_DIR, CampaignLoad, load_campaign_tables
from ingest.home import SOURCE_KINDS, Home
from ingest.readers import ROW, UnreadableFile, format_of, read_batches
from ingest.schemas import validate
from ingest.sources import map_batch, target_schema
from ingest.tombstones import Tombstones, forgotten_quarantine


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative: str  # path under landing/, the file's name in the ledger and in _source
    kind: str
    catalog: str | None = None  # the subfolder of catalogs/ or desk/


@dataclass
class FileReport:
    file: str
    kind: str
    status: str  # loaded | skipped | failed
    table: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    new_version: bool = False
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined


class ReconciliationError(Exception):
    pass


def landing_files(home: Home) -> Iterator[LandingFile]:
    """Every data file under landing/, in a stable order; dotfiles and READMEs are ignored."""
    if not home.landing.exists():
        return
    for path in sorted(p for p in home.landing.rglob("*") if p.is_file()):
        relative = path.relative_to(home.landing)
        if any(part.startswith(".") for part in relative.parts) or path.stem.upper() == "README":
            continue
        kind = relative.parts[0] if len(relative.parts) > 1 else ""
        nested = kind in ("catalogs", "desk") and len(relative.parts) > 2
        catalog = relative.parts[1] if nested else None
        yield LandingFile(path, relative.as_posix(), kind, catalog)


def content_hash(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def ingest(
    home: Home, on_file: Callable[[LandingFile, FileReport], None] | None = None
) -> list[FileReport]:
    """Load new files; ``on_file`` hears about each file as it is done (for progress)."""
    home.ensure()
    reports = []
    with warehouse.interruptible("ingesting"), warehouse.connect(home.warehouse) as con:
        warehouse.ensure_raw_schema(con)
        undo_interrupted(con)
        loaded = warehouse.loaded_files(con)
        done = {(path, digest) for path, digest, _, _ in loaded}
        # (path, size, modification time) → hash: a file that still has them need not be read
        unchanged = {
            (path, size, modified): digest
            for path, digest, size, modified in loaded
            if modified is not None
        }
        loaded_paths = {path for path, _ in done}
        tombstones = Tombstones.load(con)  # people `funnelhouse forget` removed
        for landing_file in landing_files(home):
            # A file with the size and modification time of a loaded version is that version
            # (as make and rsync assume): a run with no new data reads no file in full.
            stat = landing_file.path.stat()
            digest = unchanged.get((landing_file.relative, stat.st_size, stat.st_mtime_ns))
            digest = digest or content_hash(landing_file.path)
            if (landing_file.relative, digest) in done:
                report = FileReport(landing_file.relative, landing_file.kind, "skipped")
            else:
                with warehouse.interruptible(f"loading {landing_file.relative}"):
                    report = _load_file(con, landing_file, digest, stat, tombstones)
                report.new_version = landing_file.relative in loaded_paths
            reports.append(report)
            if on_file:
                on_file(landing_file, report)
    return reports


def load_campaigns(home: Home, folder: Path = CAMPAIGNS_DIR) -> CampaignLoad:
    """Validate the campaign files and replace the ``raw.campaign_*`` tables (one transaction);
    a broken file loads nothing of its campaign and is reported, never raised."""
    with warehouse.interruptible("loading campaigns"), warehouse.connect(home.warehouse) as con:
        warehouse.ensure_raw_schema(con)
        return load_campaign_tables(con, folder)


def _load_file(
    con,
    landing_file: LandingFile,
    digest: str,
    stat: os.stat_result,
    tombstones: Tombstones | None = None,
) -> FileReport:
    started = time.perf_counter()
    load_id = uuid.uuid4().hex
    loaded_at = _now()
    report = FileReport(landing_file.relative, landing_file.kind, "loading")
    _record(con, load_id, landing_file, digest, stat, report, loaded_at)
    try:
        _check_placement(landing_file)
        for number, batch in enumerate(read_batches(landing_file.path), start=1):
            con.begin()
            mapped = map_batch(
                batch,
                landing_file.kind,
                landing_file.catalog,
                is_json=format_of(landing_file.path) == "jsonl",
                file_time=datetime.fromtimestamp(landing_file.path.stat().st_mtime, UTC).replace(
                    tzinfo=None
                ),
            )
            checked = validate(mapped.frame, mapped.schema, loaded_at)
            meta = {"_source": landing_file.relative, "_load_id": load_id, "_loaded_at": loaded_at}
            rows = (
                checked.rows.rename({ROW: "_source_row"}) if ROW != "_source_row" else checked.rows
            )
            forgotten = rows.clear()
            if tombstones:  # a forgotten person's rows are quarantined, without their text
                rows, forgotten = tombstones.split(rows)
            warehouse.append(
                con,
                mapped.schema.table,
                rows.with_columns(*(pl.lit(value).alias(name) for name, value in meta.items())),
            )
            quarantined = pl.concat(
                [
                    mapped.rejects,
                    checked.quarantine.join(mapped.quarantined_text(checked.quarantine), on=ROW),
                    forgotten_quarantine(forgotten),
                ],
                how="diagonal_relaxed",
            )
            if tombstones:
                quarantined = tombstones.redact_quarantine(quarantined)
            warehouse.append(
                con,
                "quarantine",
                quarantined.select(
                    pl.lit(load_id).alias("load_id"),
                    pl.lit(landing_file.relative).alias("file"),
                    pl.col(ROW).alias("source_row"),
                    "field",
                    "reason",
                    "raw_text",
                    pl.lit(mapped.schema.table).alias("target_table"),
                    pl.lit(loaded_at).alias("quarantined_at"),
                ),
            )
            report.table = mapped.schema.table
            report.rows_read += batch.rows_read
            report.rows_loaded += rows.height
            report.rows_quarantined += quarantined.height
            con.commit()
            if number > 1:  # a large file: write its rows into the file now, not all at the end
                con.execute("checkpoint")  # (the closing checkpoint would hold them in memory)
        if not report.reconciles:
            raise ReconciliationError(
                f"rows read {report.rows_read} ≠ loaded {report.rows_loaded} + quarantined "
                f"{report.rows_quarantined} (a bug: nothing from this file was kept)"
            )
        report.status = "loaded"
        report.seconds = time.perf_counter() - started
        _finish(con, load_id, report)
    except (UnreadableFile, ReconciliationError, pl.exceptions.PolarsError, duckdb.Error) as error:
        # Engines fail on content they cannot parse: report the file, go on with the others.
        _rollback(con)
        _remove_rows(con, load_id)
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        if not isinstance(error, UnreadableFile | ReconciliationError):
            message = f"could not be read: {message}"
        report = FileReport(landing_file.relative, landing_file.kind, "failed", error=message)
        report.seconds = time.perf_counter() - started
        _finish(con, load_id, report)
    except BaseException:
        _rollback(con)  # the ledger row stays ``loading``: the next ingest undoes the file
        raise
    return report


INTERRUPTED = "interrupted: the loader stopped mid-file; its rows were removed and it loads again"


def undo_interrupted(con) -> None:
    """Remove the rows of files whose load stopped midway (the process died): their ledger
    rows say ``interrupted`` and the files load again in full."""
    loads = con.execute("select load_id from raw._loads where status = 'loading'").fetchall()
    for (load_id,) in loads:
        _remove_rows(con, load_id)
        con.execute(
            "update raw._loads set status = 'interrupted', finished_at = ?, error = ? "
            "where load_id = ?",
            [_now(), INTERRUPTED, load_id],
        )


def _remove_rows(con, load_id: str) -> None:
    """Delete one load's rows from every raw table and the quarantine, in one transaction."""
    tables = con.execute(
        "select table_name from duckdb_columns() where database_name = current_database()"
        " and schema_name = 'raw' and column_name = '_load_id'"
    ).fetchall()
    con.begin()
    for (table,) in tables:
        con.execute(f'delete from raw."{table}" where _load_id = ?', [load_id])
    con.execute("delete from raw.quarantine where load_id = ?", [load_id])
    con.commit()


def _rollback(con) -> None:
    with contextlib.suppress(duckdb.TransactionException):  # between batches: nothing open
        con.rollback()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _check_placement(landing_file: LandingFile) -> None:
    if landing_file.kind not in SOURCE_KINDS:
        raise UnreadableFile(
            f"not in a source folder: put it under landing/{{{','.join(SOURCE_KINDS)}}}/"
        )
    if landing_file.kind == "catalogs":
        if landing_file.catalog is None:
            raise UnreadableFile("catalog files go under landing/catalogs/<catalog name>/")
        target_schema("catalogs", landing_file.catalog)  # raises for an unknown catalog
    if landing_file.kind == "desk":
        if landing_file.catalog is None:
            raise UnreadableFile("desk files go under landing/desk/<table>/")
        target_schema("desk", landing_file.catalog)  # raises for an unknown folder


def _finish(con, load_id: str, report: FileReport) -> None:
    con.execute(
        "update raw._loads set target_table = ?, rows_read = ?, rows_loaded = ?,"
        " rows_quarantined = ?, status = ?, error = ?, finished_at = ? where load_id = ?",
        [
            report.table,
            report.rows_read,
            report.rows_loaded,
            report.rows_quarantined,
            report.status,
            report.error,
            _now(),
            load_id,
        ],
    )


def _record(
    con, load_id, landing_file, digest, stat: os.stat_result, report: FileReport, started_at
) -> None:
    """The ledger row of a load attempt; ``stat`` is the file's, taken before it was hashed
    (so a file changed meanwhile is hashed again next time, never skipped)."""
    columns = tuple(warehouse.LOADS_COLUMNS)
    values = {
        "load_id": load_id,
        "path": landing_file.relative,
        "content_hash": digest,
        "source_kind": landing_file.kind,
        "target_table": report.table,
        "size_bytes": stat.st_size,
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_quarantined": report.rows_quarantined,
        "status": report.status,
        "error": report.error,
        "started_at": started_at,
        "finished_at": None,  # set by _finish
        "modified_ns": stat.st_mtime_ns,
    }
    con.execute(
        f"insert into raw._loads ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
        [values[column] for column in columns],
    )
