"""Files: atomic placement in the landing zone, CSV and JSON-lines writing.

Every file is written under a staging folder beside the landing zone and renamed into place
when complete, so a reader watching ``landing/`` never sees half a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import polars as pl

STAGING = ".generator-staging"
CONTACTS_FILE = re.compile(r"^contacts-(\d{4,})\.csv$")
EVENTS_FILE = re.compile(r"^events-(\d{4,})\.jsonl$")


def contacts_file(folder: Path, chunk: int) -> Path:
    return folder / f"contacts-{chunk:04d}.csv"


def events_file(folder: Path, chunk: int) -> Path:
    return folder / f"events-{chunk:04d}.jsonl"


@contextmanager
def placed(path: Path, staging: Path):
    """Yield a staging path; on success it is renamed to ``path``."""
    staging.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = staging / f"{path.parent.name}--{path.name}.{os.getpid()}"
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_csv(frame: pl.DataFrame, path: Path, staging: Path) -> Path:
    """Comma-separated with a header; empty text is written as an empty, unquoted field."""
    frame = frame.with_columns(pl.col(pl.String).replace("", None))
    with placed(path, staging) as temp:
        frame.write_csv(temp)
    return path


def write_ndjson(frames: Iterable[pl.DataFrame], path: Path, staging: Path) -> Path:
    """Write frames one after another into one JSON-lines file (one handle, opened once)."""
    with placed(path, staging) as temp, temp.open("wb") as handle:
        for frame in frames:
            if frame.height:
                frame.write_ndjson(handle)
    return path


def stale_files(folder: Path, pattern: re.Pattern[str], chunks: int) -> list[Path]:
    """Generator files of an earlier, larger generation (chunk numbers past ``chunks``)."""
    if not folder.is_dir():
        return []
    stale = []
    for path in sorted(folder.iterdir()):
        match = pattern.match(path.name)
        if match and int(match.group(1)) >= chunks:
            stale.append(path)
    return stale
