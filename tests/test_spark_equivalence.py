"""The same dbt project on DuckDB and on Apache Spark gives the same marts.

One tiny generated home is ingested once, built with `dbt build` on the duckdb target and on
the spark target (dbt-spark `session`: a local Spark in the dbt process, one invocation), and
every table of the marts, segments and reports schemas is compared: row count, per column the
non-null and distinct counts and (numbers) the sum, plus the key figures by name (points
totals, segment sizes, email report). Spark's tables are Parquet folders in the home, read here
with DuckDB, so the comparison needs no second Spark session.

Run alone: `make test-spark` (or `.venv/bin/pytest -q tests/test_spark_equivalence.py -s`).
Needs the spark extra and Java 17 (`make test` installs both).
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.home import Home
from pipelines.dbt_project import TARGET_ENV, run_dbt

SCHEMAS = ("marts", "segments", "reports")
# Segment dates resolve against this instead of the build's start, so both builds agree.
VARS = "{segment_reference_time: '2026-11-20 12:00:00'}"
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT", "DECIMAL")
SCALAR_PREFIXES = (*NUMERIC, "VARCHAR", "BOOLEAN", "DATE", "TIMESTAMP")

KEY_FIGURES = {
    "points total by group": """
        select point_group, sum(delta), count(*) from {marts}.fct_points_ledger
        group by all order by all""",
    "segment sizes": """
        select segment_id, count(*) from {marts}.segment_membership group by all order by all""",
    "email report": """
        select email_id, sent, delivered, unique_opens, unique_clicks, bounced, unsubscribed,
            open_rate, click_rate, median_minutes_to_open
        from {reports}.rpt_email_performance order by all""",
}


def _build(home: Home, target: str) -> float:
    os.environ[TARGET_ENV] = target
    try:
        started = time.perf_counter()
        result = run_dbt(home, "build", "--vars", VARS, capture=True)
        seconds = time.perf_counter() - started
    finally:
        os.environ.pop(TARGET_ENV, None)
    assert result.returncode == 0, f"dbt build on {target} failed:\n{result.stdout[-6000:]}"
    return seconds


def _spark_views(con: duckdb.DuckDBPyConnection, home: Home) -> None:
    """Spark's tables (Parquet folders under spark/warehouse/<schema>.db) as DuckDB views
    in schemas spark_<schema>."""
    warehouse = home.root / "spark" / "warehouse"
    for schema in SCHEMAS:
        con.execute(f"create schema spark_{schema}")
        for folder in sorted((warehouse / f"{schema}.db").iterdir()):
            if folder.is_dir() and any(folder.glob("*.parquet")):
                con.execute(
                    f"create view spark_{schema}.{folder.name} as select * from "
                    f"read_parquet('{folder}/*.parquet')"
                )


def _profile(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, object]:
    """Row count and, per scalar column, non-null count, distinct count and rounded sum."""
    columns = con.execute(f"describe {relation}").fetchall()
    parts = ["count(*)"]
    names = ["rows"]
    for name, kind, *_ in sorted(columns):
        kind = kind.upper()
        if not kind.startswith(SCALAR_PREFIXES):
            continue
        value = f'"{name}"'
        if kind.startswith("TIMESTAMP"):
            # Spark writes instants (UTC); DuckDB's are UTC wall-clock: compare epochs.
            value = f"epoch_us({value}::timestamp)"
        parts += [f"count({value})", f"count(distinct {value})"]
        names += [f"{name}:count", f"{name}:distinct"]
        if kind.startswith(NUMERIC):
            parts.append(f"round(sum({value})::double, 6)")
            names.append(f"{name}:sum")
    row = con.execute(f"select {', '.join(parts)} from {relation}").fetchone()
    return dict(zip(names, row, strict=True))


@pytest.fixture(scope="module")
def both_builds(tmp_path_factory: pytest.TempPathFactory):
    from ingest.generator import generate
    from ingest.loader import ingest, load_campaigns
    from ingest.spark_export import export_raw_parquet

    home = Home.resolve(tmp_path_factory.mktemp("spark") / "home").ensure()
    generate(home, contacts=150, days=30, seed=7, end_date=date(2026, 11, 20))
    ingest(home)
    load_campaigns(home)
    export_raw_parquet(home)
    seconds = {target: _build(home, target) for target in ("duckdb", "spark")}
    print(f"\ndbt build: duckdb {seconds['duckdb']:.1f} s, spark {seconds['spark']:.1f} s")
    con = duckdb.connect(str(home.warehouse), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    _spark_views(con, home)
    yield home, con
    con.close()


def test_every_mart_matches(both_builds) -> None:
    home, con = both_builds
    tables = [
        (schema, name)
        for schema in SCHEMAS
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type = 'BASE TABLE' order by 1",
            [schema],
        ).fetchall()
    ]
    assert len(tables) > 30
    spark_tables = {
        (schema[len("spark_") :], name)
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'spark_%'"
        ).fetchall()
    }
    assert set(tables) <= spark_tables, set(tables) - spark_tables
    differences = {}
    for schema, name in tables:
        duck = _profile(con, f"{schema}.{name}")
        spark = _profile(con, f"spark_{schema}.{name}")
        if duck != spark:
            differences[f"{schema}.{name}"] = {
                key: (duck.get(key), spark.get(key))
                for key in duck.keys() | spark.keys()
                if duck.get(key) != spark.get(key)
            }
    assert not differences, differences


@pytest.mark.parametrize("figure", sorted(KEY_FIGURES))
def test_key_figures_match(both_builds, figure: str) -> None:
    _, con = both_builds
    sql = KEY_FIGURES[figure]
    duck = con.execute(sql.format(marts="marts", reports="reports")).fetchall()
    spark = con.execute(sql.format(marts="spark_marts", reports="spark_reports")).fetchall()
    assert duck, figure
    assert _rounded(duck) == _rounded(spark)


def _rounded(rows: list[tuple]) -> list[tuple]:
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]


def test_spark_tables_are_parquet(both_builds) -> None:
    home, _ = both_builds
    folder = home.root / "spark" / "warehouse" / "marts.db" / "fct_events"
    assert any(Path(folder).glob("*.parquet"))
