"""Report models (dbt_project/models/reports/rpt_*) on a generated home: every report has rows,
and its figures reconcile with the marts it summarises (sessions, sends, submissions, stages,
points, segments add up to the same totals), so a dashboard reading a report shows the same
numbers as one reading the marts.

The home is the session's ``built_home``, built by `funnelhouse run` (dbt build: every model
with its data tests). The hand-worked cases (email rates, stage funnel medians, form session
attribution, segment sizes carried between builds) are dbt unit tests in
models/reports/_reports.yml: scheduled runs leave them out, so the first test checks the
reports' data tests in dbt's record of the build, then runs the unit tests on the same home."""

from __future__ import annotations

import json

from ingest.home import Home
from pipelines.dbt_project import dbt_target_path
from tests.conftest import query

REPORTS = "models/reports/"


def one(home: Home, sql: str):
    ((value,),) = query(home, sql)
    return value


def test_the_reports_unit_and_data_tests_passed_in_the_build(built_home, dbt_worker):
    target = dbt_target_path(built_home)
    manifest = json.loads((target / "manifest.json").read_text())
    reports = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["original_file_path"].startswith(REPORTS)
    }

    def on_reports(nodes: dict) -> set[str]:
        return {
            i
            for i, node in nodes.items()
            if node["resource_type"] in ("test", "unit_test")
            and reports & {*node["depends_on"]["nodes"]}
        }

    data_tests = {i for i in on_reports(manifest["nodes"]) if i.startswith("test.")}
    unit_tests = on_reports(manifest["unit_tests"])
    assert len(reports) >= 20 and len(data_tests) >= 100 and len(unit_tests) >= 4

    def not_passed(tests: set[str]) -> dict[str, str]:
        status = {
            result["unique_id"]: result["status"]
            for result in json.loads((target / "run_results.json").read_text())["results"]
        }
        return {t: status.get(t, "not run") for t in tests if status.get(t) not in ("pass", "warn")}

    assert not not_passed(data_tests)  # in the run's build
    result = dbt_worker.run(
        built_home, "test", "--select", "path:models/reports", "--resource-type", "unit_test"
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert not not_passed(unit_tests)


def test_every_report_has_rows(built_home):
    home = built_home
    reports = [
        name
        for (name,) in query(
            home,
            "select table_name from information_schema.tables"
            " where table_schema = 'reports' order by 1",
        )
    ]
    assert len(reports) >= 20, reports
    empty = [name for name in reports if one(home, f"select count(*) from reports.{name}") == 0]
    # the leaderboard lists contacts with points > 0 only
    assert empty == [] or (
        empty == ["rpt_points_leaderboard"]
        and one(home, "select count(*) from marts.dim_contacts where points > 0") == 0
    ), empty


def test_email_reports_add_up_to_the_sends(built_home):
    home = built_home
    sends, delivered, opened = query(
        home,
        "select count(*), count(*) filter (where is_delivered),"
        " count(*) filter (where is_opened) from marts.fct_email_sends",
    )[0]
    assert sends > 0
    for report in ("rpt_email_performance", "rpt_email_performance_daily", "rpt_email_send_times"):
        assert query(
            home, f"select sum(sent), sum(delivered), sum(unique_opens) from reports.{report}"
        ) == [(sends, delivered, opened)], report
    assert one(home, "select count(*) from reports.rpt_email_send_times") == 7 * 24
    # open rate is over delivered sends: recomputed from the per-day rows it is the same
    assert (
        one(
            home,
            "select max(abs(total.open_rate - daily.unique_opens * 1.0 / daily.delivered))"
            " from reports.rpt_email_performance as total inner join ("
            "  select email_id, sum(unique_opens) as unique_opens, sum(delivered) as delivered"
            "  from reports.rpt_email_performance_daily group by 1) as daily using (email_id)"
            " where daily.delivered > 0",
        )
        < 1e-9
    )
    clicks = one(home, "select count(*) from marts.fct_events where event_type = 'email_click'")
    assert one(home, "select sum(clicks) from reports.rpt_email_link_clicks") == clicks


def test_web_reports_add_up_to_the_sessions(built_home):
    home = built_home
    sessions, page_views, visitors = query(
        home,
        "select count(*), sum(page_views), count(distinct anonymous_id) from marts.fct_sessions",
    )[0]
    assert sessions > 0
    assert query(
        home,
        "select sum(sessions), sum(page_views), sum(new_visitors)"
        " from reports.rpt_web_traffic_daily",
    ) == [(sessions, page_views, visitors)]
    assert query(
        home, "select sum(sessions), sum(page_views) from reports.rpt_traffic_sources_daily"
    ) == [(sessions, page_views)]
    # one row per day, none missing between the first and the last
    days, first, last = query(
        home, "select count(*), min(day), max(day) from reports.rpt_web_traffic_daily"
    )[0]
    assert days == (last - first).days + 1
    hits = one(home, "select count(*) from marts.fct_events where event_type = 'page_hit'")
    assert one(home, "select sum(page_views) from reports.rpt_pages_daily") == hits
    assert query(home, "select sum(page_views), sum(entrances) from reports.rpt_top_pages") == [
        (hits, sessions)
    ]


def test_form_asset_focus_and_content_reports_count_every_event(built_home):
    home = built_home
    counts = dict(
        query(
            home,
            "select event_type, count(*) from marts.fct_events where event_type in"
            " ('form_submit', 'asset_download', 'focus_view', 'focus_click',"
            " 'dynamic_content_view') group by 1",
        )
    )
    submits = counts.get("form_submit", 0)
    assert submits > 0
    total = "select coalesce(sum({column}), 0) from reports.{report}"
    for report in ("rpt_form_conversions_daily", "rpt_form_conversions"):
        assert one(home, total.format(column="submissions", report=report)) == submits
    # most submissions are made in a session that saw the form
    converted = one(home, total.format(column="converted_sessions", report="rpt_form_conversions"))
    assert converted > submits * 0.8
    expected = {
        ("downloads", "rpt_asset_downloads_daily"): counts.get("asset_download", 0),
        ("views", "rpt_focus_items_daily"): counts.get("focus_view", 0),
        ("clicks", "rpt_focus_items_daily"): counts.get("focus_click", 0),
        ("views", "rpt_dynamic_content_daily"): counts.get("dynamic_content_view", 0),
    }
    for (column, report), events in expected.items():
        assert one(home, total.format(column=column, report=report)) == events, report


def test_funnel_points_and_growth_reconcile_with_the_contacts(built_home):
    home = built_home
    contacts = one(home, "select count(*) from marts.dim_contacts")
    staged = one(home, "select count(distinct contact_id) from marts.fct_stage_changes")
    reached = [
        count
        for (count,) in query(
            home, "select contacts_reached from reports.rpt_stage_funnel order by stage_order"
        )
    ]
    assert reached[0] == staged > 0
    assert reached == sorted(reached, reverse=True), reached
    assert query(
        home, "select sum(contacts), sum(total_points) from reports.rpt_points_distribution"
    ) == [query(home, "select count(*), sum(points) from marts.dim_contacts")[0]]
    assert one(home, "select sum(points) from reports.rpt_points_by_rule_daily") == one(
        home, "select sum(delta) from marts.fct_points_ledger where entry_type <> 'reset'"
    )
    assert one(home, "select max(total_contacts) from reports.rpt_contact_growth_daily") == contacts
    assert one(
        home,
        "select max(total_anonymous_visitors) from reports.rpt_contact_growth_daily",
    ) == one(
        home,
        "select count(*) from (select anonymous_id from marts.fct_events"
        " where anonymous_id is not null group by 1 having count(contact_id) = 0)",
    )


def test_segment_sizes_end_at_the_current_membership(built_home):
    home = built_home
    latest = dict(
        query(
            home,
            "select segment_id, members from reports.rpt_segment_sizes_daily"
            " where day = (select max(day) from reports.rpt_segment_sizes_daily)",
        )
    )
    current = dict(
        query(home, "select segment_id, count(*) from marts.segment_membership group by 1")
    )
    assert current and {k: v for k, v in latest.items() if v} == current
