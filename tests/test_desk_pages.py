"""The desk's dashboard pages (issue 12) under Streamlit's AppTest, on the shared generated,
built and published home; what a page shows equals a direct query on the published file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from ingest.home import Home
from tests.conftest import published

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
TIMEOUT = 60


@pytest.fixture
def app(built_home: Home, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("FUNNELHOUSE_HOME", str(built_home.root))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def warehouse(home: Home, sql: str, params: list) -> list[tuple]:
    """A direct query on the home's build warehouse (raw tables and models)."""
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return values[0]


def tables(at: AppTest) -> list:
    """The page's tables, in the order it shows them (as pandas frames)."""
    return [table.value for table in at.dataframe]


def test_integrations_page_shows_the_ranking_funnel_votes_and_maintenance(app, built_home):
    open_page(app, "integrations")
    assert app.title[0].value == "Integrations"
    quarters = [
        q
        for (q,) in published(
            built_home,
            "select distinct quarter from reports.rpt_integrations_homepage order by 1 desc",
        )
    ]
    assert quarters, "the demo has home-page votes"
    assert app.selectbox("integrations_quarter").value == quarters[0]  # the current quarter
    expected = published(
        built_home,
        "select rank, name, votes, previous_rank from reports.rpt_integrations_homepage "
        "where quarter = ? order by rank",
        [quarters[0]],
    )
    ranking, proposals, maintenance = tables(app)
    shown = [
        (int(r), n, int(v), None if p != p else int(p))  # NaN: no rank the quarter before
        for r, n, v, p in zip(
            ranking["rank"],
            ranking["name"],
            ranking["votes"],
            ranking["previous_rank"],
            strict=True,
        )
    ]
    assert shown == expected
    eligible, proposed = published(
        built_home,
        "select count(*) filter (where is_eligible), count(*) "
        "from reports.rpt_integration_proposals",
    )[0]
    assert metric(app, "Eligible") == f"{eligible:,}"
    assert metric(app, "Proposed") == f"{proposed:,}"
    (integrations,) = published(built_home, "select count(*) from marts.dim_integrations")[0]
    assert len(maintenance) == integrations
    assert len(proposals) == proposed
    # the demo has an integration in every state (ingest/generator/desk.py)
    assert set(maintenance["status"]) == {"active", "at risk", "notice sent", "removed"}
    assert len(app.get("plotly_chart")) == 2

    # the quarter before: its own ranking
    if len(quarters) > 1:
        app.selectbox("integrations_quarter").select(quarters[1]).run(timeout=TIMEOUT)
        assert not app.exception
        (count,) = published(
            built_home,
            "select count(*) from reports.rpt_integrations_homepage where quarter = ?",
            [quarters[1]],
        )[0]
        assert len(tables(app)[0]) == count


def test_team_scorecard_page_equals_direct_queries(app, built_home):
    open_page(app, "team_scorecard")
    assert app.title[0].value == "Team scorecard"
    quarters = [
        q
        for (q,) in published(
            built_home, "select distinct quarter from reports.rpt_team_scorecard order by 1 desc"
        )
    ]
    quarter = quarters[0]
    assert app.selectbox("scorecard_quarter").value == quarter
    # the figures against direct queries on what ingest loaded (the build's warehouse)
    clicks, impressions = warehouse(
        built_home,
        "select sum(clicks), sum(impressions) from raw.search_console "
        "where extract(year from date) || '-Q' || extract(quarter from date) = ?",
        [quarter],
    )[0]
    assert metric(app, "Clicks") == f"{clicks:,}"
    assert metric(app, "Impressions") == f"{impressions:,}"  # SEO's tile comes before social's
    (page_views,) = warehouse(
        built_home,
        "select count(*) from marts.fct_events where event_type = 'page_hit' "
        "and extract(year from occurred_on) || '-Q' || extract(quarter from occurred_on) = ?",
        [quarter],
    )[0]
    assert metric(app, "Page views") == f"{page_views:,}"
    followers = warehouse(
        built_home,
        "select sum(followers) from raw.social_analytics where post_id is null and date = ("
        "select max(date) from raw.social_analytics where "
        "extract(year from date) || '-Q' || extract(quarter from date) = ?)",
        [quarter],
    )[0][0]
    assert metric(app, "Followers") == f"{followers:,}"
    # tables: content, SEO opportunities, social platforms and posts, newsletter issues
    content, opportunities, platforms, posts, issues = tables(app)
    assert len(platforms) == 3
    (expected,) = published(
        built_home,
        "select count(*) from reports.rpt_seo_queries where quarter = ? "
        "and (is_low_ctr or is_striking_distance)",
        [quarter],
    )[0]
    assert len(opportunities) == expected
    assert len(app.get("plotly_chart")) == 1
