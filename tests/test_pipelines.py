"""The Dagster loop on real parts: definitions, in-process runs on a generated home, the
schedule, the landing sensor, the warehouse lock and the build decision."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.home import Home
from ingest.loader import landing_files
from pipelines.build_state import BuildInputs, decide, project_fingerprint, record_build
from pipelines.dbt_project import DBT_PROJECT_DIR, prepared_target_path
from pipelines.lock import WarehouseBusy, warehouse_lock
from pipelines.publish import published_path
from pipelines.settings import Settings, SettingsError
from tests.conftest import published, query

BIN = Path(sys.executable).parent


def new_events_file(home: Home, name: str, count: int) -> Path:
    """A small Segment-spec events file, as a tracking export would drop it."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    lines = [
        {
            "type": "track",
            "event": "Form Submitted",
            "messageId": f"{name}-{i}",
            "anonymousId": f"anon-{name}-{i}",
            "userId": f"late.{name}.{i}@example.org",
            "timestamp": (now + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
            "properties": {"form_id": 1, "url": "https://www.example-saas.com/demo"},
        }
        for i in range(count)
    ]
    path = home.landing / "events" / f"{name}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture(scope="module")
def run_home(built_home_run, tmp_path_factory) -> Home:
    """A copy of the shared built home that these tests may change."""
    built, _ = built_home_run
    home = Home.resolve(tmp_path_factory.mktemp("pipeline") / "home")
    shutil.copytree(built.root, home.root)
    return home


def test_definitions_validate_and_list_every_asset():
    validate = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-m", "pipelines.definitions"],
        capture_output=True,
        text=True,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr
    listed = subprocess.run(
        [str(BIN / "dagster"), "asset", "list", "-m", "pipelines.definitions"],
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    keys = set(listed.stdout.split())
    manifest = json.loads((Path("dbt_project/target/manifest.json")).read_text())
    models = {
        f"{node['config']['schema']}/{node['name']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }
    assert len(models) > 50 and models <= keys
    assert {"raw/events", "raw/contacts", "raw/_loads", "raw/quarantine"} <= keys
    assert {"published_marts", "activation"} <= keys


def test_run_builds_everything_then_does_nothing_then_only_the_new_file(built_home_run, run_home):
    # The first run went through the real command line (the shared fixture): the whole graph,
    # a summary, exit code 0.
    _, first = built_home_run
    assert "dbt: first build of this home" in first.stdout
    assert "Traceback" not in first.stdout + first.stderr
    summary = first.stdout[first.stdout.index("funnelhouse run") :]
    assert "0 failed" in summary and "succeeded" in summary
    # dbt's own output goes to a log file, not into the progress display.
    assert "START sql" not in first.stdout

    raw_events = query(run_home, "select count(*) from raw.events")[0][0]
    assert raw_events > 1000
    assert published(run_home, "select count(*) from marts.fct_events") == [(raw_events,)]
    contacts = query(run_home, "select count(*) from marts.dim_contacts")
    assert published(run_home, "select count(*) from marts.dim_contacts") == contacts
    landing = len(list(landing_files(run_home)))
    assert published(run_home, "select count(*) from pipeline.loads") == [(landing,)]
    published_inode = published_path(run_home).stat().st_ino

    # Second run, nothing new: ingest finds nothing, dbt skips, nothing is republished.
    from pipelines.run import run_pipeline

    second = run_pipeline(run_home)
    assert second.exit_code == 0
    assert second.new_files == 0 and second.rows_loaded == 0 and second.models_built == 0
    assert any(note.startswith("dbt: up to date") for note in second.notes)
    assert second.steps["publish"] == "skipped"
    assert published_path(run_home).stat().st_ino == published_inode

    # A new events file and an unreadable one: only the new file is loaded, the build runs
    # (incrementally) and is published, and the failed file makes the run exit non-zero.
    new_events_file(run_home, "late-arrivals", 4)
    (run_home.landing / "events" / "broken.parquet").write_bytes(b"not parquet at all")
    third = run_pipeline(run_home)
    assert third.new_files == 2  # two ledger rows: one loaded, one failed
    assert third.rows_loaded == 4
    assert any("new data: 1 file(s)" in note for note in third.notes)
    assert third.steps["dbt build"] == "succeeded" and third.steps["publish"] == "succeeded"
    assert third.failed_checks == ["raw/_loads:files_readable"]
    assert third.exit_code == 1
    assert published(run_home, "select count(*) from marts.fct_events") == [(raw_events + 4,)]
    assert published(
        run_home, "select count(*) from marts.dim_contacts where email like 'late.late-arrivals%'"
    ) == [(4,)]


def test_checks_report_what_the_ingest_loaded(run_home, tmp_path):
    """Runs after the build above (same module home): checks evaluated on the real tables."""
    from pipelines.definitions import build_definitions

    defs = build_definitions(Settings(home=str(run_home.root), events_max_age_hours=0.001))
    result = defs.resolve_job_def("refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    assert evaluations[("raw/_loads", "rows_reconcile")].passed
    assert evaluations[("raw/events", "matches_ledger")].passed
    assert evaluations[("raw/quarantine", "quarantine_rate")].passed
    # A live source must be fresh: the newest event is minutes old, the limit here 3.6 s.
    stale = evaluations[("raw/events", "events_fresh")]
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN

    # A blocking check stops the run before dbt: raw.events no longer matches its ledger.
    with duckdb.connect(str(run_home.warehouse)) as con:
        con.execute(
            "delete from raw.events where event_id in (select event_id from raw.events limit 1)"
        )
    from pipelines.run import run_pipeline

    broken = run_pipeline(run_home, force=True)
    assert "raw/events:matches_ledger" in broken.failed_checks
    assert broken.steps.get("dbt build") != "succeeded"
    assert broken.exit_code == 1


def test_the_landing_sensor_requests_a_refresh_only_for_new_files(tmp_path):
    from pipelines.automation import landing_sensor
    from pipelines.resources import HomeResource

    home = Home.resolve(tmp_path / "home").ensure()
    sensor = landing_sensor(30)
    resources = {"home": HomeResource(path=str(home.root))}

    with dg.build_sensor_context(resources=resources) as context:
        empty = sensor(context)
    assert isinstance(empty, dg.SkipReason)

    new_events_file(home, "first", 2)
    with dg.build_sensor_context(resources=resources) as context:
        request = sensor(context)
        cursor = context.cursor
    assert isinstance(request, dg.RunRequest) and request.run_key == cursor

    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        again = sensor(context)
    assert isinstance(again, dg.SkipReason) and "no new files" in again.skip_message

    new_events_file(home, "second", 1)
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
        more = sensor(context)
    assert isinstance(more, dg.RunRequest) and more.run_key != cursor
    assert more.tags["funnelhouse/landing_files"] == "2"


def test_the_schedule_runs_refresh_on_the_configured_cron():
    from pipelines.definitions import build_definitions

    defs = build_definitions(Settings.from_env({"FUNNELHOUSE_REFRESH_CRON": "*/15 * * * *"}))
    schedule = defs.resolve_schedule_def("refresh_schedule")
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.job_name == "refresh"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.build_schedule_context(scheduled_execution_time=datetime(2026, 11, 22, 9, 15)) as ctx:
        requests = list(schedule.evaluate_tick(ctx).run_requests or [])
    assert len(requests) == 1
    # Every job writes the warehouse: the instance queue lets one such run go at a time.
    assert defs.resolve_job_def("refresh").tags["funnelhouse/warehouse"] == "writer"


def test_bad_settings_name_the_variable():
    with pytest.raises(SettingsError, match="FUNNELHOUSE_QUARANTINE_WARN_RATE='lots'"):
        Settings.from_env({"FUNNELHOUSE_QUARANTINE_WARN_RATE": "lots"})
    assert Settings.from_env({"FUNNELHOUSE_HOME": "/x"}).home == "/x"


def test_a_second_writer_waits_for_the_lock_then_gives_up_clearly(tmp_path):
    home = Home.resolve(tmp_path / "home").ensure()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import sys, time
                from ingest.home import Home
                from pipelines.lock import warehouse_lock
                with warehouse_lock(Home.resolve({str(home.root)!r}), "the other run"):
                    print("locked", flush=True)
                    time.sleep(60)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        waits = []
        with (
            pytest.raises(WarehouseBusy, match=r"written by the other run \(pid \d+"),
            warehouse_lock(home, "this run", timeout=0.5, on_wait=waits.append),
        ):
            pass
        assert waits and "the other run" in waits[0]
    finally:
        holder.kill()
        holder.wait()
    with warehouse_lock(home, "this run", timeout=5):  # free again once the holder is gone
        pass


def test_build_decision(tmp_path):
    home = Home.resolve(tmp_path / "home").ensure()
    inputs = BuildInputs(3, "2026-11-22T10:00:00", "abc")
    hour = timedelta(hours=1)
    assert decide(home, inputs, hour).reason == "first build of this home"
    built_at = datetime(2026, 11, 22, 10, 5, tzinfo=UTC)
    record_build(home, inputs, built_at)
    soon = built_at + timedelta(minutes=5)
    assert not decide(home, inputs, hour, soon).build
    newer = BuildInputs(5, "2026-11-22T10:07:00", "abc")
    assert (
        decide(home, newer, hour, soon).reason == "new data: 2 file(s) loaded since the last build"
    )
    changed = BuildInputs(3, "2026-11-22T10:00:00", "def")
    assert "dbt project" in decide(home, changed, hour, soon).reason
    later = decide(home, inputs, hour, built_at + timedelta(minutes=61))
    assert later.build and "61 min old" in later.reason


def test_project_fingerprint_follows_model_files_not_generated_ones(tmp_path):
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "a.sql").write_text("select 1")
    before = project_fingerprint(["build"], project)
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    assert project_fingerprint(["build"], project) == before
    assert project_fingerprint(["build", "--vars", "{x: 1}"], project) != before
    (project / "models" / "a.sql").write_text("select 2")
    assert project_fingerprint(["build"], project) != before


def test_dbt_parse_state_written_by_another_checkout_is_dropped(tmp_path):
    """dbt's partial parse state keeps absolute paths: a home built from a checkout that has
    since moved would send the next build looking for seeds where they no longer are."""
    home = Home.resolve(tmp_path / "home")
    target = prepared_target_path(home)
    state = target / "partial_parse.msgpack"
    state.write_bytes(b"parsed here")
    assert prepared_target_path(home) == target and state.exists()  # same checkout: kept
    (target / "project-dir").write_text("/elsewhere/funnelhouse/dbt_project")
    prepared_target_path(home)
    assert not state.exists()
    assert (target / "project-dir").read_text() == str(DBT_PROJECT_DIR)
