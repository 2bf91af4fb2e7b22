"""The closed loop over simulated days: ingest → dbt (campaign models, the clock pinned with
``segment_reference_time``) → publish → activate against real SMTP and SMS servers → the result
events come back through ingest, and the contacts move through the demo campaigns' branches as
their events say.

One small hand-made home, three builds of what the loop needs (no dbt tests: the dbt suites
run them; one parse for all three), the demo campaigns of dbt_project/campaigns:

    day 0  (Wed 10:00)  ann and bob subscribe (form 1); dora and eve have been inactive for
                        70 days → welcome emails to ann and bob, "we miss you" to dora and eve
           +2 h         ann opens her welcome email (she reads the newsletter)
    day 8  (Thu 10:00)  ann: opened → 5 points, the newsletter (2 days later, on a weekday),
                        and as an engaged reader the best-of broadcast; bob never opened → the
                        reminder; dora (no mobile) is sunset onto the email DNC list; eve (a
                        mobile, prefers SMS) gets the last call by SMS
           +1 h         the next build shows it all in the marts; ann's field update is due
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
from activation_servers import HttpServer, SmtpServer

from activation.run import activate
from activation.settings import ActivationSettings
from ingest.campaigns import load_campaign_tables
from ingest.home import Home
from ingest.loader import ingest
from pipelines.dbt_project import DBT_PROJECT_DIR
from tests.campaign_loop import build_at, wednesday
from tests.conftest import published

CAMPAIGNS = DBT_PROJECT_DIR / "campaigns"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def events_file(home: Home, name: str, events: list[dict]) -> None:
    write(home.landing / "events" / f"{name}.jsonl", "".join(json.dumps(e) + "\n" for e in events))


def story(home: Home, t0: datetime) -> None:
    inactive = (t0 - timedelta(days=70)).strftime("%Y-%m-%d %H:%M:%S")
    added = (t0 - timedelta(days=200)).strftime("%Y-%m-%d %H:%M:%S")
    write(
        home.landing / "contacts" / "contacts.csv",
        "email,firstname,lastname,mobile,timezone,date_added,last_active,newsletter_optin,"
        "preferred_channel\n"
        f"ann@example.com,Ann,Lee,,UTC,{added},,1,\n"
        f"bob@example.com,,Roe,,UTC,{added},,0,\n"
        f"dora@example.com,Dora,Day,,UTC,{added},{inactive},0,\n"
        f"eve@example.com,Eve,Ng,+4915100000005,UTC,{added},{inactive},0,sms\n",
    )
    write(
        home.landing / "catalogs" / "emails" / "emails.csv",
        "id,name,subject,from_address\n"
        '1,Welcome email,"Welcome to Example SaaS, {contactfield=firstname|there}!",'
        "hello@example-saas.com\n"
        "2,Re-engagement: we miss you,Still interested?,hello@example-saas.com\n"
        "4,Newsletter: the best of,The best of our blog,news@example-saas.com\n",
    )
    write(
        home.landing / "catalogs" / "sms" / "sms.csv",
        "id,name,message\n1,Last call,Hi {contactfield=firstname|there}: one last offer\n",
    )
    signup = (t0 - timedelta(hours=1)).isoformat() + "Z"
    # the home's email history: one earlier newsletter (the email models are incremental
    # from the first build on, so that build sees at least one send)
    history = {
        "event_id": "newsletter-3-dora",
        "event_type": "email_sent",
        "occurred_at": (t0 - timedelta(days=40)).isoformat() + "Z",
        "contact_key": "dora@example.com",
        "properties": {"email_id": "3"},
    }
    events_file(
        home,
        "signups",
        [
            history,
            *(
                {
                    "event_id": f"signup-{who}",
                    "event_type": "form_submit",
                    "occurred_at": signup,
                    "contact_key": f"{who}@example.com",
                    "properties": {"form_id": "1"},
                }
                for who in ("ann", "bob")
            ),
        ],
    )


def test_contacts_move_through_the_demo_campaigns_as_their_events_say(tmp_path, dbt_worker):
    home = Home.resolve(tmp_path / "home").ensure()
    t0 = wednesday(days_ago=9)
    story(home, t0)
    ingest(home)
    with duckdb.connect(str(home.warehouse)) as con:
        load_campaign_tables(con, CAMPAIGNS, now=t0 - timedelta(hours=2))
    smtp, http = SmtpServer().start(), HttpServer().start()
    settings = ActivationSettings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_tls="none",
        smtp_from="news@example-saas.com",
        tracking_url="http://127.0.0.1:9/t",
        unsubscribe_secret="loop-secret",
        sms_url=http.url,
        sms_account="AC1",
        sms_token="token",
        sms_from="+15550000000",
        webhook_secret="hook",
        sms_rate_per_second=0,
    )
    try:
        # day 0
        build_at(home, dbt_worker, t0)
        first = activate(home, settings=settings, now=t0)
        sent = {(r.contact_key, r.campaign_name, r.step_id) for r in first.sent}
        assert sent == {
            ("ann@example.com", "Welcome series", "welcome_email"),
            ("bob@example.com", "Welcome series", "welcome_email"),
            ("dora@example.com", "Re-engagement", "we_miss_you"),
            ("eve@example.com", "Re-engagement", "we_miss_you"),
        }
        subjects = {m["To"]: m["Subject"] for ms in smtp.by_recipient().values() for m in ms}
        assert subjects["Ann Lee <ann@example.com>"] == "Welcome to Example SaaS, Ann!"
        assert subjects["Roe <bob@example.com>"] == "Welcome to Example SaaS, there!"
        assert activate(home, settings=settings, now=t0 + timedelta(minutes=15)).sent == []
        events_file(
            home,
            "engagement-day0",
            [
                {
                    "event_id": "open-ann-1",
                    "event_type": "email_open",
                    "occurred_at": (t0 + timedelta(hours=2)).isoformat() + "Z",
                    "contact_key": "ann@example.com",
                    "properties": {"email_id": "1"},
                }
            ],
        )

        # day 8
        t8 = t0 + timedelta(days=8)
        build_at(home, dbt_worker, t8)
        third = activate(home, settings=settings, now=t8)
        assert {(r.contact_key, r.campaign_name, r.step_id, r.channel) for r in third.sent} == {
            ("ann@example.com", "Welcome series", "welcome_points", "none"),
            ("ann@example.com", "Welcome series", "newsletter_followup", "email"),
            ("ann@example.com", "Newsletter best of", "send", "email"),  # the broadcast
            ("bob@example.com", "Welcome series", "welcome_reminder", "email"),
            ("dora@example.com", "Re-engagement", "sunset", "none"),
            ("eve@example.com", "Re-engagement", "last_call", "sms"),  # her preferred channel
        }
        assert not third.failed and not third.skipped and not third.deferred
        inbox = smtp.by_recipient()
        assert [m["Subject"] for m in inbox["ann@example.com"]] == [
            "Welcome to Example SaaS, Ann!",
            "The best of our blog",
            "The best of our blog",
        ]
        assert [m["Subject"] for m in inbox["bob@example.com"]] == [
            "Welcome to Example SaaS, there!"
        ] * 2
        [text] = http.requests
        assert parse_qs(text.body.decode())["Body"] == ["Hi Eve: one last offer"]

        # the results come back: the models see them on the next build
        build_at(home, dbt_worker, t8 + timedelta(hours=1))
        state = {
            (campaign, email): (status, path, json.loads(branches or "{}"))
            for campaign, email, status, path, branches in published(
                home,
                "select campaign_name, email, status, steps_path, branches "
                "from marts.campaign_contact_state",
            )
        }
        assert state[("Welcome series", "bob@example.com")] == (
            "completed",
            "welcome_email > opened_welcome > welcome_reminder",
            {"opened_welcome": "no"},
        )
        status, path, branches = state[("Welcome series", "ann@example.com")]
        assert (status, branches) == ("active", {"opened_welcome": "yes"})  # mark_welcomed due
        assert path.endswith("welcome_points > newsletter_followup")
        assert state[("Re-engagement", "dora@example.com")] == (
            "completed",
            "we_miss_you > opened_we_miss_you > has_mobile > sunset",
            {"opened_we_miss_you": "no", "has_mobile": "no"},
        )
        assert state[("Re-engagement", "eve@example.com")][2] == {
            "opened_we_miss_you": "no",
            "has_mobile": "yes",
        }
        assert state[("Newsletter best of", "ann@example.com")][0] == "completed"
        contacts = {
            email: (dnc, reason)
            for email, dnc, reason in published(
                home, "select email, is_dnc_email, dnc_email_reason from marts.dim_contacts"
            )
        }
        assert contacts["dora@example.com"] == (True, "manual")  # sunset: no more email
        assert contacts["ann@example.com"] == (False, None)
        assert published(
            home,
            "select delta, reason from marts.fct_points_ledger points "
            "join marts.dim_contacts using (contact_id) "
            "where email = 'ann@example.com' and entry_type = 'manual'",
        ) == [(5, "Opened the welcome email")]
        sends = published(
            home,
            "select email, email_id, count(*) from marts.fct_email_sends "
            "group by all order by 1, 2",
        )
        assert sends == [
            ("ann@example.com", "1", 1),
            ("ann@example.com", "4", 2),
            ("bob@example.com", "1", 2),
            ("dora@example.com", "2", 1),
            ("dora@example.com", "3", 1),  # the history
            ("eve@example.com", "2", 1),
        ]
        # the campaign moved on: ann's field update is due, and done once
        last = activate(home, settings=settings, now=t8 + timedelta(hours=1))
        assert [(r.contact_key, r.step_id) for r in last.sent] == [
            ("ann@example.com", "mark_welcomed")
        ]
        identify = [
            json.loads(line)
            for line in last.events_file.read_text().splitlines()
            if '"identify"' in line
        ]
        assert [e["properties"]["onboarding"] for e in identify] == ["welcomed"]
        assert activate(home, settings=settings, now=t8 + timedelta(hours=1)).sent == []
        assert len(smtp.messages) == 7  # 4 on day 0, 3 on day 8, none twice
    finally:
        smtp.stop()
        http.stop()
