"""The tracking collector as a real server on 127.0.0.1: what it accepts, what it refuses,
what survives signals, what it keeps private, and the whole way from a browser on a page with
the snippet to the contact's timeline in the dashboard."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import duckdb
import httpx
import pytest
from playwright.sync_api import sync_playwright
from streamlit.testing.v1 import AppTest

from activation.tokens import sign_token
from ingest.collector.personalise import Published
from ingest.collector.spool import Spool
from ingest.home import Home
from ingest.loader import ingest
from tests.activation_servers import free_port
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.collector_server import FUNNELHOUSE, SECRET, Collector, open_batches, spooled
from tests.conftest import published

ROOT = Path(__file__).resolve().parents[1]


def track(message_id: str, **extra) -> dict:
    return {
        "type": "track",
        "event": "Load Test",
        "anonymousId": "a-load",
        "messageId": message_id,
        **extra,
    }


# --- the spool: files complete or recovered -------------------------------------------------


def test_spool_closes_batches_by_count_and_age_and_recovers_a_killed_one(tmp_path: Path) -> None:
    folder = tmp_path / "collector"
    spool = Spool(folder, max_events=3, max_bytes=1 << 20, max_age_seconds=60)
    spool.append([{"n": i} for i in range(3)])  # a full batch closes at once
    spool.append([{"n": 3}, {"n": 4}])
    closed = [p for p in folder.rglob("*.jsonl") if not p.name.startswith(".")]
    assert [len(p.read_text().splitlines()) for p in closed] == [3]
    [still_open] = list(folder.glob(".open-*"))
    spool.flush_if_due(now=10**9)  # older than max_age: closed by the timer
    assert not list(folder.glob(".open-*"))

    # a killed collector: an open batch with a torn last line (never answered)
    spool.append([{"n": 5}])
    [left_open] = list(folder.glob(".open-*"))
    with left_open.open("ab") as handle:
        handle.write(b'{"n": 6, "torn')
    recovered = Spool(folder, max_events=3, max_bytes=1 << 20, max_age_seconds=60)
    assert (recovered.stats.recovered_files, recovered.stats.recovered_events) == (1, 1)
    rows = [
        json.loads(line)["n"]
        for p in sorted(folder.rglob("*.jsonl"))
        for line in p.read_text().splitlines()
    ]
    assert sorted(rows) == [0, 1, 2, 3, 4, 5]
    assert not list(folder.glob(".open-*"))


def _publish_personalisation(path: Path, hero_item: str) -> None:
    """A published file with the marts the collector reads, swapped in by rename."""
    staging = path.with_name(".staging.duckdb")
    with duckdb.connect(str(staging)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.personalisation_defaults as select 'dynamic_content' as kind, "
            "'hero' as slot, ? as item_id, 'default' as rule_id, 'Pitch' as item_name, "
            "'a' as variant, '<b>pitch</b>' as content",
            [hero_item],
        )
        con.execute(
            "create table marts.personalisation_assignments as select 'ann@example.com' as email,"
            " 'dynamic_content' as kind, 'hero' as slot, '9' as item_id, 'vip' as rule_id"
        )
        con.execute(
            "create table marts.dim_tracking_ids as "
            "select 'anon-ann' as anonymous_id, 'ann@example.com' as email"
        )
    staging.replace(path)


def test_published_answers_follow_each_publish(tmp_path: Path) -> None:
    path = tmp_path / "funnelhouse.duckdb"
    reader = Published(path)
    assert reader.assignment("dynamic_content", "hero", None) is None  # nothing published yet
    _publish_personalisation(path, "1")
    assert reader.assignment("dynamic_content", "hero", None)["item_id"] == "1"
    ann = reader.email_of("anon-ann")
    assert ann == "ann@example.com"
    assert reader.assignment("dynamic_content", "hero", ann)["rule_id"] == "vip"
    assert reader.asset("1") is None  # a mart this publish does not have: no answer, no error
    _publish_personalisation(path, "2")  # the next build's file replaces it
    assert reader.assignment("dynamic_content", "hero", None)["item_id"] == "2"
    reader.remember("anon-new", "new@example.com")  # identified since the last publish
    assert reader.email_of("anon-new") == "new@example.com"


# --- a running collector: refusals with reasons, never a crash ------------------------------


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("collector")
    with Collector(Home(root / "home").ensure(), root / "collector.log") as running:
        yield running
        running.stop_gracefully()


def test_malformed_requests_get_a_4xx_with_a_reason_and_nothing_is_kept(collector) -> None:
    url = collector.url
    before = collector.stats()
    cases = [
        (httpx.post(f"{url}/v1/track", content=b'{"type": "track",'), 400, "not JSON"),
        (httpx.post(f"{url}/v1/batch", json=[1, 2]), 400, "JSON object"),
        (httpx.post(f"{url}/v1/batch", json={"batch": "x"}), 400, "list of calls"),
        (
            httpx.post(
                f"{url}/v1/batch",
                json={"batch": [track("ok-1"), {"type": "alias", "anonymousId": "a"}]},
            ),
            400,
            "batch[1].type: unsupported call type 'alias'",
        ),
        (httpx.post(f"{url}/v1/track", json={"anonymousId": "a"}), 400, "event name"),
        (httpx.post(f"{url}/v1/page", json={"type": "page"}), 400, "anonymousId or userId"),
        (httpx.post(f"{url}/v1/page", json=track("x")), 400, "endpoint"),
        (
            httpx.post(f"{url}/v1/track", json=track("t", timestamp="yesterday")),
            400,
            "timestamp",
        ),
        (
            httpx.post(f"{url}/v1/track", json=track("big", properties={"x": "y" * 40_000})),
            400,
            "bytes, more than",
        ),
        (httpx.post(f"{url}/v1/batch", content=b"x" * 600_000), 413, "limit"),
        (httpx.post(f"{url}/form/1", data={"email": "not-an-address"}), 422, "not an email"),
        (httpx.get(f"{url}/mtracking.gif", params={"anonymous_id": "bad id!"}), 400, "letters"),
        (httpx.get(f"{url}/asset/999999"), 404, "unknown asset"),
        (httpx.get(f"{url}/unsubscribe/forged.token"), 404, "not valid"),
    ]
    for response, status, reason in cases:
        assert response.status_code == status, (reason, response.text)
        assert reason in response.json()["error"], response.text

    # a click token is valid only for the URL it was signed with: no open redirect
    token = sign_token(SECRET, "click", "k1", "ann@example.com", "1", "https://example.com/a")
    forged = httpx.get(
        f"{url}/email/click/{token}",
        params={"url": "https://evil.example/"},
        follow_redirects=False,
    )
    assert forged.status_code == 404 and "location" not in forged.headers
    # a forged open pixel still answers an image (mail clients), but 404 and unrecorded
    pixel = httpx.get(f"{url}/email/open/{token}.gif")
    assert (pixel.status_code, pixel.headers["content-type"]) == (404, "image/gif")

    after = collector.stats()
    assert after["accepted_events"] == before["accepted_events"]  # ok-1 was not kept either
    refused = sum(after["refused"].values()) - sum(before["refused"].values())
    assert refused == len(cases) + 2
    assert httpx.get(f"{url}/healthz").json() == {"ok": True}


def test_write_key_guards_the_segment_api_when_set(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    with Collector(home, tmp_path / "log", collector_write_key="wk-123") as keyed:
        call = track("wk-1")
        assert httpx.post(f"{keyed.url}/v1/track", json=call).status_code == 401
        assert httpx.post(f"{keyed.url}/v1/track", json=call, auth=("wrong", "")).status_code == 401
        assert (
            httpx.post(f"{keyed.url}/v1/track", json=call, auth=("wk-123", "")).status_code == 200
        )
        # analytics.js's beacons carry the key in the body instead
        body = {**track("wk-2"), "writeKey": "wk-123"}
        assert httpx.post(f"{keyed.url}/v1/track", json=body).status_code == 200
        keyed.stop_gracefully()
    assert sorted(c["messageId"] for c in spooled(home)) == ["wk-1", "wk-2"]
    assert all("writeKey" not in c for c in spooled(home))


# --- durability under signals ---------------------------------------------------------------


async def _load(url: str, stop_after: float, process) -> tuple[set[str], int]:
    """Concurrent clients sending until the server goes away; the ids answered 2xx."""
    accepted: set[str] = set()
    failures = 0
    counter = iter(range(10**9))

    async def client(session: httpx.AsyncClient) -> None:
        nonlocal failures
        while True:
            ids = [f"load-{next(counter)}" for _ in range(5)]
            try:
                response = await session.post(
                    f"{url}/v1/batch", json={"batch": [track(i) for i in ids]}
                )
            except httpx.TransportError:
                failures += 1
                if process.poll() is not None:
                    return
                await asyncio.sleep(0.01)
                continue
            if response.status_code == 200:
                accepted.update(ids)

    async with httpx.AsyncClient(timeout=10) as session:
        clients = [asyncio.create_task(client(session)) for _ in range(16)]
        await asyncio.sleep(stop_after)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*clients), timeout=60)
    return accepted, failures


def test_sigterm_during_load_loses_no_accepted_event(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    running = Collector(home, tmp_path / "log", collector_batch_max_events="700")
    accepted, _ = asyncio.run(_load(running.url, 2.0, running.process))
    assert running.process.wait(timeout=30) in (0, -signal.SIGTERM)
    written = [c["messageId"] for c in spooled(home)]
    assert len(accepted) > 500, "the load did not get going"
    assert accepted <= set(written), f"{len(accepted - set(written))} accepted events lost"
    assert len(written) == len(set(written)), "an event was written twice"
    assert open_batches(home) == []  # graceful shutdown closed the open batch
    # and ingest loads every one of them
    reports = ingest(home)
    assert sum(r.rows_loaded for r in reports) == len(written)
    assert all(r.status == "loaded" and r.rows_quarantined == 0 for r in reports)


def test_sigkill_keeps_answered_events_for_the_next_start(tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    log = tmp_path / "log"
    first = Collector(home, log, collector_flush_seconds="3600")
    for n in range(40):
        response = httpx.post(f"{first.url}/v1/track", json=track(f"kill-{n}"))
        assert response.status_code == 200
    first.stop(signal.SIGKILL)
    assert len(open_batches(home)) == 1 and spooled(home) == []
    # what ingest sees meanwhile: nothing half-written
    assert sum(r.rows_loaded for r in ingest(home)) == 0
    second = Collector(home, log)
    assert second.stats()["recovered_events"] == 40
    second.stop_gracefully()
    assert sorted(c["messageId"] for c in spooled(home)) == sorted(f"kill-{n}" for n in range(40))


# --- privacy --------------------------------------------------------------------------------


def test_ip_is_not_stored_unless_configured_then_truncated(tmp_path: Path) -> None:
    plain_home = Home(tmp_path / "plain").ensure()
    with Collector(plain_home, tmp_path / "log") as plain:
        httpx.get(f"{plain.url}/mtracking.gif", params={"page_url": "https://example.com/"})
        spoof = {**track("ip-1"), "context": {"ip": "203.0.113.9"}}
        assert httpx.post(f"{plain.url}/v1/track", json=spoof).status_code == 200
        plain.stop_gracefully()
    assert len(spooled(plain_home)) == 2
    assert all("ip" not in (c.get("context") or {}) for c in spooled(plain_home))

    truncated_home = Home(tmp_path / "truncated").ensure()
    with Collector(truncated_home, tmp_path / "log", collector_store_ip="truncated") as kept:
        httpx.get(f"{kept.url}/mtracking.gif", params={"page_url": "https://example.com/"})
        httpx.post(f"{kept.url}/v1/track", json=spoof)
        kept.stop_gracefully()
    assert [c["context"]["ip"] for c in spooled(truncated_home)] == ["127.0.0.0", "127.0.0.0"]


def test_do_not_track_and_consent_are_honoured(tmp_path: Path) -> None:
    home = Home(tmp_path / "dnt").ensure()
    with Collector(home, tmp_path / "log") as running:
        pixel = httpx.get(f"{running.url}/mtracking.gif", headers={"DNT": "1"})
        assert pixel.status_code == 200  # the page still gets its image
        httpx.post(
            f"{running.url}/v1/page", json={**track("g"), "type": "page"}, headers={"Sec-GPC": "1"}
        )
        form = httpx.post(
            f"{running.url}/form/2",
            data={"email": "dnt@example.com"},
            headers={"DNT": "1", "Accept": "application/json"},
        )
        assert form.json() == {"success": True, "form_id": "2"}  # a form is the visitor's act
        assert running.stats()["not_recorded"] == {"dnt": 2}
        running.stop_gracefully()
    assert [c.get("event") or c["type"] for c in spooled(home)] == ["Form Submitted", "identify"]

    home = Home(tmp_path / "consent").ensure()
    with Collector(home, tmp_path / "log", collector_require_consent="true") as running:
        httpx.get(f"{running.url}/mtracking.gif", params={"page_url": "https://a.example/no"})
        httpx.get(
            f"{running.url}/mtracking.gif",
            params={"page_url": "https://a.example/yes"},
            cookies={"fh_consent": "1"},
        )
        consented = {**track("c1"), "context": {"consent": True}}
        httpx.post(f"{running.url}/v1/track", json=consented)
        httpx.post(f"{running.url}/v1/track", json=track("c2"))
        running.stop_gracefully()
    calls = spooled(home)
    assert [c.get("messageId") for c in calls if c["type"] == "track"] == ["c1"]
    assert [c["properties"]["url"] for c in calls if c["type"] == "page"] == [
        "https://a.example/yes"
    ]


# --- end to end: a browser on a page with the snippet → the dashboard -----------------------

PAGE = """<!doctype html>
<html><head><title>Pricing | Example</title>
<script src="{collector}/mtc.js" async></script></head>
<body><h1>Pricing</h1>
<div id="hero" data-funnelhouse-slot="{slot}">Default hero</div>
<form id="signup" action="{collector}/form/1" method="post">
  <input type="email" name="mauticform[email]" aria-label="Email">
  <input name="mauticform[firstname]" aria-label="First name">
  <button type="submit">Sign up</button>
</form>
<a id="guide" href="{collector}/asset/{asset_id}">Download the guide</a>
</body></html>"""
FORM_EMAIL = "Browser.Visitor@Example.org"


class _Site(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def site_home(built_home: Home, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the shared built home (assets and personalisation published, so the
    collector has answers) and a site served on 127.0.0.1 to embed the snippet in."""
    root = tmp_path_factory.mktemp("site")
    home = Home(root / "home")
    shutil.copytree(built_home.root, home.root)
    site = root / "site"
    site.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), partial(_Site, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield home, site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_visit_in_chromium_reaches_the_contact_timeline(site_home, tmp_path, monkeypatch) -> None:
    home, site, site_url = site_home
    slot = published(
        home, "select min(slot) from marts.personalisation_defaults where kind = 'dynamic_content'"
    )[0][0]
    [(sent_email, email_id)] = published(
        home, "select email, email_id from marts.fct_email_sends order by send_id limit 1"
    )
    # the Segment batch below downloads asset 2; the browser downloads another one
    [(asset_id, asset_url, downloads_before)] = published(
        home,
        "select asset_id, url, downloads from marts.dim_assets where asset_id <> '2' "
        "order by asset_id limit 1",
    )
    collector = Collector(home, tmp_path / "collector.log")
    try:
        (site / "pricing.html").write_text(
            PAGE.format(collector=collector.url, slot=slot, asset_id=asset_id)
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page()
                page.set_default_timeout(30_000)
                page.goto(f"{site_url}/pricing.html?utm_source=newsletter&utm_medium=email")
                page.wait_for_function("window.funnelhouse && window.funnelhouse.loaded")
                anonymous_id = page.evaluate("window.funnelhouse.anonymousId")
                # the slot's default variant replaced the page's own text
                page.wait_for_function(
                    "document.getElementById('hero').innerText !== 'Default hero'"
                )
                page.get_by_label("Email").fill(FORM_EMAIL)
                page.get_by_label("First name").fill("Bea")
                page.get_by_role("button", name="Sign up").click()
                page.wait_for_url(f"{site_url}/pricing.html*")  # back from the form post
                page.wait_for_function("window.funnelhouse && window.funnelhouse.loaded")
                # the collector records the download and sends the browser to the asset
                with page.expect_response(lambda r: "/asset/" in r.url) as download:
                    page.get_by_role("link", name="Download the guide").click()
                redirect = download.value
                assert "anonymous_id=" in redirect.url  # the snippet passed the id along
                assert (redirect.status, redirect.headers["location"]) == (302, asset_url)
            finally:
                browser.close()
        # page view, content view, form + identify, page view after the redirect, download
        collector.wait_for_events(6)

        # the other doors: Mautic's pixel, a Segment batch, the email links activation makes
        pixel = httpx.get(
            f"{collector.url}/mtracking.gif",
            params={
                "page_url": "https://www.example-saas.com/pricing",
                "page_title": "Pricing",
                "email": "pixel.person@example.com",
                "firstname": "Pia",
            },
        )
        assert pixel.headers["content-type"] == "image/gif"
        batch = {
            "batch": [
                {
                    "type": "identify",
                    "anonymousId": "seg-anon-1",
                    "userId": "seg.person@example.com",
                    "traits": {"email": "seg.person@example.com", "firstname": "Sam"},
                },
                {
                    "type": "page",
                    "anonymousId": "seg-anon-1",
                    "properties": {"url": "https://www.example-saas.com/docs", "title": "Docs"},
                },
                {
                    "type": "track",
                    "event": "Asset Downloaded",
                    "anonymousId": "seg-anon-1",
                    "properties": {"asset_id": "2"},
                },
            ],
            "context": {"library": {"name": "analytics-python"}},
        }
        assert httpx.post(f"{collector.url}/v1/batch", json=batch).json() == {"success": True}
        link = "https://www.example-saas.com/pricing"
        open_token = sign_token(SECRET, "open", "send-1", sent_email, email_id)
        click_token = sign_token(SECRET, "click", "send-1", sent_email, email_id, link)
        unsubscribe_token = sign_token(SECRET, "unsubscribe", "send-1", sent_email, email_id)
        assert httpx.get(f"{collector.url}/email/open/{open_token}.gif").status_code == 200
        click = httpx.get(f"{collector.url}/email/click/{click_token}?url={quote(link, safe='')}")
        assert (click.status_code, click.headers["location"]) == (302, link)
        assert httpx.get(f"{collector.url}/unsubscribe/{unsubscribe_token}").status_code == 200
        assert httpx.post(f"{collector.url}/unsubscribe/{unsubscribe_token}").status_code == 200
    finally:
        collector.stop_gracefully()

    run = subprocess.run(
        [FUNNELHOUSE, "run", "--home", str(home.root)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    email = FORM_EMAIL.lower()
    events = dict(
        published(
            home,
            "select event_type, count(*) from marts.fct_events where email = ? group by 1",
            [email],
        )
    )
    # the anonymous page view before the form moved to the contact (stitching)
    assert events.get("page_hit", 0) >= 2 and events.get("form_submit") == 1, events
    assert events.get("asset_download") == 1 and events.get("dynamic_content_view", 0) >= 1, events
    [(utm, anonymous)] = published(
        home,
        "select utm_source, anonymous_id from marts.fct_events where email = ? "
        "and event_type = 'page_hit' order by occurred_at limit 1",
        [email],
    )
    assert (utm, anonymous) == ("newsletter", anonymous_id)
    assert published(
        home, "select first_name from marts.dim_contacts where email = ?", [email]
    ) == [("Bea",)]
    assert published(
        home, "select downloads from marts.dim_assets where asset_id = ?", [asset_id]
    ) == [(downloads_before + 1,)]
    for who, kinds in [
        ("pixel.person@example.com", {"page_hit", "identify"}),
        ("seg.person@example.com", {"page_hit", "identify", "asset_download"}),
    ]:
        found = {
            r[0]
            for r in published(
                home, "select event_type from marts.fct_events where email = ?", [who]
            )
        }
        assert kinds <= found, (who, found)
    email_events = dict(
        published(
            home,
            "select event_type, count(*) from marts.fct_events where email = ? "
            "and source_file like 'collector/%' group by 1",
            [sent_email],
        )
    )
    # the unsubscribe link was followed twice (GET and one-click POST): it counts once
    assert email_events == {"email_open": 1, "email_click": 1, "email_unsubscribe": 1}
    assert published(
        home,
        "select is_dnc_email, dnc_email_reason from marts.dim_contacts where email = ?",
        [sent_email],
    ) == [(True, "unsubscribed")]

    # the analyst's view: the contact's timeline on the Contacts page
    monkeypatch.setenv("FUNNELHOUSE_HOME", str(home.root))
    at = AppTest.from_file(str(ROOT / "dashboards" / "app.py"), default_timeout=60).run()
    at.switch_page("views/contacts.py").run()
    at.text_input(key="contact_search").set_value(email).run()
    assert not at.exception, [e.value for e in at.exception]
    timeline_types = at.multiselect(key="timeline_types").options
    for kind in ("page_hit", "form_submit", "asset_download"):
        assert any(option.startswith(kind) for option in timeline_types), timeline_types

    # personalisation now knows the browser's visitor as the contact
    with Collector(home, tmp_path / "collector.log") as again:
        answer = httpx.get(f"{again.url}/content/{slot}", params={"anonymous_id": anonymous_id})
        [(expected_item,)] = published(
            home,
            "select coalesce((select item_id from marts.personalisation_assignments "
            "where email = ? and kind = 'dynamic_content' and slot = ?), "
            "(select item_id from marts.personalisation_defaults where kind = 'dynamic_content' "
            "and slot = ?))",
            [email, slot, slot],
        )
        assert answer.json()["dynamic_content_id"] == expected_item
        focus = httpx.get(f"{again.url}/focus", params={"placement": "site", "email": email})
        assert focus.status_code == 200, focus.text
        click = httpx.get(focus.json()["click_url"], follow_redirects=False)
        [(focus_url,)] = published(
            home,
            "select url from marts.dim_focus_items where focus_item_id = ?",
            [focus.json()["focus_id"]],
        )
        assert (click.status_code, click.headers["location"]) == (302, focus_url)
        again.stop_gracefully()
