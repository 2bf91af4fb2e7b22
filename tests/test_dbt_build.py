"""dbt on real warehouses: hand-made inputs with answers worked out by hand, the generated
demo, and incremental builds that must equal a rebuild from scratch."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime

import duckdb
import pytest

from dashboards.queries.contacts import EVENT_TYPES
from ingest.generator import generate
from ingest.home import Home
from ingest.loader import ingest
from pipelines.publish import publish, published_indexes, published_orders
from tests.conftest import query


@pytest.fixture(scope="module")
def build(dbt_worker):
    """``build(home, *args)``: ``dbt build`` through the session's dbt worker (one parse)."""

    def run(home: Home, *args: str) -> None:
        result = dbt_worker.run(home, "build", *args)
        assert result.returncode == 0, result.stdout[-4000:]

    return run


def write_events(path, events: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def page(message_id, anonymous_id, timestamp, path="/", referrer=None, **extra):
    properties = {"url": f"https://www.example.com{path}", "path": path}
    if referrer:
        properties["referrer"] = referrer
    return {
        "type": "page",
        "messageId": message_id,
        "anonymousId": anonymous_id,
        "timestamp": timestamp,
        "properties": properties,
        **extra,
    }


def track(message_id, event, timestamp, properties, user=None, anonymous_id=None, email=None):
    call = {
        "type": "track",
        "event": event,
        "messageId": message_id,
        "timestamp": timestamp,
        "properties": properties,
    }
    if user:
        call["userId"] = user
    if anonymous_id:
        call["anonymousId"] = anonymous_id
    if email:
        call["context"] = {"traits": {"email": email}}
    return call


def load_and_build(home: Home, build, only: tuple[str, ...], name: str, events: list[dict]):
    """Land one events file, ingest it, build the selection incrementally."""
    write_events(home.landing / "events" / name, events)
    ingest(home)
    build(home, *only)


def assert_equals_a_rebuild(home: Home, build, only: tuple[str, ...], tables: dict[str, str]):
    """Keep the incremental warehouse, rebuild the selection from scratch, and compare each
    table (schema.name → the columns compared) row for row."""
    incremental = home.root / "incremental.duckdb"
    shutil.copyfile(home.warehouse, incremental)
    build(home, *only, "--full-refresh")
    for table, columns in tables.items():
        differing = query(
            home,
            f"attach '{incremental}' as inc (read_only);"
            f" select count(*) from ((select {columns} from {table}"
            f" except all select {columns} from inc.{table})"
            f" union all (select {columns} from inc.{table}"
            f" except all select {columns} from {table}))",
        )
        assert differing == [(0,)], table


def test_hand_made_story(home, build):
    """Ann browses anonymously, registers through a form, opens and clicks an email; Bob
    bounces hard; an unknown visitor never converts."""
    (home.landing / "contacts" / "crm.csv").write_text(
        "email,firstname,lastname,company,date_added\n"
        "ann@example.com,Ann,Archer,Acme,2026-09-01 08:00:00\n"
        " BOB@example.com ,Bob,Baker,acme ,2026-09-02 08:00:00\n"
    )
    write_events(
        home.landing / "events" / "web.jsonl",
        [
            page("p1", "dev-ann", "2026-10-01T09:00:00Z", "/", "https://www.google.com/"),
            page("p2", "dev-ann", "2026-10-01T09:10:00Z", "/pricing"),
            page("p3", "dev-ann", "2026-10-01T10:00:00Z", "/signup"),  # 50 min idle: new session
            track(
                "f1",
                "Form Submitted",
                "2026-10-01T10:01:00Z",
                {"form_id": 1},
                anonymous_id="dev-ann",
                email="Ann@Example.com",
            ),
            page("p9", "dev-x", "2026-10-02T12:00:00Z", "/blog", "https://news.ycombinator.com/"),
            track(
                "s1", "Email Sent", "2026-10-03T09:00:00Z", {"email_id": 4}, user="ann@example.com"
            ),
            track(
                "d1",
                "Email Delivered",
                "2026-10-03T09:00:05Z",
                {"email_id": 4},
                user="ann@example.com",
            ),
            track(
                "o1",
                "Email Opened",
                "2026-10-03T11:00:00Z",
                {"email_id": 4},
                user="ann@example.com",
            ),
            track(
                "o2",
                "Email Opened",
                "2026-10-03T12:00:00Z",
                {"email_id": 4},
                user="ann@example.com",
            ),
            track(
                "c1",
                "Email Link Clicked",
                "2026-10-03T12:01:00Z",
                {"email_id": 4, "link_url": "https://www.example.com/features"},
                user="ann@example.com",
            ),
            track(
                "s2", "Email Sent", "2026-10-03T09:00:00Z", {"email_id": 4}, user="bob@example.com"
            ),
            track(
                "b2",
                "Email Bounced",
                "2026-10-03T09:00:10Z",
                {"email_id": 4, "bounce_type": "hard"},
                user="bob@example.com",
            ),
            track(
                "o1",
                "Email Opened",
                "2026-10-03T11:00:00Z",
                {"email_id": 4},
                user="ann@example.com",
            ),
        ],
    )
    reports = ingest(home)
    assert all(r.status == "loaded" for r in reports)
    build(home)

    ann, bob = query(home, "select contact_id from marts.dim_contacts order by email")
    contacts = query(
        home,
        "select email, first_name, company_name, is_dnc_email, dnc_email_reason, first_seen_at,"
        " identified_at, page_views from marts.dim_contacts order by email",
    )
    assert contacts == [
        (
            "ann@example.com",
            "Ann",
            "Acme",
            False,
            None,
            datetime(2026, 9, 1, 8),
            datetime(2026, 10, 1, 10, 1),
            3,
        ),
        (
            "bob@example.com",
            "Bob",
            "acme",
            True,
            "bounced",
            datetime(2026, 9, 2, 8),
            datetime(2026, 9, 2, 8),
            0,
        ),
    ]
    # Both spellings of Acme are one company with two contacts.
    assert query(home, "select company_name, contact_count from marts.dim_companies") == [
        ("Acme", 2)
    ]
    # Ann's anonymous page hits before the form are hers; the unknown visitor stays anonymous.
    owners = dict(
        query(home, "select event_id, email from marts.fct_events where event_type = 'page_hit'")
    )
    assert owners == {
        "p1": "ann@example.com",
        "p2": "ann@example.com",
        "p3": "ann@example.com",
        "p9": None,
    }
    assert query(home, "select count(*) from marts.fct_events where event_id = 'o1'") == [
        (1,)
    ]  # deduped
    sessions = query(
        home,
        "select anonymous_id, session_number, page_views, landing_path, exit_path, source, medium,"
        " contact_id is not null from marts.fct_sessions order by anonymous_id, session_number",
    )
    assert sessions == [
        ("dev-ann", 1, 2, "/", "/pricing", "google", "search", True),
        ("dev-ann", 2, 1, "/signup", "/signup", "(direct)", "direct", True),
        ("dev-x", 1, 1, "/blog", "/blog", "news.ycombinator.com", "referral", False),
    ]
    sends = query(
        home,
        "select email, is_delivered, is_opened, open_count, is_clicked, is_bounced, minutes_to_open"
        " from marts.fct_email_sends order by email",
    )
    assert sends == [
        ("ann@example.com", True, True, 2, True, False, 120),
        ("bob@example.com", False, False, 0, False, True, None),
    ]
    assert ann != bob


def test_demo_marts_have_rows_and_plausible_figures(built_home):
    """On the session's generated home, built by `funnelhouse run` (dbt build: every model and
    its data tests; the unit tests run in test_hand_made_story's build)."""
    for table in ("dim_contacts", "dim_companies", "fct_events", "fct_sessions", "fct_email_sends"):
        assert query(built_home, f"select count(*) > 0 from marts.{table}") == [(True,)], table
    ((sent, opened, clicked),) = query(
        built_home,
        "select count(*), sum(is_opened::int), sum(is_clicked::int) from marts.fct_email_sends",
    )
    assert sent > opened > clicked > 0
    assert 0.1 < opened / sent < 0.4
    (stitched,) = query(
        built_home,
        "select count(*) from marts.fct_events e join raw.events r using (event_id)"
        " where e.event_type = 'page_hit' and r.contact_key is null and e.contact_id is not null",
    )[0]
    assert stitched > 0  # anonymous page hits were attributed to contacts
    assert query(built_home, "select count(*) from marts.dim_contacts where points < 0") is not None


def test_incremental_builds_equal_a_rebuild_from_scratch(tmp_path, build):
    home = Home.resolve(tmp_path / "home").ensure()
    generate(home, contacts=400, days=14, seed=5, end_date=date(2026, 11, 1))
    events = next((home.landing / "events").glob("*.jsonl"))
    lines = events.read_text().splitlines(keepends=True)
    events.unlink()
    held_back = lines[len(lines) * 9 // 10 :]  # the last 10%: new and late events, new links
    (home.landing / "events" / "first.jsonl").write_text("".join(lines[: len(lines) * 9 // 10]))
    # Only the compared models and what they read; dbt's tests run in the other builds.
    only = ("--select", "+fct_events +fct_sessions +fct_email_sends +dim_contacts",
            "--exclude", "resource_type:test resource_type:unit_test")  # fmt: skip
    ingest(home)
    build(home, *only)
    assert publish(home).delta is None  # the first publish copies every table
    resent = lines[:5]  # copies of events already kept: the first arrival stays
    (home.landing / "events" / "second.jsonl").write_text("".join(held_back + resent))
    ingest(home)
    build(home, *only)

    # The next one updates the fact tables with the rows this build wrote: it equals the build.
    published = publish(home)
    assert set(published.delta) >= {"marts.fct_events", "marts.fct_sessions"}
    assert 0 < published.delta["marts.fct_events"] < published.tables["marts.fct_events"]
    for table in published.tables:
        differing = query(
            home,
            f"attach '{published.path}' as pub (read_only);"
            f" select count(*) from ((select * from {table} except all select * from pub.{table})"
            f" union all (select * from pub.{table} except all select * from {table}))",
        )
        assert differing == [(0,)], table

    facts = "* exclude (loaded_at, built_at)"
    assert_equals_a_rebuild(
        home,
        build,
        only,
        {
            "marts.fct_events": facts,
            "marts.fct_sessions": facts,
            "marts.fct_email_sends": facts,
            "marts.dim_contacts": "*",
            "intermediate.int_contacts_activity": "* exclude (built_at)",
        },
    )


def identify(message_id, anonymous_id, timestamp, email):
    return {
        "type": "identify",
        "messageId": message_id,
        "anonymousId": anonymous_id,
        "userId": email,
        "traits": {"email": email},
        "timestamp": timestamp,
    }


def test_only_events_stitching_moves_are_written_again(home, build):
    """A re-sent identify call relinks a device without moving its events: they and the
    device's sessions stay as built. A late link to another contact moves what follows it,
    and only that is written again, here and downstream; the result equals a rebuild."""
    only = ("--select", "+fct_sessions +int_contacts_activity",
            "--exclude", "resource_type:test resource_type:unit_test")  # fmt: skip
    ann, bob = "ann@example.com", "bob@example.com"

    def built_at(table, key):
        return dict(query(home, f"select {key}, built_at from marts.{table}"))

    def events_and_sessions_built_at():
        return built_at("fct_events", "event_id"), built_at("fct_sessions", "session_id")

    load_and_build(
        home,
        build,
        only,
        "1.jsonl",
        [
            page("p1", "dev-1", "2026-10-01T09:00:00Z"),
            identify("i1", "dev-1", "2026-10-01T09:05:00Z", ann),
            page("p2", "dev-1", "2026-10-02T09:00:00Z"),
            page("q1", "dev-2", "2026-10-02T09:00:00Z"),
        ],
    )
    first_events, first_sessions = events_and_sessions_built_at()

    load_and_build(
        home,
        build,
        only,
        "2.jsonl",
        [
            identify("i2", "dev-1", "2026-10-02T10:00:00Z", ann),  # the same link again
            page("q2", "dev-2", "2026-10-03T09:00:00Z"),
        ],
    )
    second_events, second_sessions = events_and_sessions_built_at()
    assert {e for e in second_events if second_events[e] != first_events.get(e)} == {"i2", "q2"}
    dev_1 = {s for (s,) in query(home, "select session_id from marts.fct_sessions"
                                       " where anonymous_id = 'dev-1'")}  # fmt: skip
    assert dev_1 and all(second_sessions[s] == first_sessions[s] for s in dev_1)

    # Bob used the device between p1 and p2 (a link arriving late): p2 is his now.
    load_and_build(
        home, build, only, "3.jsonl", [identify("i3", "dev-1", "2026-10-01T12:00:00Z", bob)]
    )
    third_events = built_at("fct_events", "event_id")
    assert {e for e in third_events if third_events[e] != second_events.get(e)} == {"i3", "p2"}
    owners = query(
        home,
        "select event_id, email from marts.fct_events where anonymous_id = 'dev-1' order by 1",
    )
    assert owners == [("i1", ann), ("i2", ann), ("i3", bob), ("p1", ann), ("p2", bob)]
    assert query(
        home,
        "select started_at::date::varchar, contact_id = md5('bob@example.com')"
        " from marts.fct_sessions where anonymous_id = 'dev-1' order by started_at",
    ) == [("2026-10-01", False), ("2026-10-02", True)]
    assert query(
        home,
        "select email, page_views from intermediate.int_contacts_activity order by email",
    ) == [(ann, 1), (bob, 1)]

    columns = "* exclude (loaded_at, built_at)"
    assert_equals_a_rebuild(
        home,
        build,
        only,
        {
            "marts.fct_events": columns,
            "marts.fct_sessions": columns,
            "intermediate.int_contacts_activity": columns,
        },
    )


def test_a_new_email_event_rewrites_only_the_send_it_changes(home, build):
    """Ann got email 4 twice. A late open counts for the second send: only that send is
    written again. A late-arriving send between them takes nothing and is only added."""
    only = ("--select", "+fct_email_sends",
            "--exclude", "resource_type:test resource_type:unit_test")  # fmt: skip
    ann = "ann@example.com"

    def email_event(message_id, event, timestamp):
        return track(message_id, event, timestamp, {"email_id": 4}, user=ann)

    def sends():
        return {
            send: (opens, built)
            for send, opens, built in query(
                home, "select send_id, open_count, built_at from marts.fct_email_sends"
            )
        }

    load_and_build(
        home,
        build,
        only,
        "1.jsonl",
        [
            email_event("s1", "Email Sent", "2026-10-01T09:00:00Z"),
            email_event("o1", "Email Opened", "2026-10-01T10:00:00Z"),
            email_event("s2", "Email Sent", "2026-10-03T09:00:00Z"),
        ],
    )
    first = sends()
    load_and_build(
        home, build, only, "2.jsonl", [email_event("o2", "Email Opened", "2026-10-03T10:00:00Z")]
    )
    second = sends()
    assert second["s1"] == first["s1"]
    assert second["s2"][0] == 1 and second["s2"][1] > first["s2"][1]
    load_and_build(
        home, build, only, "3.jsonl", [email_event("s3", "Email Sent", "2026-10-02T09:00:00Z")]
    )
    third = sends()
    assert {s: third[s] for s in second} == second
    assert third["s3"][0] == 0

    assert_equals_a_rebuild(
        home, build, only, {"marts.fct_email_sends": "* exclude (loaded_at, built_at)"}
    )


def test_publish_updates_fact_tables_and_drops_the_keys_the_build_lost(tmp_path, built_home):
    """An incremental publish: rows the build rewrote replace theirs; a key the build no
    longer has (deleted outside an incremental merge) leaves the published file too."""
    home = Home.resolve(tmp_path / "home")
    shutil.copytree(built_home.root, home.root)
    rewritten = "(select event_id from marts.fct_events order by event_id limit 5)"
    lost = "(select event_id from marts.fct_events order by event_id desc limit 3)"
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute(
            "update marts.fct_events set built_at = built_at + interval 1 hour,"
            f" page_title = 'rewritten' where event_id in {rewritten}"
        )
        con.execute(f"delete from marts.fct_events where event_id in {lost}")

    published = publish(home)

    assert published.delta["marts.fct_events"] == 5
    differing = query(
        home,
        f"attach '{published.path}' as pub (read_only);"
        " select count(*) from ((select * from marts.fct_events"
        " except all select * from pub.marts.fct_events)"
        " union all (select * from pub.marts.fct_events"
        " except all select * from marts.fct_events))",
    )
    assert differing == [(0,)]
    assert (
        published.tables["marts.fct_events"]
        == query(home, "select count(*) from marts.fct_events")[0][0]
    )


def test_a_publish_leaves_no_free_copy_of_the_tables_it_replaced(tmp_path, built_home):
    """The published file is copied whole by every publish: the blocks of the tables a publish
    replaces are reused for their new copies, not kept free beside them."""
    home = Home.resolve(tmp_path / "home")
    shutil.copytree(built_home.root, home.root)
    with duckdb.connect(str(home.warehouse)) as con:  # as if fct_events were rebuilt whole
        con.execute("update marts.fct_events set built_at = built_at + interval 1 hour")

    for _ in range(2):
        published = publish(home)
        with duckdb.connect(str(published.path), read_only=True) as con:
            total, used, free = con.execute(
                "select total_blocks, used_blocks, free_blocks from pragma_database_size()"
            ).fetchone()
        assert free <= total // 20, (total, used, free)


def stored_in_order(relation: str, column: str) -> str:
    """SQL: whether the rows of `relation` are stored (rowid order) by `column`."""
    return (
        f"select bool_and(previous is null or {column} >= previous) from ("
        f" select {column}, lag({column}) over (order by rowid) as previous from {relation})"
    )


def test_facts_are_published_in_time_order(tmp_path, built_home):
    """A whole copy of a fact table is stored in its `published_order_by` order, so that a
    dashboard's period skips the row groups outside it; the build's own order is not (the
    ledger is computed per contact)."""
    home = Home.resolve(tmp_path / "home")
    shutil.copytree(built_home.root, home.root)
    orders = published_orders()
    assert orders[("marts", "fct_points_ledger")] == "occurred_at"

    published = publish(home, full=True)

    with duckdb.connect(str(published.path), read_only=True) as con:
        for (schema, name), column in orders.items():
            (ordered,) = con.execute(stored_in_order(f'"{schema}"."{name}"', column)).fetchone()
            assert ordered, f"{schema}.{name} is not stored by {column}"
    [(in_build_order,)] = query(home, stored_in_order("marts.fct_points_ledger", "occurred_at"))
    assert not in_build_order  # else this test could not tell


def test_a_published_index_finds_a_contacts_rows_after_an_update(home, build):
    """fct_events is published with an index on contact_id (its `published_index`), which the
    contacts page's queries go through; an incremental publish keeps it current: the page's
    event counts of a contact, new event included, equal a scan's."""
    assert published_indexes()[("marts", "fct_events")] == "contact_id"
    only = ("--select", "+fct_events",
            "--exclude", "resource_type:test resource_type:unit_test")  # fmt: skip
    ann = "ann@example.com"

    def opened(message_id, timestamp):
        return track(message_id, "Email Opened", timestamp, {"email_id": 4}, user=ann)

    def counts(sql):
        with duckdb.connect(str(report.path), read_only=True) as con:
            return con.execute(
                sql,
                {"contact_id": contact_id, "start": date(2026, 10, 1), "stop": date(2026, 11, 1)},
            ).fetchall()

    days = ("2026-10-01", "2026-10-02", "2026-10-03")
    load_and_build(home, build, only, "1.jsonl",
                   [opened(f"o{i}", f"{day}T10:00:00Z") for i, day in enumerate(days)])  # fmt: skip
    report = publish(home)
    load_and_build(home, build, only, "2.jsonl", [opened("o9", "2026-10-04T10:00:00Z")])
    report = publish(home)

    assert report.delta and report.delta["marts.fct_events"] == 1  # updated, not copied anew
    [(contact_id,)] = query(
        home, f"select distinct contact_id from marts.fct_events where email = '{ann}'"
    )
    with duckdb.connect(str(report.path), read_only=True) as con:
        indexed = con.execute(
            "select expressions from duckdb_indexes() where table_name = 'fct_events'"
        ).fetchall()
    assert indexed == [("[contact_id]",)]
    scanned = counts(  # `|| ''`: no index can serve it
        "select event_type, count(*) from marts.fct_events where contact_id || '' = $contact_id"
        " and occurred_on >= $start and occurred_on < $stop group by all"
    )
    assert counts(EVENT_TYPES) == scanned == [("email_open", 4)]
