"""Concurrency: dashboards reading while runs write, two runs at once, an ingest during a run.

One episode on one home, with real processes: the home holds an earlier build, published, and
new files have landed. Two `funnelhouse run` start at the same moment; once one of them builds,
`funnelhouse ingest` starts too. Meanwhile, in this process, two reader threads use the
dashboards' own data access (``dashboards.data`` and the pipeline health page's queries) on
the published file without pause, and a witness samples the kernel's lock table
(``/proc/locks``): which process holds the writer lock (a flock on ``.warehouse.lock``) and
which one has the warehouse open for writing (DuckDB's POSIX write lock on its file).

What must hold: every reader query succeeds and sees one published build, whole (its event
count and its publish row belong together); the warehouse never has two writers, and its one
writer always holds the writer lock (or is the dbt process of the run that holds it); the
processes all succeed, one of them waiting for the lock; the new files are loaded once, dbt
builds once, and what is published is that build.
"""

from __future__ import annotations

import io
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.home import Home
from pipelines.lock import lock_path
from pipelines.publish import published_path
from tests.test_crash_safety import (
    Proc,
    build_state,
    checkout_earlier_build,
    half_loaded,
    land,
    landing_loads,
    mart_figures,
    published_tables,
    staging_files,
    start,
    wait_until,
    warehouse_tables,
)

# One read: the build's size and its publish row, in a single statement.
STATE_SQL = """
select
    (select count(*) from marts.fct_events) as events,
    (select count(*) from marts.dim_contacts) as contacts,
    (select count(*) from pipeline.loads) as loads,
    (select any_value(run_id) from pipeline.publish) as run_id
"""


def published_state(home: Home) -> tuple:
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        return con.execute(STATE_SQL).fetchone()


class Readers:
    """Dashboard sessions: threads querying the published marts through dashboards.data."""

    def __init__(self, sessions: int = 2):
        self.stop = threading.Event()
        self.states: list[tuple] = []  # (events, contacts, loads, run_id) per read
        self.table_counts: list[tuple] = []  # (events, contacts, loads) per table_rows()
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._read, daemon=True) for _ in range(sessions)]

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def _read(self) -> None:
        from dashboards import data
        from dashboards.queries import pipeline_health

        while not self.stop.is_set():
            try:
                # Uncached (the download path): a real query on the file each time.
                frame = pl.read_csv(io.BytesIO(data.export_csv(STATE_SQL)))
                self.states.append(frame.row(0))
                # Cached per published build (what the pages use): the pipeline health page's
                # publish row and row counts of every published table.
                publish_row = pipeline_health.publish()
                rows = {
                    f"{layer}.{name}": n
                    for layer, name, n in pipeline_health.table_rows().iter_rows()
                }
                self.table_counts.append(
                    (rows["marts.fct_events"], rows["marts.dim_contacts"], rows["pipeline.loads"])
                )
                assert publish_row is not None
            except Exception as error:  # every error counts: there must be none
                self.errors.append(f"{type(error).__name__}: {error}")
            time.sleep(0.2)  # a busy dashboard, not a benchmark: the runs need the CPUs


@dataclass
class LockWitness:
    """Samples /proc/locks: the writer lock's holder and the warehouse's writers."""

    home: Home
    samples: int = 0
    writing_samples: int = 0
    writers_seen: set = field(default_factory=set)
    holders_seen: set = field(default_factory=set)
    violations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.warehouse = _lock_id(self.home.warehouse)
        self.lock = _lock_id(lock_path(self.home))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> LockWitness:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(60)

    def _watch(self) -> None:
        while not self.stop.is_set():
            writers, holders = set(), set()
            for line in Path("/proc/locks").read_text().splitlines():
                parts = line.split()
                if "->" in parts or len(parts) < 6 or parts[3] != "WRITE":
                    continue  # a blocked request, or a read lock
                kind, pid, file = parts[1], int(parts[4]), parts[5]
                if kind == "POSIX" and file == self.warehouse:
                    writers.add(pid)
                elif kind == "FLOCK" and file == self.lock:
                    holders.add(pid)
            self.samples += 1
            self.holders_seen |= holders
            if writers:
                self.writing_samples += 1
                self.writers_seen |= writers
                self._check(writers, holders)
            time.sleep(0.02)

    def _check(self, writers: set[int], holders: set[int]) -> None:
        if len(writers) > 1:
            self.violations.append(f"two writers at once: {sorted(writers)}")
            return
        (writer,) = writers
        lineage = {writer, *_ancestors(writer)}
        if not holders & lineage:
            self.violations.append(
                f"writer {writer} (lineage {sorted(lineage)}) without the lock "
                f"(held by {sorted(holders)})"
            )


def _lock_id(path: Path) -> str:
    """A file as /proc/locks names it: major:minor:inode, in hex for the device."""
    stat = path.stat()
    return f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"


def _ancestors(pid: int) -> list[int]:
    found = []
    for _ in range(4):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: ppid
        if pid <= 1:
            break
        found.append(pid)
    return found


@dataclass
class Episode:
    home: Home
    before: tuple  # the published state before the runs
    runs: list[Proc]
    ingest: Proc
    codes: dict[str, int]
    readers: Readers
    witness: LockWitness


@pytest.fixture(scope="module")
def episode(tmp_path_factory) -> Episode:
    earlier = checkout_earlier_build(tmp_path_factory)
    home = earlier.home
    land(home, earlier.aside)
    before = published_state(home)

    mp = pytest.MonkeyPatch()
    mp.setenv("FUNNELHOUSE_HOME", str(home.root))  # where dashboards.data looks
    procs: list[Proc] = []
    try:
        with Readers() as readers, LockWitness(home) as witness:
            wait_until(lambda: readers.states, "a first read", poll=0.01)
            runs = [start("run", "--home", str(home.root)) for _ in range(2)]
            procs += runs
            wait_until(
                lambda: any("dbt: " in p.output for p in runs), "a run's dbt step", poll=0.01
            )
            ingest = start("ingest", "--home", str(home.root))
            procs.append(ingest)
            codes = {
                "run 1": runs[0].finish(),
                "run 2": runs[1].finish(),
                "ingest": ingest.finish(),
            }
            time.sleep(0.2)  # the readers see the final build too
    finally:
        mp.undo()
        for proc in procs:
            proc.cleanup()
    return Episode(home, before, runs, ingest, codes, readers, witness)


def models_built(proc: Proc) -> int:
    found = re.search(r"dbt models and seeds built\s*│\s*([\d,]+)\s*│", proc.output)
    assert found, proc.output[-3000:]
    return int(found.group(1).replace(",", ""))


def test_two_runs_and_an_ingest_at_once_take_turns_and_build_once(episode: Episode) -> None:
    outputs = "\n\n".join(p.output for p in [*episode.runs, episode.ingest])
    assert set(episode.codes.values()) == {0}, (episode.codes, outputs[-6000:])
    # The ingest started while a run held the warehouse: it waited, then had nothing to load.
    assert "waiting for the warehouse: held by run" in episode.ingest.output, outputs[-6000:]
    assert "0 files loaded" in episode.ingest.output
    # The second run waited for the first one's steps, and did not build again.
    assert any("waiting for the warehouse: held by run" in p.output for p in episode.runs)
    built = sorted(models_built(p) for p in episode.runs)
    assert built[0] == 0 and built[1] > 50, outputs[-6000:]
    # The lock table never showed two writers, nor a writer without the lock.
    witness = episode.witness
    assert witness.violations == []
    assert witness.writing_samples > 0 and len(witness.holders_seen) >= 2, witness


def test_the_result_is_one_build_loaded_once_and_published(episode: Episode) -> None:
    home = episode.home
    assert half_loaded(home) == []
    assert set(landing_loads(home).values()) == {1}, landing_loads(home)
    assert build_state(home)["published"] is True
    assert staging_files(home) == []
    published = published_tables(home)
    assert published == {"pipeline.publish": 1} | warehouse_tables(home, published)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        events = con.execute("select count(distinct event_id) from raw.events").fetchone()[0]
    assert published_state(home)[0] == events > episode.before[0]
    assert mart_figures(published_path(home)) == mart_figures(home.warehouse)


def test_dashboards_read_whole_builds_without_error_throughout(episode: Episode) -> None:
    readers = episode.readers
    assert readers.errors == []
    after = published_state(episode.home)
    run_ids = {
        m.group(1) for p in episode.runs for m in re.finditer(r"run (\w{8}) succeeded", p.output)
    }
    allowed = {episode.before[:3], after[:3]}
    for state in readers.states:
        assert state[:3] in allowed, state
        if state[:3] == episode.before[:3]:
            assert state[3] == episode.before[3]
        else:
            assert state[3][:8] in run_ids, (state, run_ids)
    assert set(readers.table_counts) <= allowed
    # The readers saw the earlier build and the new one, and read all along.
    assert {s[:3] for s in readers.states} == allowed
    assert len(readers.states) > 50
