"""Running the dbt project against a data home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingest.home import HOME_ENV, Home

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def dbt_target_path(home: Home) -> Path:
    """dbt's artifacts and logs for one home: runs on different homes never share a target."""
    return home.root / "dbt-target"


def dbt_env(home: Home) -> dict[str, str]:
    """The environment dbt runs in: the profile reads the warehouse path from it."""
    target = str(dbt_target_path(home))
    return {
        **os.environ,
        HOME_ENV: str(home.root),
        "DBT_TARGET_PATH": target,
        "DBT_LOG_PATH": target,
    }


def dbt_command(*args: str) -> list[str]:
    executable = Path(sys.executable).with_name("dbt")
    return [
        str(executable),
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
