"""One writer at a time: an advisory file lock beside the warehouse.

DuckDB lets a single process open a file for writing; a second writer would fail with a lock
error halfway through a run. Every step that writes the warehouse (ingest, dbt, publish, the
command line's ingest and build) holds this lock, so a second run waits its turn (up to a
timeout) instead. Dagster's run queue adds a tag concurrency limit for runs it launches; this
lock also covers in-process runs (`funnelhouse run`) that never pass through that queue.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from ingest.home import Home


class WarehouseBusy(RuntimeError):
    pass


def lock_path(home: Home):
    return home.root / ".warehouse.lock"


@contextmanager
def warehouse_lock(
    home: Home, holder: str, timeout: float = 3600, poll: float = 0.2, on_wait=None
) -> Iterator[None]:
    """Hold the home's writer lock; ``on_wait(owner)`` is told once when another run has it."""
    path = lock_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                owner = _read_owner(fd)
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"the warehouse of {home.root} is being written by {owner}; "
                        f"gave up after waiting {timeout:.0f} s"
                    ) from None
                if on_wait and not told:
                    on_wait(owner)
                    told = True
                time.sleep(poll)
        owner = {"pid": os.getpid(), "holder": holder, "since": datetime.now(UTC).isoformat()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_owner(fd: int) -> str:
    try:
        owner = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        owner = {}
    if not owner:
        return "another process"
    return f"{owner.get('holder', '?')} (pid {owner.get('pid', '?')}, since {owner.get('since')})"
