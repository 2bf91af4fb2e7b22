"""The right to be forgotten and to an export, end to end: a generated home after a real
`funnelhouse run`, `funnelhouse export-contact` and `funnelhouse forget` as subprocesses, then
every text column of every table of the warehouse, the published file and the activation
ledger scanned for the person; old and new landing files ingested again.

The module works on its own copy of the suite's built home (it changes it): the forget rebuilds.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from activation.ledger import FINAL, Ledger, ledger_path
from ingest.home import Home
from ingest.tombstones import FORGOTTEN_REASON, Tombstones, key_hash
from ingest.warehouse import compact
from pipelines.privacy import Table, mention_pattern, predicate, resolve
from pipelines.publish import published_path

FUNNELHOUSE = str(Path(sys.executable).with_name("funnelhouse"))
# A social handle the person claims in a planted identify call, and a post of it.
HANDLE = "Planted_Person"
SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
# Incremental models: what a targeted delete must leave exactly as it was for everyone else.
INCREMENTAL = (
    "marts.fct_events",
    "marts.fct_sessions",
    "marts.fct_email_sends",
    "marts.fct_points_ledger",
    "marts.fct_stage_changes",
    "marts.segment_history",
)


def funnelhouse(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([FUNNELHOUSE, *args], capture_output=True, text=True, timeout=600)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def on(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def holders(path: Path, needles: list[str]) -> dict[str, int]:
    """Every table and view of a DuckDB file with a text column that contains one of
    ``needles`` (case-blind): relation → rows."""
    needles = [n.lower() for n in needles]
    found = {}
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            """select table_schema, table_name, list(column_name)
               from information_schema.columns
               where data_type in ('VARCHAR', 'JSON')
                 and table_schema not in ('information_schema', 'pg_catalog')
               group by all"""
        ).fetchall()
        for schema, name, names in columns:
            hit = " or ".join(
                f'contains(lower(cast("{c}" as varchar)), ${i + 1})'
                for c in names
                for i in range(len(needles))
            )
            rows = con.execute(f'select count(*) from "{schema}"."{name}" where {hit}', needles)
            count = rows.fetchone()[0]
            if count:
                found[f"{schema}.{name}"] = count
    return found


def unbalanced(home: Home) -> list[tuple]:
    """Files whose rows read ≠ loaded + quarantined, and raw tables whose rows ≠ the ledger's."""
    bad = on(
        home.warehouse,
        "select path from raw._loads "
        "where status = 'loaded' and rows_read <> rows_loaded + rows_quarantined",
    )
    for table, ledger in on(
        home.warehouse,
        "select target_table, sum(rows_loaded) from raw._loads where status = 'loaded' group by 1",
    ):
        rows = on(home.warehouse, f'select count(*) from raw."{table}"')[0][0]
        if rows != ledger:
            bad.append((table, rows, ledger))
    return bad


def snapshot(home: Home, email: str, anonymous_ids: list[str]) -> dict[str, set[tuple]]:
    """The incremental models' rows in the published file, less the person's."""
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        result = {}
        for relation in INCREMENTAL:
            columns = {
                c
                for (c,) in con.execute(f"select column_name from (describe {relation})").fetchall()
            }
            mine = ["contact_id = $id"]
            if "anonymous_id" in columns:
                mine.append("anonymous_id in (select unnest($anonymous))")
            if "email" in columns:
                mine.append("email = $email")
            params = {"id": md5(email), "anonymous": anonymous_ids, "email": email}
            params = {k: v for k, v in params.items() if f"${k}" in " ".join(mine)}
            # what the rows say, not when they were written (authors of monitored posts are
            # rescored every build)
            select = "* exclude (built_at)" if "built_at" in columns else "*"
            rows = con.execute(
                f"select {select} from {relation} where not coalesce({' or '.join(mine)}, false)",
                params,
            ).fetchall()
            result[relation] = set(rows)
    return result


# --- the home ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(built_home: Home, tmp_path_factory) -> Home:
    """A copy of the suite's built home (generated, then `funnelhouse run`): this module
    changes it."""
    home = Home.resolve(tmp_path_factory.mktemp("privacy") / "home")
    shutil.copytree(built_home.root, home.root)
    return home


@pytest.fixture(scope="module")
def person(built: Home) -> dict:
    """A contact with events, a tracking id, points, a stage, segments and a ledger row; a
    file dropped after the build adds a quarantined row that quotes them, an event of
    someone else whose properties mention them, and an identify call claiming a social handle
    that another dropped file has a post of."""
    published = published_path(built)
    richest = on(
        published,
        """select c.email
           from marts.dim_contacts c
           where (select count(*) from marts.fct_events e
                  where e.contact_id = c.contact_id and e.anonymous_id is not null) > 0
             and exists (select 1 from marts.fct_points_ledger p where p.contact_id = c.contact_id)
             and exists (select 1 from marts.fct_stage_changes s where s.contact_id = c.contact_id)
             and exists (select 1 from marts.segment_membership m
                         where m.contact_id = c.contact_id)
             and exists (select 1 from marts.segment_history h where h.contact_id = c.contact_id)
             and exists (select 1 from marts.fct_sessions s where s.contact_id = c.contact_id)
             and exists (select 1 from marts.campaign_contact_state s
                         where s.contact_id = c.contact_id)
           order by (select count(*) from marts.fct_events e where e.contact_id = c.contact_id)
             desc, c.email""",
    )
    everyone = [
        e for (e,) in on(published, "select email from marts.dim_contacts where email is not null")
    ]
    in_crm = {e for (e,) in on(built.warehouse, "select email from raw.contacts")}
    seeds = " ".join(p.read_text().lower() for p in SEEDS.glob("*.csv"))
    candidates = [
        email
        for (email,) in richest
        if email in in_crm
        and email not in seeds
        and not any(email in other for other in everyone if other != email)
    ]
    assert candidates, (
        "no CRM contact with events, tracking ids, points, stage, segments, session, campaign"
    )
    with Ledger(ledger_path(built)) as ledger:
        in_ledger = {row.contact_key: row for row in ledger.rows()}
        email = next((e for e in candidates if e in in_ledger), candidates[0])
        if email not in in_ledger:  # the run's activation queued nobody suitable: record one
            now = datetime.now(UTC).replace(tzinfo=None)
            ledger.record(
                {
                    "idempotency_key": f"privacy-test-{md5(email)}",
                    "campaign_id": "welcome_series",
                    "step_id": "welcome_email",
                    "action": "send_email",
                    "channel": "email",
                    "contact_id": md5(email),
                    "contact_key": email,
                    "payload_ref": "1",
                    "params": {"email_id": "1", "to": email},
                    "due_at": now,
                },
                "deferred",
                "email is not configured",
                "privacy-test",
                now,
            )
            (in_ledger[email],) = ledger.rows("idempotency_key = ?", [f"privacy-test-{md5(email)}"])
        key = in_ledger[email].idempotency_key
    anonymous = sorted(
        a
        for (a,) in on(
            built.warehouse,
            "select distinct anonymous_id from raw.events "
            "where lower(contact_key) = ? and anonymous_id is not null",
            [email],
        )
    )
    assert anonymous, "the contact has no linked tracking id"
    when = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    planted = built.landing / "events" / "planted.csv"
    planted.write_text(
        "event_id,event_type,occurred_at,anonymous_id,contact_key,properties\n"
        f'planted-1,form_submit,{when},{anonymous[0]},{email.upper()},"{{""form_id"": ""1""}}"\n'
        f"planted-2,page_hit,not a time,{anonymous[0]},{email},\n"
        f'planted-3,page_hit,{when},someone-else-entirely,,"{{""ref"": ""mail {email}""}}"\n'
        f'planted-4,identify,{when},{anonymous[0]},{email},"{{""twitter"": ""@{HANDLE}""}}"\n'
    )
    posts = built.landing / "desk" / "social_mentions" / "planted.jsonl"
    posts.parent.mkdir(parents=True, exist_ok=True)
    post = {"platform": "X", "post_id": "planted-post", "author_handle": HANDLE.lower()}
    posts.write_text(json.dumps(post | {"text": "Trying it", "posted_at": when}) + "\n")
    completed = funnelhouse("ingest", "--home", str(built.root))
    assert completed.returncode == 0, completed.stdout[-2000:]
    assert on(
        built.warehouse, "select count(*) from raw.quarantine where file = 'events/planted.csv'"
    ) == [(1,)]
    assert on(
        built.warehouse,
        "select author_handle from raw.social_mentions where post_id = 'planted-post'",
    ) == [(HANDLE.lower(),)]
    return {"email": email, "anonymous_ids": anonymous, "key": key}


@pytest.fixture(scope="module")
def exported(built: Home, person: dict, tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("export") / "contact.json"
    mixed = person["email"].upper()
    completed = funnelhouse(
        "export-contact", f" {mixed} ", "--home", str(built.root), "-o", str(target)
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return json.loads(target.read_text())


@pytest.fixture(scope="module")
def forgotten(built: Home, person: dict, exported: dict) -> dict:
    before = snapshot(built, person["email"], person["anonymous_ids"])
    landing = {p: p.read_bytes() for p in built.landing.rglob("*") if p.is_file()}
    completed = funnelhouse("forget", person["email"], "--home", str(built.root))
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    return {"output": completed.stdout, "before": before, "landing": landing}


# --- export -----------------------------------------------------------------------------------


def test_export_holds_every_layer(exported: dict, person: dict):
    email = person["email"]
    assert exported["email"] == email and exported["contact_id"] == md5(email)
    assert exported["identity"]["anonymous_ids"] == person["anonymous_ids"]
    assert f"twitter:{HANDLE.lower()}" in exported["identity"]["social_handles"]
    raw = exported["warehouse"]
    assert {row["email"] for row in raw["raw.contacts"]} == {email}
    assert any(row["event_id"] == "planted-1" for row in raw["raw.events"])
    assert any(row["anonymous_id"] == person["anonymous_ids"][0] for row in raw["raw.events"])
    assert [row["file"] for row in raw["raw.quarantine"]] == ["events/planted.csv"]
    assert [row["post_id"] for row in raw["raw.social_mentions"]] == ["planted-post"]
    models = exported["published"]
    (contact,) = models["marts.dim_contacts"]
    assert contact["email"] == email
    for relation in (
        "marts.fct_events",
        "marts.fct_sessions",
        "marts.fct_points_ledger",
        "marts.fct_stage_changes",
        "marts.segment_membership",
        "marts.segment_history",
        "marts.campaign_contact_state",
    ):
        assert models[relation], f"{relation} holds nothing about the contact"
        assert all(row["contact_id"] == md5(email) for row in models[relation]), relation
    assert "marts.fct_email_sends" in models and "marts.activation_queue" in models
    assert any(r.startswith("segments.seg_") and rows for r, rows in models.items())
    properties = [row["properties"] for row in models["marts.fct_events"] if row["properties"]]
    assert all(isinstance(p, dict) for p in properties), "JSON columns are objects"
    (send,) = [
        r for r in exported["activation_ledger"]["sends"] if r["idempotency_key"] == person["key"]
    ]
    assert send["contact_key"] == email
    assert "contacts/contacts-0000.csv" in exported["landing_files"]


# --- forget -----------------------------------------------------------------------------------


def test_forget_leaves_no_trace_anywhere(built: Home, person: dict, forgotten: dict):
    needles = [person["email"], *person["anonymous_ids"], HANDLE]
    assert holders(built.warehouse, needles) == {}
    assert holders(published_path(built), needles) == {}
    assert holders(ledger_path(built), needles) == {}
    # md5(email) is the contact id every model keys on: gone too
    assert holders(built.warehouse, [md5(person["email"])]) == {}
    assert holders(published_path(built), [md5(person["email"])]) == {}
    output = forgotten["output"]
    for layer in ("raw.contacts", "raw.events", "marts.fct_events", "marts.dim_contacts"):
        assert layer in output, layer
    assert "ledger.sends" in output and "published" in output
    assert "the files in landing/ still hold the data: delete or redact them at the source" in (
        " ".join(output.split())
    )
    assert "contacts-0000.csv" in output and "planted.csv" in output
    assert "social_mentions/planted.jsonl" in output


def test_forget_does_not_touch_landing_and_keeps_the_books_balanced(built: Home, forgotten):
    landing = {p: p.read_bytes() for p in built.landing.rglob("*") if p.is_file()}
    assert landing == forgotten["landing"]
    assert unbalanced(built) == []
    tombstoned = on(
        built.warehouse,
        "select count(*), count(*) filter (where raw_text is null) from raw.quarantine "
        "where reason = ?",
        [FORGOTTEN_REASON],
    )
    assert tombstoned[0][0] > 0 and tombstoned[0][0] == tombstoned[0][1]


def test_forget_leaves_everyone_else_as_it_was(built: Home, person: dict, forgotten: dict):
    """The targeted delete + incremental build equals a rebuild for everyone else: the
    incremental models hold exactly their rows from before (segment_history may only add
    rows of this build)."""
    after = snapshot(built, person["email"], person["anonymous_ids"])
    for relation, rows in forgotten["before"].items():
        if relation == "marts.segment_history":
            last = max(r[-1] for r in rows) if rows else 0
            assert {r for r in after[relation] if r[-1] <= last} == rows
            continue
        assert after[relation] == rows, relation


def test_the_ledger_refuses_the_same_key_again(built: Home, person: dict, forgotten):
    with Ledger(ledger_path(built)) as ledger:
        (row,) = ledger.rows("idempotency_key = ?", [person["key"]])
        assert row.state in FINAL and row.contact_key.startswith("forgotten:")
        assert row.contact_id == row.contact_key and row.params == {} and row.result == {}
        with pytest.raises(RuntimeError, match="refusing to take it up again"):
            ledger.begin(
                {"idempotency_key": person["key"], "contact_key": person["email"]},
                "again",
                datetime.now(UTC).replace(tzinfo=None),
                None,
            )


def test_old_and_new_files_do_not_bring_the_contact_back(built: Home, person: dict, forgotten):
    email, anonymous = person["email"], person["anonymous_ids"]
    landing = built.landing
    # old files again, as new versions under new names
    shutil.copy(landing / "contacts" / "contacts-0000.csv", landing / "contacts" / "again.csv")
    shutil.copy(landing / "events" / "events-0000.jsonl", landing / "events" / "again.jsonl")
    shutil.copy(landing / "events" / "planted.csv", landing / "events" / "planted-again.csv")
    posts = landing / "desk" / "social_mentions"
    shutil.copy(posts / "planted.jsonl", posts / "planted-again.jsonl")
    # a new file: the same email in another case, and a page hit on their old tracking id
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(email))
    (landing / "contacts" / "new.csv").write_text(
        f"email,firstname\n {mixed} ,Back\nnew.person@example.org,New\n"
    )
    when = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (landing / "events" / "new.jsonl").write_text(
        json.dumps(
            {"type": "page", "messageId": "n1", "timestamp": when, "anonymousId": anonymous[0]}
        )
        + "\n"
        + json.dumps(
            {
                "type": "identify",
                "messageId": "n2",
                "timestamp": when,
                "userId": mixed,
                "anonymousId": "fresh-device-1",
            }
        )
        + "\n"
    )
    completed = funnelhouse("ingest", "--home", str(built.root))
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert holders(built.warehouse, [email, *anonymous]) == {}
    assert unbalanced(built) == []
    loads = {
        path: (read, loaded, quarantined)
        for path, read, loaded, quarantined in on(
            built.warehouse,
            "select path, rows_read, rows_loaded, rows_quarantined from raw._loads "
            "where path in ('contacts/again.csv', 'events/again.jsonl', "
            "'events/planted-again.csv', 'contacts/new.csv', 'events/new.jsonl', "
            "'desk/social_mentions/planted-again.jsonl')",
        )
    }
    assert len(loads) == 6
    assert loads["contacts/new.csv"] == (2, 1, 1)
    assert loads["events/new.jsonl"] == (2, 0, 2)
    assert loads["events/planted-again.csv"] == (4, 0, 4)
    assert loads["desk/social_mentions/planted-again.jsonl"] == (1, 0, 1)  # their post
    assert loads["contacts/again.csv"][2] == 1  # their contact row
    assert loads["events/again.jsonl"][2] >= len(anonymous)
    assert on(
        built.warehouse, "select count(*) from raw.contacts where email = 'new.person@example.org'"
    ) == [(1,)]
    kept_out = on(
        built.warehouse,
        "select count(*), count(raw_text) from raw.quarantine q join raw._loads l using (load_id) "
        "where l.path in ('contacts/new.csv', 'events/new.jsonl') and q.reason = ?",
        [FORGOTTEN_REASON],
    )
    assert kept_out == [(3, 0)]
    # the tombstones hold salted hashes, never the keys
    kinds = dict(on(built.warehouse, "select key_kind, count(*) from raw._tombstones group by 1"))
    assert kinds["email"] == 1 and kinds["social_handle"] >= 1


def test_forget_and_export_refuse_what_they_cannot_act_on(built: Home, person: dict, forgotten):
    cases = [
        (
            ("forget", "nobody.at.all@example.com"),
            "nothing is held about nobody.at.all@example.com",
        ),
        (("forget", "not-an-email"), "is not an email address"),
        (("forget", person["email"].upper()), "was forgotten on"),
        (("export-contact", person["email"]), "was forgotten on"),
        (("export-contact", "nobody.at.all@example.com"), "nothing is held"),
    ]
    for args, message in cases:
        completed = funnelhouse(*args, "--home", str(built.root))
        text = " ".join((completed.stdout + completed.stderr).split())
        assert completed.returncode == 1, (args, text)
        assert message in text, (args, text)
        assert "Traceback" not in text


# --- the parts, on small inputs -----------------------------------------------------------------


def test_tombstones_screen_rows_and_quarantine_text():
    tombstones = Tombstones(
        "salt", frozenset({key_hash("salt", "ann@example.com"), key_hash("salt", "dev-123456")})
    )
    rows = pl.DataFrame(
        {
            "_source_row": [1, 2, 3, 4, 5, 6],
            "email": ["ann@example.com", "joann@example.com", None, None, "bob@x.org", None],
            "contact_key": [None, None, "  Ann@Example.COM ", None, None, None],
            "anonymous_id": [None, None, None, "DEV-123456", None, "dev-1234567"],
            "properties": [
                None,
                None,
                None,
                None,
                '{"ref": "email=ann@example.com"}',
                '{"e": "ann@example.com.au"}',
            ],
        }
    )
    kept, gone = tombstones.split(rows)
    assert kept["_source_row"].to_list() == [2, 6]
    assert gone["_source_row"].to_list() == [1, 3, 4, 5]
    quarantine = pl.DataFrame(
        {
            "_source_row": [1, 2, 3],
            "field": ["a", "b", "c"],
            "reason": ["x", "malformed 'ANN@example.com'", "y"],
            "raw_text": ["dev-123456,foo", "z", "dev-1234567"],
        }
    )
    redacted = tombstones.redact_quarantine(quarantine)
    assert redacted["reason"].to_list() == [FORGOTTEN_REASON, FORGOTTEN_REASON, "y"]
    assert redacted["raw_text"].to_list() == [None, None, "dev-1234567"]


def test_a_shared_tracking_id_keeps_the_other_contacts_events():
    with duckdb.connect() as con:
        con.execute("create schema raw; create schema marts")
        con.execute("create table raw.contacts (email varchar, external_id varchar)")
        con.execute(
            "insert into raw.contacts values "
            "('ann@example.com', 'crm-1'), ('bo@example.com', 'crm-2')"
        )
        con.execute(
            "create table raw.events "
            "(event_id varchar, anonymous_id varchar, contact_key varchar, properties json)"
        )
        con.execute(
            """insert into raw.events values
               ('e1', 'own', 'ANN@example.com', null), ('e2', 'own', null, null),
               ('e3', 'family', 'crm-1', null), ('e4', 'family', null, null),
               ('e5', 'family', 'bo@example.com', null), ('e6', 'family', null, null),
               ('e7', 'other', null, '{"note": "ann@example.com.au"}')"""
        )
        con.execute(
            "create table marts.fct_events (event_id varchar, anonymous_id varchar, email varchar)"
        )
        con.execute(
            """insert into marts.fct_events values ('e1', 'own', 'ann@example.com'),
               ('e2', 'own', 'ann@example.com'), ('e3', 'family', 'ann@example.com'),
               ('e4', 'family', 'ann@example.com'), ('e5', 'family', 'bo@example.com'),
               ('e6', 'family', 'bo@example.com'), ('e7', 'other', null)"""
        )

        def table(schema, name):
            columns = dict(
                con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [schema, name],
                ).fetchall()
            )
            return Table("memory", schema, name, columns)

        raw = [table("raw", "contacts"), table("raw", "events")]
        person = resolve(con, "ann@example.com", raw, [table("marts", "fct_events")])
        assert person.external_ids == ("crm-1",)
        assert person.anonymous_ids == ("own",) and person.shared_anonymous_ids == ("family",)
        sql, params = predicate(table("raw", "events"), person)
        mine = con.execute(f"select event_id from raw.events where {sql} order by 1", params)
        assert [e for (e,) in mine.fetchall()] == ["e1", "e2", "e3", "e4"]


def test_mention_pattern_matches_whole_words_only():
    pattern = mention_pattern(["ann@example.com", "dev-1"])
    texts = {
        '{"email": "ann@example.com"}': True,
        "email=ann@example.com.": True,
        "joann@example.com": False,
        "ann@example.com.au": False,
        "dev-1,x": True,
        "dev-12": False,
    }
    with duckdb.connect() as con:
        for text, expected in texts.items():
            assert (
                con.execute("select regexp_matches(?, ?)", [text, pattern]).fetchone()[0]
                is expected
            ), text


def test_compact_leaves_no_bytes_of_deleted_rows(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("pragma force_compression = 'uncompressed'")
        con.execute(
            "create table t (k varchar primary key, v varchar);"
            "insert into t select 'k' || i, 'person' || i || '@example.com' from range(5000) r(i)"
        )
        con.execute("checkpoint")
        con.execute("delete from t where k = 'k4242'")
        con.execute("checkpoint")
    assert b"person4242@example.com" in path.read_bytes()  # what DuckDB leaves behind
    compact(path)
    assert b"person4242@example.com" not in path.read_bytes()
    with duckdb.connect(str(path)) as con:
        assert con.execute("select count(*) from t").fetchone()[0] == 4999
        with pytest.raises(duckdb.ConstraintException):
            con.execute("insert into t values ('k1', 'again')")
