"""The send journal: which claimed messages were handed to their provider, and which it accepted.

The ledger commits its ``in_flight`` claims a batch at a time (a DuckDB commit costs a few
milliseconds, which one per message would make the ceiling of a run). Between two commits the
journal says what happened to each message: one line just before it is handed over, one when
the provider accepted it. Lines are appended with ``os.write`` (no buffering in this process),
so they outlive a crash of the process: the operating system still has them. They are not
synced to disk, so a crash of the machine may lose them; the journal therefore records the
boot it was written in, and ``Journal.read`` trusts it only in the same boot.

One file per run, ``<home>/activation/journal/<run id>.journal``; the run deletes it after its
last outcomes are committed, recovery after settling the rows it describes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot of the machine ('' where the kernel does not say: never trusted)."""
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:
        return ""


@dataclass
class JournalView:
    """What one run's journal says, if it can be trusted (see the module)."""

    trusted: bool
    why_not: str | None = None
    handed_over: set[str] = field(default_factory=set)
    accepted: dict[str, tuple[str, float]] = field(default_factory=dict)  # key → (id, epoch)


class Journal:
    """The open journal of one run (written from the sending threads: each line is one
    ``O_APPEND`` write, so lines never interleave)."""

    def __init__(self, directory: Path, run_id: str):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{run_id}.journal"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(self._fd, f"boot\t{boot_id()}\n".encode())

    def handing_over(self, key: str) -> None:
        os.write(self._fd, f"handed_over\t{key}\n".encode())

    def accepted(self, key: str, message_id: str | None) -> None:
        os.write(self._fd, f"accepted\t{key}\t{message_id or ''}\t{time.time():.6f}\n".encode())

    def close(self, *, delete: bool) -> None:
        os.close(self._fd)
        if delete:
            self.path.unlink(missing_ok=True)

    @staticmethod
    def read(directory: Path, run_id: str | None) -> JournalView:
        path = directory / f"{run_id}.journal"
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return JournalView(False, "its send journal is missing")
        if not lines or lines[0] != f"boot\t{boot_id()}" or not boot_id():
            return JournalView(False, "the machine restarted since, so its journal is incomplete")
        view = JournalView(True)
        for line in lines[1:]:
            kind, _, rest = line.partition("\t")
            if kind == "handed_over":
                view.handed_over.add(rest)
            elif kind == "accepted":
                key, message_id, moment = (rest.split("\t") + ["", ""])[:3]
                view.accepted[key] = (message_id, float(moment or 0))
        return view

    @staticmethod
    def remove_all(directory: Path, keep: str | None = None) -> None:
        for path in directory.glob("*.journal"):
            if path.stem != keep:
                path.unlink(missing_ok=True)
