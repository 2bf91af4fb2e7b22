"""The spool: accepted events → JSON-lines batch files under ``landing/collector/``.

Every event is appended to the open batch file before its request is answered, so an event
answered 2xx is in the file even if the process is killed right after (the OS holds the
write). The open file is a dotfile, which ingest ignores; it is closed by size, event count or
age: fsync, then renamed to its final name, so ingest never reads half a batch. A file left
open by a killed collector is recovered at the next start (a torn last line is cut off: it
was never answered).
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OPEN_PREFIX = ".open-"


@dataclass
class _Batch:
    path: Path  # the open dotfile
    fd: int
    opened: float
    events: int = 0
    bytes: int = 0


@dataclass
class SpoolStats:
    events: int = 0
    files: int = 0
    recovered_files: int = 0
    recovered_events: int = 0
    last_file: str | None = None
    file_names: list[str] = field(default_factory=list)


class Spool:
    def __init__(self, folder: Path, max_events: int, max_bytes: int, max_age_seconds: float):
        self.folder = folder
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.max_age_seconds = max_age_seconds
        self.stats = SpoolStats()
        self._lock = threading.Lock()
        self._batch: _Batch | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self._recover()

    def append(self, events: Iterable[dict[str, Any]]) -> int:
        """Write events to the open batch (one ``write``); returns how many were written."""
        lines = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events]
        if not lines:
            return 0
        data = ("\n".join(lines) + "\n").encode()
        with self._lock:
            batch = self._batch or self._open()
            written = 0
            while written < len(data):  # os.write may write less than asked
                written += os.write(batch.fd, data[written:])
            batch.events += len(lines)
            batch.bytes += len(data)
            self.stats.events += len(lines)
            if batch.events >= self.max_events or batch.bytes >= self.max_bytes:
                self._close()
        return len(lines)

    def flush_if_due(self, now: float | None = None) -> None:
        """Close the open batch once it is older than ``max_age_seconds`` (the timer calls it)."""
        with self._lock:
            batch = self._batch
            if batch and (now or time.monotonic()) - batch.opened >= self.max_age_seconds:
                self._close()

    def close(self) -> None:
        """Close the open batch now (graceful shutdown)."""
        with self._lock:
            if self._batch:
                self._close()

    # --- internals (called with the lock held) ---

    def _open(self) -> _Batch:
        path = self.folder / f"{OPEN_PREFIX}{_stamp()}-{uuid.uuid4().hex[:8]}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o640)
        self._batch = _Batch(path, fd, time.monotonic())
        return self._batch

    def _close(self) -> None:
        batch, self._batch = self._batch, None
        try:
            os.fsync(batch.fd)
        finally:
            os.close(batch.fd)
        self._publish(batch.path)

    def _publish(self, open_path: Path) -> None:
        final = _final_path(self.folder, open_path)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(open_path, final)
        _fsync_dir(final.parent)
        _fsync_dir(self.folder)
        self.stats.files += 1
        self.stats.last_file = str(final)

    def _recover(self) -> None:
        """Batches a killed collector left open: keep every complete line, publish them."""
        for path in sorted(self.folder.glob(f"{OPEN_PREFIX}*.jsonl")):
            data = path.read_bytes()
            complete = data[: data.rfind(b"\n") + 1]
            if not complete:
                path.unlink()
                continue
            if len(complete) < len(data):
                with path.open("r+b") as handle:
                    handle.truncate(len(complete))
                    os.fsync(handle.fileno())
            self.stats.recovered_files += 1
            self.stats.recovered_events += complete.count(b"\n")
            self._publish(path)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _final_path(folder: Path, open_path: Path) -> Path:
    """``.open-<stamp>-<id>.jsonl`` → ``<yyyy-mm-dd>/<stamp>-<id>.jsonl`` (a folder per day)."""
    name = open_path.name.removeprefix(OPEN_PREFIX)
    day = f"{name[0:4]}-{name[4:6]}-{name[6:8]}"
    return folder / day / name


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
