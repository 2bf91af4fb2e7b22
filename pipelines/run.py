"""``funnelhouse run``: the whole asset graph in-process (no daemon, no webserver), with progress.

The run uses an ephemeral Dagster instance: recording it in the home's SQLite instance would
write ~700 planned-event rows (one per asset and dbt test) with a commit each, about 15 s per
run, most of a run with nothing new to do. Runs started by `funnelhouse ui` (schedule, sensor,
launches) are recorded there as usual.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.home import Home
from pipelines.dbt_project import dbt_target_path

RUN_JOB = "refresh_and_activate"
STEP_LABELS = {
    "ingest_landing_files": "ingest",
    "dbt_build": "dbt build",
    "published_marts": "publish",
    "activation": "activation",
}


@dataclass
class RunSummary:
    success: bool
    seconds: float
    run_id: str
    steps: dict[str, str] = field(default_factory=dict)  # label → succeeded/skipped/failed
    step_seconds: dict[str, float] = field(default_factory=dict)
    new_files: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    models_built: int = 0
    checks: Counter = field(default_factory=Counter)  # passed / warned / failed
    failed_checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the steps said about their decisions

    @property
    def exit_code(self) -> int:
        return 0 if self.success and not self.checks["failed"] else 1


def run_pipeline(
    home: Home,
    *,
    full_refresh: bool = False,
    force: bool = False,
    unit_tests: bool = False,
    console: Console | None = None,
) -> RunSummary:
    """Materialise the whole graph on ``home``; the summary says what happened. ``unit_tests``
    adds dbt's unit tests to the dbt step's build (and builds even when nothing changed)."""
    # Bound to the terminal now: stdout is redirected while the run goes.
    console = Console(file=(console.file if console else sys.stdout))
    from pipelines.definitions import build_definitions
    from pipelines.progress import listen
    from pipelines.settings import Settings

    settings = Settings.from_env()
    definitions = build_definitions(settings.model_copy(update={"home": str(home.root)}))
    job = definitions.resolve_job_def(RUN_JOB)
    run_config = {
        "ops": {
            "dbt_build": {
                "config": {"full_refresh": full_refresh, "force": force, "unit_tests": unit_tests}
            }
        },
        "loggers": {"progress": {}},
    }
    # A dbt step that skips on purpose (nothing changed) leaves its tests without results;
    # Dagster warns about each one. Expected here, so not shown.
    logging.getLogger("dagster._core.execution.plan.active").addFilter(_no_unrun_check_warnings)
    dbt_assets = definitions.resolve_assets_def(dg.AssetKey(["marts", "fct_events"]))
    display = _Display(console, dbt_total=len(dbt_assets.keys))
    stop = listen(display.on_record)
    started = time.perf_counter()
    # dagster-dbt echoes dbt's log to stdout; it goes to a file (dbt keeps its own dbt.log too).
    dbt_output = dbt_target_path(home) / "run-output.log"
    dbt_output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            display.progress,
            dg.DagsterInstance.ephemeral() as instance,
            dbt_output.open("w") as sink,
            contextlib.redirect_stdout(sink),
        ):
            result = job.execute_in_process(
                run_config=run_config, instance=instance, raise_on_error=False
            )
    finally:
        stop()
    summary = display.summary
    if summary.steps.get("dbt build") == "failed":
        summary.notes += _dbt_failures(home)
        for note in summary.notes:
            if note.startswith("dbt failed"):
                console.print(f"  [red]{note}[/]", soft_wrap=True, highlight=False)
    summary.success = result.success
    summary.run_id = result.run_id
    summary.seconds = time.perf_counter() - started
    return summary


def _dbt_failures(home: Home) -> list[str]:
    """The nodes of the last dbt invocation that errored or failed, with dbt's message."""
    try:
        results = json.loads((dbt_target_path(home) / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return [f"dbt failed: see {dbt_target_path(home) / 'run-output.log'}"]
    failures = [
        f"dbt failed: {r['unique_id']}: "
        + " ".join(line.strip() for line in (r.get("message") or r["status"]).splitlines()[:2])
        for r in results
        if r["status"] in ("error", "fail")
    ]
    return failures + [f"dbt's log: {dbt_target_path(home) / 'run-output.log'}"]


def _no_unrun_check_warnings(record: logging.LogRecord) -> bool:
    return "emitted no result" not in record.getMessage()


class _Display:
    """Draws the run as it goes: one line per step, a bar for dbt's models and checks."""

    def __init__(self, console: Console, dbt_total: int) -> None:
        self.console = console
        self.totals = {"dbt build": dbt_total}
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self.summary = RunSummary(success=False, seconds=0.0, run_id="")

    def on_record(self, record: logging.LogRecord, event) -> None:
        if event is None:
            self._on_message(record)
            return
        label = STEP_LABELS.get(event.step_key or "", event.step_key or "run")
        kind = event.event_type_value
        if kind == "STEP_START":
            self.tasks[label] = self.progress.add_task(label, total=self.totals.get(label))
            self.started[label] = time.perf_counter()
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            self._step_done(label, kind, event)
        elif kind == "ASSET_MATERIALIZATION":
            self._materialized(label, event.event_specific_data.materialization)
        elif kind == "ASSET_CHECK_EVALUATION":
            self._checked(label, event.event_specific_data)

    def _on_message(self, record: logging.LogRecord) -> None:
        message = getattr(record, "dagster_meta", {}).get("orig_message") or record.getMessage()
        if message.startswith("Dependencies for step"):
            return  # the failed step was already reported; its dependents are listed as skipped
        if record.levelno >= logging.ERROR:
            self.console.print(f"  [red]{message}[/]", soft_wrap=True, highlight=False)
        elif message.startswith(("dbt: ", "activation: ")) or " new file(s) loaded" in message:
            self.summary.notes.append(message)
            self.console.print(f"  [dim]{message}[/]", highlight=False)
        elif " → raw." in message:  # a landing file committed (rows, ledger row): progress
            self.console.print(f"  [dim]loaded {message}[/]", soft_wrap=True, highlight=False)
        elif message.startswith("waiting for the warehouse"):  # another run holds the lock
            self.console.print(f"  [yellow]{message}[/]", soft_wrap=True, highlight=False)

    def _step_done(self, label: str, kind: str, event) -> None:
        task = self.tasks.pop(label, None)
        if task is not None:
            self.progress.remove_task(task)
        elapsed = time.perf_counter() - self.started.get(label, time.perf_counter())
        status = {"STEP_SUCCESS": "succeeded", "STEP_FAILURE": "failed"}.get(kind, "skipped")
        self.summary.steps[label] = status
        self.summary.step_seconds[label] = elapsed
        mark = {"succeeded": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[yellow]–[/]"}
        line = f"{mark[status]} {label} {status}"
        if status != "skipped":
            line += f" ({elapsed:.1f} s)"
        if status == "failed":
            line += f": {_root_cause(event.event_specific_data.error)}"
        self.console.print(line, soft_wrap=True, highlight=False)

    def _materialized(self, label: str, materialization) -> None:
        metadata = {key: value.value for key, value in materialization.metadata.items()}
        table = materialization.asset_key.path[-1]
        if label == "ingest":
            if table == "_loads":
                self.summary.new_files = metadata.get("new_files", 0)
            elif table == "quarantine":
                self.summary.rows_quarantined = metadata.get("new_rows", 0)
            else:
                self.summary.rows_loaded += metadata.get("new_rows", 0)
        elif label == "dbt build" and table != "published_marts":  # not a publish it redid
            self.summary.models_built += 1
        if label in self.tasks:
            self.progress.advance(self.tasks[label])

    def _checked(self, label: str, evaluation) -> None:
        if evaluation.passed:
            self.summary.checks["passed"] += 1
            return
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        if evaluation.severity.value == "WARN":
            self.summary.checks["warned"] += 1
            self.console.print(f"  [yellow]check warned[/] {name}", highlight=False)
        else:
            self.summary.checks["failed"] += 1
            self.summary.failed_checks.append(name)
            self.console.print(f"  [red]check failed[/] {name}", highlight=False)


def _root_cause(error) -> str:
    """The first line of the innermost error: "Error occurred while executing op" says little,
    the database's or dbt's own message says what went wrong."""
    while error is not None and error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines() if error else []
    return lines[0] if lines else ""


def summary_table(summary: RunSummary) -> Table:
    table = Table(title="funnelhouse run", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, status in summary.steps.items():
        seconds = summary.step_seconds.get(label, 0)
        table.add_row(label, status if status == "skipped" else f"{status}, {seconds:.1f} s")
    table.add_row("new files", f"{summary.new_files:,}")
    table.add_row("rows loaded", f"{summary.rows_loaded:,}")
    table.add_row("rows quarantined", f"{summary.rows_quarantined:,}")
    table.add_row("dbt models and seeds built", f"{summary.models_built:,}")
    checks = summary.checks
    table.add_row(
        "checks",
        f"{checks['passed']:,} passed, {checks['warned']} warned, {checks['failed']} failed",
    )
    table.add_row("time", f"{summary.seconds:.1f} s")
    return table
