"""Hand the raw schema to Spark: one Parquet folder per raw.* table under <home>/spark/raw.

Ingest keeps writing DuckDB (its load ledger, quarantine and file-once contract live there);
Spark reads a Parquet snapshot of raw.*, which any Spark (local, a cluster over thrift,
Databricks) reads natively, with types kept. The dbt `spark` target registers each folder as
an external table raw.<name> (macro spark_register_raw) at the start of every run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from ingest.home import Home


def spark_dir(home: Home) -> Path:
    return home.root / "spark"


def raw_parquet_dir(home: Home) -> Path:
    return spark_dir(home) / "raw"


def export_raw_parquet(home: Home) -> list[str]:
    """Write every raw.* table as Parquet for Spark (replacing the previous snapshot); returns
    the table names."""
    target = raw_parquet_dir(home)
    staging = target.with_name("raw.new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' order by table_name"
            ).fetchall()
        ]
        for name in tables:
            folder = staging / name
            folder.mkdir()
            # Timestamps are UTC wall-clock (DuckDB TIMESTAMP): Spark reads them as TIMESTAMP
            # in its UTC session time zone, so values do not shift.
            con.execute(f"copy raw.\"{name}\" to '{folder / 'part-0.parquet'}' (format parquet)")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return tables


def spark_tables(home: Home, schemas: tuple[str, ...]) -> dict[tuple[str, str], Path]:
    """The tables a Spark build wrote for ``schemas``: (schema, name) → its Parquet folder
    (spark.sql.warehouse.dir in profiles.yml is <home>/spark/warehouse)."""
    warehouse = spark_dir(home) / "warehouse"
    found = {}
    for schema in schemas:
        folder = warehouse / f"{schema}.db"
        if folder.is_dir():
            for table in sorted(folder.iterdir()):
                if table.is_dir() and any(table.glob("*.parquet")):
                    found[(schema, table.name)] = table
    return found
