"""Ingest: load every landing file not loaded yet into ``raw.*``, exactly once.

A file is one transaction: its rows, its quarantine rows and its ledger row in ``raw._loads``
commit together, so a crash leaves the file unloaded rather than half-loaded. For every file,
rows read = rows loaded + rows quarantined, or the file fails.
"""

from __future__ import annotations

import hashlib
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
    catalog: str | None = None


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
        catalog = relative.parts[1] if kind == "catalogs" and len(relative.parts) > 2 else None
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
    with warehouse.connect(home.warehouse) as con:
        warehouse.ensure_raw_schema(con)
        done = warehouse.loaded_versions(con)
        loaded_paths = {path for path, _ in done}
        tombstones = Tombstones.load(con)  # people `funnelhouse forget` removed
        for landing_file in landing_files(home):
            digest = content_hash(landing_file.path)
            if (landing_file.relative, digest) in done:
                report = FileReport(landing_file.relative, landing_file.kind, "skipped")
            else:
                report = _load_file(con, landing_file, digest, tombstones)
                report.new_version = landing_file.relative in loaded_paths
            reports.append(report)
            if on_file:
                on_file(landing_file, report)
    return reports


def load_campaigns(home: Home, folder: Path = CAMPAIGNS_DIR) -> CampaignLoad:
    """Validate the campaign files and replace the ``raw.campaign_*`` tables (one transaction);
    a broken file loads nothing of its campaign and is reported, never raised."""
    with warehouse.connect(home.warehouse) as con:
        warehouse.ensure_raw_schema(con)
        return load_campaign_tables(con, folder)


def _load_file(
    con, landing_file: LandingFile, digest: str, tombstones: Tombstones | None = None
) -> FileReport:
    started = time.perf_counter()
    load_id = uuid.uuid4().hex
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    report = FileReport(landing_file.relative, landing_file.kind, "loaded")
    con.begin()
    try:
        _check_placement(landing_file)
        for batch in read_batches(landing_file.path):
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
        if not report.reconciles:
            raise ReconciliationError(
                f"rows read {report.rows_read} ≠ loaded {report.rows_loaded} + quarantined "
                f"{report.rows_quarantined} (a bug: nothing from this file was kept)"
            )
        report.seconds = time.perf_counter() - started
        _record(con, load_id, landing_file, digest, report, loaded_at)
        con.commit()
    except (UnreadableFile, ReconciliationError, pl.exceptions.PolarsError, duckdb.Error) as error:
        # Engines fail on content they cannot parse: report the file, go on with the others.
        con.rollback()
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        if not isinstance(error, UnreadableFile | ReconciliationError):
            message = f"could not be read: {message}"
        report = FileReport(landing_file.relative, landing_file.kind, "failed", error=message)
        report.seconds = time.perf_counter() - started
        _record(con, load_id, landing_file, digest, report, loaded_at)
    except BaseException:
        con.rollback()
        raise
    return report


def _check_placement(landing_file: LandingFile) -> None:
    if landing_file.kind not in SOURCE_KINDS:
        raise UnreadableFile(
            f"not in a source folder: put it under landing/{{{','.join(SOURCE_KINDS)}}}/"
        )
    if landing_file.kind == "catalogs":
        if landing_file.catalog is None:
            raise UnreadableFile("catalog files go under landing/catalogs/<catalog name>/")
        target_schema("catalogs", landing_file.catalog)  # raises for an unknown catalog


def _record(con, load_id, landing_file, digest, report: FileReport, started_at) -> None:
    con.execute(
        "insert into raw._loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            landing_file.relative,
            digest,
            landing_file.kind,
            report.table,
            landing_file.path.stat().st_size,
            report.rows_read,
            report.rows_loaded,
            report.rows_quarantined,
            report.status,
            report.error,
            started_at,
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )
