"""Channel scorecards (issue 12) on a real home: a Search Console export and social analytics,
ingested (a bad row quarantined) and built by dbt; the scorecard's figures worked out by hand
and equal to direct queries on what ingest loaded.

Search Console (Q2 and Q3 2026):
    2026-04-10  marketing automation  /           10 clicks  100 impressions  position 3
    2026-04-11  marketing automation  /           20         400                       8
    2026-05-01  lead scoring          /blog/lead   1         600                      12
    2026-07-01  marketing automation  /           30         600                       5
    2026-07-02  lead scoring          /blog/lead  12         400                       9
    2026-07-03  x                                  5           2  → more clicks than impressions
  Q2: 31 clicks, 1,100 impressions, CTR 31/1100, position (300 + 3200 + 7200) / 1100 = 9.727…
  Q3: 42 clicks, 1,000 impressions, CTR 0.042, position (3000 + 3600) / 1000 = 6.6; +11 clicks
  Opportunities (500 impressions, CTR < 2 %, positions 4-20): Q2 lead scoring 1/600 → low CTR,
  position 12 → 4-20; Q2 marketing automation 30/500 = 6 % → not low, position 7 → 4-20;
  Q3 lead scoring 400 impressions → too few for low CTR, position 9 → 4-20.

Social analytics:
    twitter  Q2: 06-29 100 followers (50 impressions, 1 engagement), 06-30 110 (50, 2),
                 post p1 on 06-30 (200, 10)
             Q3: 07-01 111 (100, 3), post p2 on 07-01 (300, 6), 09-30 150 (100, 5)
    mastodon Q3: 07-05 40 (20, 2), 08-01 50 (30, 0)
  Q2: followers 110, growth 10, impressions 300, engagements 13
  Q3: followers 150 + 50 = 200, growth 39 + 10 = 49, impressions 550, engagements 16; p1
  engagement rate 10/200 = 0.05, p2 6/300 = 0.02
"""

from __future__ import annotations

import json

import duckdb
import pytest

from ingest.loader import ingest
from tests.conftest import query


def write(home, relative: str, text: str) -> None:
    path = home.landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def scorecard_home(tmp_path_factory, dbt_worker):
    from ingest.home import Home

    home = Home.resolve(tmp_path_factory.mktemp("scorecard") / "home").ensure()
    write(
        home,
        "desk/search_console/Queries.csv",
        "Date,Top queries,Page,Clicks,Impressions,CTR,Position\n"
        "2026-04-10,Marketing Automation,https://example.com/,10,100,10%,3.0\n"
        "2026-04-11,marketing automation,https://example.com/,20,400,5%,8.0\n"
        "2026-05-01,lead scoring,https://example.com/blog/lead,1,600,0.17%,12.0\n"
        "2026-07-01,marketing automation,https://example.com/,30,600,5%,5.0\n"
        "2026-07-02,lead scoring,https://example.com/blog/lead,12,400,3%,9.0\n"
        "2026-07-03,x,https://example.com/x,5,2,250%,1.0\n",
    )
    write(
        home,
        "desk/social_analytics/social.csv",
        "platform,date,post_id,followers,impressions,engagements\n"
        "twitter,2026-06-29,,100,50,1\n"
        "twitter,2026-06-30,,110,50,2\n"
        "twitter,2026-06-30,p1,110,200,10\n"
        "twitter,2026-07-01,,111,100,3\n"
        "twitter,2026-07-01,p2,111,300,6\n"
        "twitter,2026-09-30,,150,100,5\n"
        "mastodon,2026-07-05,,40,20,2\n"
        "mastodon,2026-08-01,,50,30,0\n",
    )
    reports = ingest(home)
    assert all(r.status == "loaded" and r.reconciles for r in reports)
    reference = json.dumps({"segment_reference_time": "2026-10-01 00:00:00"})
    result = dbt_worker.run(
        home,
        "build",
        "--select",
        "+rpt_team_scorecard",
        "+rpt_seo_queries",
        "+rpt_social_posts",
        "--indirect-selection",
        "cautious",
        "--vars",
        reference,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    return home


def kpis(home, quarter: str, section: str) -> dict[str, tuple]:
    rows = query(
        home,
        "select kpi, value, previous_value, change from reports.rpt_team_scorecard "
        f"where quarter = '{quarter}' and section = '{section}'",
    )
    return {kpi: (value, previous, change) for kpi, value, previous, change in rows}


def test_the_bad_row_is_quarantined(scorecard_home):
    assert query(scorecard_home, "select file, source_row, field, reason from raw.quarantine") == [
        (
            "desk/search_console/Queries.csv",
            7,
            "clicks, impressions",
            "clicks, impressions: more clicks than impressions",
        )
    ]


def test_seo_figures_worked_by_hand_and_equal_a_direct_query(scorecard_home):
    q2, q3 = kpis(scorecard_home, "2026-Q2", "seo"), kpis(scorecard_home, "2026-Q3", "seo")
    assert q2["clicks"] == (31, None, None)
    assert q2["impressions"] == (1100, None, None)
    assert q2["ctr"][0] == pytest.approx(31 / 1100)
    assert q2["avg_position"][0] == pytest.approx(10700 / 1100)
    assert q3["clicks"] == (42, 31, 11)
    assert q3["impressions"] == (1000, 1100, -100)
    assert q3["ctr"][0] == pytest.approx(0.042)
    assert q3["avg_position"][0] == pytest.approx(6.6)
    # the same from what ingest loaded, the quarantined row left out
    with duckdb.connect(str(scorecard_home.warehouse), read_only=True) as con:
        direct = con.execute(
            "select sum(clicks), sum(impressions), sum(position * impressions) / sum(impressions) "
            "from raw.search_console where date >= '2026-07-01' and date < '2026-10-01'"
        ).fetchone()
    assert (q3["clicks"][0], q3["impressions"][0]) == direct[:2]
    assert q3["avg_position"][0] == pytest.approx(direct[2])
    opportunities = query(
        scorecard_home,
        "select quarter, query, is_low_ctr, is_striking_distance, previous_clicks "
        "from reports.rpt_seo_queries order by quarter, query",
    )
    assert opportunities == [
        ("2026-Q2", "lead scoring", True, True, None),
        ("2026-Q2", "marketing automation", False, True, None),
        ("2026-Q3", "lead scoring", False, True, 1),
        ("2026-Q3", "marketing automation", False, True, 30),
    ]


def test_social_figures_worked_by_hand(scorecard_home):
    q2, q3 = kpis(scorecard_home, "2026-Q2", "social"), kpis(scorecard_home, "2026-Q3", "social")
    assert q2["followers"][0] == 110
    assert q2["follower_growth"][0] == 10
    assert (q2["impressions"][0], q2["engagements"][0]) == (300, 13)
    assert q3["followers"] == (200, 110, 90)
    assert q3["follower_growth"] == (49, 10, 39)
    assert (q3["impressions"][0], q3["engagements"][0]) == (550, 16)
    assert q3["engagement_rate"][0] == pytest.approx(16 / 550)
    posts = query(
        scorecard_home,
        "select post_id, quarter, engagement_rate from reports.rpt_social_posts order by 1",
    )
    assert posts == [("p1", "2026-Q2", 0.05), ("p2", "2026-Q3", 0.02)]
