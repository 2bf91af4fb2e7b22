"""The command line end to end, as a user runs it: generate, ingest, ingest again."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ingest.generator import generate
from ingest.home import Home
from pipelines.dbt_project import TARGET_ENV, Target, dbt_target
from tests.conftest import query

FUNNELHOUSE = str(Path(sys.executable).with_name("funnelhouse"))
SIZE = {"contacts": 600, "days": 14, "seed": 7, "end_date": date(2026, 11, 1)}


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([FUNNELHOUSE, *args], capture_output=True, text=True, env=env)


def test_generate_then_ingest_loads_every_generated_row_once(tmp_path):
    home = Home.resolve(tmp_path / "home")
    generated = run(
        "generate",
        "--home",
        str(home.root),
        "--contacts",
        "600",
        "--days",
        "14",
        "--seed",
        "7",
        "--end-date",
        "2026-11-01",
    )
    assert generated.returncode == 0, generated.stderr
    expected = generate(tmp_path / "expected", **SIZE)  # same parameters, same data

    first = run("ingest", "--home", str(home.root))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "0 failed" in first.stdout and "0 quarantined" in first.stdout
    desk = expected.desk_rows  # the desk's maintainers, notice email and notice events
    contacts = expected.contacts_in_csv + desk["contacts"]
    assert query(home, "select count(*) from raw.contacts") == [(contacts,)]
    assert query(home, "select count(*) from raw.companies") == [(expected.companies,)]
    loaded = dict(query(home, "select event_type, count(*) from raw.events group by 1"))
    events = dict(expected.events)
    for key, n in desk.items():
        if key.startswith("events:"):
            events[key.removeprefix("events:")] = events.get(key.removeprefix("events:"), 0) + n
    assert loaded == {t: n for t, n in events.items() if n}
    for name, rows in expected.catalog_rows.items():
        assert query(home, f"select count(*) from raw.{name}") == [(rows + desk.get(name, 0),)]
    assert query(
        home, "select sum(rows_read) = sum(rows_loaded + rows_quarantined) from raw._loads"
    ) == [(True,)]

    second = run("ingest", "--home", str(home.root))
    assert second.returncode == 0
    assert "0 files loaded (0 rows, 0 quarantined)" in second.stdout
    assert query(home, "select count(*) from raw._loads") == [(len(expected.files),)]


def test_home_comes_from_the_environment_and_bad_files_exit_nonzero_without_traceback(tmp_path):
    home = Home.resolve(tmp_path / "env-home").ensure()
    (home.landing / "events" / "broken.parquet").write_bytes(b"")
    (home.landing / "contacts" / "people.csv").write_text("email\nann@example.com\n")
    result = run("ingest", env={"FUNNELHOUSE_HOME": str(home.root), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "events/broken.parquet: not a Parquet file: it is empty (0 bytes)" in result.stdout
    assert query(home, "select email from raw.contacts") == [("ann@example.com",)]


def test_an_unknown_target_is_a_usage_error_naming_the_targets(tmp_path):
    env = {"FUNNELHOUSE_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    result = run("run", "--target", "sparky", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    message = " ".join(result.stderr.replace("│", " ").split())
    assert "'sparky' is not one of 'duckdb', 'spark'" in message
    assert not (tmp_path / "home").exists()  # refused before anything was made


def test_the_target_comes_from_the_environment_and_an_unknown_one_is_named(monkeypatch):
    """What the assets read (the CLI's --target sets the variable; Dagster's UI passes it on)."""
    monkeypatch.delenv(TARGET_ENV, raising=False)
    assert dbt_target() is Target.duckdb
    monkeypatch.setenv(TARGET_ENV, "spark")
    assert dbt_target() is Target.spark
    monkeypatch.setenv(TARGET_ENV, "sparky")
    with pytest.raises(ValueError, match="FUNNELHOUSE_TARGET='sparky' is not a dbt target: use"):
        dbt_target()
