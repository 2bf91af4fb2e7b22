"""The dashboards under Streamlit's AppTest: the shell, six pages, the filters, the empty state.

Every test runs the real app (dashboards/app.py, then switch_page) against the shared, built and
published home, and checks what a page shows against a direct DuckDB query on the published
file.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards import data, ui
from dashboards.queries import companies as companies_queries
from dashboards.queries import overview as overview_queries
from dashboards.queries import segments as segment_queries
from ingest.home import Home
from tests.conftest import published

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
MY_PAGES = ["overview", "contacts", "segments", "emails", "web", "companies"]
ALL_PAGES = [*MY_PAGES, "points_stages", "campaigns", "reports", "pipeline_health"]
TIMEOUT = 60
# What a contact did (dim_contacts.last_active_at's definition), written out independently of
# the dbt macros: not what was done to it, nor an identify call a campaign wrote.
DID_SOMETHING = (
    "event_type not in ('email_sent', 'email_delivered', 'email_bounce', 'sms_sent', "
    "'sms_delivered', 'sms_failed', 'dnc_change', 'manual_points', 'campaign_action') "
    "and not coalesce(event_type = 'identify' "
    "and json_extract_string(properties, '$.source') = 'campaign', false)"
)


def one(home: Home, sql: str, params: list | None = None):
    return published(home, sql, params)[0][0]


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return values[0]


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


@pytest.fixture
def app(built_home: Home, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("FUNNELHOUSE_HOME", str(built_home.root))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def period(built_home: Home) -> tuple[date, date]:
    """The default period: the 30 days up to the newest event day; returns (start, stop)."""
    last = one(built_home, "select max(occurred_on) from marts.fct_events")
    return last - timedelta(days=29), last + timedelta(days=1)


def test_shell_registers_every_page_and_sets_default_filters(app: AppTest, period) -> None:
    start, stop = period
    assert app.session_state[data.FILTERS_KEY] == data.Filters(start, stop - timedelta(days=1))
    assert app.segmented_control("period_preset").value == "Last 30 days"
    assert app.selectbox("segment_filter").value == "__all__"
    segment_options = app.selectbox("segment_filter").options
    assert len(segment_options) > 1  # all contacts + the build's segments
    assert app.title[0].value == "Overview"  # the default page
    for page in ALL_PAGES:  # each page file is registered in the navigation
        app.switch_page(f"views/{page}.py")


def test_overview_kpis_equal_the_published_marts(app: AppTest, built_home: Home, period) -> None:
    start, stop = period
    prev_start = start - timedelta(days=30)
    open_page(app, "overview")
    contacts = one(
        built_home, "select count(*) from marts.dim_contacts where created_at < ?", [stop]
    )
    new = one(
        built_home,
        "select count(*) from marts.dim_contacts where created_at >= ? and created_at < ?",
        [start, stop],
    )
    new_before = one(
        built_home,
        "select count(*) from marts.dim_contacts where created_at >= ? and created_at < ?",
        [prev_start, start],
    )
    identified = one(
        built_home,
        "select count(*) from marts.dim_contacts where identified_at >= ? and identified_at < ?",
        [start, stop],
    )
    active = one(
        built_home,
        "select count(distinct contact_id) from marts.fct_events where occurred_on >= ? "
        f"and occurred_on < ? and {DID_SOMETHING}",
        [start, stop],
    )
    sent, delivered, opened, clicked = published(
        built_home,
        "select count(*), count(*) filter (where is_delivered), count(*) filter (where is_opened),"
        " count(*) filter (where is_clicked) from marts.fct_email_sends "
        "where sent_on >= ? and sent_on < ?",
        [start, stop],
    )[0]
    forms = one(
        built_home,
        "select count(*) from marts.fct_events where event_type = 'form_submit' "
        "and occurred_on >= ? and occurred_on < ?",
        [start, stop],
    )
    sessions = one(
        built_home,
        "select count(*) from marts.fct_sessions where started_on >= ? and started_on < ?",
        [start, stop],
    )
    assert metric(app, "Contacts") == ui.number(contacts)
    assert metric(app, "New contacts") == ui.number(new)
    assert next(m for m in app.metric if m.label == "New contacts").proto.delta == ui.change(
        new, new_before
    )
    assert metric(app, "Identified") == ui.number(identified)
    assert metric(app, "Active contacts") == ui.number(active)
    assert metric(app, "Emails sent") == ui.number(sent)
    assert metric(app, "Open rate") == ui.percent(opened / delivered)
    assert metric(app, "Click rate") == ui.percent(clicked / delivered)
    assert metric(app, "Form submissions") == ui.number(forms)
    assert metric(app, "Sessions") == ui.number(sessions)
    assert contacts > 0 and sent > 0 and sessions > 0
    assert charts(app) >= 4  # two trends, top segments, the funnel
    # The trend charts' data (report models) add up to the same marts.
    trends = overview_queries.daily(app.session_state[data.FILTERS_KEY])
    assert trends.height == 30
    assert trends["new_contacts"].sum() == new
    assert trends["sessions"].sum() == sessions
    assert trends["emails_sent"].sum() == sent
    assert trends["form_submissions"].sum() == forms
    assert trends["active_contacts"].sum() == one(
        built_home,
        "select count(*) from (select distinct occurred_on, contact_id from marts.fct_events "
        "where occurred_on >= ? and occurred_on < ? and contact_id is not null "
        f"and {DID_SOMETHING})",
        [start, stop],
    )
    segments_table, funnel_table = app.dataframe
    assert not segments_table.value.empty
    reached = funnel_table.value["reached"].tolist()
    assert reached == sorted(reached, reverse=True) and reached[0] > 0


def test_segment_filter_restricts_the_kpis(app: AppTest, built_home: Home, period) -> None:
    start, stop = period
    segment, members = published(
        built_home,
        "select segment_id, count(*) from marts.segment_membership group by segment_id "
        "order by count(*) desc, segment_id limit 1",
    )[0]
    everyone = one(
        built_home, "select count(*) from marts.dim_contacts where created_at < ?", [stop]
    )
    assert members < everyone
    app.selectbox("segment_filter").set_value(segment).run(timeout=TIMEOUT)
    assert app.session_state[data.FILTERS_KEY].segment_id == segment
    open_page(app, "overview")
    in_segment = one(
        built_home,
        "select count(*) from marts.dim_contacts join marts.segment_membership using (contact_id)"
        " where segment_id = ? and created_at < ?",
        [segment, stop],
    )
    assert metric(app, "Contacts") == ui.number(in_segment)
    assert metric(app, "Contacts") != ui.number(everyone)
    segment_name = one(
        built_home,
        "select any_value(segment_name) from marts.segment_membership where segment_id = ?",
        [segment],
    )
    assert segment_name in app.caption[0].value

    # Every page honours it: the emails page counts only the members' sends.
    open_page(app, "emails")
    sends = one(
        built_home,
        "select count(*) from marts.fct_email_sends join marts.segment_membership "
        "using (contact_id) where segment_id = ? and sent_on >= ? and sent_on < ?",
        [segment, start, stop],
    )
    assert metric(app, "Sent") == ui.number(sends)
    open_page(app, "web")
    visits = one(
        built_home,
        "select count(*) from marts.fct_sessions join marts.segment_membership "
        "using (contact_id) where segment_id = ? and started_on >= ? and started_on < ?",
        [segment, start, stop],
    )
    assert metric(app, "Sessions") == ui.number(visits)
    for page in ("contacts", "segments", "companies"):
        open_page(app, page)


def test_date_range_presets_change_the_period(app: AppTest, built_home: Home, period) -> None:
    _, stop = period
    app.segmented_control("period_preset").set_value("Last 7 days").run(timeout=TIMEOUT)
    open_page(app, "web")
    start = stop - timedelta(days=7)
    assert app.session_state[data.FILTERS_KEY].start == start
    sessions, page_views = published(
        built_home,
        "select count(*), sum(page_views) from marts.fct_sessions "
        "where started_on >= ? and started_on < ?",
        [start, stop],
    )[0]
    assert metric(app, "Sessions") == ui.number(sessions)
    assert metric(app, "Page views") == ui.number(page_views)

    app.segmented_control("period_preset").set_value("Custom").run(timeout=TIMEOUT)
    first = stop - timedelta(days=14)
    app.date_input("period_custom").set_value((first, first + timedelta(days=2))).run(
        timeout=TIMEOUT
    )
    assert not app.exception
    assert app.session_state[data.FILTERS_KEY].start == first
    assert app.session_state[data.FILTERS_KEY].days == 3


def test_contacts_search_card_and_timeline(app: AppTest, built_home: Home, period) -> None:
    start, stop = period
    contact_id, email, points, events = published(
        built_home,
        "select contact_id, any_value(c.email), any_value(c.points)::bigint, count(*) "
        "from marts.fct_events e join marts.dim_contacts c using (contact_id) "
        "where e.occurred_on >= ? and e.occurred_on < ? and c.first_name is not null "
        "group by contact_id order by count(*) desc, contact_id limit 1",
        [start, stop],
    )[0]
    open_page(app, "contacts")
    assert not app.dataframe[0].value.empty  # contacts active in the period
    app.text_input("contact_search").set_value(email.upper()).run(timeout=TIMEOUT)
    assert not app.exception
    assert app.selectbox("contact_selected").value == contact_id
    assert email in app.caption.values[-1] or any(email in c.value for c in app.caption)
    assert metric(app, "Points") == ui.number(points)
    timeline = app.dataframe[-1].value
    assert len(timeline) == min(events, 100)
    assert charts(app) == 2  # points and stage history

    page_hits = one(
        built_home,
        "select count(*) from marts.fct_events where contact_id = ? and event_type = 'page_hit' "
        "and occurred_on >= ? and occurred_on < ?",
        [contact_id, start, stop],
    )
    if page_hits:
        app.multiselect("timeline_types").set_value(["page_hit"]).run(timeout=TIMEOUT)
        assert set(app.dataframe[-1].value["event_type"]) == {"page_hit"}
        assert len(app.dataframe[-1].value) == min(page_hits, 100)

    app.text_input("contact_search").set_value("no-such-contact-%_").run(timeout=TIMEOUT)
    assert not app.exception
    assert "No contact matches" in app.info[0].value


def test_segments_sizes_overlap_and_members(app: AppTest, built_home: Home) -> None:
    open_page(app, "segments")
    models = one(
        built_home,
        "select count(*) from information_schema.tables where table_schema = 'segments'",
    )
    assert metric(app, "Segments") == ui.number(models)
    sizes = app.dataframe[0].value
    expected = dict(
        published(
            built_home,
            "select any_value(segment_name), count(*) from marts.segment_membership "
            "group by segment_id",
        )
    )
    shown = dict(zip(sizes["segment_name"], sizes["members"], strict=True))
    assert {name: shown[name] for name in expected} == expected

    a, b = app.selectbox("overlap_a").value, app.selectbox("overlap_b").value
    both = one(
        built_home,
        "select count(*) from marts.segment_membership x join marts.segment_membership y "
        "using (contact_id) where x.segment_id = ? and y.segment_id = ?",
        [a, b],
    )
    assert metric(app, "In both") == ui.number(both)

    listed = app.selectbox("members_segment").value
    members = one(
        built_home, "select count(*) from marts.segment_membership where segment_id = ?", [listed]
    )
    assert len(app.dataframe[-1].value) == min(members, 100)
    assert app.download_button("members_csv").proto.label.startswith(f"Download all {members:,}")
    csv = segment_queries.members_csv(app.session_state[data.FILTERS_KEY], listed, False)
    assert len(csv.decode().strip().splitlines()) == members + 1  # header + one row each


def test_emails_performance_matches_the_sends(app: AppTest, built_home: Home, period) -> None:
    start, stop = period
    open_page(app, "emails")
    sent, delivered, opened, clicked = published(
        built_home,
        "select count(*), count(*) filter (where is_delivered), count(*) filter (where is_opened),"
        " count(*) filter (where is_clicked) from marts.fct_email_sends "
        "where sent_on >= ? and sent_on < ?",
        [start, stop],
    )[0]
    assert metric(app, "Sent") == ui.number(sent)
    assert metric(app, "Open rate") == ui.percent(opened / delivered)
    assert metric(app, "Click-to-open") == ui.percent(clicked / opened)
    per_email = app.dataframe[0].value
    assert per_email["sent"].sum() == sent
    assert per_email["unique_opens"].sum() == opened
    assert charts(app) == 2  # daily series and the send-time heatmap
    clicks = one(
        built_home,
        "select count(*) from marts.fct_events where event_type = 'email_click' "
        "and occurred_on >= ? and occurred_on < ?",
        [start, stop],
    )
    assert app.dataframe[-1].value["clicks"].sum() == clicks > 0


def test_web_traffic_sources_pages_forms_assets(app: AppTest, built_home: Home, period) -> None:
    start, stop = period
    open_page(app, "web")
    sessions, page_views, new_sessions, bounces = published(
        built_home,
        "select count(*), sum(page_views), count(*) filter (where is_first_session), "
        "count(*) filter (where is_bounce) from marts.fct_sessions "
        "where started_on >= ? and started_on < ?",
        [start, stop],
    )[0]
    assert metric(app, "Sessions") == ui.number(sessions)
    assert metric(app, "Page views") == ui.number(page_views)
    assert metric(app, "New sessions") == ui.number(new_sessions)
    assert metric(app, "Bounce rate") == ui.percent(bounces / sessions)
    sources, landing, forms, assets = (d.value for d in app.dataframe)
    assert sources["sessions"].sum() == sessions
    assert landing["entrances"].iloc[0] > 0
    submissions = one(
        built_home,
        "select count(*) from marts.fct_events where event_type = 'form_submit' "
        "and occurred_on >= ? and occurred_on < ?",
        [start, stop],
    )
    assert forms["submissions"].sum() <= submissions and forms["submissions"].sum() > 0
    downloads = one(
        built_home,
        "select count(*) from marts.fct_events where event_type = 'asset_download' "
        "and occurred_on >= ? and occurred_on < ?",
        [start, stop],
    )
    assert assets["downloads"].sum() == downloads
    assert charts(app) == 4


def test_companies_list_and_detail(app: AppTest, built_home: Home, period) -> None:
    open_page(app, "companies")
    companies = one(built_home, "select count(*) from reports.rpt_company_engagement")
    listed = app.dataframe[0].value
    assert len(listed) == min(companies, 50)
    company_id, name, contacts, score = published(
        built_home,
        "select company_id, company_name, contact_count, engagement_score "
        "from reports.rpt_company_engagement order by engagement_rank limit 1",
    )[0]
    assert listed["company_name"].iloc[0] == name
    # The period's activity of the company's contacts, counted from the events themselves.
    active, events = published(
        built_home,
        "select count(distinct contact_id), count(*) from marts.fct_events "
        f"where occurred_on >= ? and occurred_on < ? and {DID_SOMETHING} "
        "and contact_id in (select contact_id from marts.dim_contacts where company_id = ?)",
        [*period, company_id],
    )[0]
    assert (listed["active_in_period"].iloc[0], listed["events_in_period"].iloc[0]) == (
        active,
        events,
    )
    assert events > 0
    filters = app.session_state[data.FILTERS_KEY]
    by_day = companies_queries.company_activity(filters, company_id)
    assert by_day["events"].sum() == events
    assert app.header[0].value == name  # the detail opens on the top company
    assert metric(app, "Contacts") == ui.number(contacts)
    assert metric(app, "Engagement score") == ui.number(score)
    assert len(app.dataframe[-1].value) == min(contacts, 200)
    assert charts(app) >= 2

    app.text_input("company_search").set_value(name[:5]).run(timeout=TIMEOUT)
    assert not app.exception
    assert all(name[:5].lower() in n.lower() for n in app.dataframe[0].value["company_name"])


def test_empty_home_shows_the_empty_state_on_every_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home.resolve(tmp_path / "empty").ensure()
    monkeypatch.setenv("FUNNELHOUSE_HOME", str(home.root))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    for page in ALL_PAGES:
        at.switch_page(f"views/{page}.py").run(timeout=TIMEOUT)
        assert not at.exception, (page, [e.value for e in at.exception])
        assert "No build yet: run `funnelhouse run` first" in at.info[0].value, page
        assert not at.metric and not at.get("plotly_chart")


def test_a_new_publish_is_read_by_the_next_query(
    built_home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboards keep the published database open between queries; a publish (a rename
    over the file) must still be seen at once, not the replaced file."""
    from pipelines.publish import publish

    home = Home.resolve(tmp_path / "copy").ensure()
    shutil.copyfile(built_home.warehouse, home.warehouse)
    first = publish(home)
    monkeypatch.setenv("FUNNELHOUSE_HOME", str(home.root))
    assert data.published_at() == first.published_at
    second = publish(home)
    assert second.published_at > first.published_at
    assert data.published_at() == second.published_at
    assert data.scalar("select count(*) from marts.dim_contacts") == one(
        home, "select count(*) from marts.dim_contacts"
    )
