"""Crash safety: `funnelhouse run` killed with SIGKILL (the whole process group, so dbt goes
too) while it ingests, while dbt builds and while it publishes; the next run finishes the job.

One home goes through the chain. It first holds an earlier build, published: part of a
generated landing zone, ingested, its models built (without dbt's tests, which take most of a
build's time) and published; that published file is what every kill must leave whole. (The
earlier build is made once per session and shared with test_concurrency.py.) Then the rest of
the generated files land and the runs go:

0. terminated (SIGTERM to its process only, as `kill PID` does) once ingest has committed a
   file: the graceful path, Dagster interrupts the step;
1. killed once ingest has committed another file (the run prints each file it commits);
2. killed when dbt starts ``fct_points_ledger`` (dbt writes a model's SQL under
   ``dbt-target/run/`` as it starts it): staging and the event facts are rebuilt by then,
   incrementally, on top of the earlier build;
3. builds everything, and is killed when the publish's staging file appears;
4. runs to the end: nothing left to build, but the build of run 3 was never published.

Each run is observed from outside (its output, files dbt and publish create), never paused by
a test hook. After each kill: the process group is gone, the writer lock is free (the kernel
drops a dead process's flock), every file in the load ledger is in raw.* with exactly its
rows and none half loaded, and the published file is byte for byte the earlier one. At the end
the marts equal a reference: the same landing files ingested and built uninterrupted, in a
second home while the chain runs.

The helpers are shared with test_concurrency.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.home import Home
from ingest.loader import content_hash, landing_files
from pipelines.dbt_project import DBT_PROJECT_DIR, dbt_command, dbt_env
from pipelines.lock import WarehouseBusy, lock_path, warehouse_lock
from pipelines.publish import STAGING_PREFIX, published_path

BIN = Path(sys.executable).parent
WAIT = 900  # seconds: a safety net for a stuck process, not a measure of speed
MODELS_ONLY = ("build", "--exclude", "resource_type:test", "resource_type:unit_test")
PYCACHE = Path(tempfile.gettempdir()) / f"funnelhouse-tests-pycache-{os.getuid()}"
LATER = tuple(f"-000{chunk}.{ext}" for chunk in (1, 2, 3) for ext in ("csv", "jsonl"))


# --- homes ---------------------------------------------------------------------------------


def generate_landing(home: Home, seed: int) -> None:
    """A tiny landing zone: 60 contacts over 7 days, in 4 chunks (4 contacts and 4 events
    files, plus companies and catalogs), so that ingest has files to commit one by one."""
    from ingest.generator import generate

    generate(
        home,
        contacts=60,
        days=7,
        seed=seed,
        end_date=datetime.now(UTC).date(),
        workers=1,
        chunk_size=15,
    )


def hold_back(home: Home, aside: Path, keep: Callable[[str], bool]) -> list[str]:
    """Move the landing files ``keep`` refuses out of landing/ (into ``aside``)."""
    moved = []
    for landing_file in list(landing_files(home)):
        if not keep(landing_file.relative):
            target = aside / landing_file.relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(landing_file.path, target)
            moved.append(landing_file.relative)
    return moved


def land(home: Home, aside: Path) -> None:
    """The files held back arrive."""
    for path in sorted(p for p in aside.rglob("*") if p.is_file()):
        target = home.landing / path.relative_to(aside)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)


def publish_earlier_build(home: Home) -> str:
    """Ingest what has landed, build the models (no dbt tests) and publish: an earlier build,
    as readers see it. Returns the published file's sha256."""
    from ingest.loader import ingest, load_campaigns
    from pipelines.publish import publish

    with warehouse_lock(home, "test: earlier build"):
        reports = ingest(home)
        assert all(r.status == "loaded" for r in reports), reports
        assert load_campaigns(home).ok
        dbt(home, *MODELS_ONLY)
        publish(home, run_id="earlier-build")
    return file_sha(published_path(home))


@dataclass
class EarlierBuild:
    """A home with an earlier build published and six files about to land (``aside``)."""

    home: Home
    aside: Path  # the files that land next
    everything: Path  # the whole generated landing zone
    published_sha: str
    published_events: int


def checkout_earlier_build(tmp_path_factory) -> EarlierBuild:
    """The earlier-build home, made once per test session and restored for each module that
    asks, always at the same path: dbt parses the project once per path (its profile names
    the home), and the partial parse it keeps in the home stays valid for the copies."""
    base = tmp_path_factory.getbasetemp() / "earlier-build"
    home = Home.resolve(base / "home")
    snapshot = base / "snapshot"
    if not snapshot.exists():
        home.ensure()
        generate_landing(home, seed=23)
        shutil.copytree(home.landing, base / "everything")
        # The first chunk (with the catalogs and companies) makes the earlier build;
        # chunks 1-3 (six files, committed one by one) land later.
        assert len(hold_back(home, base / "later", lambda path: not path.endswith(LATER))) == 6
        publish_earlier_build(home)
        shutil.copytree(home.root, snapshot)
    shutil.rmtree(home.root)
    shutil.copytree(snapshot, home.root)
    aside = base / "later-checked-out"
    shutil.rmtree(aside, ignore_errors=True)
    shutil.copytree(base / "later", aside)
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        events = con.execute("select count(*) from marts.fct_events").fetchone()[0]
    return EarlierBuild(home, aside, base / "everything", file_sha(published_path(home)), events)


def dbt(home: Home, *args: str) -> None:
    completed = subprocess.run(
        dbt_command(*args),
        env={**dbt_env(home), **child_env()},
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]


def child_env(**extra: str) -> dict[str, str]:
    """The environment of the processes these tests start: the send give-up delay is pushed
    out so that activation (email and SMS are not configured) writes no result files that a
    later run would load."""
    env = {**os.environ, "FUNNELHOUSE_SEND_GIVE_UP_AFTER_HOURS": "100000", **extra}
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        # Without bytecode files every new process compiles dagster, dbt and the rest from
        # source again (about 5 s each); these processes share a cache outside the sources.
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


# --- processes -----------------------------------------------------------------------------


@dataclass
class Proc:
    """A funnelhouse command in its own process group, its output collected as it comes."""

    argv: list[str]
    process: subprocess.Popen
    started_ns: int
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, predicate: Callable[[str], bool], what: str) -> str:
        def seen():
            found = next((line for line in list(self.lines) if predicate(line)), None)
            if found is None and self.process.poll() is not None:
                self.reader.join(5)
                raise AssertionError(f"{what}: the process ended first\n{self.output[-3000:]}")
            return found

        return wait_until(seen, what)

    def kill(self, sig: int = signal.SIGKILL) -> int:
        """``sig`` to the whole process group (dbt, a child, included); waits for the end."""
        os.killpg(self.process.pid, sig)
        code = self.process.wait(WAIT)
        self.reader.join(WAIT)
        return code

    def finish(self) -> int:
        code = self.process.wait(WAIT)
        self.reader.join(WAIT)
        return code

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def cleanup(self) -> None:
        if self.process.poll() is None or self.group_alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(WAIT)


def start(*args: str) -> Proc:
    argv = [str(BIN / "funnelhouse"), *args]
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a kill reaches dbt too
        env=child_env(),
    )
    proc = Proc(argv, process, time.time_ns())

    def pump():
        for line in process.stdout:
            proc.lines.append(line.rstrip("\n"))

    proc.reader = threading.Thread(target=pump, daemon=True)
    proc.reader.start()
    return proc


def wait_until(condition: Callable[[], object], what: str, poll: float = 0.002):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"gave up waiting for {what}")


# --- what a home holds ---------------------------------------------------------------------


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lock_is_free(home: Home) -> bool:
    try:
        with warehouse_lock(home, "test: is the lock free", timeout=0):
            return True
    except WarehouseBusy:
        return False


def ledger(home: Home) -> list[tuple]:
    """(path, content hash, target table, rows loaded) of every loaded file version."""
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(
            "select path, content_hash, target_table, rows_loaded from raw._loads "
            "where status = 'loaded' order by path, content_hash"
        ).fetchall()


def raw_rows_by_source(home: Home) -> dict[tuple[str, str], int]:
    """Rows per (raw table, _source) for every table the ledger mentions."""
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select distinct target_table from raw._loads where target_table is not null"
            ).fetchall()
        ]
        counts = {}
        for table in tables:
            for source, rows in con.execute(
                f'select _source, count(*) from raw."{table}" group by _source'
            ).fetchall():
                counts[(table, source)] = rows
    return counts


def half_loaded(home: Home) -> list[str]:
    """Files whose rows in raw.* differ from what the ledger says was loaded, and rows in
    raw.* of files the ledger does not list as loaded: both empty after any crash."""
    rows = raw_rows_by_source(home)
    problems = []
    expected = {}
    for path, _, table, loaded in ledger(home):
        expected[(table, path)] = expected.get((table, path), 0) + loaded
    for key, loaded in expected.items():
        if rows.get(key, 0) != loaded:
            problems.append(f"{key}: ledger {loaded}, raw {rows.get(key, 0)}")
    problems += [
        f"{key}: {n} rows, not in the ledger" for key, n in rows.items() if key not in expected
    ]
    return problems


def landing_loads(home: Home) -> dict[str, int]:
    """How many times each landing file (this exact content) is in the ledger as loaded."""
    loaded = ledger(home)
    return {
        f.relative: sum(
            1
            for path, digest, _, _ in loaded
            if path == f.relative and digest == content_hash(f.path)
        )
        for f in landing_files(home)
    }


def staging_files(home: Home) -> list[str]:
    return sorted(p.name for p in home.published.glob(f"{STAGING_PREFIX}*"))


def build_state(home: Home) -> dict | None:
    path = home.root / "build_state.json"
    return json.loads(path.read_text()) if path.exists() else None


# Key figures of the marts a crash could leave wrong; the hashes of ids change when any row
# changes hands (an event attributed to another contact, a member swapped for another).
MART_FIGURES = {
    "fct_events": """
        select event_type, count(*), count(distinct event_id), count(contact_id),
            count(distinct visitor_id), sum(coalesce(points_delta, 0)),
            sum(hash(concat_ws('|', event_id, contact_id))) % 1000000007
        from marts.fct_events group by event_type order by event_type""",
    "dim_contacts": """
        select count(*), count(distinct email), sum(points), sum(page_views), sum(email_opens),
            count(stage_id), count(*) filter (where is_dnc_email),
            sum(hash(concat_ws('|', contact_id, points, stage_id))) % 1000000007
        from marts.dim_contacts""",
    "segment_membership": """
        select segment_id, count(*), sum(hash(contact_id)) % 1000000007
        from marts.segment_membership group by segment_id order by segment_id""",
    "fct_points_ledger": """
        select entry_type, count(*), sum(delta), count(distinct contact_id),
            sum(hash(concat_ws('|', contact_id, rule_id, event_id, delta))) % 1000000007
        from marts.fct_points_ledger group by entry_type order by entry_type""",
}


def mart_figures(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in MART_FIGURES.items()}


def published_tables(home: Home) -> dict[str, int]:
    """Rows of every table in the published file, by "schema.table"."""
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        return {f"{schema}.{name}": rows(con, f"{schema}.{name}") for schema, name in names}


def warehouse_tables(home: Home, names) -> dict[str, int]:
    """Rows of the build's relations the published file copied (its pipeline tables from raw)."""
    sources = {"pipeline.loads": "raw._loads", "pipeline.quarantine": "raw.quarantine"}
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return {
            name: rows(con, sources.get(name, name)) for name in names if name != "pipeline.publish"
        }


def rows(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    quoted = ".".join(f'"{part}"' for part in relation.split("."))
    return con.execute(f"select count(*) from {quoted}").fetchone()[0]


# --- the chain -----------------------------------------------------------------------------


@dataclass
class Step:
    proc: Proc
    code: int
    seen: dict = field(default_factory=dict)  # what the test observed right after the step


class Chain:
    """The home and its runs, each step done once, in order, when a test first asks for it."""

    STEPS = ("terminate", "ingest", "dbt", "publish", "rerun")

    def __init__(self, home: Home, aside: Path, earlier_sha: str, earlier_events: int, reference):
        self.home = home
        self.aside = aside
        self.reference = reference
        self.earlier_sha = earlier_sha
        self.earlier_events = earlier_events
        self.done: dict[str, Step] = {}

    def step(self, name: str) -> Step:
        for earlier in self.STEPS[: self.STEPS.index(name) + 1]:
            if earlier not in self.done:
                self.done[earlier] = getattr(self, f"_{earlier}")()
        return self.done[name]

    def _observe(self, proc: Proc, code: int) -> Step:
        home = self.home
        # Every process of the group goes with the kill (the leader's children are reaped by
        # init a moment later).
        deadline = time.monotonic() + 60
        while proc.group_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen = {
            "group_alive": proc.group_alive(),
            "lock_owner": lock_path(home).read_text(),  # before lock_is_free() empties it
            "lock_free": lock_is_free(home),
            "half_loaded": half_loaded(home),
            "landing_loads": landing_loads(home),
            "published_sha": file_sha(published_path(home)),
            "staging_files": staging_files(home),
            "build_state": build_state(home),
        }
        with duckdb.connect(str(home.warehouse), read_only=True) as con:
            seen["fct_events"] = con.execute("select count(*) from marts.fct_events").fetchone()[0]
        return Step(proc, code, seen)

    def _run(self, marker: Callable[[Proc], object], what: str) -> Step:
        proc = start("run", "--home", str(self.home.root))
        try:
            wait_until(lambda: marker(proc), what)
            code = proc.kill(signal.SIGKILL)
        finally:
            proc.cleanup()
        return self._observe(proc, code)

    def _terminate(self) -> Step:
        land(self.home, self.aside)
        proc = start("run", "--home", str(self.home.root))
        try:
            proc.wait_for_line(lambda line: " → raw." in line, "a committed file")
            os.kill(proc.process.pid, signal.SIGTERM)  # the process only, as `kill PID` does
            code = proc.finish()
        finally:
            proc.cleanup()
        return self._observe(proc, code)

    def _ingest(self) -> Step:
        return self._run(
            lambda proc: proc.wait_for_line(lambda line: " → raw." in line, "a committed file"),
            "ingest to commit its first file",
        )

    def _dbt(self) -> Step:
        started = self.home.root / "dbt-target/run/funnelhouse/models/marts/fct_points_ledger.sql"

        def starting(proc: Proc) -> bool:
            if proc.process.poll() is not None:
                raise AssertionError(f"the run ended before dbt got there\n{proc.output[-3000:]}")
            return started.exists() and started.stat().st_mtime_ns > proc.started_ns

        return self._run(starting, "dbt to start fct_points_ledger")

    def _publish(self) -> Step:
        def publishing(proc: Proc) -> bool:
            if proc.process.poll() is not None:
                raise AssertionError(f"the run ended before publishing\n{proc.output[-3000:]}")
            return any(name.endswith(".duckdb") for name in staging_files(self.home))

        return self._run(publishing, "the publish's staging file")

    def _rerun(self) -> Step:
        proc = start("run", "--home", str(self.home.root))
        try:
            code = proc.finish()
        finally:
            proc.cleanup()
        return self._observe(proc, code)


class Reference:
    """The same landing files ingested and built in one go, in a thread while the chain runs."""

    def __init__(self, home: Home):
        self.home = home
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._build, daemon=True)
        self.thread.start()

    def _build(self) -> None:
        from ingest.loader import ingest, load_campaigns

        try:
            reports = ingest(self.home)
            assert all(r.status == "loaded" for r in reports), reports
            assert load_campaigns(self.home).ok
            dbt(self.home, *MODELS_ONLY)
        except BaseException as error:  # reported by result()
            self.error = error

    def result(self) -> Home:
        self.thread.join(WAIT)
        if self.error:
            raise self.error
        return self.home


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Chain:
    earlier = checkout_earlier_build(tmp_path_factory)
    reference = Home.resolve(tmp_path_factory.mktemp("crash") / "reference").ensure()
    shutil.copytree(earlier.everything, reference.landing, dirs_exist_ok=True)
    return Chain(
        earlier.home,
        earlier.aside,
        earlier.published_sha,
        earlier.published_events,
        Reference(reference),
    )


def later_files_loaded(step: Step) -> int:
    return sum(n for path, n in step.seen["landing_loads"].items() if path.endswith(LATER))


def assert_consistent(chain: Chain, step: Step) -> None:
    """What must hold after any stop: no process left, the lock free, nothing half loaded,
    no file loaded twice, and the earlier published file untouched."""
    seen = step.seen
    assert not seen["group_alive"], "a process of the stopped run is still there"
    assert seen["lock_free"]
    assert seen["half_loaded"] == []
    assert all(n <= 1 for n in seen["landing_loads"].values()), seen["landing_loads"]
    # Readers still have the earlier build, whole: the same bytes.
    assert seen["published_sha"] == chain.earlier_sha


def assert_survived_a_kill(chain: Chain, step: Step) -> None:
    assert step.code == -signal.SIGKILL, step.proc.output[-3000:]
    # The killed run held the writer lock when it died (its pid is still written in the lock
    # file), and the lock is free: the kernel released it with the process.
    assert json.loads(step.seen["lock_owner"])["pid"] == step.proc.process.pid
    assert_consistent(chain, step)


def test_a_run_terminated_while_ingesting_rolls_back_and_stops(chain: Chain) -> None:
    step = chain.step("terminate")
    # SIGTERM to the run's process alone (as `kill PID` or a supervisor sends it): Dagster
    # interrupts the step, the file in progress rolls back, the lock is let go.
    assert step.code == 1, step.proc.output[-3000:]
    assert "✗ ingest failed" in step.proc.output and "Interrupted" in step.proc.output
    assert step.seen["lock_owner"] == ""  # released the ordinary way
    assert_consistent(chain, step)
    assert 1 <= later_files_loaded(step) < len(LATER)


def test_a_run_killed_while_ingesting_keeps_whole_files_only(chain: Chain) -> None:
    before = later_files_loaded(chain.step("terminate"))
    step = chain.step("ingest")
    assert_survived_a_kill(chain, step)
    # Killed between files: one more committed (its line was printed), not all of them.
    assert before < later_files_loaded(step) < len(LATER)
    assert "✓ ingest" not in step.proc.output


def test_the_next_run_killed_while_dbt_builds_has_loaded_every_file_once(chain: Chain) -> None:
    step = chain.step("dbt")
    assert_survived_a_kill(chain, step)
    assert set(step.seen["landing_loads"].values()) == {1}, step.seen["landing_loads"]
    assert "✓ ingest succeeded" in step.proc.output and "dbt: first build" in step.proc.output
    # Killed in the middle of the build: the event facts already hold the new events …
    assert step.seen["fct_events"] > chain.earlier_events
    # … and no build is recorded, so the next run builds again.
    assert step.seen["build_state"] is None


def test_the_next_run_killed_while_publishing_leaves_the_old_file(chain: Chain) -> None:
    step = chain.step("publish")
    assert_survived_a_kill(chain, step)
    assert "✓ dbt build succeeded" in step.proc.output
    # The build is recorded as built but not published; the staging file is left behind.
    assert step.seen["build_state"]["published"] is False
    assert len(step.seen["staging_files"]) >= 1


def test_the_run_after_the_crashes_publishes_the_build_and_cleans_up(chain: Chain) -> None:
    step = chain.step("rerun")
    output = step.proc.output
    assert step.code == 0, output[-4000:]
    # Nothing new to build: the build of the killed run is published, not rebuilt.
    assert "was never published" in output and "dbt: published the build" in output, output
    assert re.search(r"dbt models and seeds built\s*│\s*0\s*│", output), output
    assert step.seen["build_state"]["published"] is True
    assert step.seen["staging_files"] == []  # the killed publish's staging file is gone
    assert step.seen["lock_free"] and step.seen["half_loaded"] == []
    assert set(step.seen["landing_loads"].values()) == {1}
    assert step.seen["published_sha"] != chain.earlier_sha
    published = published_tables(chain.home)
    assert published == {"pipeline.publish": 1} | warehouse_tables(chain.home, published)
    with duckdb.connect(str(published_path(chain.home)), read_only=True) as con:
        run_id = con.execute("select run_id from pipeline.publish").fetchone()[0]
    assert f"run {run_id[:8]} succeeded" in output


def test_after_the_crashes_the_marts_equal_an_uninterrupted_build(chain: Chain) -> None:
    chain.step("rerun")
    reference = chain.reference.result()
    # Raw: the same files, each loaded once, with the same rows.
    assert ledger(chain.home) == ledger(reference)
    assert raw_rows_by_source(chain.home) == raw_rows_by_source(reference)
    built = mart_figures(reference.warehouse)
    assert built["fct_events"] and built["segment_membership"] and built["fct_points_ledger"]
    assert mart_figures(chain.home.warehouse) == built
    assert mart_figures(published_path(chain.home)) == built


# --- the pieces, without processes -----------------------------------------------------------


def test_a_build_recorded_but_never_published_is_published_not_rebuilt(tmp_path) -> None:
    from datetime import timedelta

    from pipelines.build_state import BuildInputs, decide, record_build, record_published

    home = Home.resolve(tmp_path / "home").ensure()
    inputs = BuildInputs(3, "2026-11-22T10:00:00", "abc")
    hour = timedelta(hours=1)
    record_build(home, inputs, published=False)  # what the dbt step writes
    pending = decide(home, inputs, hour)
    assert (pending.build, pending.publish) == (False, True)
    assert "never published" in pending.reason
    record_published(home)  # what the publish step writes
    done = decide(home, inputs, hour)
    assert (done.build, done.publish) == (False, False) and done.reason.startswith("up to date")
    # New data still means a build (which the publish step then publishes).
    record_build(home, inputs, published=False)
    newer = decide(home, BuildInputs(4, "2026-11-22T10:05:00", "abc"), hour)
    assert newer.build and not newer.publish


def test_a_publish_removes_the_staging_files_of_dead_publishers_only(tmp_path) -> None:
    from pipelines.publish import remove_abandoned_staging

    folder = tmp_path / "published"
    folder.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        ).stdout.strip()
        names = [
            f"{STAGING_PREFIX}{dead}-0badc0de.duckdb",  # a publish killed halfway
            f"{STAGING_PREFIX}{dead}-0badc0de.duckdb.wal",
            f"{STAGING_PREFIX}1f2e3d4c.duckdb",  # the name an older version used
            f"{STAGING_PREFIX}{sleeper.pid}-5eed5eed.duckdb",  # a publish in progress
            "funnelhouse.duckdb",
        ]
        for name in names:
            (folder / name).write_bytes(b"x")
        removed = remove_abandoned_staging(folder)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sorted(p.name for p in removed) == sorted(names[:3])
    assert sorted(p.name for p in folder.iterdir()) == sorted(names[3:])
