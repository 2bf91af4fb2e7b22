"""Points & stages, Campaigns and Pipeline health pages under AppTest, against built homes.

Each page runs in the real app (dashboards/app.py, then switch_page) and what it shows is
compared with direct DuckDB queries on the published file. Pipeline health also runs on a copy
of the built home after a bad contacts file (rows quarantined) and an unreadable events file
(a failed load) were ingested and the build republished.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import data, ui
from dashboards.queries import points_stages as points_queries
from ingest.home import Home
from ingest.loader import ingest
from pipelines.publish import publish, published_path
from tests.conftest import published

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
CORPUS = Path(__file__).parent / "corpus"
TIMEOUT = 60


def one(home: Home, sql: str, params: list | None = None):
    return published(home, sql, params)[0][0]


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return values[0]


def delta(at: AppTest, label: str) -> str:
    values = [m.delta for m in at.metric if m.label == label]
    assert values, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return values[0]


def table(at: AppTest, *columns: str):
    """The first table shown (pandas) that has all these columns (read-only tables have no
    element id for AppTest to find them by key)."""
    for frame in at.dataframe:
        value = frame.value
        if set(columns) <= set(value.columns):
            return value
    raise AssertionError(
        f"no table with {columns} in {[list(f.value.columns) for f in at.dataframe]}"
    )


def open_page(home: Home, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("FUNNELHOUSE_HOME", str(home.root))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def period_of(at: AppTest) -> tuple[date, date, date]:
    filters = at.session_state[data.FILTERS_KEY]
    return filters.start, filters.stop, filters.previous().start


# --------------------------------------------------------------------------- points & stages


def test_points_and_stages_match_the_marts(built_home: Home, monkeypatch) -> None:
    at = open_page(built_home, monkeypatch, "points_stages")
    start, stop, prev_start = period_of(at)
    awarded, deducted, scored = published(
        built_home,
        "select sum(delta) filter (where delta > 0), -sum(delta) filter (where delta < 0), "
        "count(distinct contact_id) from marts.fct_points_ledger "
        "where occurred_at >= ? and occurred_at < ?",
        [start, stop],
    )[0]
    assert metric(at, "Points awarded") == ui.number(awarded)
    assert metric(at, "Points deducted") == ui.number(deducted or 0)
    assert metric(at, "Contacts scored") == ui.number(scored)
    positive = one(built_home, "select count(*) from marts.dim_contacts where points > 0")
    assert metric(at, "Contacts with points") == ui.number(positive)

    # The default period ends on the newest event day: points at its end are today's points.
    newest_entry = one(built_home, "select max(occurred_at) from marts.fct_points_ledger")
    assert newest_entry < datetime.combine(stop, datetime.min.time())
    leaders = table(at, "rank", "email", "gained")
    top = published(
        built_home,
        "select email, points from reports.rpt_points_leaderboard order by leaderboard_rank "
        "limit 25",
    )
    assert list(zip(leaders["email"], leaders["points"], strict=True)) == top
    assert leaders["points"].iloc[0] == one(
        built_home, "select max(points) from marts.dim_contacts"
    )

    distribution = published(
        built_home, "select contacts from reports.rpt_points_distribution order by bucket_order"
    )
    assert at.get("plotly_chart")  # distribution, daily points, rules, funnel, timing
    rules = table(at, "rule_id", "points_awarded")
    by_rule = dict(
        published(
            built_home,
            "select rule_id, sum(points) from reports.rpt_points_by_rule_daily "
            "where day >= ? and day < ? group by rule_id",
            [start, stop],
        )
    )
    shown = rules.groupby("rule_id")["points"].sum().to_dict()
    assert shown == by_rule
    assert sum(c for (c,) in distribution) == one(
        built_home, "select count(*) from marts.dim_contacts"
    )

    funnel = table(at, "stage_name", "reached", "entered")
    expected = published(
        built_home,
        "select stage_name, contacts_reached, contacts_entered, contacts_current "
        "from reports.rpt_stage_funnel order by stage_order",
    )
    assert (
        list(
            zip(
                funnel["stage_name"],
                funnel["reached"],
                funnel["entered"],
                funnel["current"],
                strict=True,
            )
        )
        == expected
    )
    # Replayed from fct_stage_changes (as with a segment or an earlier period), the funnel at
    # the period's end is the report model's, medians included.
    filters = at.session_state[data.FILTERS_KEY]
    replayed = data.query(points_queries.FUNNEL, {**filters.params(), "all_time": False})
    report = published(
        built_home,
        "select contacts_reached, contacts_entered, contacts_current, contacts_moved_on, "
        "contacts_from_previous_stage, median_days_from_previous_stage, median_days_in_stage "
        "from reports.rpt_stage_funnel order by stage_order",
    )
    columns = ["reached", "entered", "current", "moved_on", "from_previous"]
    columns += ["median_days_from_previous", "median_days_in_stage"]
    assert [
        tuple(None if v is None else round(v, 6) for v in row)
        for row in replayed.select(columns).rows()
    ] == [tuple(None if v is None else round(v, 6) for v in row) for row in report]


def test_points_and_stages_follow_the_segment(built_home: Home, monkeypatch) -> None:
    at = open_page(built_home, monkeypatch, "points_stages")
    segment, members = published(
        built_home,
        "select segment_id, count(*) from marts.segment_membership group by 1 order by 2 desc",
    )[0]
    at.selectbox("segment_filter").set_value(segment).run()
    assert not at.exception, [e.value for e in at.exception]
    funnel = table(at, "stage_name", "reached", "entered")
    in_stages = one(
        built_home,
        "select count(distinct contact_id) from marts.fct_stage_changes where contact_id in "
        "(select contact_id from marts.segment_membership where segment_id = ?)",
        [segment],
    )
    assert funnel["reached"].iloc[0] == in_stages <= members
    leaders = table(at, "rank", "email", "gained")
    outsiders = one(
        built_home,
        "select count(*) from marts.dim_contacts where list_contains(?, email) and contact_id "
        "not in (select contact_id from marts.segment_membership where segment_id = ?)",
        [list(leaders["email"]), segment],
    )
    assert outsiders == 0

    # Ranked by points gained in the period instead.
    at.segmented_control("points_rank_by").set_value("Gained in period").run()
    gained = table(at, "rank", "email", "gained")["gained"].tolist()
    assert gained == sorted(gained, reverse=True) and all(g > 0 for g in gained)


# ----------------------------------------------------------------------------------- campaigns


def test_campaigns_without_the_campaign_models_say_so(
    built_home: Home, tmp_path: Path, monkeypatch
) -> None:
    home = copy_published(built_home, tmp_path)
    with duckdb.connect(str(published_path(home))) as con:  # a build from before the models
        con.execute("drop table if exists marts.campaign_contact_state")
        con.execute("drop table if exists marts.fct_campaign_steps")
    at = open_page(home, monkeypatch, "campaigns")
    assert "Campaigns arrive with the campaign models" in at.info[0].value
    assert "marts.campaign_contact_state" in at.info[0].value
    assert not at.dataframe and not at.get("plotly_chart")


def test_campaigns_of_the_built_home(built_home: Home, monkeypatch) -> None:
    at = open_page(built_home, monkeypatch, "campaigns")
    built = published(
        built_home,
        "select 1 from information_schema.tables where table_schema = 'marts' "
        "and table_name = 'campaign_contact_state'",
    )
    if not built:  # a project without the campaign models
        assert "Campaigns arrive with the campaign models" in at.info[0].value
        return
    expected = one(built_home, "select count(*) from marts.campaign_contact_state")
    if not expected:  # no campaign took contacts in the generated home
        assert "No contact has entered a campaign" in at.info[0].value
    else:
        assert metric(at, "Contacts in campaigns") == ui.number(expected)
        shown = table(at, "campaign_name", "contacts", "exited")
        assert shown["contacts"].sum() == expected


# A small campaign in the campaign models' columns (dbt_project/models/marts/_campaigns.yml):
# welcome sends email 1 (s1), waits for an open (d1): yes → points (y1), no → reminder (n1).
# (contact index, entry, entered, status, [(step, state)]); entry 1 of contact 4 was restarted.
CAMPAIGN_STEPS = {
    "s1": (1, 0, "action", "send_email", None),
    "d1": (2, 1, "decision", "opened_email", "s1"),
    "y1": (3, 2, "action", "adjust_points", "d1"),
    "n1": (4, 2, "action", "send_email", "d1"),
}
RECENT, LONG_AGO = "recent", "long ago"
WELCOME = [
    (0, 1, RECENT, "active", [("s1", "sent"), ("d1", "yes"), ("y1", "due")]),
    (1, 1, RECENT, "waiting", [("s1", "sent"), ("d1", "no"), ("n1", "scheduled")]),
    (2, 1, RECENT, "waiting", [("s1", "sent"), ("d1", "waiting")]),
    (3, 1, LONG_AGO, "exited", [("s1", "failed")]),
    (4, 1, LONG_AGO, None, [("s1", "sent"), ("d1", "cancelled")]),
    (4, 2, LONG_AGO, "completed", [("s1", "sent"), ("d1", "yes"), ("y1", "sent")]),
]
# Per step: (at, through, out) over each contact's latest entry.
EXPECTED_STEPS = {"s1": (0, 4, 1), "d1": (1, 3, 0), "y1": (1, 1, 0), "n1": (1, 0, 0)}


def copy_published(built_home: Home, tmp_path: Path) -> Home:
    home = Home.resolve(tmp_path / "home")
    home.published.mkdir(parents=True)
    shutil.copyfile(published_path(built_home), published_path(home))
    return home


def test_campaign_steps_at_through_and_out(built_home: Home, tmp_path: Path, monkeypatch):
    home = copy_published(built_home, tmp_path)
    contacts = [
        c
        for (c,) in published(
            home, "select contact_id from marts.dim_contacts order by contact_id limit 5"
        )
    ]
    last = one(home, "select max(occurred_on) from marts.fct_events")
    entered = {RECENT: datetime.combine(last, datetime.min.time()), LONG_AGO: datetime(2020, 1, 1)}
    with duckdb.connect(str(published_path(home))) as con:  # stands in for a campaign build
        con.execute("drop table if exists marts.campaign_contact_state")
        con.execute("drop table if exists marts.fct_campaign_steps")
        con.execute(
            "create table marts.campaign_contact_state (campaign_id varchar, campaign_name "
            "varchar, is_published boolean, contact_id varchar, entry_number integer, "
            "entered_at timestamp, status varchar)"
        )
        con.execute(
            "create table marts.fct_campaign_steps (campaign_id varchar, contact_id varchar, "
            "entry_number integer, entered_at timestamp, step_id varchar, step_order integer, "
            "step_type varchar, step_kind varchar, parent_step_id varchar, depth integer, "
            "state varchar)"
        )
        for index, entry, when, status, steps in WELCOME:
            contact = contacts[index]
            if status:
                con.execute(
                    "insert into marts.campaign_contact_state values "
                    "('welcome', 'Welcome series', true, ?, ?, ?, ?)",
                    [contact, entry, entered[when], status],
                )
            for step, state in steps:
                order, depth, kind, action, parent = CAMPAIGN_STEPS[step]
                con.execute(
                    "insert into marts.fct_campaign_steps values "
                    "('welcome', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        contact,
                        entry,
                        entered[when],
                        step,
                        order,
                        kind,
                        action,
                        parent,
                        depth,
                        state,
                    ],
                )
    at = open_page(home, monkeypatch, "campaigns")
    assert metric(at, "Contacts in campaigns") == "5"
    assert (metric(at, "Active"), metric(at, "Waiting")) == ("1", "2")
    assert (metric(at, "Completed"), metric(at, "Exited")) == ("1", "1")
    steps = table(at, "step_id", "at_step", "through", "out")
    shown = {
        row.step_id: (row.at_step, row.through, row.out) for row in steps.itertuples(index=False)
    }
    assert shown == EXPECTED_STEPS
    assert list(steps["step_id"]) == ["s1", "d1", "y1", "n1"]  # in the campaign's order
    assert (steps.set_index("step_id").loc["d1", ["yes", "no"]] == [2, 1]).all()
    assert at.get("plotly_chart")

    # Entries that began in the period: contacts 0-2.
    at.toggle("campaigns_in_period").set_value(True).run()
    assert metric(at, "Contacts in campaigns") == "3"
    shown = table(at, "step_id", "at_step", "through", "out")
    assert dict(zip(shown["step_id"], shown["through"], strict=True)) == {
        "s1": 3,
        "d1": 2,
        "y1": 0,
        "n1": 0,
    }

    # A segment: its members only.
    segment = one(
        home,
        "select segment_id from marts.segment_membership group by 1 order by count(*) desc limit 1",
    )
    members = one(
        home,
        "select count(*) from marts.campaign_contact_state where entered_at >= ? and contact_id "
        "in (select contact_id from marts.segment_membership where segment_id = ?)",
        [entered[RECENT], segment],
    )
    at.selectbox("segment_filter").set_value(segment).run()
    assert not at.exception
    if members:
        assert metric(at, "Contacts in campaigns") == ui.number(members)
    else:
        assert "No contact has entered a campaign in the period from this segment" in (
            at.info[0].value
        )


# ----------------------------------------------------------------------------- pipeline health


@pytest.fixture(scope="module")
def troubled_home(built_home: Home, tmp_path_factory: pytest.TempPathFactory) -> Home:
    """The built home plus a contacts file with bad rows and an unreadable events file,
    ingested and republished (the dbt models are unchanged: no new build is needed)."""
    home = Home.resolve(tmp_path_factory.mktemp("troubled") / "home")
    shutil.copytree(built_home.root, home.root, ignore=shutil.ignore_patterns("dbt-target"))
    shutil.copyfile(
        CORPUS / "contacts" / "mixed_problems.csv", home.landing / "contacts" / "mixed.csv"
    )
    (home.landing / "events" / "broken.parquet").write_bytes(b"not parquet at all")
    ingest(home)
    publish(home, run_id="health-test")
    return home


def test_pipeline_health_on_a_clean_build(built_home: Home, monkeypatch) -> None:
    at = open_page(built_home, monkeypatch, "pipeline_health")
    assert one(built_home, "select count(*) from pipeline.quarantine") == 0
    assert "No row was quarantined." in [c.value for c in at.caption]
    layers = table(at, "layer", "table_name", "rows")
    for layer, name, rows in layers.itertuples(index=False):
        assert rows == one(built_home, f'select count(*) from "{layer}"."{name}"'), name
    raw = table(at, "target_table", "rows_loaded")
    assert raw["rows_loaded"].sum() == one(
        built_home, "select sum(rows_loaded) from pipeline.loads where status = 'loaded'"
    )
    published_at = one(built_home, "select published_at from pipeline.publish")
    assert delta(at, "Last publish") == f"{published_at:%Y-%m-%d %H:%M} UTC"
    newest = one(built_home, "select max(occurred_at) from marts.fct_events")
    assert delta(at, "Newest event") == f"{newest:%Y-%m-%d %H:%M} UTC"


def test_pipeline_health_shows_quarantine_and_failed_files(troubled_home: Home, monkeypatch):
    at = open_page(troubled_home, monkeypatch, "pipeline_health")
    quarantined = one(troubled_home, "select count(*) from pipeline.quarantine")
    assert quarantined > 0
    reasons = table(at, "field", "reason", "files")
    assert reasons["rows"].sum() == quarantined
    expected = published(
        troubled_home,
        "select field, reason, count(*) from pipeline.quarantine group by all order by 3 desc, "
        "1, 2",
    )
    assert sorted(zip(reasons["field"], reasons["reason"], reasons["rows"], strict=True)) == sorted(
        expected
    )
    rows = table(at, "file", "source_row", "raw_text")
    assert len(rows) == min(quarantined, 100)
    assert set(rows["file"]) == {"contacts/mixed.csv"}
    assert at.download_button("health_quarantine_csv").proto.label.startswith(
        f"Download {quarantined:,}"
    )

    failed = table(at, "path", "error")
    assert list(failed["path"]) == ["events/broken.parquet"]
    assert failed["error"].iloc[0] == one(
        troubled_home, "select error from pipeline.loads where status = 'failed'"
    )
    assert "1 file(s) could not be loaded" in at.warning[0].value
    read, bad = published(
        troubled_home,
        "select sum(rows_read), sum(rows_quarantined) from pipeline.loads where status = 'loaded'",
    )[0]
    assert metric(at, "Quarantine rate") == ui.percent(bad / read)
    assert "health-test" in " ".join(c.value for c in at.caption)

    # One reason only.
    reason = reasons["reason"].iloc[-1]
    at.selectbox("health_reason").set_value(reason).run()
    assert set(table(at, "file", "source_row", "raw_text")["reason"]) == {reason}
    assert len(table(at, "file", "source_row", "raw_text")) == one(
        troubled_home, "select count(*) from pipeline.quarantine where reason = ?", [reason]
    )
