"""A real collector process for the tests: `funnelhouse collect` on 127.0.0.1 in its own
process group, waited for by its health endpoint, stopped with a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ingest.home import Home
from tests.activation_servers import free_port

FUNNELHOUSE = Path(sys.executable).with_name("funnelhouse")
SECRET = "collector-test-secret"


class Collector:
    def __init__(self, home: Home, log: Path, **settings: str):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "FUNNELHOUSE_UNSUBSCRIBE_SECRET": SECRET,
            "FUNNELHOUSE_COLLECTOR_FLUSH_SECONDS": "0.5",
            **{f"FUNNELHOUSE_{k.upper()}": v for k, v in settings.items()},
        }
        self.log = log
        with log.open("a") as output:
            self.process = subprocess.Popen(
                [FUNNELHOUSE, "collect", "--home", str(home.root), "--port", str(self.port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_healthy()

    def _wait_healthy(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"collector exited:\n{self.log.read_text()}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"collector not up after {seconds} s:\n{self.log.read_text()}")

    def stats(self) -> dict:
        return httpx.get(f"{self.url}/collector/stats", timeout=5).json()

    def wait_for_events(self, count: int, seconds: float = 20) -> dict:
        """Stats once at least ``count`` events were accepted (browsers send beacons later)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            stats = self.stats()
            if stats["accepted_events"] >= count:
                return stats
            time.sleep(0.1)
        raise AssertionError(f"fewer than {count} events arrived: {self.stats()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        return self.process.wait(timeout=30)

    def stop_gracefully(self) -> None:
        """SIGTERM: uvicorn finishes the requests in flight, the spool closes its open batch,
        then uvicorn re-raises the signal (so the exit status says SIGTERM, by design)."""
        code = self.stop(signal.SIGTERM)
        assert code in (0, -signal.SIGTERM), f"exit {code}:\n{self.log.read_text()[-3000:]}"
        assert open_batches(self.home) == [], "an open batch was left behind"

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.stop(signal.SIGKILL)


def spooled(home: Home) -> list[dict]:
    """Every call in the collector's closed batch files."""
    folder = home.landing / "collector"
    return [
        json.loads(line)
        for path in sorted(folder.rglob("*.jsonl"))
        if not path.name.startswith(".")
        for line in path.read_text().splitlines()
    ]


def open_batches(home: Home) -> list[Path]:
    return sorted((home.landing / "collector").glob(".open-*"))
