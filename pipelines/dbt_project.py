"""Running the dbt project against a data home, and keeping its manifest current."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from ingest.home import HOME_ENV, Home

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
# The manifest Dagster reads when the definitions are imported (`dbt parse` writes it).
MANIFEST_TARGET = DBT_PROJECT_DIR / "target"
MANIFEST = MANIFEST_TARGET / "manifest.json"
# dbt installed beside this Python (the project's virtual environment), not whatever is on PATH.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
# Generated folders of the dbt project: their content is not an input of a build.
GENERATED = {"target", "logs", "dbt_packages", ".user.yml"}


class DbtParseError(RuntimeError):
    pass


# The dbt output of profiles.yml to build on: duckdb (default) or spark (README).
TARGET_ENV = "FUNNELHOUSE_TARGET"


class Target(StrEnum):
    """The outputs of profiles.yml a build can run on."""

    duckdb = "duckdb"
    spark = "spark"


def dbt_target() -> Target:
    """The target FUNNELHOUSE_TARGET names (the CLI's ``--target`` sets it), duckdb unset."""
    value = os.environ.get(TARGET_ENV) or Target.duckdb
    try:
        return Target(value)
    except ValueError:
        choices = ", ".join(Target)
        raise ValueError(f"{TARGET_ENV}={value!r} is not a dbt target: use {choices}") from None


def full_refresh_args() -> list[str]:
    """dbt's ``--full-refresh``, with one thread on DuckDB: a full rebuild there is bound by
    memory at scale, the event models' first builds each wanting the whole memory limit, and
    two at once spilled (1M contacts: dbt 628 s with 2 threads, 501-600 s with 1; at 100k one
    thread is slower, 111 s against 94). An incremental build's many small nodes gain from
    two threads."""
    return ["--full-refresh", *(["--threads", "1"] if dbt_target() is Target.duckdb else [])]


def dbt_target_path(home: Home) -> Path:
    """dbt's artifacts and logs for one home: runs on different homes never share a target,
    and each engine keeps its own (partial parsing holds per profile)."""
    target = dbt_target()
    return home.root / ("dbt-target" if target is Target.duckdb else f"dbt-target-{target}")


def prepared_target_path(home: Home) -> Path:
    """``dbt_target_path``, its partial parse state dropped when another checkout of the
    project wrote it: dbt keeps absolute file paths there (seeds), and a moved or removed
    checkout would make the next build look for them where they no longer are."""
    target = dbt_target_path(home)
    marker = target / "project-dir"
    project = str(DBT_PROJECT_DIR)
    if not marker.exists() or marker.read_text() != project:
        (target / "partial_parse.msgpack").unlink(missing_ok=True)
        target.mkdir(parents=True, exist_ok=True)
        marker.write_text(project)
    return target


def spark_raw_env(home: Home) -> dict[str, str]:
    """The raw tables ingest exported for Spark (macro spark_register_raw registers them)."""
    from ingest.spark_export import raw_parquet_dir

    folder = raw_parquet_dir(home)
    names = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    return {"FUNNELHOUSE_SPARK_RAW_TABLES": ",".join(names)}


def dbt_env(home: Home) -> dict[str, str]:
    """The environment dbt runs in: the profile reads the warehouse path from it."""
    target = str(prepared_target_path(home))
    return {
        **os.environ,
        HOME_ENV: str(home.root),
        TARGET_ENV: dbt_target(),
        **spark_raw_env(home),
        "DBT_TARGET_PATH": target,
        "DBT_LOG_PATH": target,
    }


def dbt_command(*args: str) -> list[str]:
    return [
        str(DBT_EXECUTABLE),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]


def run_dbt(home: Home, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    """``dbt <args>`` for this home; output streams to the terminal unless captured."""
    return subprocess.run(
        dbt_command(*args),
        env=dbt_env(home),
        cwd=DBT_PROJECT_DIR,
        text=True,
        capture_output=capture,
        check=False,
    )


def project_files(project_dir: Path = DBT_PROJECT_DIR) -> Iterator[Path]:
    """The dbt project's own files (models, seeds, macros, tests, configuration)."""
    for path in sorted(project_dir.rglob("*")):
        if path.is_file() and not GENERATED.intersection(path.relative_to(project_dir).parts):
            yield path


def ensure_manifest() -> Path:
    """Run `dbt parse` when the manifest is missing or older than a project file."""
    if MANIFEST.exists():
        built = MANIFEST.stat().st_mtime
        if all(path.stat().st_mtime <= built for path in project_files()):
            return MANIFEST
    # One manifest for every target: Dagster's assets are the same nodes on DuckDB and Spark
    # (dbt itself re-parses per target in its own target folder when it builds).
    env = {**os.environ, "DBT_TARGET_PATH": str(MANIFEST_TARGET), TARGET_ENV: Target.duckdb}
    env.setdefault("DBT_LOG_PATH", str(MANIFEST_TARGET))
    result = subprocess.run(
        dbt_command("parse", "--quiet"),
        env=env,
        cwd=DBT_PROJECT_DIR,
        text=True,
        capture_output=True,
        check=False,
    )
    if result.returncode or not MANIFEST.exists():
        raise DbtParseError(f"dbt parse failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}")
    return MANIFEST
