"""Campaigns: YAML definitions validated into clear errors (file, step, field) and loaded into
raw.campaign_*; then the campaign models on a real build of a small generated home — contacts
enter the demo campaigns, activation's result events (dropped as files, as activation writes
them) move them on, decisions resolve both ways from events, executed rows leave the queue, and
campaign actions apply to segments.

The dbt builds select only the campaign models and what they read, without the other models'
tests (the campaign models' own data tests run once at the end; the unit tests run in the
project's full builds)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from ingest.campaigns import CONTACT_FIELDS, MAX_DEPTH, load_campaign_tables, validate_folder
from ingest.generator import generate
from ingest.home import Home
from ingest.loader import ingest
from pipelines.dbt_project import DBT_PROJECT_DIR
from tests.conftest import query
from tests.dbt_worker import DbtWorker

CAMPAIGNS = DBT_PROJECT_DIR / "campaigns"
DEMO = {"welcome_series", "re_engagement", "lead_nurture", "newsletter_best_of"}
DEMO |= {"integration_removal_notice"}  # the marketing desk's (issue 12)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


GOOD = """
name: Good
published: true
sources: {forms: [1]}
steps:
  - id: hello
    action: send_email
    email_id: 1
    next: opened
  - id: opened
    decision: opened_email
    within: 2 days
    yes: thanks
    no: nudge
  - id: thanks
    action: adjust_points
    delta: 5
  - id: nudge
    action: send_sms
    sms_id: 1
    wait: 1 day
    send_window: {days: weekdays, hours: "09:00-17:00"}
"""


# ── Validation and loading (no dbt) ─────────────────────────────────────────────────────────


def test_demo_campaigns_are_valid():
    valid, report = validate_folder(CAMPAIGNS)
    assert report.ok, report.summary()
    assert {c.definition["campaign_id"] for c in valid} == DEMO
    kinds = {c.definition["campaign_id"]: c.definition["kind"] for c in valid}
    assert kinds["newsletter_best_of"] == "broadcast"
    # `yes:` / `no:` are branch names, not YAML 1.1 booleans
    branches = {s["parent_branch"] for c in valid for s in c.steps}
    assert branches == {None, "yes", "no"}


MISTAKES = [
    # (a change to GOOD, step, field, words of the message)
    (("action: adjust_points", "action: adjust_pionts"), "thanks", "action",
     "unknown action 'adjust_pionts'"),
    (("    email_id: 1\n    next: opened", "    next: opened"), "hello", "email_id", "required"),
    (("yes: thanks", "yes: thank_you"), "opened", "yes", "no step has the id 'thank_you'"),
    (("    within: 2 days\n", ""), "opened", None, "needs 'within'"),
    (("within: 2 days", "within: two days"), "opened", "within", "not an interval"),
    (("hours: \"09:00-17:00\"", "hours: \"17:00-09:00\""), "nudge", "send_window.hours",
     "start must come before the end"),
    (("days: weekdays", "days: [mon, fri, someday]"), "nudge", "send_window.days",
     "'someday' is not a day"),
    (("  - id: nudge", "  - id: hello"), "hello", "id", "two steps have this id"),
    (("    delta: 5", "    delta: 5\n    colour: blue"), "thanks", "colour", "unknown field"),
    (("    sms_id: 1\n", "    sms_id: 1\n    next: hello\n"), "hello", None, "loop"),
    (("sources: {forms: [1]}", "sources: {segments: [no_such_segment]}"), None,
     "sources.segments", "no segment 'no_such_segment'"),
    (("name: Good", "name: Good\nname: Twice"), None, None, "key 'name' is given twice"),
    (("  - id: opened\n", "  - id: opened\n    action: send_email\n"), "opened", "action",
     "exactly one of 'action', 'decision' or 'condition'"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "step", "field", "words"), MISTAKES)
def test_mistakes_name_the_file_step_and_field(tmp_path, change, step, field, words):
    old, new = change
    assert old in GOOD
    # inside a dbt project folder, so segment and stage names are checked against it
    folder = tmp_path / "project" / "campaigns"
    (tmp_path / "project" / "dbt_project.yml").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "project" / "dbt_project.yml").write_text("name: x\n")
    (tmp_path / "project" / "models" / "segments").mkdir(parents=True)
    write(folder, "broken.yml", GOOD.replace(old, new, 1))
    write(folder, "fine.yml", GOOD)

    with duckdb.connect() as con:
        report = load_campaign_tables(con, folder)  # never raises for a user's mistake
        assert report.campaigns == ["fine"]
        assert report.failed_files == ["broken.yml"]
        loaded = con.execute("select distinct campaign_id from raw.campaign_steps").fetchall()
        assert loaded == [("fine",)]  # nothing of the broken campaign
    matching = [e for e in report.errors if words in e.message]
    assert matching, [str(e) for e in report.errors]
    error = matching[0]
    assert (error.file, error.step, error.field) == ("broken.yml", step, field), str(error)
    text = report.summary()
    assert "broken.yml" in text and words in text and "Traceback" not in text
    if step:
        assert f"step '{step}'" in text


def test_yaml_syntax_errors_give_the_line(tmp_path):
    write(tmp_path, "bad.yml", "name: x\nsteps:\n  - id: a\n   action: b\n")
    _, report = validate_folder(tmp_path)
    (error,) = report.errors
    assert error.file == "bad.yml" and "not valid YAML: line 4" in error.message


def test_load_replaces_the_tables_and_keeps_the_first_publication(tmp_path):
    folder = tmp_path / "campaigns"
    write(folder, "good.yml", GOOD)
    write(folder, "draft.yml", GOOD.replace("published: true", "published: false"))
    first, second = datetime(2026, 7, 1, 9, 0), datetime(2026, 7, 2, 9, 0)
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        report = load_campaign_tables(con, folder, now=first)
        assert report.ok and sorted(report.campaigns) == ["draft", "good"]
        assert report.steps == 8
        rows = con.execute(
            "select campaign_id, published_at, _source from raw.campaign_definitions order by 1"
        ).fetchall()
        assert rows == [
            ("draft", None, "campaigns/draft.yml"),
            ("good", first, "campaigns/good.yml"),
        ]
        steps = con.execute(
            "select step_id, parent_step_id, parent_branch, depth, window_days, "
            "window_start_minute, wait_minutes, match_id from raw.campaign_steps "
            "where campaign_id = 'good' order by step_order"
        ).fetchall()
        assert steps == [
            ("hello", None, None, 0, None, None, None, None),
            ("opened", "hello", None, 1, None, None, None, "1"),  # the email of the step before
            ("thanks", "opened", "yes", 2, None, None, None, None),
            ("nudge", "opened", "no", 2, "|1|2|3|4|5|", 540, 1440, None),
        ]
        paths = con.execute(
            "select ancestor_step_id, step_id, branch, distance from raw.campaign_step_paths "
            "where campaign_id = 'good' order by 1, 2"
        ).fetchall()
        assert paths == [
            ("hello", "nudge", None, 2), ("hello", "opened", None, 1),
            ("hello", "thanks", None, 2), ("opened", "nudge", "no", 1),
            ("opened", "thanks", "yes", 1),
        ]  # fmt: skip

        # a day later: the draft is published, good.yml breaks, a third campaign appears
        write(folder, "draft.yml", GOOD)
        write(folder, "good.yml", GOOD.replace("email_id: 1", "email_id: [1]"))
        write(folder, "third.yml", GOOD)
        report = load_campaign_tables(con, folder, now=second)
        assert report.failed_files == ["good.yml"]
        rows = con.execute(
            "select campaign_id, published_at from raw.campaign_definitions order by 1"
        ).fetchall()
        assert rows == [("draft", second), ("third", second)]
        # fixed again: it keeps its first publication, so its entries do not move
        write(folder, "good.yml", GOOD)
        load_campaign_tables(con, folder, now=second + timedelta(days=1))
        published = con.execute(
            "select published_at from raw.campaign_definitions where campaign_id = 'good'"
        ).fetchone()
        assert published == (first,)


def test_load_joins_the_callers_transaction(tmp_path):
    write(tmp_path, "good.yml", GOOD)
    with duckdb.connect() as con:
        con.execute("begin")
        load_campaign_tables(con, tmp_path)
        con.execute("rollback")
        tables = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw'"
        ).fetchone()
        assert tables == (0,)


def test_the_dbt_models_know_the_loader_s_fields_and_depth():
    macros = (DBT_PROJECT_DIR / "macros" / "campaigns.sql").read_text()
    listed = re.search(r"campaign_contact_field.*?set fields = \[(.*?)\]", macros, re.S)
    assert tuple(re.findall(r"'(\w+)'", listed.group(1))) == CONTACT_FIELDS
    engine = (DBT_PROJECT_DIR / "models" / "marts" / "fct_campaign_steps.sql").read_text()
    assert f"var('campaign_max_depth', {MAX_DEPTH})" in engine


# ── The campaign models on a real build ─────────────────────────────────────────────────────

MODELS = (
    "+activation_queue", "+campaign_contact_state", "stg_emails", "stg_sms", "stg_forms",
)  # fmt: skip
CAMPAIGN_MODELS = (
    "stg_campaign_definitions", "stg_campaign_sources", "stg_campaign_steps",
    "stg_campaign_step_paths", "int_campaign_entries", "int_campaign_results",
    "int_campaign_actions_applied", "fct_campaign_steps", "campaign_contact_state",
    "activation_queue",
)  # fmt: skip


class Dbt:
    """dbt commands on one home with the clock pinned, through the session's dbt worker: one
    parse (dbt would parse the project again for every new --vars, each command here)."""

    def __init__(self, worker: DbtWorker, home: Home):
        self.worker = worker
        self.home = home

    def __call__(self, *args: str, now: datetime) -> tuple[bool, str]:
        reference = f"{{segment_reference_time: '{now:%Y-%m-%d %H:%M:%S}'}}"
        result = self.worker.run(self.home, *args, "--vars", reference)
        return result.returncode == 0, result.stdout

    def build(self, now: datetime) -> None:
        ok, output = self("build", "--select", *MODELS, "--exclude", "test_type:data",
                          "test_type:unit", now=now)  # fmt: skip
        assert ok, output[-5000:]


def drop_events(home: Home, name: str, events: list[dict]) -> None:
    folder = home.landing / "events" / "activation"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(e, default=str) for e in events]
    (folder / name).write_text("\n".join(lines) + "\n")
    reports = ingest(home)
    assert all(r.status != "failed" for r in reports)


def event(event_id, event_type, at: datetime, email: str, **properties) -> dict:
    return {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "anonymous_id": None,
        "contact_key": email,
        "properties": properties,
    }


def result(row: dict, status: str, at: datetime, reason: str | None = None) -> dict:
    """The campaign_action event activation writes for an executed queue row."""
    return event(
        f"act:{row['idempotency_key']}:campaign_action", "campaign_action", at, row["email"],
        idempotency_key=row["idempotency_key"], campaign_id=row["campaign_id"],
        step_id=row["step_id"], action=row["action"], channel=row["channel"], status=status,
        reason=reason, payload_ref=row["payload_ref"],
    )  # fmt: skip


def rows(home: Home, sql: str) -> list[dict]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def key(campaign: str, step: str, contact_id: str, entry: int = 1) -> str:
    return hashlib.md5(f"{campaign}:{step}:{contact_id}:{entry}".encode()).hexdigest()


@pytest.fixture(scope="module")
def loop(tmp_path_factory, dbt_worker):
    """A generated home (ending on a Wednesday 10+ days ago) through two builds: the first
    (R1, Thursday 00:00) after two new subscribers A and B submit form 1; the second (R2, five
    days later) after activation's reports for the welcome emails and one failure, A's open of
    the welcome email, and a campaign adding contact C to the nurture segment."""
    home = Home.resolve(tmp_path_factory.mktemp("campaigns") / "home").ensure()
    end = date.today() - timedelta(days=10)
    end -= timedelta(days=(end.weekday() - 2) % 7)  # a Wednesday
    generate(home, contacts=250, days=90, seed=7, end_date=end)
    ingest(home)
    midnight = datetime(end.year, end.month, end.day)
    r1, r2 = midnight + timedelta(days=1), midnight + timedelta(days=6)
    with duckdb.connect(str(home.warehouse)) as con:
        loaded = load_campaign_tables(con, CAMPAIGNS, now=midnight - timedelta(days=2))
        assert loaded.ok, loaded.summary()
        # two contacts that never submitted a form and are not on a do-not-contact list
        (a, b) = [
            email
            for (email,) in con.execute(
                "select email from raw.contacts where email is not null and email not in ("
                " select contact_key from raw.events where contact_key is not null and event_type"
                " in ('form_submit', 'email_unsubscribe', 'email_bounce', 'dnc_change'))"
                " order by email limit 2"
            ).fetchall()
        ]
    dbt = Dbt(dbt_worker, home)
    subscribed = r1 - timedelta(hours=2)
    drop_events(home, "signups.jsonl", [
        event(f"test-signup-{n}", "form_submit", subscribed, email, form_id=1)
        for n, email in enumerate((a, b))
    ])  # fmt: skip
    dbt.build(r1)
    first = {
        "entries": rows(home, "select * from intermediate.int_campaign_entries"),
        "queue": rows(home, "select * from marts.activation_queue"),
    }

    welcome = [r for r in first["queue"] if r["step_id"] == "welcome_email"]
    failing = sorted((r for r in welcome if r["email"] not in (a, b)), key=lambda r: r["email"])[0]
    nurtured = {r["contact_id"] for r in first["entries"] if r["campaign_id"] == "lead_nurture"}
    c = rows(
        home,
        "select contact_id, email from marts.dim_contacts where not is_dnc_email "
        f"and contact_id not in ({', '.join(repr(x) for x in nurtured)}) order by email limit 1",
    )[0]
    executed = r1 + timedelta(minutes=10)
    reports = [result(r, "sent", executed) for r in welcome if r is not failing]
    reports.append(result(failing, "failed", executed, "mailbox does not exist"))
    reports.append(event("test-open-a", "email_open", r1 + timedelta(days=1), a, email_id=1))
    reports.append(
        result(
            {"idempotency_key": "test-c-into-nurture", "email": c["email"],
             "campaign_id": "re_engagement", "step_id": "into_nurture",
             "action": "add_to_segment", "channel": "none", "payload_ref": "nurture"},
            "sent", executed,
        )
    )  # fmt: skip
    drop_events(home, "run-1.jsonl", reports)
    dbt.build(r2)
    tests = dbt("test", "--select", *CAMPAIGN_MODELS, "--exclude", "test_type:unit", now=r2)
    ids = {
        email: cid for email, cid in query(home, "select email, contact_id from marts.dim_contacts")
    }
    return {
        "home": home, "r1": r1, "r2": r2, "subscribed": subscribed, "executed": executed,
        "a": ids[a], "b": ids[b], "c": c["contact_id"], "failing": failing, "welcome": welcome,
        "first": first, "tests": tests,
        "queue": rows(home, "select * from marts.activation_queue"),
        "steps": rows(home, "select * from marts.fct_campaign_steps"),
        "state": rows(home, "select * from marts.campaign_contact_state"),
        "entries": rows(home, "select * from intermediate.int_campaign_entries"),
    }  # fmt: skip


def step(loop, contact_id: str, step_id: str, campaign: str = "welcome_series") -> dict:
    (found,) = [
        s
        for s in loop["steps"]
        if (s["campaign_id"], s["contact_id"], s["step_id"]) == (campaign, contact_id, step_id)
    ]
    return found


def test_contacts_enter_the_demo_campaigns(loop):
    entries = loop["first"]["entries"]
    assert {e["campaign_id"] for e in entries} == DEMO
    new = {e["contact_id"]: e for e in entries if e["entered_at"] == loop["subscribed"]}
    for contact in (loop["a"], loop["b"]):
        assert new[contact]["campaign_id"] == "welcome_series"
        assert (new[contact]["entry_number"], new[contact]["entry_source"]) == (1, "form 1")
    # segment members enter at the first build after the campaign was published
    from_segments = [e for e in entries if e["entry_source"].startswith("segment")]
    assert from_segments and {e["entered_at"] for e in from_segments} == {loop["r1"]}


def test_the_queue_holds_due_actions_with_deterministic_keys(loop):
    queue = loop["first"]["queue"]
    assert len({r["idempotency_key"] for r in queue}) == len(queue)
    by_contact = {r["contact_id"]: r for r in loop["welcome"]}
    for contact in (loop["a"], loop["b"]):
        row = by_contact[contact]
        assert row["idempotency_key"] == key("welcome_series", "welcome_email", contact)
        assert (row["action"], row["channel"], row["payload_ref"]) == ("send_email", "email", "1")
        assert (row["due_at"], row["queued_at"]) == (loop["subscribed"], loop["r1"])
    # rows still due a build later keep their key
    later = {(r["campaign_id"], r["step_id"], r["contact_id"]): r for r in loop["queue"]}
    kept = [r for r in queue if (r["campaign_id"], r["step_id"], r["contact_id"]) in later]
    assert kept
    for r in kept:
        assert (
            later[(r["campaign_id"], r["step_id"], r["contact_id"])]["idempotency_key"]
            == (r["idempotency_key"])
        )


def test_executed_rows_leave_the_queue(loop):
    reported = {r["idempotency_key"] for r in loop["welcome"]}
    assert reported and not reported & {r["idempotency_key"] for r in loop["queue"]}
    assert step(loop, loop["a"], "welcome_email")["state"] == "sent"
    failed = step(loop, loop["failing"]["contact_id"], "welcome_email")
    assert (failed["state"], failed["reason"]) == ("failed", "mailbox does not exist")
    (state,) = [
        s
        for s in loop["state"]
        if (s["campaign_id"], s["contact_id"]) == ("welcome_series", failed["contact_id"])
    ]
    assert (state["status"], state["exit_reason"]) == ("exited", "failed at welcome_email")


def test_decisions_resolve_both_ways_from_events(loop):
    a, b = loop["a"], loop["b"]
    opened = step(loop, a, "opened_welcome")
    assert (opened["state"], opened["matched_at"]) == ("yes", loop["r1"] + timedelta(days=1))
    not_opened = step(loop, b, "opened_welcome")
    assert not_opened["state"] == "no"
    assert not_opened["completed_at"] == loop["executed"] + timedelta(days=3)
    assert step(loop, a, "welcome_points")["state"] == "due"
    assert not [
        s for s in loop["steps"] if s["contact_id"] == b and s["step_id"] == "welcome_points"
    ]

    # the follow-ups are due inside their send windows, in the contact's time zone
    for contact, step_id, hours in ((a, "newsletter_followup", (9, 17)),
                                    (b, "welcome_reminder", (8, 11))):  # fmt: skip
        row = step(loop, contact, step_id)
        assert row["state"] == "due"
        local = row["due_at"].replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(row["timezone"]))
        assert local.weekday() < 5 and hours[0] <= local.hour < hours[1], (row, local)
    queued = {(r["contact_id"], r["step_id"]) for r in loop["queue"]}
    assert {(a, "welcome_points"), (a, "newsletter_followup"), (b, "welcome_reminder")} <= queued

    states = {s["contact_id"]: s for s in loop["state"] if s["campaign_id"] == "welcome_series"}
    assert (states[a]["status"], states[a]["branches"]) == ("active", '{"opened_welcome": "yes"}')
    assert (states[b]["status"], states[b]["branches"]) == ("active", '{"opened_welcome": "no"}')
    assert states[a]["steps_path"] == "welcome_email > opened_welcome"


def test_campaign_segment_actions_apply(loop):
    members = query(
        loop["home"],
        f"select matched_by from marts.segment_membership where segment_id = 'nurture' "
        f"and contact_id = '{loop['c']}'",
    )
    assert members in ([("manual",)], [("both",)])
    # … and joining the segment entered C into the campaign that starts from it
    (entry,) = [
        e
        for e in loop["entries"]
        if (e["campaign_id"], e["contact_id"]) == ("lead_nurture", loop["c"])
    ]
    assert (entry["entry_source"], entry["entered_at"]) == ("segment nurture", loop["r2"])


def test_campaign_models_pass_their_data_tests(loop):
    ok, output = loop["tests"]
    assert ok, output[-4000:]
