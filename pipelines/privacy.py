"""The right to be forgotten and to an export: ``funnelhouse forget`` and ``export-contact``.

Who a person is: their email (trimmed, lower-cased), the external ids their contact rows carry
(only those no other email's rows carry), and the tracking ids seen on an event together with
one of those keys (an identify call, a form, an email click: what stitching links), and the
social handles their contact rows or identify calls claim (only those nobody else claims: the
posts of a handle are its claimant's, see int_social_handles). A tracking id also seen with
another contact's key is *shared* (a family computer): only the events the warehouse
attributed to the person are theirs.

A row holds the person when its ``email``, ``contact_id`` (md5 of the email, as dbt.hash),
``contact_key``, ``external_id`` (contact rows without an email), ``anonymous_id`` or
``visitor_id`` names them, when its ``platform`` and ``author_handle`` are one of their
handles (the social posts they wrote), or when any of its text columns mentions their email
or one of their tracking ids as a whole word. The same rule, read generically from each table's
columns, selects what the export shows and what forget removes, in every layer.

How forget removes a person from the dbt models: delete from raw, delete the person's rows
from every model table, then a normal (incremental) ``dbt build`` and a publish. Table models
are rebuilt from the cleaned raw tables anyway (stg_events is a view of them); the incremental
ones (fct_events, fct_sessions, fct_email_sends, fct_points_ledger, fct_stage_changes) never
revisit old loads, so their rows of the person must be deleted by hand — and then they equal a
rebuild: every one is keyed by event, visitor, contact or (contact, email), and nobody else's
rows are computed from the person's (their events count only for them). segment_history is
``full_refresh: false``: even a full refresh would keep the person, only the targeted delete
removes them. A full refresh (``--full-refresh``) would cost a rebuild of every event model,
for one person. The exception is a shared tracking id: removing the person's links moves
the id's remaining events and sessions to the other contact, which an incremental build does
not revisit; then (rare) forget builds with ``--full-refresh``. The build leaves out dbt's unit
tests (fixed inputs: they test the SQL, which forget does not change); data tests run.

Raw rows that are removed become quarantine rows with reason ``forgotten contact
(tombstone)`` and no raw text, and their file's ledger row moves them from loaded to
quarantined: rows read = loaded + quarantined still holds and the raw tables match the load
ledger (both are checks of every run). The tombstone (``ingest.tombstones``) keeps the person
out of every later ingest. Landing files are never edited: forget lists those that mention the
person. Finally the warehouse and the ledger are rewritten into fresh files (``compact``):
DuckDB leaves the bytes of deleted rows in its file until the blocks are reused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ingest import fields, warehouse
from ingest.home import Home
from ingest.schemas import TABLES
from ingest.tombstones import (
    FORGOTTEN_REASON,
    SALT,
    TOMBSTONES,
    ensure_tables,
    key_hash,
    salt,
)
from ingest.warehouse import compact
from pipelines.dbt_project import DBT_PROJECT_DIR, dbt_target_path, full_refresh_args, run_dbt
from pipelines.publish import publish, published_path

TEXT_TYPES = ("VARCHAR", "JSON")
# Where a contact claims a social handle (as int_social_handles reads them): contact fields,
# and identify traits.
CONTACT_HANDLE_FIELDS = ("twitter", "linkedin", "facebook")
IDENTIFY_HANDLE_TRAITS = ("twitter", "linkedin", "facebook", "mastodon")
# Bookkeeping that is not about anyone (the load ledger is redacted separately).
NOT_PERSONAL = {("raw", TOMBSTONES), ("raw", SALT), ("raw", "_loads")}


class PrivacyError(Exception):
    """A user mistake or a state the command cannot act on: its message is for the user."""


def normalised_email(text: str) -> str:
    email = fields.email_address(text)
    if email is None:
        raise PrivacyError(f"{text!r} is not an email address")
    return email


# --- who the person is ------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    email: str
    contact_id: str
    external_ids: tuple[str, ...] = ()
    anonymous_ids: tuple[str, ...] = ()  # seen only with this person
    shared_anonymous_ids: tuple[str, ...] = ()  # also seen with someone else
    # Events of the shared ids that the warehouse attributed to this person (fct_events).
    shared_event_ids: tuple[str, ...] = ()
    social_handles: tuple[str, ...] = ()  # "<platform>:<handle>", claimed by them only

    @property
    def keys(self) -> tuple[str, ...]:
        """What an event's contact_key may name them by (normalised)."""
        return (self.email, *(key.strip().lower() for key in self.external_ids))

    @property
    def mention_pattern(self) -> str:
        return mention_pattern([self.email, *self.anonymous_ids])


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mention_pattern(needles: list[str]) -> str:
    """A regular expression (RE2, on lower-cased text) for any of ``needles`` as a whole word:
    ann@example.com, not joann@example.com or ann@example.com.au."""
    words = "|".join(re.escape(n.strip().lower()) for n in sorted(set(needles)) if n.strip())
    return rf"(^|[^\p{{L}}\p{{N}}._%+-])({words})\.?($|[^\p{{L}}\p{{N}}_.@-])"


@dataclass(frozen=True)
class Table:
    catalog: str
    schema: str
    name: str
    columns: dict[str, str]  # name → DuckDB type

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ref(self) -> str:
        return f'"{self.catalog}"."{self.schema}"."{self.name}"'


def tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[Table]:
    rows = con.execute(
        """select c.table_schema, c.table_name, c.column_name, c.data_type
           from information_schema.columns c
           join information_schema.tables t using (table_catalog, table_schema, table_name)
           where c.table_catalog = ? and t.table_type = 'BASE TABLE'
             and c.table_schema not in ('information_schema', 'pg_catalog')
           order by c.table_schema, c.table_name, c.ordinal_position""",
        [catalog],
    ).fetchall()
    found: dict[tuple[str, str], dict[str, str]] = {}
    for schema, name, column, data_type in rows:
        found.setdefault((schema, name), {})[column] = data_type
    return [Table(catalog, s, n, columns) for (s, n), columns in found.items()]


def _find(all_tables: list[Table], schema: str, name: str) -> Table | None:
    return next((t for t in all_tables if (t.schema, t.name) == (schema, name)), None)


def resolve(
    con: duckdb.DuckDBPyConnection,
    email: str,
    raw: list[Table],
    models: list[Table],
) -> Person:
    """Who ``email`` is in these tables (raw from the warehouse, models from either file)."""
    contact_id = con.execute("select md5(?)", [email]).fetchone()[0]
    contacts = _find(raw, "raw", "contacts")
    external: list[str] = []
    if contacts:
        external = [
            x
            for (x,) in con.execute(
                f"""select distinct external_id from {contacts.ref}
                    where email = $e and external_id is not null
                      and external_id not in (
                        select external_id from {contacts.ref}
                        where email <> $e and external_id is not null)
                    order by 1""",
                {"e": email},
            ).fetchall()
        ]
    keys = [email, *(x.strip().lower() for x in external)]
    linked: set[str] = set()
    others: set[str] = set()
    events = _find(raw, "raw", "events")
    if events:
        con.execute("create or replace temp table _person_keys (key varchar)")
        con.executemany("insert into _person_keys values (?)", [[k] for k in keys])
        linked |= {
            a
            for (a,) in con.execute(
                f"""select distinct anonymous_id from {events.ref}
                    where anonymous_id is not null
                      and lower(trim(contact_key)) in (select key from _person_keys)"""
            ).fetchall()
        }
        if linked:
            others |= {
                a
                for (a,) in con.execute(
                    f"""select distinct anonymous_id from {events.ref}
                        where anonymous_id in (select unnest($ids))
                          and contact_key is not null
                          and lower(trim(contact_key)) not in (select key from _person_keys)""",
                    {"ids": sorted(linked)},
                ).fetchall()
            }
    attributed = _find(models, "marts", "fct_events")
    if attributed and {"email", "anonymous_id"} <= attributed.columns.keys():
        linked |= {
            a
            for (a,) in con.execute(
                f"select distinct anonymous_id from {attributed.ref} "
                "where email = ? and anonymous_id is not null",
                [email],
            ).fetchall()
        }
        if linked:
            others |= {
                a
                for (a,) in con.execute(
                    f"""select distinct anonymous_id from {attributed.ref}
                        where anonymous_id in (select unnest($ids)) and email <> $e""",
                    {"ids": sorted(linked), "e": email},
                ).fetchall()
            }
    shared = linked & others
    shared_events: list[str] = []
    if shared and attributed:
        shared_events = [
            e
            for (e,) in con.execute(
                f"""select event_id from {attributed.ref}
                    where email = $e and anonymous_id in (select unnest($ids)) order by 1""",
                {"e": email, "ids": sorted(shared)},
            ).fetchall()
        ]
    return Person(
        email=email,
        contact_id=contact_id,
        external_ids=tuple(external),
        anonymous_ids=tuple(sorted(linked - shared)),
        shared_anonymous_ids=tuple(sorted(shared)),
        shared_event_ids=tuple(shared_events),
        social_handles=_social_handles(con, keys, contacts, events),
    )


def author_key_sql(platform: str, handle: str) -> str:
    """SQL for a social handle as a key, "<platform>:<handle>", spelled as
    ingest.tombstones.social_handle_key and dbt's stg_social_mentions."""
    platform = f"lower(trim({platform}))"
    return (
        f"case {platform} when 'x' then 'twitter' else {platform} end"
        f" || ':' || lower(trim(leading '@' from trim({handle})))"
    )


def _social_handles(
    con, keys: list[str], contacts: Table | None, events: Table | None
) -> tuple[str, ...]:
    """The handles ("<platform>:<handle>") the person's ``keys`` claim, on their contact rows
    or in identify calls, and no other key does."""
    claims = []
    for column in CONTACT_HANDLE_FIELDS if contacts else ():
        if {column, "email"} <= contacts.columns.keys():
            claims.append(
                f"select lower(trim(email)), '{column}', \"{column}\" from {contacts.ref} "
                f'where "{column}" is not null and email is not null'
            )
    identify = events and {"event_type", "contact_key", "properties"} <= events.columns.keys()
    for trait in IDENTIFY_HANDLE_TRAITS if identify else ():
        handle = f"json_extract_string(properties, '$.{trait}')"
        claims.append(
            f"select lower(trim(contact_key)), '{trait}', {handle} from {events.ref} "
            f"where event_type = 'identify' and contact_key is not null and {handle} is not null"
        )
    if not claims:
        return ()
    rows = con.execute(
        f"""with claims (claimant, platform, handle) as ({" union all ".join(claims)}),
            keyed as (
                select claimant, {author_key_sql("platform", "handle")} as handle
                from claims
                where trim(leading '@' from trim(handle)) <> ''
            )
            select handle from keyed
            where handle in (select handle from keyed where claimant in (select unnest($keys)))
            group by handle
            having bool_and(claimant in (select unnest($keys)))
            order by handle""",
        {"keys": keys},
    ).fetchall()
    return tuple(handle for (handle,) in rows)


def predicate(table: Table, person: Person) -> tuple[str, dict[str, Any]] | None:
    """SQL that holds for the rows of ``table`` that are about ``person`` (None: it cannot)."""
    cols = table.columns
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if "email" in cols:
        clauses.append("lower(trim(email)) = $email")
        params["email"] = person.email
    if "contact_id" in cols:
        clauses.append("contact_id = $contact_id")
        params["contact_id"] = person.contact_id
    if "contact_key" in cols:
        clauses.append("lower(trim(contact_key)) in (select unnest($keys))")
        params["keys"] = list(person.keys)
    if "external_id" in cols and "email" in cols and person.external_ids:
        clauses.append("(email is null and external_id in (select unnest($external)))")
        params["external"] = list(person.external_ids)
    if "anonymous_id" in cols and person.anonymous_ids:
        clauses.append("anonymous_id in (select unnest($anonymous))")
        params["anonymous"] = list(person.anonymous_ids)
    if "visitor_id" in cols:
        clauses.append("visitor_id in (select unnest($visitors))")
        params["visitors"] = [person.contact_id, *(f"anon:{a}" for a in person.anonymous_ids)]
    if person.social_handles and {"platform", "author_handle"} <= cols.keys():
        author = author_key_sql("platform", "author_handle")
        clauses.append(f"{author} in (select unnest($handles))")
        params["handles"] = list(person.social_handles)
    if person.shared_event_ids and {"event_id", "anonymous_id"} <= cols.keys():
        # a shared tracking id: the events the warehouse gave to this person
        clauses.append("event_id in (select unnest($shared_events))")
        params["shared_events"] = list(person.shared_event_ids)
    texts = [
        c
        for c, t in cols.items()
        if t in TEXT_TYPES and c not in ("email", "contact_key")  # compared whole above
    ]
    if texts:
        # One expression per table, its pattern a constant: compiling a Unicode regular
        # expression costs more than matching it against a small table's rows.
        text = ", ".join(f'cast("{c}" as varchar)' for c in texts)
        mention = sql_literal(person.mention_pattern)
        clauses.append(f"regexp_matches(lower(concat_ws(chr(31), {text})), {mention})")
    if not clauses:
        return None
    return "coalesce(" + " or ".join(f"({c})" for c in clauses) + ", false)", params


def matching_rows(con, table: Table, person: Person) -> list[dict[str, Any]]:
    found = predicate(table, person)
    if found is None:
        return []
    sql, params = found
    cursor = con.execute(f"select * from {table.ref} where {sql}", params)
    names = [d[0] for d in cursor.description]
    json_columns = {c for c, t in table.columns.items() if t == "JSON"}
    return [
        {n: _json_value(v) if n in json_columns else v for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def count_rows(con, table: Table, person: Person) -> int:
    found = predicate(table, person)
    if found is None:
        return 0
    sql, params = found
    return con.execute(f"select count(*) from {table.ref} where {sql}", params).fetchone()[0]


def _json_value(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# --- forget -----------------------------------------------------------------------------------


@dataclass
class ForgetReport:
    email: str
    person: Person
    removed: list[tuple[str, str, int]] = field(default_factory=list)  # layer, table, rows
    tombstone_keys: dict[str, int] = field(default_factory=dict)  # kind → keys
    landing_files: list[str] = field(default_factory=list)
    project_files: list[str] = field(default_factory=list)
    build: str = ""
    build_ok: bool = True
    notes: list[str] = field(default_factory=list)
    pseudonym: str = ""  # what the ledger calls the person now


def forget(
    home: Home,
    text: str,
    *,
    say: Callable[[str], None] = lambda line: None,
    on_wait: Callable[[str], None] | None = None,
) -> ForgetReport:
    """Remove everything held about the person with email ``text`` (see the module's notes).
    Raises PrivacyError for a malformed email or one that is held nowhere."""
    from activation.ledger import forget_contact
    from pipelines.lock import warehouse_lock

    email = normalised_email(text)
    if not home.warehouse.exists():
        raise PrivacyError(f"no warehouse at {home.warehouse}: nothing is held about {email}")
    with warehouse_lock(home, "funnelhouse forget", on_wait=on_wait):
        with _open_for_writing(home.warehouse) as con:
            catalog = con.execute("select current_database()").fetchone()[0]
            all_tables = tables(con, catalog)
            raw = [t for t in all_tables if t.schema == "raw"]
            models = [t for t in all_tables if t.schema != "raw"]
            person = resolve(con, email, raw, models)
            report = ForgetReport(email, person)
            published = _published_counts(home, person)
            in_ledger = forget_contact(home, person.keys, person.contact_id, "", dry_run=True)
            elsewhere = bool(published) or any(in_ledger.values())
            sources, forgotten_before = _remove_from_warehouse(
                con, person, raw, models, report, elsewhere
            )
        if not report.removed and not elsewhere:
            if forgotten_before:
                raise PrivacyError(
                    f"{email} was forgotten on {forgotten_before:%Y-%m-%d %H:%M} UTC: "
                    "nothing is held about it"
                )
            raise PrivacyError(f"nothing is held about {email} in {home.root}")
        ledger = forget_contact(
            home, person.keys, person.contact_id, report.pseudonym, mentions=person.mention_pattern
        )
        report.removed += [("activation ledger", f"ledger.{t}", n) for t, n in ledger.items() if n]
        report.project_files = _project_mentions(person)
        left = _rebuild(home, person, published, report, say)
        say("compacting the warehouse (a DuckDB file keeps the bytes of deleted rows)")
        compact(home.warehouse)
        report.landing_files = sorted(sources | set(_unloaded_mentions(home, person)))
    if left:
        raise PrivacyError(
            "the published file still holds rows about the contact: "
            + ", ".join(f"{label} ({n})" for _, label, n in left)
            + (
                f" (the dbt project names them in {', '.join(report.project_files)}: edit it)"
                if report.project_files
                else ""
            )
        )
    return report


def _open_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise PrivacyError(
            f"{path} is open in another process that does not take the warehouse lock "
            f"(DuckDB: {str(error).splitlines()[0]}): close it and try again"
        ) from None


def _remove_from_warehouse(
    con, person: Person, raw: list[Table], models: list[Table], report, elsewhere: bool
) -> tuple[set[str], datetime | None]:
    """Raw rows → tombstone quarantine rows; model rows deleted; tombstones written: one
    transaction. Returns the landing files the raw rows came from, and when the email was
    forgotten before (None: never)."""
    ensure_tables(con)
    now = datetime.now(UTC).replace(tzinfo=None)
    sources: set[str] = set()
    con.begin()
    try:
        secret = salt(con)
        email_hash = key_hash(secret, person.email)
        report.pseudonym = f"forgotten:{email_hash}"
        before = con.execute(
            f'select min(forgotten_at) from raw."{TOMBSTONES}" where key_hash = ?', [email_hash]
        ).fetchone()[0]
        for table in raw:
            if (table.schema, table.name) in NOT_PERSONAL or table.name == "quarantine":
                continue
            found = predicate(table, person)
            if found is None:
                continue
            sql, params = found
            if table.name in TABLES:  # loaded from landing files: keep the ledger balanced
                con.execute(
                    "create or replace temp table _forgotten as select _load_id, _source, "
                    f"_source_row from {table.ref} where {sql}",
                    params,
                )
                sources |= {
                    f for (f,) in con.execute("select distinct _source from _forgotten").fetchall()
                }
                con.execute(
                    """insert into raw.quarantine
                       (load_id, file, source_row, field, reason, raw_text, target_table,
                        quarantined_at)
                       select _load_id, _source, _source_row, null, ?, null, ?, ?
                       from _forgotten""",
                    [FORGOTTEN_REASON, table.name, now],
                )
                con.execute(
                    """update raw._loads set rows_loaded = rows_loaded - f.n,
                           rows_quarantined = rows_quarantined + f.n
                       from (select _load_id, count(*) as n from _forgotten group by 1) as f
                       where raw._loads.load_id = f._load_id"""
                )
            deleted = con.execute(f"delete from {table.ref} where {sql}", params).fetchone()[0]
            if deleted:
                report.removed.append(("raw", table.label, deleted))
        pattern = person.mention_pattern
        quarantined = con.execute(
            f"""update raw.quarantine set reason = $reason, raw_text = null, field = null
               where reason <> $reason
                 and coalesce(regexp_matches(lower(raw_text), {sql_literal(pattern)})
                              or regexp_matches(lower(reason), {sql_literal(pattern)}), false)
               returning file""",
            {"reason": FORGOTTEN_REASON},
        ).fetchall()
        if quarantined:
            report.removed.append(("raw", "raw.quarantine (text redacted)", len(quarantined)))
            sources |= {f for (f,) in quarantined}
        errors = con.execute(
            "update raw._loads set error = 'redacted: it mentioned a forgotten contact' "
            f"where coalesce(regexp_matches(lower(error), {sql_literal(pattern)}), false) "
            "returning 1",
        ).fetchall()
        if errors:
            report.removed.append(("raw", "raw._loads (error redacted)", len(errors)))
        for table in models:
            found = predicate(table, person)
            if found is None:
                continue
            deleted = con.execute(f"delete from {table.ref} where {found[0]}", found[1])
            deleted = deleted.fetchone()[0]
            if deleted:
                report.removed.append(("models", table.label, deleted))
        if report.removed or elsewhere:
            keys = [("email", person.email)]
            keys += [("external_id", x) for x in person.external_ids]
            keys += [("anonymous_id", a) for a in person.anonymous_ids]
            keys += [("social_handle", h) for h in person.social_handles]
            known = {
                h for (h,) in con.execute(f'select key_hash from raw."{TOMBSTONES}"').fetchall()
            }
            new = [(kind, key_hash(secret, key)) for kind, key in keys]
            new = [(kind, h) for kind, h in new if h not in known]
            if new:
                con.executemany(
                    f'insert into raw."{TOMBSTONES}" values (?, ?, ?, ?)',
                    [[email_hash, kind, h, now] for kind, h in new],
                )
            for kind, _ in new:
                report.tombstone_keys[kind] = report.tombstone_keys.get(kind, 0) + 1
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return sources, before


def _published_counts(home: Home, person: Person) -> list[tuple[str, str, int]]:
    path = published_path(home)
    if not path.exists():
        return []
    with duckdb.connect(str(path), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchone()[0]
        counts = [(t.label, count_rows(con, t, person)) for t in tables(con, catalog)]
    return [("published", label, n) for label, n in counts if n]


def _rebuild(home: Home, person: Person, held_before, report: ForgetReport, say) -> list:
    """dbt build (see the module's notes), then publish; on a failed build the published file
    is redacted instead, so the person is gone from what analysts read either way. Returns
    what the published file still holds about the person (nothing, unless a seed names them)."""
    args = ["build", "--exclude-resource-type", "unit_test"]
    if person.shared_anonymous_ids:
        args += full_refresh_args()
        report.notes.append(
            f"{len(person.shared_anonymous_ids)} tracking id(s) shared with another contact: "
            "their remaining events change hands, so incremental models were rebuilt in full"
        )
    report.build = " ".join(["dbt", *args])
    say(f"rebuilding: {report.build}")
    started = time.perf_counter()
    result = run_dbt(home, *args, capture=True)
    seconds = time.perf_counter() - started
    report.build_ok = result.returncode == 0
    if report.build_ok:
        say(f"dbt build succeeded ({seconds:.0f} s); publishing")
        publish(home, full=True)  # a fresh file: no deleted values left in free blocks
    else:
        report.notes += _dbt_failures(home)
        report.notes.append(
            "the build failed: the published file was redacted in place instead; "
            "fix the build and run `funnelhouse run --force`"
        )
        _redact_published(home, person)
    report.removed += [(layer, label, n) for layer, label, n in held_before]
    return _published_counts(home, person)


def _redact_published(home: Home, person: Person) -> None:
    """The person's rows deleted from a copy of the published file, swapped in by rename as
    publishing does (readers keep the file they have open)."""
    path = published_path(home)
    if not path.exists():
        return
    staging = path.with_name(f".{path.stem}-redacted-{uuid.uuid4().hex[:8]}.duckdb")
    try:
        shutil.copyfile(path, staging)
        with warehouse.connect(staging) as con:
            catalog = con.execute("select current_database()").fetchone()[0]
            for table in tables(con, catalog):
                found = predicate(table, person)
                if found:
                    con.execute(f"delete from {table.ref} where {found[0]}", found[1])
        compact(staging)
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)


def _dbt_failures(home: Home) -> list[str]:
    try:
        results = json.loads((dbt_target_path(home) / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return [f"dbt failed: see {dbt_target_path(home) / 'dbt.log'}"]
    return [
        f"dbt failed: {r['unique_id']}: {(r.get('message') or r['status']).splitlines()[0]}"
        for r in results
        if r["status"] in ("error", "fail")
    ]


def _unloaded_mentions(home: Home, person: Person) -> list[str]:
    """Landing files not loaded in their current version (new, changed, or a collector batch
    still open) that mention the person; loaded ones are known from the rows' _source."""
    if not home.landing.exists():
        return []
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        loaded = set(
            con.execute(
                "select path, content_hash from raw._loads where status = 'loaded'"
            ).fetchall()
        )
    from ingest.loader import content_hash

    pattern = re.compile(_python_pattern(person), re.IGNORECASE)
    found = []
    for path in sorted(p for p in home.landing.rglob("*") if p.is_file()):
        relative = path.relative_to(home.landing).as_posix()
        if path.suffix.lower() == ".parquet" or (relative, content_hash(path)) in loaded:
            continue
        if pattern.search(path.read_bytes().decode("utf-8", errors="replace")):
            found.append(relative)
    return found


def _project_mentions(person: Person) -> list[str]:
    """Seeds and campaign files of the dbt project that name the person: every build loads
    them again, so they must be edited by hand."""
    pattern = re.compile(_python_pattern(person), re.IGNORECASE)
    found = []
    for folder in ("seeds", "campaigns"):
        for path in sorted((DBT_PROJECT_DIR / folder).rglob("*")):
            if path.is_file() and pattern.search(path.read_text(errors="replace")):
                found.append(str(path.relative_to(DBT_PROJECT_DIR.parent)))
    return found


def _python_pattern(person: Person) -> str:
    words = [person.email, *person.anonymous_ids, person.contact_id]
    alternatives = "|".join(re.escape(w) for w in sorted(set(words)))
    return rf"(?<![\w.%+-])({alternatives})(?![\w@-]|\.\w)"


# --- export -----------------------------------------------------------------------------------


def export_contact(home: Home, text: str, *, wait_seconds: float = 30) -> dict[str, Any]:
    """Everything held about the person with email ``text``, read-only: raw tables from the
    warehouse, models from the published file, the activation ledger. Raises PrivacyError for
    a malformed email, one held nowhere, or a warehouse a writer keeps open too long.

    DuckDB lets no writer open a file that a reader has open (a run starting meanwhile would
    fail), so the export takes the warehouse lock and the activation lock while it reads:
    writers wait for it, and it waits up to ``wait_seconds`` for a writer to finish."""
    from activation.ledger import ActivationBusy, activation_lock, ledger_path
    from pipelines.lock import WarehouseBusy, warehouse_lock

    email = normalised_email(text)
    if not home.warehouse.exists():
        raise PrivacyError(f"no warehouse at {home.warehouse}: nothing is held about {email}")
    try:
        with warehouse_lock(home, "funnelhouse export-contact (reading)", timeout=wait_seconds):
            export, person, held = _export_warehouse(home, email, wait_seconds)
        if ledger_path(home).exists():
            with activation_lock(home, wait_seconds), duckdb.connect() as con:
                _attach(con, ledger_path(home), "ledger", wait_seconds)
                for name in ("sends", "dry_runs"):
                    table = next(t for t in tables(con, "ledger") if t.name == name)
                    rows = matching_rows(con, table, person)
                    export["activation_ledger"][name] = rows
                    held += len(rows)
    except (WarehouseBusy, ActivationBusy) as error:
        raise PrivacyError(f"{error}: try again when it is done") from None
    export["landing_files"] = sorted(
        {
            row["_source"]
            for table in ("raw.contacts", "raw.events", "raw.companies")
            for row in export["warehouse"].get(table, [])
        }
        | {row["file"] for row in export["warehouse"].get("raw.quarantine", [])}
    )
    forgotten = export.pop("forgotten_at", None)
    if not held:
        if forgotten:
            raise PrivacyError(f"{email} was forgotten on {forgotten}: nothing is held")
        raise PrivacyError(f"nothing is held about {email} in {home.root}")
    return export


def _export_warehouse(home: Home, email: str, wait_seconds: float):
    with duckdb.connect() as con:
        _attach(con, home.warehouse, "wh", wait_seconds)
        has_published = published_path(home).exists()
        if has_published:
            _attach(con, published_path(home), "pub", wait_seconds)
        raw = [t for t in tables(con, "wh") if t.schema == "raw"]
        models = tables(con, "pub") if has_published else []
        person = resolve(con, email, raw, models)
        export: dict[str, Any] = {
            "email": email,
            "contact_id": person.contact_id,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "home": str(home.root),
            "identity": {
                "external_ids": list(person.external_ids),
                "anonymous_ids": list(person.anonymous_ids),
                "shared_anonymous_ids": list(person.shared_anonymous_ids),
                "social_handles": list(person.social_handles),
            },
            "warehouse": {},
            "published": {},
            "activation_ledger": {},
        }
        held = 0
        for table in raw:
            if (table.schema, table.name) in NOT_PERSONAL or predicate(table, person) is None:
                continue
            rows = matching_rows(con, table, person)
            if rows or table.name in ("contacts", "events", "quarantine"):
                export["warehouse"][table.label] = rows
                held += len(rows)
        if has_published:
            published_at = con.execute("select max(published_at) from pub.pipeline.publish")
            export["published_at"] = published_at.fetchone()[0]
            for table in models:
                if predicate(table, person) is not None:
                    rows = matching_rows(con, table, person)
                    export["published"][table.label] = rows
                    held += len(rows)
        forgotten = _forgotten_at(con, email)
    if forgotten:
        export["forgotten_at"] = f"{forgotten:%Y-%m-%d %H:%M} UTC"
    return export, person, held


def _forgotten_at(con, email: str) -> datetime | None:
    try:
        (secret,) = con.execute(f'select salt from wh.raw."{SALT}" limit 1').fetchone() or (None,)
        if secret is None:
            return None
        return con.execute(
            f'select min(forgotten_at) from wh.raw."{TOMBSTONES}" where key_hash = ?',
            [key_hash(secret, email)],
        ).fetchone()[0]
    except duckdb.CatalogException:
        return None


def _attach(con, path: Path, alias: str, wait_seconds: float) -> None:
    """Attach read-only; a writer holding the file (DuckDB allows one) is waited for briefly."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con.execute(f"attach ? as {alias} (read_only)", [str(path)])
            return
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if time.monotonic() >= deadline:
                raise PrivacyError(
                    f"{path} is being written (a run or another command holds it); "
                    f"gave up after {wait_seconds:.0f} s: try again when it is done"
                ) from None
            time.sleep(0.5)


def export_json(export: dict[str, Any]) -> str:
    return json.dumps(export, indent=2, default=str, ensure_ascii=False)
