"""Shared test fixtures: real homes in temporary folders, real DuckDB files."""

from __future__ import annotations

import os
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


def published(home: Home, sql: str, params: list | None = None) -> list[tuple]:
    """A query on the home's published file (what the dashboards read)."""
    from pipelines.publish import published_path

    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def built_home_run(tmp_path_factory: pytest.TempPathFactory):
    """A small generated home after `funnelhouse run` (ingest, dbt build, publish), and the
    command's output. Shared by several modules, and by both xdist workers: the first to ask
    builds it under a file lock in the session's common temporary folder, the other waits and
    reads it. Treat the home as read-only (copy it first)."""
    import fcntl
    import json
    import subprocess
    import sys
    from datetime import UTC, datetime

    from ingest.generator import generate

    # xdist gives each worker its own basetemp inside the session's folder
    worker_base = tmp_path_factory.getbasetemp()
    shared = worker_base.parent if os.environ.get("PYTEST_XDIST_WORKER") else worker_base
    built = Home.resolve(shared / "built" / "home")
    outcome = shared / "built" / "run.json"
    with (shared / "built.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not outcome.exists():
            built.ensure()
            generate(built, contacts=300, days=60, seed=7, end_date=datetime.now(UTC).date())
            funnelhouse = Path(sys.executable).with_name("funnelhouse")
            command = [str(funnelhouse), "run", "--home", str(built.root)]
            completed = subprocess.run(command, capture_output=True, text=True)
            outcome.write_text(json.dumps(completed.__dict__))
    completed = subprocess.CompletedProcess(**json.loads(outcome.read_text()))
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return built, completed


@pytest.fixture(scope="session")
def built_home(built_home_run) -> Home:
    """The built and published home of ``built_home_run``; read-only."""
    return built_home_run[0]


@pytest.fixture(scope="session")
def dbt_worker(tmp_path_factory: pytest.TempPathFactory):
    """dbt commands on any home through one parse of the project for the whole session
    (tests/dbt_worker.py): ``dbt_worker.run(home, "build", ...)``."""
    from tests.dbt_worker import DbtWorker

    worker = DbtWorker(Home.resolve(tmp_path_factory.mktemp("dbt-parse") / "home").ensure())
    yield worker
    worker.close()


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Streamlit's AppTest installs the page script as ``__main__`` and leaves it there; a
    later multiprocessing spawn (the generator's workers) would re-run that script."""
    import sys

    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def pytest_configure(config: pytest.Config) -> None:
    # AppTest runs the pages with the options the served dashboards have.
    from streamlit import config as streamlit_config

    from dashboards.serve import STREAMLIT_OPTIONS

    for name, value in STREAMLIT_OPTIONS.items():
        streamlit_config.set_option(name, value)
    # `make test` runs the files on two workers (xdist, --dist loadfile), which hand out files in
    # the order below: xdist's own order (files with more tests first) would leave the Spark
    # equivalence test (five tests, about five minutes) to one of the last turns, so the suite
    # would end with it running alone.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with a test marked `spark` (the longest file) first, then the others with the most
    tests first (xdist's default order); a file's own tests keep their order."""
    tests_per_file: dict[str, int] = {}
    spark_files: set[str] = set()
    for item in items:
        name = item.nodeid.split("::")[0]
        tests_per_file[name] = tests_per_file.get(name, 0) + 1
        if item.get_closest_marker("spark"):
            spark_files.add(name)
    first_seen = {name: index for index, name in enumerate(tests_per_file)}

    def order(item: pytest.Item) -> tuple[bool, int, int]:
        name = item.nodeid.split("::")[0]
        return (name not in spark_files, -tests_per_file[name], first_seen[name])

    items.sort(key=order)
