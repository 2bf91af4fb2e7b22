"""Whether a run needs to build: new loads, a changed dbt project, or a build grown old.

A run right after another one, with no new landing files, should do close to nothing. What a
build read is summed up in ``BuildInputs`` (the load ledger's watermark and a fingerprint of the
dbt project and arguments) and recorded after each successful build. The next run builds when
the inputs differ, or when the last build is older than ``rebuild_after`` (relative segment
dates and due campaign steps move with the clock even when no data arrives).

A build is recorded as not yet published; publishing marks it published. A run that stopped
between the two (killed, or its publish failed) leaves a build that readers never saw: the next
run with nothing to build publishes it (``Decision.publish``) instead of skipping.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from ingest.home import Home
from pipelines.dbt_project import DBT_PROJECT_DIR, project_files


@dataclass(frozen=True)
class BuildInputs:
    files_loaded: int  # files in raw._loads with status 'loaded'
    last_load: str | None  # newest finished_at among them (ISO)
    project: str  # fingerprint of the dbt project's files and the build's arguments


@dataclass(frozen=True)
class Decision:
    build: bool
    reason: str
    publish: bool = False  # nothing to build, but the last build was never published


def state_path(home: Home) -> Path:
    return home.root / "build_state.json"


def current_inputs(home: Home, dbt_args: list[str]) -> BuildInputs:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        count, last = con.execute(
            "select count(*), max(finished_at) from raw._loads where status = 'loaded'"
        ).fetchone()
    return BuildInputs(count, last.isoformat() if last else None, project_fingerprint(dbt_args))


def project_fingerprint(dbt_args: list[str], project_dir: Path = DBT_PROJECT_DIR) -> str:
    digest = hashlib.sha256(json.dumps(dbt_args).encode())
    for path in project_files(project_dir):
        relative = path.relative_to(project_dir).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def decide(
    home: Home, inputs: BuildInputs, rebuild_after: timedelta, now: datetime | None = None
) -> Decision:
    now = now or datetime.now(UTC)
    last = _read(home)
    if last is None:
        return Decision(True, "first build of this home")
    previous, built_at, published = last
    if inputs.project != previous.project:
        return Decision(True, "the dbt project or its arguments changed since the last build")
    if inputs != previous:
        new_files = inputs.files_loaded - previous.files_loaded
        return Decision(True, f"new data: {new_files:,} file(s) loaded since the last build")
    age = now - built_at
    if age >= rebuild_after:
        return Decision(
            True,
            f"the last build is {_minutes(age)} old (rebuilt after "
            f"{_minutes(rebuild_after)} for time-relative models)",
        )
    if not published:
        return Decision(
            False,
            f"up to date, but the build {_minutes(age)} ago was never published "
            "(its run stopped before publishing): publishing it",
            publish=True,
        )
    return Decision(
        False,
        f"up to date: no new files and no model changes since the build {_minutes(age)} ago",
    )


def record_build(
    home: Home, inputs: BuildInputs, built_at: datetime | None = None, *, published: bool = True
) -> None:
    """Remember a successful build (written atomically; a crash before it means a rebuild).

    The dbt step records its build with ``published=False``; ``record_published`` flips it once
    the publish step has swapped the build in."""
    built_at = built_at or datetime.now(UTC)
    _write(
        home,
        {"inputs": asdict(inputs), "built_at": built_at.isoformat(), "published": published},
    )


def record_published(home: Home) -> None:
    """The recorded build is what readers see now (called by publish, under the writer lock)."""
    try:
        state = json.loads(state_path(home).read_text())
    except (FileNotFoundError, ValueError):
        return  # nothing recorded (a subset build, or a publish without a build): nothing to mark
    if isinstance(state, dict) and state.get("published") is False:
        _write(home, {**state, "published": True})


def _write(home: Home, state: dict) -> None:
    path = state_path(home)
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(state))
    os.replace(staging, path)


def _read(home: Home) -> tuple[BuildInputs, datetime, bool] | None:
    try:
        state = json.loads(state_path(home).read_text())
        return (
            BuildInputs(**state["inputs"]),
            datetime.fromisoformat(state["built_at"]),
            state.get("published", True) is not False,  # records older than the flag: published
        )
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no readable record: build


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{delta.total_seconds():.0f} s"
