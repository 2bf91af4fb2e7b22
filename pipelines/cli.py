"""The ``funnelhouse`` command line: every command works against one data home."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.home import DEFAULT_HOME, HOME_ENV, Home
from pipelines.dbt_project import TARGET_ENV, Target

app = typer.Typer(
    help="funnelhouse: marketing automation as a data platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()


TargetOption = Annotated[
    Target,
    typer.Option(
        "--target",
        envvar=TARGET_ENV,
        help="dbt target (profiles.yml): duckdb, or spark (needs the spark extra).",
    ),
]


def _use_target(target: Target) -> None:
    """dbt (profile), ingest (Parquet export) and publish read the target from the env."""
    os.environ[TARGET_ENV] = target.value


HomeOption = Annotated[
    Path,
    typer.Option("--home", envvar=HOME_ENV, help="Data home folder.", show_default=True),
]


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@app.command()
def generate(
    home: HomeOption = Path(DEFAULT_HOME),
    contacts: Annotated[int, typer.Option(min=1, help="Known contacts to create.")] = 5_000,
    days: Annotated[int, typer.Option(min=1, help="Days of activity.")] = 90,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 42,
    end_date: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of activity (default: today, UTC)."),
    ] = None,
) -> None:
    """Write realistic demo data (contacts, companies, catalogs, events) into landing/."""
    from ingest.generator import generate as run_generator

    target = Home.resolve(home).ensure()
    last_day: date = (end_date or datetime.now(UTC)).date()
    with _progress() as progress:
        task = progress.add_task("generating", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = run_generator(
            target, contacts=contacts, days=days, seed=seed, end_date=last_day, progress=advance
        )
    table = Table(
        title=f"generated {summary.window_start:%Y-%m-%d} … {summary.window_end:%Y-%m-%d}"
    )
    table.add_column("what")
    table.add_column("rows", justify="right")
    table.add_row("contacts in CSV", f"{summary.contacts_in_csv:,}")
    table.add_row("contacts known only from events", f"{summary.contacts_events_only:,}")
    table.add_row("anonymous visitors", f"{summary.anonymous_visitors:,}")
    table.add_row("companies", f"{summary.companies:,}")
    for name, rows in summary.catalog_rows.items():
        table.add_row(f"catalog {name}", f"{rows:,}")
    for event_type, rows in summary.events.items():
        table.add_row(f"event {event_type}", f"{rows:,}")
    console.print(table)
    console.print(
        f"[green]{len(summary.files)} files, {summary.bytes_written / 2**20:,.1f} MiB[/] "
        f"in {target.landing}"
    )


@app.command()
def ingest(
    home: HomeOption = Path(DEFAULT_HOME), target_name: TargetOption = Target.duckdb
) -> None:
    """Load every new landing file into raw.* tables of warehouse.duckdb (exactly once)."""
    _use_target(target_name)
    from ingest.loader import ingest as run_ingest
    from ingest.loader import landing_files, load_campaigns

    target = Home.resolve(home)
    total = sum(1 for _ in landing_files(target))
    with _progress() as progress:
        task = progress.add_task("ingesting", total=total)

        def on_file(landing_file, report) -> None:
            progress.update(task, advance=1, description=f"ingesting {landing_file.relative}")

        with _writing(target, "funnelhouse ingest"):
            reports = run_ingest(target, on_file=on_file)
            campaigns = load_campaigns(target)
            if target_name is Target.spark:
                from ingest.spark_export import export_raw_parquet

                export_raw_parquet(target)

    loaded = [r for r in reports if r.status != "skipped"]
    skipped = len(reports) - len(loaded)
    if loaded:
        console.print(_reconciliation_table(loaded))
    console.print(campaigns.summary(), highlight=False)
    failed = [r for r in reports if r.status == "failed"]
    for report in failed:
        console.print(f"[red]error[/] {report.file}: {report.error}", soft_wrap=True)
    rows = sum(r.rows_loaded for r in loaded)
    quarantined = sum(r.rows_quarantined for r in loaded)
    console.print(
        f"{len(loaded) - len(failed)} files loaded ({rows:,} rows, {quarantined:,} quarantined), "
        f"{skipped} already loaded, {len(failed)} failed → {target.warehouse}"
    )
    if failed or not campaigns.ok:
        raise typer.Exit(code=1)


@app.command()
def build(
    home: HomeOption = Path(DEFAULT_HOME),
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch.")
    ] = False,
    select: Annotated[str | None, typer.Option(help="dbt node selection.")] = None,
    target_name: TargetOption = Target.duckdb,
) -> None:
    """Run `dbt build` (models, seeds, tests) on the home's warehouse."""
    _use_target(target_name)
    from pipelines.dbt_project import full_refresh_args, run_dbt

    target = Home.resolve(home)
    if not target.warehouse.exists():
        console.print(
            f"[red]error[/] no warehouse at {target.warehouse}: run `funnelhouse ingest` first"
        )
        raise typer.Exit(code=1)
    args = [
        "build",
        *(full_refresh_args() if full_refresh else []),
        *(["--select", select] if select else []),
    ]
    with _writing(target, "funnelhouse build"):
        result = run_dbt(target, *args)
    raise typer.Exit(code=result.returncode)


def _writing(home: Home, holder: str):
    """The warehouse lock for a command; waits while a run writes, saying so."""
    from pipelines.lock import warehouse_lock

    def waiting(owner: str) -> None:
        console.print(f"[yellow]waiting[/] for the warehouse: held by {owner}")

    return warehouse_lock(home, holder, on_wait=waiting)


@app.command()
def run(
    home: HomeOption = Path(DEFAULT_HOME),
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Build even when nothing changed since the last build.")
    ] = False,
    unit_tests: Annotated[
        bool,
        typer.Option(
            "--unit-tests", help="Run dbt's unit tests in the build too (implies --force)."
        ),
    ] = False,
    target_name: TargetOption = Target.duckdb,
) -> None:
    """Run the whole loop in-process: ingest → dbt build → publish → activation."""
    _use_target(target_name)
    from pipelines.run import run_pipeline, summary_table
    from pipelines.settings import SettingsError

    target = Home.resolve(home).ensure()
    try:
        summary = run_pipeline(
            target, full_refresh=full_refresh, force=force, unit_tests=unit_tests, console=console
        )
    except SettingsError as error:
        console.print(f"[red]error[/] {error}")
        raise typer.Exit(code=2) from None
    console.print(summary_table(summary))
    if summary.exit_code:
        failed = [label for label, status in summary.steps.items() if status == "failed"]
        reasons = [f"step {label} failed" for label in failed] + [
            f"check {name} failed" for name in summary.failed_checks
        ]
        console.print(f"[red]run {summary.run_id[:8]} failed:[/] {'; '.join(reasons) or 'see log'}")
    else:
        console.print(f"[green]run {summary.run_id[:8]} succeeded[/] → {target.published}")
    raise typer.Exit(code=summary.exit_code)


@app.command()
def activate(
    home: HomeOption = Path(DEFAULT_HOME),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render and record what is due, send nothing.")
    ] = False,
    campaign: Annotated[str | None, typer.Option(help="Only this campaign (name or id).")] = None,
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            help="Settle a send a crash left unknown, after checking with the provider: "
            "KEY=sent or KEY=not_sent (repeatable)."
        ),
    ] = None,
) -> None:
    """Send what the published activation_queue says is due, each message exactly once."""
    from activation.ledger import ActivationBusy, resolve_unknown
    from activation.run import activate as run_activation
    from activation.run import print_report
    from activation.settings import SettingsError

    target = Home.resolve(home)
    try:
        for item in resolve or []:
            key, _, outcome = item.partition("=")
            if outcome not in ("sent", "not_sent"):
                console.print(f"[red]error[/] --resolve {item!r}: write KEY=sent or KEY=not_sent")
                raise typer.Exit(code=2)
            changed = resolve_unknown(target, [key], outcome)
            console.print(f"{key}: {'settled as ' + outcome if changed else 'not unknown'}")
        if resolve:
            return
        report = run_activation(target, dry_run=dry_run, campaign=campaign)
    except (ActivationBusy, SettingsError) as error:
        console.print(f"[red]error[/] {error}")
        raise typer.Exit(code=2) from None
    print_report(report, console)
    raise typer.Exit(code=1 if report.counts().get("failed") else 0)


@app.command()
def ui(
    home: HomeOption = Path(DEFAULT_HOME),
    port: Annotated[int, typer.Option(help="Port of the Dagster webserver.")] = 3000,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Start Dagster's webserver and daemon (schedule, sensor) for this home."""
    import os
    import sys

    from pipelines.instance import dagster_home

    target = Home.resolve(home).ensure()
    env = {**os.environ, HOME_ENV: str(target.root), "DAGSTER_HOME": str(dagster_home(target))}
    dagster = str(Path(sys.executable).with_name("dagster"))
    argv = [dagster, "dev", "-m", "pipelines.definitions", "--host", host, "--port", str(port)]
    console.print(f"Dagster for {target.root} on http://{host}:{port}")
    os.execve(dagster, argv, env)


@app.command()
def dashboard(
    home: HomeOption = Path(DEFAULT_HOME),
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve the Streamlit dashboards on the home's published marts (Ctrl-C stops it)."""
    import os

    from dashboards.serve import streamlit_command
    from pipelines.publish import published_path

    target = Home.resolve(home)
    if not published_path(target).exists():
        console.print(
            f"[yellow]no build published in {target.root} yet[/]: the dashboards "
            "will say so until `funnelhouse run` has run"
        )
    argv, env = streamlit_command(target, host=host, port=port)
    console.print(f"dashboards for {target.root}: [bold]http://{host}:{port}[/]")
    os.execve(argv[0], argv, env)


@app.command()
def collect(
    home: HomeOption = Path(DEFAULT_HOME),
    host: Annotated[
        str | None, typer.Option(help="Address to bind (FUNNELHOUSE_COLLECTOR_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (FUNNELHOUSE_COLLECTOR_PORT, default 8600).")
    ] = None,
) -> None:
    """Serve the tracking collector: tracking pixel and script, Segment-compatible API, forms,
    downloads, email links, dynamic content and focus items (SIGTERM/Ctrl-C flushes and stops).
    Events land in landing/collector/ for the next ingest."""
    from ingest.collector.app import serve
    from ingest.collector.settings import CollectorSettings
    from ingest.env import SettingsError

    try:
        settings = CollectorSettings.from_env()
    except SettingsError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    overrides = {"collector_host": host, "collector_port": port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    target = Home.resolve(home).ensure()
    address = f"http://{settings.collector_host}:{settings.collector_port}"
    console.print(
        f"collector for {target.root}: [bold]{address}[/] "
        f"(embed {address}/mtc.js; events go to {target.landing / 'collector'})"
    )
    serve(target, settings)


@app.command()
def forget(
    email: Annotated[str, typer.Argument(help="The contact's email address (any case).")],
    home: HomeOption = Path(DEFAULT_HOME),
) -> None:
    """Forget a contact: remove their personal data from raw, every model, the published
    marts and the activation ledger, and keep them out of every later ingest (a tombstone
    holding only a salted hash). Landing files are not edited: the command lists them."""
    from pipelines.lock import WarehouseBusy
    from pipelines.privacy import PrivacyError
    from pipelines.privacy import forget as run_forget

    target = Home.resolve(home)

    def waiting(owner: str) -> None:
        console.print(f"[yellow]waiting[/] for the warehouse: held by {owner}")

    try:
        report = run_forget(
            target, email, say=lambda line: console.print(f"  [dim]{line}[/]"), on_wait=waiting
        )
    except (PrivacyError, WarehouseBusy) as error:
        console.print(f"[red]error[/] {error}", soft_wrap=True, highlight=False)
        raise typer.Exit(code=1) from None
    table = Table(title=f"forgotten: {report.email}", title_justify="left")
    table.add_column("layer")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for layer, name, rows in report.removed:
        table.add_row(layer, name, f"{rows:,}")
    console.print(table)
    person = report.person
    keys = ", ".join(f"{n} {kind}" for kind, n in report.tombstone_keys.items()) or "none new"
    console.print(
        f"tombstone: {keys} (salted hashes only); ingest will quarantine this contact's rows "
        f"as 'forgotten contact (tombstone)', without their text",
        highlight=False,
    )
    if person.shared_anonymous_ids:
        console.print(
            f"{len(person.shared_anonymous_ids)} tracking id(s) shared with another contact "
            "were kept (only this contact's events were removed) and are not tombstoned",
            highlight=False,
        )
    for note in report.notes:
        console.print(f"[yellow]note[/] {note}", soft_wrap=True, highlight=False)
    if report.landing_files:
        console.print(
            "[yellow]the files in landing/ still hold the data: delete or redact them at the "
            "source[/] (ingest never edits landing files; the tombstone keeps them out):"
        )
        for name in report.landing_files:
            console.print(f"  {target.landing / name}", soft_wrap=True, highlight=False)
    else:
        console.print("no file in landing/ mentions the contact")
    for name in report.project_files:
        console.print(
            f"[red]the dbt project names this contact:[/] {name} (every build loads it again: "
            "edit it)",
            soft_wrap=True,
            highlight=False,
        )
    if not report.build_ok:
        raise typer.Exit(code=1)


@app.command("export-contact")
def export_contact(
    email: Annotated[str, typer.Argument(help="The contact's email address (any case).")],
    home: HomeOption = Path(DEFAULT_HOME),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON here (default: stdout).")
    ] = None,
) -> None:
    """Export everything held about a contact as JSON (read-only): raw rows, the published
    models (contact, events, sessions, points, stages, segments, campaigns, email sends),
    quarantine rows and the activation ledger."""
    import sys

    from pipelines.privacy import PrivacyError, export_json
    from pipelines.privacy import export_contact as run_export

    try:
        document = export_json(run_export(Home.resolve(home), email))
    except PrivacyError as error:
        Console(stderr=True).print(f"[red]error[/] {error}", soft_wrap=True, highlight=False)
        raise typer.Exit(code=1) from None
    if output is None:
        sys.stdout.write(document + "\n")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(document + "\n")
    console.print(f"exported {email} → {output}", highlight=False)


def _reconciliation_table(reports) -> Table:
    table = Table(title="rows read = loaded + quarantined", title_justify="left")
    for column in ("file", "table", "read", "loaded", "quarantined", "status"):
        justify = "right" if column in ("read", "loaded", "quarantined") else "left"
        table.add_column(column, justify=justify, overflow="fold")
    for r in reports:
        status = (
            "[red]failed[/]" if r.status == "failed" else "new version" if r.new_version else "ok"
        )
        table.add_row(
            r.file,
            r.table or "",
            f"{r.rows_read:,}",
            f"{r.rows_loaded:,}",
            f"{r.rows_quarantined:,}",
            status,
        )
    return table


if __name__ == "__main__":
    app()
