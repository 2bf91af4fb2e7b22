"""Activation against real servers on 127.0.0.1: SMTP (aiosmtpd), an SMS provider and webhook
receivers (http.server); the queue comes from a real published DuckDB file."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from activation_servers import HttpServer, SmtpServer, contact, publish_queue, queue_row
from pydantic import SecretStr

from activation.channels import verify_webhook_signature
from activation.events import events_dir
from activation.ledger import Ledger, ledger_path
from activation.render import EmailContent, Renderer, Tracking, html_to_text, mautic_tokens
from activation.run import activate, print_report
from activation.settings import ActivationSettings, SettingsError
from activation.tokens import sign_token, verify_token, verify_unsubscribe_token
from ingest.home import Home

NOW = datetime(2026, 11, 20, 10, 0)
SECRET = "unsubscribe-secret-for-tests"
HOOK_SECRET = "webhook-secret-for-tests"
TRACKING = "http://127.0.0.1:9/t"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def http():
    server = HttpServer().start()
    yield server
    server.stop()


def settings_for(smtp: SmtpServer | None = None, http: HttpServer | None = None, **extra):
    values = dict(
        smtp_host="127.0.0.1" if smtp else None,
        smtp_port=smtp.port if smtp else 25,
        smtp_tls="none",
        smtp_from="Example SaaS <news@example-saas.com>",
        tracking_url=TRACKING,
        unsubscribe_secret=SECRET,
        send_retry_initial_seconds=0.01,
        send_retry_max_seconds=0.05,
        email_rate_per_second=0,
        sms_rate_per_second=0,
        webhook_rate_per_second=0,
    )
    if http:
        values |= dict(
            sms_url=http.url + "/2010-04-01",
            sms_account="AC123",
            sms_token="sms-token-secret",
            sms_from="+15550001111",
            webhook_secret=HOOK_SECRET,
        )
    return ActivationSettings(**(values | extra))


def events_of(home) -> list[dict]:
    lines = []
    for path in sorted(events_dir(home).glob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


def ledger_states(home) -> dict[str, str]:
    with Ledger(ledger_path(home)) as ledger:
        return {r.idempotency_key: r.state for r in ledger.rows()}


def ledger_reasons(home) -> dict[str, str | None]:
    with Ledger(ledger_path(home)) as ledger:
        return {r.idempotency_key: r.reason for r in ledger.rows()}


# --- settings, tokens, rendering -------------------------------------------------------------


def test_settings_come_from_funnelhouse_variables_and_hide_secrets():
    settings = ActivationSettings.from_env(
        {
            "FUNNELHOUSE_SMTP_HOST": "mail.example.com",
            "FUNNELHOUSE_SMTP_PORT": "2525",
            "FUNNELHOUSE_SMTP_PASSWORD": "hunter2",
            "FUNNELHOUSE_SMTP_TLS": "false",
            "FUNNELHOUSE_EMAIL_CAP_PER_DAY": "2",
            "FUNNELHOUSE_WEBHOOK_URLS": '{"crm": "https://crm.example.com/hook"}',
            "FUNNELHOUSE_SMS_TOKEN": "tok",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == (
        "mail.example.com",
        2525,
        "none",
    )
    assert settings.email_cap_per_day == 2
    assert settings.webhook_urls == {"crm": "https://crm.example.com/hook"}
    assert "hunter2" not in repr(settings) and "tok'" not in repr(settings)
    assert settings.smtp_password.get_secret_value() == "hunter2"
    assert "FUNNELHOUSE_SMTP_FROM" in settings.email_missing()
    with pytest.raises(SettingsError, match="FUNNELHOUSE_SMTP_PORT='x'") as error:
        ActivationSettings.from_env(
            {"FUNNELHOUSE_SMTP_PORT": "x", "FUNNELHOUSE_SMTP_PASSWORD": "hunter2"}
        )
    assert "hunter2" not in str(error.value)


def test_tokens_verify_only_unchanged_and_for_their_purpose():
    token = sign_token(SecretStr(SECRET), "unsubscribe", "key-1", "ann@example.com", "1")
    claim = verify_unsubscribe_token(token, SECRET)
    assert (claim.idempotency_key, claim.contact_key, claim.email_id) == (
        "key-1",
        "ann@example.com",
        "1",
    )
    assert verify_unsubscribe_token(token, "another secret") is None
    assert (
        verify_unsubscribe_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), SECRET)
        is None
    )
    body, signature = token.split(".")
    assert verify_unsubscribe_token(body[:-1] + "x." + signature, SECRET) is None
    assert verify_token(token, SECRET, "open") is None  # an unsubscribe token opens nothing
    assert verify_unsubscribe_token("garbage", SECRET) is None
    click = sign_token(SECRET, "click", "key-1", "ann@example.com", "1", "https://a.example/x")
    assert verify_token(click, SECRET, "click", "https://a.example/x")
    assert verify_token(click, SECRET, "click", "https://evil.example/") is None


def test_rendering_tokens_defaults_sandbox_and_tracking():
    assert mautic_tokens("Hi {contactfield=firstname|there}!") == (
        'Hi {{ contact.firstname | default("there", true) }}!'
    )
    renderer = Renderer()
    tracking = Tracking(TRACKING, SecretStr(SECRET))
    catalog = EmailContent("77", "Autumn news", "{contactfield=firstname|Friend}, autumn news")
    bob = {"email": "bob@example.com", "first_name": None, "city": None}
    rendered = renderer.render_email(catalog, bob, "k77", tracking)
    assert rendered.subject == "Friend, autumn news"  # null field → default, never 'None'
    assert "None" not in rendered.html and "None" not in rendered.text
    assert "Hi there," in rendered.text
    [(tracked, original)] = rendered.links.items()
    assert original == "https://example-saas.com/"
    assert f'href="{tracked.replace("&", "&amp;")}"' in rendered.html
    assert rendered.pixel_url in rendered.html
    hostile = EmailContent("78", "x", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(Exception, match="unsafe"):
        renderer.render_email(hostile, bob, "k78", tracking)
    assert html_to_text('<p>Hi <a href="https://x.example/">there</a></p><p>Bye</p>') == (
        "Hi there (https://x.example/)\n\nBye"
    )


# --- email over SMTP --------------------------------------------------------------------------


def test_emails_reach_the_smtp_server_once_with_tokens_headers_and_tracking(home, smtp):
    ann = contact("ann@example.com", first_name="Ann", last_name="Lee", company_name="Acme")
    bob = contact("bob@example.com")  # no first name: the default greets him
    dnc = contact(
        "dnc@example.com", first_name="Dee", is_dnc_email=True, dnc_email_reason="unsubscribed"
    )
    later = contact("later@example.com", first_name="Lou")
    rows = [
        queue_row(p, "send_email", "1", NOW - timedelta(minutes=5)) for p in (ann, bob, dnc)
    ] + [queue_row(later, "send_email", "1", NOW + timedelta(hours=1))]  # not due yet
    publish_queue(home, rows, [ann, bob, dnc, later], emails=[("1", "Welcome email", "Welcome!")])
    settings = settings_for(smtp, smtp_connections=1)

    report = activate(home, settings=settings, now=NOW)

    assert sorted(r.contact_key for r in report.sent) == ["ann@example.com", "bob@example.com"]
    assert [(r.contact_key, r.reason) for r in report.skipped] == [
        ("dnc@example.com", "email: do not contact (unsubscribed)")
    ]
    inbox = smtp.by_recipient()
    assert sorted(inbox) == ["ann@example.com", "bob@example.com"]
    assert smtp.connections == 1  # one connection for the batch, not one per message
    to_ann, to_bob = inbox["ann@example.com"][0], inbox["bob@example.com"][0]
    assert to_ann["Subject"] == "Welcome to Example SaaS, Ann!"
    assert to_bob["Subject"] == "Welcome to Example SaaS, there!"
    assert to_ann["To"] == "Ann Lee <ann@example.com>"
    assert to_ann["From"] == "Example SaaS <news@example-saas.com>"
    text = to_ann.get_body(("plain",)).get_content()
    html = to_ann.get_body(("html",)).get_content()
    assert "Welcome aboard, Ann!" in text and "for Acme" in text
    assert "Welcome aboard, there!" in to_bob.get_body(("plain",)).get_content()
    # List-Unsubscribe: one-click, a signed link the collector can verify
    assert to_ann["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_url = re.fullmatch(r"<(.+)>", to_ann["List-Unsubscribe"]).group(1)
    assert header_url.startswith(TRACKING + "/unsubscribe/")
    claim = verify_unsubscribe_token(header_url.rsplit("/", 1)[1], SECRET)
    assert claim.contact_key == "ann@example.com" and claim.email_id == "1"
    assert header_url in html and header_url in text
    # every link of the HTML part goes through the click redirect, with a verifiable token
    hrefs = re.findall(r'href="([^"]+)"', html)
    clicks = [h.replace("&amp;", "&") for h in hrefs if "/email/click/" in h]
    assert len(clicks) == 3 and all(h.startswith(TRACKING) for h in hrefs)
    for link in clicks:
        parts = urlsplit(link)
        target = parse_qs(parts.query)["url"][0]
        assert verify_token(parts.path.rsplit("/", 1)[1], SECRET, "click", target)
    assert "https://example-saas.com/trial" in {
        parse_qs(urlsplit(c).query)["url"][0] for c in clicks
    }
    pixel = re.search(r'<img src="([^"]+\.gif)"', html).group(1)
    assert verify_token(pixel.rsplit("/", 1)[1].removesuffix(".gif"), SECRET, "open")
    ids = smtp.message_ids()
    assert len(set(ids)) == 2 and to_ann["X-Funnelhouse-Key"] == rows[0]["idempotency_key"]

    # result events: campaign_action for each executed row, email_sent for each send
    events = events_of(home)
    actions = {e["contact_key"]: e for e in events if e["event_type"] == "campaign_action"}
    assert {k: e["properties"]["status"] for k, e in actions.items()} == {
        "ann@example.com": "sent",
        "bob@example.com": "sent",
        "dnc@example.com": "skipped",
    }
    sent = [e for e in events if e["event_type"] == "email_sent"]
    assert {e["contact_key"] for e in sent} == {"ann@example.com", "bob@example.com"}
    assert all(e["properties"]["email_id"] == "1" for e in sent)
    assert {e["properties"]["message_id"] for e in sent} == set(ids)
    assert report.events_written == len(events) == 5

    # the same queue again (no build in between): nothing is sent twice, no new events
    again = activate(home, settings=settings, now=NOW + timedelta(minutes=15))
    assert again.results == [] and again.already_done == 3 and again.events_file is None
    assert len(smtp.messages) == 2


def test_emails_composed_in_worker_processes_are_those_composed_inline(tmp_path, smtp):
    """The same queue, once composed inline and once ahead in worker processes: the same
    decisions and, but for the Date header, byte for byte the same messages."""
    people = [contact(f"c{i}@example.com", first_name=f"C{i}") for i in range(12)]
    people[3] = contact("dnc@example.com", is_dnc_email=True)  # skipped: never composed
    rows = [
        queue_row(p, "send_email", "9" if i == 5 else "1", NOW - timedelta(minutes=i + 1))
        for i, p in enumerate(people)
    ]
    rows.append(queue_row(people[0], "send_email", "1", NOW, step="again"))  # capped: deferred
    emails = [("1", "Welcome", ""), ("9", "Bad", "{{ ''.__class__.__mro__[1].__subclasses__() }}")]
    outcomes, inboxes, notes = [], [], []
    for workers in (0, 2):
        home = Home.resolve(tmp_path / f"workers-{workers}").ensure()
        publish_queue(home, rows, people, emails=emails)
        settings = settings_for(
            smtp,
            email_cap_per_day=1,
            activation_batch_size=3,
            email_compose_workers=workers,
            email_compose_ahead_from=1,
        )
        smtp.messages.clear()
        report = activate(home, settings=settings, now=NOW)
        outcomes.append({(r.contact_key, r.step_id): (r.status, r.reason) for r in report.results})
        notes.append([n for n in report.notes if "composed ahead" in n])
        inboxes.append(
            {m.rcpt_tos[0]: re.sub(rb"\r\nDate: [^\r]+", b"", m.raw) for m in smtp.messages}
        )

    inline, ahead = outcomes
    # ten sent, one whose template failed; the capped row is decided before composing
    assert notes == [[], ["11 emails composed ahead in 2 worker processes"]]
    assert ahead == inline
    statuses = Counter(status for status, _ in inline.values())
    assert statuses == {"sent": 10, "skipped": 1, "failed": 1, "deferred": 1}
    assert "unsafe" in inline[("c5@example.com", rows[5]["step_id"])][1]
    assert inboxes[1] == inboxes[0] and len(inboxes[0]) == 10
    assert b"Subject: Welcome to Example SaaS, C7!" in inboxes[1]["c7@example.com"]


def test_transient_errors_are_retried_permanent_ones_are_not(home, smtp):
    ann, gone, cid = (
        contact(f"{n}@example.com", first_name=n.title()) for n in ("ann", "gone", "cid")
    )
    rows = [queue_row(p, "send_email", "1", NOW) for p in (ann, gone, cid)]
    publish_queue(home, rows, [ann, gone, cid])
    smtp.data_replies = ["451 4.3.0 Try again later"]  # the first message, once
    smtp.rcpt_replies = {"gone@example.com": "550 5.1.1 No such user"}

    report = activate(home, settings=settings_for(smtp), now=NOW)

    outcome = {r.contact_key: (r.status, r.attempts) for r in report.results}
    assert outcome == {
        "ann@example.com": ("sent", 2),
        "gone@example.com": ("failed", 1),
        "cid@example.com": ("sent", 1),
    }
    assert smtp.rcpt_attempts["gone@example.com"] == 1  # a 5xx is never retried
    assert "550 5.1.1 No such user" in report.failed[0].reason
    assert sorted(smtp.by_recipient()) == ["ann@example.com", "cid@example.com"]
    failed = [e for e in events_of(home) if e["contact_key"] == "gone@example.com"]
    assert [(e["event_type"], e["properties"]["status"]) for e in failed] == [
        ("campaign_action", "failed")
    ]
    # a failed key is final: a later run does not try it again
    activate(home, settings=settings_for(smtp), now=NOW + timedelta(minutes=15))
    assert smtp.rcpt_attempts["gone@example.com"] == 1


def test_a_deferral_repeated_for_the_same_reason_is_not_rewritten(home, smtp):
    people = [contact(f"q{i}@example.com") for i in range(3)]
    publish_queue(home, [queue_row(p, "send_email", "2", NOW) for p in people], people)
    unconfigured = settings_for(None)

    first = activate(home, settings=unconfigured, now=NOW)
    again = activate(home, settings=unconfigured, now=NOW + timedelta(minutes=15))

    assert [r.status for r in again.results] == ["deferred"] * 3  # still reported every run
    assert all(r.reason.startswith("email is not configured") for r in again.results)
    with Ledger(ledger_path(home)) as ledger:
        assert {(r.state, r.run_id) for r in ledger.rows()} == {("deferred", first.run_id)}
    # a new reason is recorded, and a configured channel sends them
    down = settings_for(smtp, smtp_port=smtp.port + 1 if smtp.port < 65535 else 1)
    activate(home, settings=down, now=NOW + timedelta(minutes=30))
    assert all("SMTP" in reason for reason in ledger_reasons(home).values())
    sent = activate(home, settings=settings_for(smtp), now=NOW + timedelta(minutes=45))
    assert [r.status for r in sent.results] == ["sent"] * 3


def test_server_down_defers_the_batch_and_the_next_run_sends_it(home, smtp):
    people = [contact(f"p{i}@example.com") for i in range(4)]
    publish_queue(home, [queue_row(p, "send_email", "2", NOW) for p in people], people)
    down = settings_for(smtp, smtp_port=smtp.port + 1 if smtp.port < 65535 else 1)

    first = activate(home, settings=down, now=NOW)

    assert [r.status for r in first.results] == ["deferred"] * 4
    assert all("cannot connect to SMTP server" in r.reason for r in first.results)
    # each sender thread tries once (with retries) before the channel is marked down
    tried = [down.send_retry_attempts] * down.smtp_connections
    assert [r.attempts for r in first.results] == tried + [0] * (4 - len(tried))
    assert events_of(home) == []  # deferred rows are not done: no result events yet
    assert set(ledger_states(home).values()) == {"deferred"}

    second = activate(home, settings=settings_for(smtp), now=NOW + timedelta(minutes=15))
    assert [r.status for r in second.sent] == ["sent"] * 4
    assert sorted(smtp.by_recipient()) == [p["email"] for p in people]
    # and a message deferred for longer than the give-up age fails instead
    late = contact("late@example.com")
    publish_queue(home, [queue_row(late, "send_email", "2", NOW)], [late])
    activate(home, settings=down, now=NOW)
    given_up = activate(home, settings=settings_for(smtp), now=NOW + timedelta(hours=49))
    assert [(r.status, r.reason.split(":")[0]) for r in given_up.results] == [
        ("failed", "gave up 48 h after it was due")
    ]


def test_frequency_caps_dnc_and_the_marketing_message_fallback(home, smtp, http):
    ann = contact("ann@example.com", first_name="Ann")
    dee = contact(
        "dee@example.com",
        mobile="+4915100000001",
        preferred_channel="sms",
        is_dnc_sms=True,
        dnc_sms_reason="replied STOP",
    )
    eve = contact(
        "eve@example.com", first_name="Eve", mobile="+4915100000002", preferred_channel="sms"
    )
    max_ = contact("max@example.com", mobile="+4915100000003", is_dnc_email=True, is_dnc_sms=True)
    rows = [
        queue_row(ann, "send_email", "1", NOW - timedelta(hours=3), step="a"),
        queue_row(ann, "send_email", "2", NOW - timedelta(hours=2), step="b"),
        queue_row(ann, "send_email", "1", NOW - timedelta(hours=1), step="c"),
        *(
            queue_row(
                p,
                "send_marketing_message",
                None,
                NOW,
                step="m",
                channel="none",
                params={"email_id": "2", "sms_id": "1"},
            )
            for p in (dee, eve, max_)
        ),
    ]
    publish_queue(home, rows, [ann, dee, eve, max_])
    settings = settings_for(smtp, http, email_cap_per_day=2)

    first = activate(home, settings=settings, now=NOW)

    by_step = {(r.contact_key, r.step_id): (r.status, r.channel, r.reason) for r in first.results}
    assert by_step[("ann@example.com", "a")][0] == "sent"
    assert by_step[("ann@example.com", "b")][0] == "sent"
    assert by_step[("ann@example.com", "c")] == (
        "deferred",
        "email",
        "frequency cap: 2 emails per day",
    )
    assert by_step[("dee@example.com", "m")] == ("sent", "email", None)  # SMS is DNC → email
    assert by_step[("eve@example.com", "m")] == ("sent", "sms", None)  # her preferred channel
    status, _, reason = by_step[("max@example.com", "m")]
    assert status == "skipped" and "sms: do not contact" in reason
    assert "email: do not contact" in reason
    assert [r.headers.get("Content-Type") for r in http.requests] == [
        "application/x-www-form-urlencoded"
    ]
    assert sorted(smtp.by_recipient()) == ["ann@example.com", "dee@example.com"]

    same_day = activate(home, settings=settings, now=NOW + timedelta(hours=2))
    assert [(r.step_id, r.status) for r in same_day.results] == [("c", "deferred")]
    next_day = activate(home, settings=settings, now=NOW + timedelta(hours=25))
    assert [(r.step_id, r.status) for r in next_day.results] == [("c", "sent")]
    assert len(smtp.by_recipient()["ann@example.com"]) == 3


def test_sms_and_webhooks_over_http(home, http):
    catalog = home.warehouse  # the SMS catalog is read from the warehouse's staging model
    with duckdb.connect(str(catalog)) as con:
        con.execute("create schema staging")
        con.execute("create table staging.stg_sms (sms_id varchar, message varchar)")
        con.execute(
            "insert into staging.stg_sms values "
            "('1', 'Hi {contactfield=firstname|there}, the webinar starts in 1 hour')"
        )
        con.execute(
            "create table staging.stg_emails (email_id varchar, name varchar, subject varchar, "
            "from_address varchar, attributes json)"
        )
    ann = contact("ann@example.com", first_name="Ann", mobile="+4915100000001")
    bob = contact("bob@example.com", mobile="+4915100000002")
    cat = contact("cat@example.com", mobile="+4915100000003", is_dnc_sms=True)
    rows = [
        *(  # in this order: the provider answers ann first, then bob
            queue_row(p, "send_sms", "1", NOW - timedelta(minutes=3 - i))
            for i, p in enumerate((ann, bob, cat))
        ),
        queue_row(
            ann,
            "call_webhook",
            "crm",
            NOW,
            step="w",
            params={"data": {"tier": "gold"}, "fields": ["email", "first_name", "points"]},
        ),
        queue_row(
            bob, "call_webhook", "gone", NOW, step="w", params={"url": http.url + "/hooks/gone"}
        ),
    ]
    publish_queue(home, rows, [ann, bob, cat])
    sms_path = "/2010-04-01/Accounts/AC123/Messages.json"
    http.on(
        sms_path,
        (201, {}, b'{"sid": "SM-ann", "status": "queued"}'),
        (400, {}, b'{"code": 21211, "message": "The To number is not valid"}'),
    )
    http.on("/hooks/crm", (503, {"Retry-After": "0"}, b"busy"))  # then 201
    http.on("/hooks/gone", (410, {}, b"gone"))
    settings = settings_for(None, http, webhook_urls={"crm": http.url + "/hooks/crm"})

    report = activate(home, settings=settings, now=NOW)

    outcome = {(r.contact_key, r.action): (r.status, r.attempts) for r in report.results}
    assert outcome == {
        ("ann@example.com", "send_sms"): ("sent", 1),
        ("bob@example.com", "send_sms"): ("failed", 1),
        ("cat@example.com", "send_sms"): ("skipped", 0),
        ("ann@example.com", "call_webhook"): ("sent", 2),
        ("bob@example.com", "call_webhook"): ("failed", 1),
    }
    sms = http.to(sms_path)
    assert len(sms) == 2  # the 400 was not retried, the DNC contact never sent
    form = parse_qs(sms[0].body.decode())
    assert form == {
        "To": ["+4915100000001"],
        "From": ["+15550001111"],
        "Body": ["Hi Ann, the webinar starts in 1 hour"],
    }
    assert sms[0].headers["Authorization"] == "Basic QUMxMjM6c21zLXRva2VuLXNlY3JldA=="
    hooks = http.to("/hooks/crm")
    assert len(hooks) == 2 and hooks[0].body == hooks[1].body
    for hook in hooks:
        assert verify_webhook_signature(
            HOOK_SECRET, hook.body, hook.headers["X-Funnelhouse-Signature"]
        )
        assert not verify_webhook_signature(
            "wrong", hook.body, hook.headers["X-Funnelhouse-Signature"]
        )
    assert hooks[0].headers["X-Funnelhouse-Delivery"] == rows[3]["idempotency_key"]
    payload = json.loads(hooks[0].body)
    assert payload["contact"] == {"email": "ann@example.com", "first_name": "Ann", "points": 0}
    assert payload["campaign"]["name"] == "Welcome series" and payload["data"] == {"tier": "gold"}
    assert len(http.to("/hooks/gone")) == 1

    events = {(e["contact_key"], e["event_type"]): e["properties"] for e in events_of(home)}
    assert events[("ann@example.com", "sms_sent")]["message_id"] == "SM-ann"
    assert events[("ann@example.com", "sms_sent")]["sms_id"] == "1"
    assert "not valid" in events[("bob@example.com", "sms_failed")]["reason"]
    assert ("cat@example.com", "sms_failed") not in events


def test_actions_on_the_contact_become_events_that_ingest_loads(home):
    from ingest.loader import ingest

    ann = contact("ann@example.com")
    rows = [
        queue_row(ann, "adjust_points", None, NOW, step="p", params={"delta": 15}),
        queue_row(ann, "set_dnc", "sms", NOW, step="d", params={"reason": "asked"}),
        queue_row(ann, "update_field", "city", NOW, step="f", params={"value": "Berlin"}),
        queue_row(ann, "add_to_segment", "vip", NOW, step="g"),
        queue_row(ann, "change_stage", "3", NOW, step="s"),
        queue_row(ann, "launch_rocket", None, NOW, step="x"),
    ]
    publish_queue(home, rows, [ann])

    report = activate(home, settings=ActivationSettings(), now=NOW)

    assert sorted((r.step_id, r.status) for r in report.results) == [
        ("d", "sent"),
        ("f", "sent"),
        ("g", "sent"),
        ("p", "sent"),
        ("s", "sent"),
        ("x", "failed"),
    ]
    [loaded] = [r for r in ingest(home) if r.file.startswith("events/activation/")]
    assert (loaded.status, loaded.rows_read, loaded.rows_quarantined) == ("loaded", 9, 0)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        got = dict(
            con.execute(
                "select event_type, properties from raw.events "
                "where event_type <> 'campaign_action'"
            ).fetchall()
        )
        actions = con.execute(
            "select properties->>'step_id', properties->>'status', properties->>'payload_ref', "
            "contact_key, occurred_at from raw.events where event_type = 'campaign_action' "
            "order by 1"
        ).fetchall()
    assert json.loads(got["manual_points"])["delta"] == 15
    dnc = json.loads(got["dnc_change"])
    assert {k: dnc[k] for k in ("channel", "reason", "comments", "action")} == {
        "channel": "sms",
        "reason": "manual",  # Mautic's reasons: unsubscribed, bounced, manual
        "comments": "asked",
        "action": "add",
    }
    assert json.loads(got["identify"])["city"] == "Berlin"
    assert [a[:3] for a in actions] == [
        ("d", "sent", "sms"),
        ("f", "sent", "city"),
        ("g", "sent", "vip"),
        ("p", "sent", None),
        ("s", "sent", "3"),
        ("x", "failed", None),
    ]
    assert {a[3] for a in actions} == {"ann@example.com"} and {a[4] for a in actions} == {NOW}


def test_dry_run_renders_and_records_without_sending(home, smtp):
    from rich.console import Console

    people = [contact("ann@example.com", first_name="Ann"), contact("bob@example.com")]
    publish_queue(home, [queue_row(p, "send_email", "1", NOW) for p in people], people)
    settings = settings_for(smtp)

    dry = activate(home, settings=settings, now=NOW, dry_run=True)

    assert [(r.status, r.preview) for r in dry.results] == [
        ("sent", "Welcome to Example SaaS, Ann!"),
        ("sent", "Welcome to Example SaaS, there!"),
    ]
    assert smtp.messages == [] and events_of(home) == [] and ledger_states(home) == {}
    with Ledger(ledger_path(home)) as ledger:
        recorded = ledger.con.execute("select outcome, rendered from dry_runs").fetchall()
    assert len(recorded) == 2
    console = Console(record=True, width=120)
    print_report(dry, console)
    assert "would be sent" in console.export_text()

    real = activate(home, settings=settings, now=NOW)
    assert len(real.sent) == 2 and len(smtp.messages) == 2
    console = Console(record=True, width=120)
    print_report(real, console)
    printed = console.export_text()
    assert "Welcome series" in printed and "result events" in printed


def test_a_connection_lost_after_the_message_left_is_unknown_not_resent(home, smtp):
    ann, bob = contact("ann@example.com"), contact("bob@example.com")
    rows = [
        queue_row(ann, "send_email", "1", NOW - timedelta(minutes=2)),
        queue_row(bob, "send_email", "1", NOW - timedelta(minutes=1)),
    ]
    publish_queue(home, rows, [ann, bob])
    smtp.drop_after_data = 1

    # one connection: ann's message is the first to reach the server, and the one dropped
    report = activate(home, settings=settings_for(smtp, smtp_connections=1), now=NOW)

    [unknown] = report.unknown
    assert unknown.contact_key == "ann@example.com"
    assert "may have accepted it" in unknown.reason
    assert [r.contact_key for r in report.sent] == ["bob@example.com"]
    assert activate(home, settings=settings_for(smtp), now=NOW).unknown == [unknown]
    assert [m.rcpt_tos for m in smtp.messages] == [["ann@example.com"], ["bob@example.com"]]


def test_one_run_at_a_time_and_the_rate_limit(home):
    import time

    from activation.channels import RateLimiter
    from activation.ledger import ActivationBusy, activation_lock

    with activation_lock(home, timeout=1), pytest.raises(ActivationBusy, match="another"):
        activate(home, settings=ActivationSettings(activation_lock_timeout_seconds=0.3))
    limiter = RateLimiter(50)
    started = time.monotonic()
    for _ in range(11):
        limiter.wait()
    assert time.monotonic() - started >= 0.19
