"""The integrations directory (issue 12) on a real home: hand-made landing files, ingest with
quarantine, dbt on the real warehouse, and the removal notice through the campaign engine and
the send ledger to a real SMTP server, its send coming back as an event.

The story, worked by hand (t0 = a Wednesday 10:00 UTC, some days ago; policy seed: 5 member
supports, at risk after 365 days, notice period 30 days):

    members   m1-m6 members since t0-400d; m7 was a member until t0-100d; g1 never was
    proposals P-A: m1-m5 support → 5, endorsed → eligible (exactly the threshold)
              P-B: m1-m4, m4 twice, g1, m7 (after leaving) → 4 → not eligible
              P-C, P-D, P-E: m1-m5 → eligible
    catalog   alpha (open source, member project, score 3, P-A), beta (open source, P-B),
              gamma (closed, partner, score 4, P-C), delta (closed, not a partner, P-D),
              stale (open source, P-E, last commit t0-400d → at risk)
    votes     (all at t0-1h) alpha: m1, m2, m1 again, g1, m7 → 2 counted; gamma: m1, m2 → 2;
              delta: m1-m3 (not listed: closed, no partner); beta: m1-m4 (not eligible);
              stale: m3 → 1
    ranking   alpha 1 (2 votes, open source beats gamma), gamma 2 (2), stale 3 (1)
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from activation_servers import SmtpServer

from activation.run import activate
from activation.settings import ActivationSettings
from ingest.campaigns import load_campaign_tables
from ingest.home import Home
from ingest.loader import ingest
from pipelines.dbt_project import DBT_PROJECT_DIR
from tests.campaign_loop import build_at, wednesday
from tests.conftest import published, query

CAMPAIGNS = DBT_PROJECT_DIR / "campaigns"
DESK = ("+rpt_integrations_homepage", "+rpt_integrations_maintenance", "+rpt_integration_proposals")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def story(home: Home, t0: datetime) -> None:
    desk = home.landing / "desk"
    long_ago, left = ts(t0 - timedelta(days=400)), ts(t0 - timedelta(days=100))
    write(
        desk / "members" / "members.csv",
        "member_id,email,name,member_from,member_until\n"
        + "".join(f"m{n},m{n}@x.org,M {n},{long_ago},\n" for n in range(1, 7))
        + f"m7,m7@x.org,M 7,{long_ago},{left}\n"
        + f"m8,m8@x.org,M 8,{left},{long_ago}\n",  # ends before it starts: quarantined
    )
    published_at = (t0 - timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    header = (
        "id,title/en,state,reference,supports,endorsements/total_count,comments,followers,"
        "published_at,url,category/name/en\n"
    )
    rows = [
        ("1", "Alpha", "P-A", 5, 1),
        ("2", "Beta", "P-B", 7, 1),
        ("3", "Gamma", "P-C", 5, 1),
        ("4", "Delta", "P-D", 5, 1),
        ("5", "Stale", "P-E", 5, 1),
    ]
    write(
        desk / "integration_proposals" / "proposals.csv",
        header
        + "".join(
            f"{i},{title},accepted,{ref},{supports},{endorsed},2,3,{published_at},"
            f"https://portal.example.org/proposals/{i},CRM\n"
            for i, title, ref, supports, endorsed in rows
        ),
    )
    support = ts(t0 - timedelta(days=290))
    after_leaving = ts(t0 - timedelta(days=50))
    votes = [("m1", "P-A"), ("m2", "P-A"), ("m3", "P-A"), ("m4", "P-A"), ("m5", "P-A")]
    votes += [("m1", "P-B"), ("m2", "P-B"), ("m3", "P-B"), ("m4", "P-B"), ("m4", "P-B")]
    votes += [("g1", "P-B")]
    votes += [(f"m{n}", ref) for ref in ("P-C", "P-D", "P-E") for n in range(1, 6)]
    vote_lines = [f"{voter},{target},{support}\n" for voter, target in votes]
    # m4's repeat is a second vote a minute later; m7 supports after leaving
    vote_lines[9] = f"m4,P-B,{ts(t0 - timedelta(days=290, minutes=-1))}\n"
    vote_lines.append(f"m7,P-B,{after_leaving}\n")
    home_votes = ts(t0 - timedelta(hours=1))
    ballot = [("m1", "int_alpha"), ("m2", "int_alpha"), ("m1", "int_alpha"), ("g1", "int_alpha")]
    ballot += [("m7", "int_alpha"), ("m1", "int_gamma"), ("m2", "int_gamma")]
    ballot += [("m1", "int_delta"), ("m2", "int_delta"), ("m3", "int_delta")]
    ballot += [(f"m{n}", "int_beta") for n in range(1, 5)] + [("m3", "int_stale")]
    vote_lines += [f"{voter},{target},{home_votes}\n" for voter, target in ballot]
    vote_lines[-len(ballot) + 2] = f"m1,int_alpha,{ts(t0 - timedelta(minutes=30))}\n"
    vote_lines.append("m5,int_alpha,not a date\n")  # quarantined
    write(desk / "integration_votes" / "votes.csv", "voter,target,voted_at\n" + "".join(vote_lines))
    fresh, stale = ts(t0 - timedelta(days=10)), ts(t0 - timedelta(days=400))
    write(
        desk / "integrations" / "integrations.csv",
        "integration_id,name,proposal_reference,licence,is_open_source,is_partner,is_member,"
        "maintainer_email,use_case_score,last_release_date,last_commit_date,"
        "last_content_review_date\n"
        f"int_alpha,Alpha,P-A,MIT,yes,no,yes,alpha@maint.dev,3,{fresh},{fresh},{fresh}\n"
        f"int_beta,Beta,P-B,MIT,yes,no,no,beta@maint.dev,5,{fresh},{fresh},{fresh}\n"
        f"int_gamma,Gamma,P-C,proprietary,no,yes,yes,gamma@maint.dev,4,{fresh},{fresh},{fresh}\n"
        f"int_delta,Delta,P-D,proprietary,no,no,no,delta@maint.dev,5,{fresh},{fresh},{fresh}\n"
        f"int_stale,Stale,P-E,MIT,yes,no,no,stale@maint.dev,2,{stale},{stale},{fresh}\n"
        f"int_bad,Bad,P-E,MIT,maybe,no,no,bad@maint.dev,2,{fresh},{fresh},{fresh}\n",
    )
    write(
        home.landing / "contacts" / "maintainers.csv",
        "email,firstname,lastname,company\nstale@maint.dev,Sam,Stale,Stale\n",
    )
    write(
        home.landing / "catalogs" / "emails" / "emails.csv",
        "id,name,subject,from_address\n"
        "integration_notice,Integration removal notice,Your integration will leave the "
        "directory,community@example-saas.com\n",
    )


def test_bad_desk_rows_are_quarantined_with_file_row_field_and_reason(home):
    story(home, wednesday(days_ago=3))
    reports = {r.file: r for r in ingest(home)}
    assert all(r.reconciles and r.status == "loaded" for r in reports.values())
    rows = query(
        home,
        "select file, source_row, field, reason from raw.quarantine order by file, source_row",
    )
    assert rows == [
        (
            "desk/integration_votes/votes.csv",
            44,
            "voted_at",
            "voted_at: unparseable timestamp 'not a date'",
        ),
        (
            "desk/integrations/integrations.csv",
            7,
            "is_open_source",
            "is_open_source: not a yes/no value 'maybe'",
        ),
        (
            "desk/members/members.csv",
            9,
            "member_from, member_until",
            "member_from, member_until: membership ends before it starts",
        ),
    ]
    assert reports["desk/integration_proposals/proposals.csv"].rows_loaded == 5


@pytest.fixture(scope="module")
def story_home(tmp_path_factory, dbt_worker):
    """The story ingested and built with the desk's models and their dbt tests."""
    home = Home.resolve(tmp_path_factory.mktemp("desk") / "home").ensure()
    t0 = wednesday(days_ago=3)
    story(home, t0)
    ingest(home)
    reference = json.dumps({"segment_reference_time": ts(t0)})
    result = dbt_worker.run(
        home, "build", "--select", *DESK, "--indirect-selection", "cautious", "--vars", reference
    )
    assert result.returncode == 0, result.stdout[-5000:]
    return home, t0


def test_eligibility_at_exactly_four_and_five_member_supports(story_home):
    home, _ = story_home
    rows = query(
        home,
        "select proposal_reference, portal_supports, member_supports, is_eligible "
        "from reports.rpt_integration_proposals order by 1",
    )
    assert rows == [
        ("P-A", 5, 5, True),
        ("P-B", 7, 4, False),  # a repeat, a guest and a former member do not count
        ("P-C", 5, 5, True),
        ("P-D", 5, 5, True),
        ("P-E", 5, 5, True),
    ]


def test_homepage_ranking_counts_member_votes_once_and_breaks_ties(story_home):
    home, t0 = story_home
    quarter = f"{(t0 - timedelta(hours=1)).year}-Q{((t0 - timedelta(hours=1)).month - 1) // 3 + 1}"
    rows = query(
        home,
        "select quarter, rank, integration_id, votes from reports.rpt_integrations_homepage "
        "order by rank",
    )
    assert rows == [(quarter, 1, "int_alpha", 2), (quarter, 2, "int_gamma", 2)] + [
        (quarter, 3, "int_stale", 1)
    ]
    # The counted votes: alpha's are m1's first (t0-1h, not the repeat at t0-30min) and m2's.
    alpha = query(
        home,
        "select member_id, voted_at from marts.fct_integration_votes "
        "where integration_id = 'int_alpha' order by member_id",
    )
    assert alpha == [("m1", t0 - timedelta(hours=1)), ("m2", t0 - timedelta(hours=1))]
    listed = query(home, "select integration_id, is_listed from marts.dim_integrations order by 1")
    assert listed == [
        ("int_alpha", True),
        ("int_beta", False),  # not eligible
        ("int_delta", False),  # closed source, not a partner
        ("int_gamma", True),  # closed source from a partner
        ("int_stale", True),
    ]


def maintenance(home: Home) -> tuple:
    return published(
        home,
        "select status, notice_sent_at, removal_due_at from reports.rpt_integrations_maintenance "
        "where integration_id = 'int_stale'",
    )[0]


def test_removal_notice_is_sent_once_per_episode_and_moves_the_state_on(tmp_path, dbt_worker):
    home = Home.resolve(tmp_path / "home").ensure()
    t0 = wednesday(days_ago=3)
    story(home, t0)
    ingest(home)
    with duckdb.connect(str(home.warehouse)) as con:
        load_campaign_tables(con, CAMPAIGNS, now=t0 - timedelta(hours=2))
    smtp = SmtpServer().start()
    settings = ActivationSettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_tls="none",
        smtp_from="community@example-saas.com",
        tracking_url="http://127.0.0.1:9/t",
        unsubscribe_secret="desk-secret",
    )
    try:
        build_at(home, dbt_worker, t0, *DESK)
        assert maintenance(home) == ("at risk", None, None)
        first = activate(home, settings=settings, now=t0, campaign="integration_removal_notice")
        assert [(r.contact_key, r.step_id) for r in first.sent] == [
            ("stale@maint.dev", "removal_notice")
        ]
        inbox = smtp.by_recipient()
        assert [m["Subject"] for ms in inbox.values() for m in ms] == [
            "Your integration will leave the directory"
        ]
        # the same episode: nothing more, however often activation runs
        again = activate(home, settings=settings, now=t0 + timedelta(minutes=15))
        assert again.sent == []

        # the send came back as an email_sent event: notice sent, removal due 30 days later
        build_at(home, dbt_worker, t0 + timedelta(hours=1), *DESK)
        assert maintenance(home) == ("notice sent", t0, t0 + timedelta(days=30))
        assert activate(home, settings=settings, now=t0 + timedelta(hours=1)).sent == []
        # one second short of the notice period: not removed; at the period: removed
        build_at(home, dbt_worker, t0 + timedelta(days=30, seconds=-1), *DESK)
        assert maintenance(home)[0] == "notice sent"
        build_at(home, dbt_worker, t0 + timedelta(days=30), *DESK)
        assert maintenance(home) == ("removed", t0, t0 + timedelta(days=30))
        listed = published(
            home, "select is_listed from marts.dim_integrations where integration_id = 'int_stale'"
        )
        assert listed == [(False,)]

        # an update (a commit after the notice) in a new export of the catalog: active again,
        # the old notice no longer counts, and it is not removed when the period ends
        updated = t0 + timedelta(hours=2)
        write(
            home.landing / "desk" / "integrations" / "integrations-update.csv",
            "integration_id,name,proposal_reference,licence,is_open_source,is_partner,"
            "is_member,maintainer_email,use_case_score,last_commit_date\n"
            f"int_stale,Stale,P-E,MIT,yes,no,no,stale@maint.dev,2,{ts(updated)}\n",
        )
        build_at(home, dbt_worker, t0 + timedelta(days=30), *DESK)
        assert maintenance(home) == ("active", None, None)
        assert len(smtp.by_recipient()["stale@maint.dev"]) == 1

        # a year later with no update since: a new at-risk episode, and one new notice
        # (campaign entry 2, a new idempotency key), again only once
        later = updated + timedelta(days=366)
        build_at(home, dbt_worker, later, *DESK)
        assert maintenance(home) == ("at risk", None, None)
        second = activate(home, settings=settings, now=later)
        assert [(r.contact_key, r.step_id) for r in second.sent] == [
            ("stale@maint.dev", "removal_notice")
        ]
        assert second.sent[0].idempotency_key != first.sent[0].idempotency_key
        assert activate(home, settings=settings, now=later + timedelta(minutes=15)).sent == []
        assert len(smtp.by_recipient()["stale@maint.dev"]) == 2
    finally:
        smtp.stop()
