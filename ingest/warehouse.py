"""The raw schema of the build database: tables, the load ledger and the quarantine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from ingest.schemas import META_COLUMNS, TABLES, TableSchema

LOADS_COLUMNS = {
    "load_id": "VARCHAR PRIMARY KEY",
    "path": "VARCHAR NOT NULL",  # relative to landing/
    "content_hash": "VARCHAR NOT NULL",  # sha256 of the file's bytes
    "source_kind": "VARCHAR NOT NULL",
    "target_table": "VARCHAR",
    "size_bytes": "BIGINT",
    "rows_read": "BIGINT",
    "rows_loaded": "BIGINT",
    "rows_quarantined": "BIGINT",
    "status": "VARCHAR NOT NULL",  # loading | loaded | failed | interrupted
    "error": "VARCHAR",
    "started_at": "TIMESTAMP",
    "finished_at": "TIMESTAMP",
    "modified_ns": "BIGINT",  # the file's modification time when last read (st_mtime_ns)
}

QUARANTINE_COLUMNS = {
    "load_id": "VARCHAR NOT NULL",
    "file": "VARCHAR NOT NULL",
    "source_row": "BIGINT",
    "field": "VARCHAR",
    "reason": "VARCHAR NOT NULL",
    "raw_text": "VARCHAR",
    "target_table": "VARCHAR",
    "quarantined_at": "TIMESTAMP NOT NULL",
}


def memory_limit() -> str:
    """DuckDB's memory limit for the pipeline's own connections to big files: the one dbt's
    profile sets (dbt_project/profiles.yml). Without it DuckDB's buffer pool may grow to 80% of
    the machine's memory while copying a large file (a full publish of 1M contacts peaked near
    17 GiB); with it, big joins and sorts spill to a temporary directory beside the file."""
    return os.environ.get("FUNNELHOUSE_DUCKDB_MEMORY_LIMIT", "5GB")


@contextmanager
def interruptible(doing: str) -> Iterator[None]:
    """Report a signal (SIGTERM, Ctrl-C) that lands inside a DuckDB query as the interruption it
    is: DuckDB turns it into ``RuntimeError('Query interrupted')``, which reads as a bug."""
    try:
        yield
    except RuntimeError as error:
        if str(error) != "Query interrupted":
            raise
        raise KeyboardInterrupt(f"Interrupted while {doing}") from None


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No DuckDB progress bar: a long load or publish would draw its own bar over the command
    # line's (rich) and into the logs of scheduled runs.
    con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit()})
    con.execute("set enable_progress_bar = false")  # a session setting, not a global one
    return con


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing; columns added to a schema later are added to old tables."""
    con.execute("create schema if not exists raw")
    tables = {name: _columns(schema) for name, schema in TABLES.items()}
    tables |= {"_loads": LOADS_COLUMNS, "quarantine": QUARANTINE_COLUMNS}
    for name, columns in tables.items():
        body = ", ".join(f'"{column}" {sql_type}' for column, sql_type in columns.items())
        con.execute(f'create table if not exists raw."{name}" ({body})')
        for column, sql_type in columns.items():
            plain_type = sql_type.replace(" PRIMARY KEY", "").replace(" NOT NULL", "")
            con.execute(
                f'alter table raw."{name}" add column if not exists "{column}" {plain_type}'
            )


def _columns(schema: TableSchema) -> dict[str, str]:
    return {f.name: f.sql_type for f in schema.fields} | META_COLUMNS


def append(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    if frame.height:
        con.register("_append_frame", frame)
        try:
            con.execute(f'insert into raw."{table}" by name select * from _append_frame')
        finally:
            con.unregister("_append_frame")


def loaded_files(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, int | None]]:
    """(path, content hash, size, modification time) of every loaded file version."""
    rows = con.execute(
        "select path, content_hash, size_bytes, modified_ns from raw._loads where status = 'loaded'"
    )
    return rows.fetchall()


def remember_file_time(
    con: duckdb.DuckDBPyConnection, path: str, content_hash: str, modified_ns: int
) -> None:
    """A file read in full and found to be a loaded version: remember its new modification
    time (or the first one, for versions loaded before times were kept), so that the next
    ingest need not read it again."""
    con.execute(
        "update raw._loads set modified_ns = ? "
        "where path = ? and content_hash = ? and status = 'loaded'",
        [modified_ns, path, content_hash],
    )


def loaded_versions(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    """(path, content hash) of every file already loaded: those are never loaded again."""
    return {(path, digest) for path, digest, _, _ in loaded_files(con)}


def compact(path: Path) -> None:
    """Rewrite a DuckDB file into a fresh one and swap it in by rename.

    DuckDB marks deleted rows and leaves the bytes of deleted and overwritten values in the
    file's blocks; a copy holds only live rows. ``funnelhouse forget`` needs that (the values
    are personal data). The caller must hold the file's writer lock: nobody else may have it
    open for writing (readers keep the old file until they close it)."""
    import uuid

    fresh = path.with_name(f".{path.stem}-compact-{uuid.uuid4().hex[:8]}.duckdb")
    try:
        with connect(path) as con:
            name = con.execute("select current_database()").fetchone()[0]
            con.execute("attach ? as compacted", [str(fresh)])
            con.execute(f'copy from database "{name}" to compacted')
            con.execute("detach compacted")
        fd = os.open(fresh, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(fresh, path)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)
