"""Publishing: copy the built marts into a fresh read-only file and swap it in atomically.

Dashboards never open the build database (DuckDB lets one process write a file, and a reader's
open connection would block dbt). After a successful build the marts, segments and reports are
copied into a new DuckDB file beside the published one, which then replaces it with a single
``rename``: a reader opens either the old file or the new one, never a half-written one, and a
reader still holding the old file keeps reading it until it closes its connection.

Publishing follows the new data, not the history: the new file starts as a copy of the
published one (a sequential file copy), and an incremental fact table with a `built_at` column
(see the dbt macro `build_time`) only gets the rows written since it was last published,
replacing those of the same unique key (the model's `unique_key`); keys the build no longer
has are deleted. Every other relation is copied whole, as are the fact tables on a first or a
`full` publish (forgetting a person publishes in full: a fresh file keeps no deleted values in
its free blocks) or when more than half of a table changed. A publish with no table to update
(after a full refresh) starts from an empty file rather than a copy; one that replaces tables
drops their old copies and checkpoints first, so the new copies reuse those blocks instead of
leaving a free copy in the file that every later publish would copy again. A whole copy of a
model with a `published_order_by` (its config's meta) is sorted by it: the facts in time
order, so a dashboard's period reads only the row groups it covers; an update appends its
rows, mostly the newest. A model with a `published_index` (a column) gets an index on it: a
contact's own rows among tens of millions are then found without a scan (an update keeps the
index current).

A publish killed halfway leaves its staging file behind (the process had no chance to remove
it); the next publish removes the staging files of processes that are gone.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest import warehouse
from ingest.home import Home
from pipelines.dbt_project import MANIFEST, Target, dbt_target

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
    delta: dict[str, int] | None = None  # "schema.table" → rows written, for those updated


def published_path(home: Home) -> Path:
    return home.published / PUBLISHED_FILE


def publish(home: Home, run_id: str = "", *, full: bool = False) -> PublishReport:
    """Publish every relation of PUBLISHED_SCHEMAS (views become tables) into a staging file
    and swap it in (see the module for what is copied and what is updated)."""
    target = published_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(target.parent)
    staging = target.with_name(f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}.duckdb")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    tables: dict[str, int] = {}
    delta: dict[str, int] = {}
    # After a Spark build every table is copied whole (its keyed models are full rebuilds).
    spark = dbt_target() is Target.spark
    updates = {} if full or spark or not target.exists() else _updates(home, target)
    try:
        if updates:  # else a fresh file: nothing of the published one is kept
            shutil.copyfile(target, staging)
        with warehouse.connect(staging) as con:
            con.execute("attach ? as build (read_only)", [str(home.warehouse)])
            sources = _sources(con, home)
            relations = list(sources)
            _drop_stale(con, relations)
            whole = [relation for relation in relations if relation not in updates]
            for (schema, name), update in updates.items():
                _update(con, f'"{schema}"."{name}"', update)
                delta[f"{schema}.{name}"] = update.rows
            # The old copies go first: the checkpoint frees their blocks for the new ones.
            for schema, name in whole:
                con.execute(f'drop table if exists "{schema}"."{name}"')
            con.execute("drop schema if exists pipeline cascade")
            con.execute("checkpoint")
            orders = published_orders()
            for schema, name in whole:
                order = orders.get((schema, name))
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(
                    f'create table "{schema}"."{name}" as select * from {sources[(schema, name)]}'
                    + (f" order by {order}" if order else "")
                )
            # After the rows: building an index once is cheaper than keeping it while copying.
            # "if not exists": an updated table keeps the index of its published copy.
            for (schema, name), column in published_indexes().items():
                if (schema, name) in sources:
                    con.execute(
                        f'create index if not exists "{name}_{column}"'
                        f' on "{schema}"."{name}" ("{column}")'
                    )
            for schema, name in relations:
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
    return PublishReport(target, tables, published_at, target.stat().st_size, delta or None)


def incremental_keys() -> dict[tuple[str, str], str]:
    """(schema, table) → unique key of the dbt project's incremental models."""
    return {
        (node["schema"], node["alias"]): node["config"]["unique_key"]
        for node in _models()
        if node["config"].get("materialized") == "incremental"
        and isinstance(node["config"].get("unique_key"), str)
    }


def published_orders() -> dict[tuple[str, str], str]:
    """(schema, table) → what a whole copy is sorted by: the model's `published_order_by`
    (config meta). Dashboards read the facts of a period; rows stored in time order let DuckDB
    skip the row groups outside it (it keeps each one's min and max)."""
    return {
        (node["schema"], node["alias"]): order
        for node in _models()
        if (order := node["config"].get("meta", {}).get("published_order_by"))
    }


def published_indexes() -> dict[tuple[str, str], str]:
    """(schema, table) → the column its published copy is indexed on: the model's
    `published_index` (config meta). DuckDB uses the index for a scan whose one filter is an
    equality on that column, so a reader of one contact's rows filters on contact_id first."""
    return {
        (node["schema"], node["alias"]): column
        for node in _models()
        if (column := node["config"].get("meta", {}).get("published_index"))
    }


def _models() -> list[dict]:
    """The model nodes of the dbt project's manifest (none without one: all copied whole),
    parsed once per version of the file: a publish reads keys, orders and indexes from it."""
    try:
        return _parsed_models(MANIFEST.stat().st_mtime_ns)
    except (OSError, ValueError, KeyError):
        return []


@functools.lru_cache(maxsize=1)
def _parsed_models(version: int) -> list[dict]:
    nodes = json.loads(MANIFEST.read_text())["nodes"].values()
    return [node for node in nodes if node.get("resource_type") == "model"]


@dataclass(frozen=True)
class _Update:
    key: str  # the model's unique_key
    since: datetime  # the newest built_at published
    rows: int  # rows built since
    built_rows: int  # rows of the build's table


def _updates(home: Home, target: Path) -> dict[tuple[str, str], _Update]:
    """The incremental fact tables a copy of the published file can be brought up to the
    build with: the same columns, a `built_at`, and at most half of the rows built since they
    were published (more, as after a full refresh, and a fresh copy is quicker)."""
    updates = {}
    with duckdb.connect() as con:
        con.execute("attach ? as published (read_only)", [str(target)])
        con.execute("attach ? as build (read_only)", [str(home.warehouse)])
        for (schema, name), key in incremental_keys().items():
            relation = f'"{schema}"."{name}"'
            columns = _columns(con, f"published.{relation}")
            same = list(columns.items()) == list(_columns(con, f"build.{relation}").items())
            if "built_at" not in columns or not same:
                continue
            (since,) = con.execute(f"select max(built_at) from published.{relation}").fetchone()
            if since is None:
                continue
            (rows,) = con.execute(
                f"select count(*) from build.{relation} where built_at > ?", [since]
            ).fetchone()
            built_rows = _count(con, f"build.{relation}")
            if rows * 2 <= built_rows:
                updates[(schema, name)] = _Update(key, since, rows, built_rows)
    return updates


def _update(con: duckdb.DuckDBPyConnection, relation: str, update: _Update) -> None:
    """Bring the staging copy of an incremental fact table up to the build: the rows written
    since it was published replace those of their keys, keys the build lost are deleted."""
    key = update.key
    con.execute(
        f'delete from {relation} where "{key}" in ('
        f' select "{key}" from build.{relation} where built_at > ?)',
        [update.since],
    )
    con.execute(
        f"insert into {relation} select * from build.{relation} where built_at > ?",
        [update.since],
    )
    # The rows the build did not rewrite are the published ones, so equal counts mean it lost
    # no key; only otherwise is the (costly) search for the lost keys' rows needed.
    if _count(con, relation) != update.built_rows:
        con.execute(
            f"delete from {relation} as published where not exists (select 1"
            f' from build.{relation} as built where built."{key}" = published."{key}")'
        )


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column → type, in order ({} when the relation is missing)."""
    try:
        return {name: kind for name, kind, *_ in con.execute(f"describe {relation}").fetchall()}
    except duckdb.CatalogException:
        return {}


def _drop_stale(con: duckdb.DuckDBPyConnection, relations: list[tuple[str, str]]) -> None:
    """Relations of the copied file the build no longer has (a model removed or renamed)."""
    placeholders = ", ".join("?" for _ in PUBLISHED_SCHEMAS)
    mine = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_catalog = current_database() and table_schema in ({placeholders})",
        list(PUBLISHED_SCHEMAS),
    ).fetchall()
    for schema, name in set(mine) - set(relations):
        con.execute(f'drop table "{schema}"."{name}"')


def publish_checked(home: Home, run_id: str = "") -> tuple[PublishReport, list[str]]:
    """``publish``, then the tables whose rows in the published file differ from the build's
    (none, unless something is wrong). The caller holds the warehouse's writer lock."""
    with warehouse.interruptible("publishing"):
        report = publish(home, run_id=run_id)
    built = _built_counts(home)
    published = row_counts(report.path, report.tables)
    return report, sorted(name for name in report.tables if published[name] != built.get(name))


def _built_counts(home: Home) -> dict[str, int]:
    """Rows of every relation publish copies, counted where the build left them (the build
    file, or the Parquet folders of a Spark build): the same sources ``publish`` reads."""
    with duckdb.connect() as con:
        if dbt_target() is not Target.spark:
            con.execute("attach ? as build (read_only)", [str(home.warehouse)])
        return {f"{s}.{n}": _count(con, source) for (s, n), source in _sources(con, home).items()}


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
        if path.is_dir():  # the spill directory of a limited-memory connection (".duckdb.tmp")
            shutil.rmtree(path, ignore_errors=True)
        else:
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
    if dbt_target() is not Target.spark:
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
