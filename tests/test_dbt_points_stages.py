"""Points and stages on a real warehouse: incremental runs equal a rebuild from scratch (with
decay on, late events and new identity links), an edit of the rules rescores everyone on the
next incremental run, and the generated demo gives a plausible points distribution and funnel.

dbt runs on a private copy of the project (own target and log folders), so the test can edit
its seeds without touching the shared tree, and selects only the points and stage models and
their parents. Its commands go through a dbt worker on that copy (tests/dbt_worker.py): one
parse instead of one per command."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from ingest.generator import generate
from ingest.home import Home
from ingest.loader import ingest
from pipelines.dbt_project import DBT_PROJECT_DIR
from tests.conftest import query
from tests.dbt_worker import DbtWorker

MODELS = ("fct_points_ledger", "fct_stage_changes")
# No lookback: each run sees only the newly loaded events, as in production runs hours apart
# (a 72-hour lookback would rescore everything in a test that loads within seconds).
VARS = "{points_decay_days: 5, lookback_hours: 0}"


class Project:
    """A copy of the dbt project, run against one home (its parse starts at once)."""

    def __init__(self, root: Path, home: Home):
        self.dir = root / "dbt_project"
        shutil.copytree(
            DBT_PROJECT_DIR,
            self.dir,
            ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb"),
        )
        self.root = root
        self.home = home
        self.dbt = DbtWorker(
            home, self.dir,
            "--target-path", str(root / "target"), "--log-path", str(root / "logs"),
            "--vars", VARS,
        )  # fmt: skip

    def build(self, *args: str) -> None:
        result = self.dbt.run(
            self.home,
            "build",
            "--select", *(f"+{model}" for model in MODELS),
            # only tests whose every parent is built (relationships to dim_contacts are not)
            "--indirect-selection", "cautious",
            *args,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-4000:]

    def edit_seed(self, name: str, old: str, new: str) -> None:
        path = self.dir / "seeds" / f"{name}.csv"
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new))


def differing_rows(home: Home, other: Path, table: str) -> int:
    columns = "* exclude (built_at)"  # when the row was written, not what it says
    ((count,),) = query(
        home,
        f"attach '{other}' as other (read_only);"
        f" select count(*) from ((select {columns} from marts.{table}"
        f" except all select {columns} from other.marts.{table})"
        f" union all (select {columns} from other.marts.{table}"
        f" except all select {columns} from marts.{table}))",
    )
    return count


def assert_incremental_equals_rebuild(project: Project, tmp_path: Path, label: str) -> None:
    home = project.home
    incremental = tmp_path / f"incremental-{label}.duckdb"
    shutil.copyfile(home.warehouse, incremental)
    # The rebuild is only the reference: the incremental builds ran the dbt tests.
    project.build("--full-refresh", "--exclude", "resource_type:test", "resource_type:unit_test")
    for table in MODELS:
        assert differing_rows(home, incremental, table) == 0, (label, table)


def split_by_time(lines: list[str]) -> list[list[str]]:
    """Three loads in time order (so the decay clock advances between runs), with every tenth
    event of the first period held back to the last load: late events, late identity links."""
    ordered = sorted(lines, key=lambda line: json.loads(line).get("timestamp", ""))
    first, second = len(ordered) * 6 // 10, len(ordered) * 85 // 100
    early = ordered[:first]
    late = early[3::10]
    on_time = [line for i, line in enumerate(early) if i % 10 != 3]
    return [on_time, ordered[first:second], ordered[second:] + late]


@pytest.fixture(scope="module")
def built(tmp_path_factory, request):
    """A generated home built in four incremental steps."""
    tmp_path = tmp_path_factory.mktemp("points")
    home = Home.resolve(tmp_path / "home").ensure()
    project = Project(tmp_path, home)  # parses while the data is generated
    request.addfinalizer(project.dbt.close)
    generate(home, contacts=500, days=21, seed=11, end_date=date(2026, 11, 1))
    events = next((home.landing / "events").glob("*.jsonl"))
    lines = events.read_text().splitlines(keepends=True)
    events.unlink()
    for part, chunk in enumerate(split_by_time(lines)):
        (home.landing / "events" / f"part{part}.jsonl").write_text("".join(chunk))
        ingest(home)
        project.build()
    # A fourth load: only an identify (no scoring event), stitching a device's old anonymous
    # page hits onto a contact seen later: its points and first-seen change through the link.
    device, contact = stitch_old_device(home)
    project.build()
    return project, tmp_path, device, contact


def stitch_old_device(home: Home) -> tuple[str, str]:
    ((device, first_hit, last_hit),) = query(
        home,
        "select anonymous_id, min(occurred_at), max(occurred_at) from marts.fct_events"
        " where anonymous_id is not null group by 1"
        " having count(contact_id) = 0 and count(*) filter (where event_type = 'page_hit') >= 3"
        "  and anonymous_id not in (select anonymous_id from intermediate.int_identity_links)"
        " order by 2, 1 limit 1",
    )
    ((email, contact, first_seen),) = query(
        home,
        "select email, contact_id, first_seen_at from intermediate.int_contacts_activity"
        f" where first_seen_at > timestamp '{first_hit}'"
        "  and email not in (select email from staging.stg_contacts where email is not null)"
        " order by first_seen_at, contact_id limit 1",
    )
    identify_at = max(first_seen, last_hit) + timedelta(minutes=1)
    identify = {
        "type": "identify",
        "messageId": "late-identify-1",
        "anonymousId": device,
        "userId": email,
        "traits": {"email": email},
        "timestamp": stamp(identify_at),
    }
    # and a late delivery (no points, no stage rule) from before another contact was first seen
    ((other_email, other_first_seen),) = query(
        home,
        "select email, first_seen_at from intermediate.int_contacts_activity"
        f" where email <> '{email}'"
        "  and email not in (select email from staging.stg_contacts where email is not null)"
        " order by first_seen_at desc, contact_id limit 1",
    )
    delivery = {
        "type": "track",
        "event": "Email Delivered",
        "messageId": "late-delivery-1",
        "userId": other_email,
        "properties": {"email_id": 1},
        "timestamp": stamp(other_first_seen - timedelta(days=2)),
    }
    (home.landing / "events" / "part3.jsonl").write_text(
        "".join(json.dumps(event) + "\n" for event in (identify, delivery))
    )
    ingest(home)
    return device, contact


def stamp(moment) -> str:
    return moment.isoformat(timespec="milliseconds") + "Z"


def test_incremental_runs_equal_a_rebuild_with_decay(built):
    project, tmp_path, device, contact = built
    home = project.home
    # the late link moved the device's page hits, their points and the first-seen time
    ((stitched_hits, scored_hits),) = query(
        home,
        "select count(*), count(ledger.event_id) from marts.fct_events as events"
        " left join marts.fct_points_ledger as ledger on events.event_id = ledger.event_id"
        f" and ledger.contact_id = '{contact}' and ledger.rule_id = 'page_visit'"
        f" where events.anonymous_id = '{device}' and events.event_type = 'page_hit'",
    )
    assert stitched_hits >= 3 and scored_hits == stitched_hits
    assert query(
        home,
        "select changed_at = (select min(occurred_at) from marts.fct_events"
        f" where anonymous_id = '{device}') from marts.fct_stage_changes"
        f" where contact_id = '{contact}' and stage_order = 1",
    ) in ([(True,)], [])  # a Visitor row, unless the contact skipped it
    kinds = dict(query(home, "select entry_type, count(*) from marts.fct_points_ledger group by 1"))
    assert kinds.get("rule", 0) > 0 and kinds.get("decay", 0) > 0, kinds
    assert "reset" not in kinds  # placeholders never outlive the run
    assert_incremental_equals_rebuild(project, tmp_path, "decay")


def test_points_and_funnel_are_plausible(built):
    project, *_ = built
    home = project.home
    # every contact a stage, exactly one current, never backwards
    ((contacts, staged, current, backwards),) = query(
        home,
        "with known as (select distinct contact_id from marts.fct_events"
        " where contact_id is not null)"
        " select (select count(*) from known),"
        " (select count(distinct contact_id) from marts.fct_stage_changes"
        "  where contact_id in (select contact_id from known)),"
        " (select count(*) from marts.fct_stage_changes where is_current),"
        " (select count(*) from (select changed_at, lag(changed_at) over ("
        "  partition by contact_id order by stage_order) as previous"
        "  from marts.fct_stage_changes) as history where previous >= changed_at)",
    )
    assert staged == contacts > 0
    assert (
        current
        == query(home, "select count(distinct contact_id) from marts.fct_stage_changes")[0][0]
    )
    assert backwards == 0
    # contacts reaching each stage (or a later one) thin out along the funnel
    reached = [
        count
        for (_order, count) in query(
            home,
            "select stages.stage_order, count(distinct changes.contact_id)"
            " from rules.stages as stages left join marts.fct_stage_changes as changes"
            " on changes.stage_order >= stages.stage_order group by 1 order by 1",
        )
    ]
    assert reached == sorted(reached, reverse=True) and reached[-1] < reached[0], reached
    # points before decay: most scored contacts are positive, a few are penalised; with a
    # 5-day decay over 3 weeks, most of them have expired
    ((scored, positive, negative, earned, decayed),) = query(
        home,
        "select count(*), count(*) filter (where earned > 0), count(*) filter (where earned < 0),"
        " sum(earned), sum(decayed)"
        " from (select contact_id, sum(case when entry_type <> 'decay' then delta end) as earned,"
        " coalesce(sum(case when entry_type = 'decay' then delta end), 0) as decayed"
        " from marts.fct_points_ledger group by 1)",
    )
    assert positive > scored / 2 and negative < scored / 4
    assert 0 < -decayed < earned


def test_a_rules_edit_rescores_without_a_full_refresh(built):
    project, tmp_path, *_ = built
    home = project.home
    before = dict(query(home, "select rule_id, sum(delta) from marts.fct_points_ledger group by 1"))
    assert before.get("page_visit", 0) > 0 and before.get("email_open", 0) > 0
    scored_before = {c for (c,) in query(home, "select contact_id from marts.fct_points_ledger")}
    # page visits score double, email opens nothing; MQL needs fewer points
    project.edit_seed(
        "point_rules",
        "page_visit,Visits a page,page_hit,,,,,1,engagement,every_time,20,true",
        "page_visit,Visits a page,page_hit,,,,,2,engagement,every_time,40,true",
    )
    for row in (
        "email_open,Opens an email,email_open,,,,,1,engagement,every_time,10,",
        "welcome_email_open,Opens the welcome email,email_open,,,,1,2,engagement,once,,",
    ):
        project.edit_seed("point_rules", f"{row}true", f"{row}false")
    project.edit_seed("stages", "mql,Marketing Qualified,3,40,", "mql,Marketing Qualified,3,30,")
    project.build()  # incremental: no new events, only new rules
    after = dict(query(home, "select rule_id, sum(delta) from marts.fct_points_ledger group by 1"))
    assert "email_open" not in after and "welcome_email_open" not in after
    assert after["page_visit"] > before["page_visit"]
    # contacts whose only points were opens have no rows left (their stale rows were reset)
    scored_after = {c for (c,) in query(home, "select contact_id from marts.fct_points_ledger")}
    assert scored_after < scored_before
    assert query(
        home,
        "select count(distinct rules_version) from marts.fct_points_ledger"
        " union all select count(distinct rules_version) from marts.fct_stage_changes",
    ) == [(1,), (1,)]
    assert query(
        home,
        "select count(*) from marts.fct_stage_changes where stage_id = 'mql'"
        " and reason <> 'points >= 30'",
    ) == [(0,)]
    assert_incremental_equals_rebuild(project, tmp_path, "rules")
