"""Publishing: copy the built marts into a fresh read-only file and swap it in atomically.

Dashboards never open the build database (DuckDB lets one process write a file, and a reader's
open connection would block dbt). After a successful build the marts, segments and reports are
copied into a new DuckDB file beside the published one, which then replaces it with a single
``rename``: a reader opens either the old file or the new one, never a half-written one, and a
reader still holding the old file keeps reading it until it closes its connection.

A publish killed halfway leaves its staging file behind (the process had no chance to remove
it); the next publish removes the staging files of processes that are gone.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.home import Home
from pipelines.dbt_project import dbt_target_name

# Schemas the dbt project builds for readers (staging and intermediate stay private).
PUBLISHED_SCHEMAS = ("marts", "segments", "reports")
# The pipeline's own bookkeeping, for the pipeline health page: raw table → published name.
PIPELINE_TABLES = {"_loads": "loads", "quarantine": "quarantine"}
# Not "marts.duckdb": the catalog would share its name with the marts schema.
PUBLISHED_FILE = "funnelhouse.duckdb"
# A publish builds ".funnelhouse-<pid>-<random>.duckdb" beside the published file.
STAGING_PREFIX = f".{Path(PUBLISHED_FILE).stem}-"


@dataclass(frozen=True)
class PublishReport:
    path: Path
    tables: dict[str, int]  # "schema.table" → rows
    published_at: datetime
    bytes: int


def published_path(home: Home) -> Path:
    return home.published / PUBLISHED_FILE


def publish(home: Home, run_id: str = "") -> PublishReport:
    """Copy every relation of PUBLISHED_SCHEMAS (views become tables) and swap the file in."""
    target = published_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(target.parent)
    staging = target.with_name(f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}.duckdb")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    tables: dict[str, int] = {}
    try:
        with duckdb.connect(str(staging)) as con:
            con.execute("attach ? as build (read_only)", [str(home.warehouse)])
            for (schema, name), source in _sources(con, home).items():
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(f'create table "{schema}"."{name}" as select * from {source}')
                tables[f"{schema}.{name}"] = _count(con, f'"{schema}"."{name}"')
            con.execute("create schema pipeline")
            for raw_name, name in PIPELINE_TABLES.items():
                con.execute(
                    f'create table pipeline."{name}" as select * from build.raw."{raw_name}"'
                )
            con.execute(
                "create table pipeline.publish as select ?::timestamp as published_at, "
                "? as run_id, ? as tables",
                [published_at, run_id, len(tables)],
            )
            con.execute("detach build")
            con.execute("checkpoint")
        _fsync(staging)
        os.replace(staging, target)
        _fsync(target.parent)
    finally:
        staging.unlink(missing_ok=True)
        staging.with_name(staging.name + ".wal").unlink(missing_ok=True)
    return PublishReport(target, tables, published_at, target.stat().st_size)


def publish_checked(home: Home, run_id: str = "") -> tuple[PublishReport, list[str]]:
    """``publish``, then the tables whose rows in the published file differ from the build's
    (none, unless something is wrong). The caller holds the warehouse's writer lock."""
    report = publish(home, run_id=run_id)
    if dbt_target_name() == "spark":
        with duckdb.connect() as con:
            sources = _sources(con, home)
            built = {f"{s}.{n}": _count(con, source) for (s, n), source in sources.items()}
    else:
        built = row_counts(home.warehouse, report.tables)
    published = row_counts(report.path, report.tables)
    return report, sorted(name for name in report.tables if published[name] != built[name])


def row_counts(path: Path, tables) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: _count(con, _quoted(name)) for name in tables}


def remove_abandoned_staging(directory: Path) -> list[Path]:
    """Remove the staging files (and their WAL) of publishes whose process is gone."""
    removed = []
    for path in directory.glob(f"{STAGING_PREFIX}*.duckdb*"):
        pid = path.name.removeprefix(STAGING_PREFIX).split("-")[0]
        if pid.isdigit() and _alive(int(pid)):
            continue  # a publish in progress (another process, or another thread of this one)
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _quoted(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))


def _sources(con: duckdb.DuckDBPyConnection, home: Home) -> dict[tuple[str, str], str]:
    """(schema, table) → what to copy it from: the attached build, or after a Spark build
    (FUNNELHOUSE_TARGET=spark) the Parquet folders Spark wrote; the build's timestamps are
    UTC instants there, published as UTC wall-clock like DuckDB's."""
    if dbt_target_name() != "spark":
        return {(schema, name): f'build."{schema}"."{name}"' for schema, name in _relations(con)}
    from ingest.spark_export import spark_tables

    con.execute("set TimeZone = 'UTC'")
    sources = {}
    for key, folder in spark_tables(home, PUBLISHED_SCHEMAS).items():
        scan = f"read_parquet('{folder}/*.parquet')"
        columns = con.execute(f"describe select * from {scan}").fetchall()
        select = ", ".join(
            f'"{c}"::timestamp as "{c}"' if t == "TIMESTAMP WITH TIME ZONE" else f'"{c}"'
            for c, t, *_ in columns
        )
        sources[key] = f"(select {select} from {scan})"
    return sources


def _relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    placeholders = ", ".join("?" for _ in PUBLISHED_SCHEMAS)
    return con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_catalog = 'build' and table_schema in ({placeholders}) "
        "order by table_schema, table_name",
        list(PUBLISHED_SCHEMAS),
    ).fetchall()


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchone()[0]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
