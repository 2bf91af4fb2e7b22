"""Shared test fixtures: real homes in temporary folders, real DuckDB files."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.home import Home

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "corpus"
MAUTIC_FIXTURES = ROOT.parent / "shared" / "fixtures" / "mautic"


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home.resolve(tmp_path / "home").ensure()


@pytest.fixture(scope="session")
def mautic_fixtures() -> Path:
    assert MAUTIC_FIXTURES.is_dir(), f"shared Mautic fixtures missing at {MAUTIC_FIXTURES}"
    return MAUTIC_FIXTURES


def drop(home: Home, source: Path, kind: str, name: str | None = None) -> Path:
    """Copy a file into a landing folder, as a user would."""
    target = home.landing / kind / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def query(home: Home, sql: str) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A small generated home, ingested, built by dbt and published; shared, treat as read-only."""
    from datetime import UTC, datetime

    from ingest.generator import generate
    from ingest.loader import ingest
    from pipelines.dbt_project import run_dbt
    from pipelines.publish import publish

    built = Home.resolve(tmp_path_factory.mktemp("built") / "home").ensure()
    generate(built, contacts=300, days=60, seed=7, end_date=datetime.now(UTC).date())
    ingest(built)
    result = run_dbt(built, "build", capture=True)
    assert result.returncode == 0, result.stdout[-3000:]
    publish(built)
    return built
