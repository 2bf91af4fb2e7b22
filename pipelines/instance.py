"""Each data home has its own Dagster instance (run history, schedules) in <home>/dagster/."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from ingest.home import Home

INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")


def dagster_home(home: Home) -> Path:
    """<home>/dagster with its dagster.yaml (written once; an operator may edit it after)."""
    path = home.root / "dagster"
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(INSTANCE_TEMPLATE, config)
    return path


def instance_for(home: Home) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(dagster_home(home)))
