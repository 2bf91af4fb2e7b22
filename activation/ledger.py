"""The send ledger: one row per idempotency key, so a message is sent at most once.

It is its own DuckDB file, ``<home>/activation/ledger.duckdb``: activation never needs the
build database's write lock (a refresh can rebuild the warehouse while messages go out), and
the ledger survives rebuilds and publishing. One activation run at a time holds it
(``activation_lock``).

States of a row::

    (new) ──▶ in_flight ──▶ sent | failed          (committed before / after the send)
      │          │
      │          └──(crash)──▶ unknown ──operator──▶ sent | deferred
      ├──▶ skipped                                  (DNC, no address: never sent)
      └──▶ deferred ──next run──▶ in_flight …       (frequency cap, channel down, transient
                       └──(older than the give-up age)──▶ failed    errors after retries)

* ``in_flight`` is committed before the message leaves, ``sent``/``failed`` after; a key in
  ``sent``, ``failed`` or ``skipped`` is done and is never executed again.
* **The crash rule.** A row still ``in_flight`` when a run starts was interrupted mid-send:
  nobody knows whether the provider took it. For email and SMS it becomes ``unknown`` and is
  never re-sent automatically: every run reports it, with the email's Message-ID (one per
  key, ``render.message_id_for``) so the operator can look it up in the SMTP server's log (or
  the SMS provider's), then settles it with ``resolve_unknown(home, keys, "sent")`` or
  ``"not_sent"`` (which lets the next run send it). Webhook calls carry the key in
  ``X-Funnelhouse-Delivery`` for receivers to deduplicate on, and non-channel actions only
  write events with fixed ids: those two are safely executed again.
  A send that failed ambiguously (the connection dropped after the message was handed over)
  becomes ``unknown`` by the same rule.
* Result events are written for every row in a final state: the events file a row's events
  go to is recorded before the file is written and confirmed after, so a crash in between
  is repaired by the next run (the file exists: confirm; it does not: write them again).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl

from ingest.home import Home

FINAL = ("sent", "failed", "skipped")
# Channels whose interrupted sends are executed again (see the crash rule above).
REPLAYABLE_CHANNELS = ("none", "webhook")

_SCHEMA = """
create table if not exists sends (
    idempotency_key varchar primary key,
    campaign_id varchar,
    campaign_name varchar,
    step_id varchar,
    action varchar,
    channel varchar,
    contact_id varchar,
    contact_key varchar,
    payload_ref varchar,
    params json,
    due_at timestamp,
    state varchar not null,
    reason varchar,
    message_id varchar,
    attempts integer not null default 0,
    result json,
    first_run_id varchar,
    run_id varchar,
    started_at timestamp,
    completed_at timestamp,
    events_file varchar,
    events_written boolean not null default false
);
create table if not exists dry_runs (
    run_id varchar,
    idempotency_key varchar,
    campaign_name varchar,
    step_id varchar,
    action varchar,
    channel varchar,
    contact_key varchar,
    outcome varchar,
    reason varchar,
    rendered varchar,
    recorded_at timestamp
);
create table if not exists runs (
    run_id varchar primary key,
    dry_run boolean,
    started_at timestamp,
    finished_at timestamp,
    counts json,
    events_file varchar
);
"""

_COLUMNS = (
    "idempotency_key",
    "campaign_id",
    "campaign_name",
    "step_id",
    "action",
    "channel",
    "contact_id",
    "contact_key",
    "payload_ref",
    "params",
    "due_at",
)


class ActivationBusy(RuntimeError):
    pass


def activation_dir(home: Home) -> Path:
    return home.root / "activation"


def ledger_path(home: Home) -> Path:
    return activation_dir(home) / "ledger.duckdb"


@contextmanager
def activation_lock(home: Home, timeout: float, poll: float = 0.2) -> Iterator[None]:
    """One activation run per home at a time (the schedule and a command line run)."""
    path = activation_dir(home) / ".activation.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    owner = os.pread(fd, 200, 0).decode(errors="replace") or "another run"
                    raise ActivationBusy(
                        f"another activation run is sending for {home.root} ({owner}); "
                        f"gave up after {timeout:.0f} s"
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LedgerRow:
    idempotency_key: str
    campaign_id: str | None
    campaign_name: str | None
    step_id: str | None
    action: str | None
    channel: str | None
    contact_id: str | None
    contact_key: str | None
    payload_ref: str | None
    params: dict[str, Any]
    due_at: datetime | None
    state: str
    reason: str | None
    message_id: str | None
    attempts: int
    result: dict[str, Any]
    run_id: str | None
    completed_at: datetime | None
    events_file: str | None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> LedgerRow:
        return cls(
            **{name: record.get(name) for name in cls.__dataclass_fields__}
            | {
                "params": _json(record.get("params")),
                "result": _json(record.get("result")),
                "attempts": record.get("attempts") or 0,
            }
        )


def _json(value) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


class Ledger:
    """The open ledger file (read-write: hold ``activation_lock`` while it is open)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.con = duckdb.connect(str(path))
        self.con.execute(_SCHEMA)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading ---

    def rows(self, where: str = "true", params: list | None = None) -> list[LedgerRow]:
        records = self.con.sql(
            f"select * from sends where {where} order by due_at, idempotency_key", params=params
        ).pl()
        return [LedgerRow.from_record(r) for r in records.to_dicts()]

    def states(self, keys: Iterable[str]) -> dict[str, LedgerRow]:
        """The ledger rows of these keys (absent: never seen)."""
        frame = pl.DataFrame({"idempotency_key": list(keys)}, schema={"idempotency_key": pl.String})
        if frame.is_empty():
            return {}
        self.con.register("wanted_keys", frame)
        try:
            found = self.con.sql(
                "select sends.* from sends inner join wanted_keys using (idempotency_key)"
            ).pl()
        finally:
            self.con.unregister("wanted_keys")
        return {r["idempotency_key"]: LedgerRow.from_record(r) for r in found.to_dicts()}

    def sent_counts(self, now: datetime) -> dict[tuple[str, str], tuple[int, int]]:
        """(contact_id, channel) → messages sent in the last 24 hours and the last 7 days."""
        rows = self.con.execute(
            """select contact_id, channel,
                 count(*) filter (where completed_at > ?::timestamp - interval 1 day),
                 count(*)
               from sends
               where state = 'sent' and channel in ('email', 'sms')
                 and completed_at > ?::timestamp - interval 7 day and completed_at <= ?
               group by all""",
            [now, now, now],
        ).fetchall()
        return {(contact, channel): (day, week) for contact, channel, day, week in rows}

    # --- the crash rule ---

    def recover(self, run_id: str) -> list[LedgerRow]:
        """Settle rows a crashed run left ``in_flight`` (see the module's crash rule): replayable
        channels go back to ``deferred``, email and SMS become ``unknown``. Returns them."""
        interrupted = self.rows("state = 'in_flight'")
        if not interrupted:
            return []
        channels = ", ".join(f"'{c}'" for c in REPLAYABLE_CHANNELS)
        self.con.execute(
            f"""update sends set
                  state = case when channel in ({channels}) then 'deferred' else 'unknown' end,
                  reason = case when channel in ({channels})
                    then 'interrupted by a crash in run ' || coalesce(run_id, '?')
                         || ': executed again (safe for this channel)'
                    else 'interrupted by a crash in run ' || coalesce(run_id, '?')
                         || ' while sending: it may or may not have left; check message id '
                         || coalesce(message_id, '?') || ' with the provider, then resolve'
                  end
                where state = 'in_flight'"""
        )
        return interrupted

    # --- writing ---

    def begin(
        self,
        row: dict[str, Any],
        run_id: str,
        now: datetime,
        message_id: str | None,
        result: dict[str, Any] | None = None,
    ) -> None:
        """Commit ``in_flight`` for a key about to be sent (new, or deferred before)."""
        self._upsert(
            row, "in_flight", None, message_id, run_id, now, completed=False, result=result
        )

    def finish(
        self,
        key: str,
        state: str,
        reason: str | None,
        now: datetime,
        *,
        message_id: str | None = None,
        attempts: int = 0,
        result: dict[str, Any] | None = None,
    ) -> None:
        self.con.execute(
            """update sends set state = ?, reason = ?, message_id = coalesce(?, message_id),
                 attempts = attempts + ?, result = ?, completed_at = ?
               where idempotency_key = ?""",
            [state, reason, message_id, attempts, json.dumps(result or {}), now, key],
        )

    def record(
        self,
        row: dict[str, Any],
        state: str,
        reason: str | None,
        run_id: str,
        now: datetime,
        result: dict[str, Any] | None = None,
    ) -> None:
        """A decision taken without sending (skipped, deferred, failed before the send)."""
        self._upsert(row, state, reason, None, run_id, now, completed=True, result=result)

    def _upsert(self, row, state, reason, message_id, run_id, now, *, completed, result=None):
        """Insert a new key's row; a key seen before may only be taken up again from
        ``deferred`` (a plain insert is several times cheaper than insert-or-update)."""
        values = [row.get(c) for c in _COLUMNS]
        values[_COLUMNS.index("params")] = json.dumps(row.get("params") or {})
        completed_at = now if completed else None
        try:
            self.con.execute(
                f"""insert into sends ({", ".join(_COLUMNS)}, state, reason, message_id, result,
                       first_run_id, run_id, started_at, completed_at)
                    values ({", ".join("?" for _ in _COLUMNS)}, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    *values,
                    state,
                    reason,
                    message_id,
                    json.dumps(result or {}),
                    run_id,
                    run_id,
                    now,
                    completed_at,
                ],
            )
            return
        except duckdb.ConstraintException:
            pass
        changed = self.con.execute(
            """update sends set state = ?, reason = ?, message_id = coalesce(?, message_id),
                 result = ?, run_id = ?, started_at = ?, completed_at = ?, params = ?,
                 contact_key = ?, channel = ?
               where idempotency_key = ? and state = 'deferred'
               returning idempotency_key""",
            [
                state,
                reason,
                message_id,
                json.dumps(result or {}),
                run_id,
                now,
                completed_at,
                values[_COLUMNS.index("params")],
                row.get("contact_key"),
                row.get("channel"),
                row["idempotency_key"],
            ],
        ).fetchall()
        if not changed:
            raise RuntimeError(
                f"ledger: {row['idempotency_key']} is already done; refusing to take it up again"
            )

    # --- result events ---

    def unwritten_events(self) -> list[LedgerRow]:
        """Rows in a final state whose events are not confirmed in a landing file."""
        finals = ", ".join(f"'{s}'" for s in FINAL)
        return self.rows(f"state in ({finals}) and not events_written")

    def assign_events_file(self, keys: list[str], file_name: str) -> None:
        frame = pl.DataFrame({"idempotency_key": keys}, schema={"idempotency_key": pl.String})
        self.con.register("assigned_keys", frame)
        try:
            self.con.execute(
                "update sends set events_file = ? "
                "where idempotency_key in (select idempotency_key from assigned_keys)",
                [file_name],
            )
        finally:
            self.con.unregister("assigned_keys")

    def confirm_events_file(self, file_name: str) -> None:
        self.con.execute(
            "update sends set events_written = true where events_file = ?", [file_name]
        )

    # --- runs and dry runs ---

    def record_dry_run(self, run_id: str, results: list[dict[str, Any]], now: datetime) -> None:
        if not results:
            return
        frame = pl.DataFrame(results).with_columns(run_id=pl.lit(run_id), recorded_at=pl.lit(now))
        self.con.register("dry", frame)
        try:
            self.con.execute("insert into dry_runs by name select * from dry")
        finally:
            self.con.unregister("dry")

    def record_run(
        self, run_id, dry_run, started_at, finished_at, counts: dict, events_file
    ) -> None:
        self.con.execute(
            "insert or replace into runs values (?, ?, ?, ?, ?, ?)",
            [run_id, dry_run, started_at, finished_at, json.dumps(counts), events_file],
        )


def resolve_unknown(
    home: Home | str | os.PathLike,
    keys: Iterable[str],
    outcome: Literal["sent", "not_sent"],
    *,
    now: datetime | None = None,
    lock_timeout: float = 600,
) -> int:
    """Settle ``unknown`` rows after checking with the provider: ``sent`` (the message did leave:
    its result events are written by the next run) or ``not_sent`` (the next run sends it, if
    the campaign still has it due). Returns how many rows changed."""
    if outcome not in ("sent", "not_sent"):
        raise ValueError("outcome is 'sent' or 'not_sent'")
    home = home if isinstance(home, Home) else Home.resolve(home)
    when = (now or datetime.now(UTC)).replace(tzinfo=None)
    keys = list(keys)
    with activation_lock(home, lock_timeout), Ledger(ledger_path(home)) as ledger:
        before = len(ledger.rows("state = 'unknown'"))
        frame = pl.DataFrame({"idempotency_key": keys}, schema={"idempotency_key": pl.String})
        ledger.con.register("resolved_keys", frame)
        state = "sent" if outcome == "sent" else "deferred"
        reason = (
            "resolved by the operator: it was sent"
            if outcome == "sent"
            else "resolved by the operator: it was not sent; send again"
        )
        ledger.con.execute(
            """update sends set state = ?, reason = ?, completed_at = ?
               where state = 'unknown'
                 and idempotency_key in (select idempotency_key from resolved_keys)""",
            [state, reason, when],
        )
        ledger.con.unregister("resolved_keys")
        return before - len(ledger.rows("state = 'unknown'"))


def forget_contact(
    home: Home,
    keys: Iterable[str],
    contact_id: str,
    pseudonym: str,
    *,
    mentions: str = "$^",
    lock_timeout: float = 600,
    dry_run: bool = False,
) -> dict[str, int]:
    """Redact a forgotten contact from the ledger (``funnelhouse forget``); returns rows per table.

    Exactly-once needs only the idempotency key (a one-way hash of campaign, step, contact id
    and entry) and the row's state: both stay, so a queue row with the same key is still
    refused. What names the person goes: ``contact_key`` and ``contact_id`` become
    ``pseudonym`` (a salted hash: the rows of one forgotten person stay countable together,
    e.g. by frequency caps, without saying who it was), ``params`` and ``result`` are emptied,
    a reason that quotes the address is replaced. Rows not done yet (deferred, unknown,
    in flight) become ``skipped``: a forgotten person is never sent to. No result events are
    written for the rows any more (they would carry the person back into landing/). Dry-run
    rows are deleted. ``mentions`` is a regular expression (on lower-cased text) for the
    person's email: other rows whose params, result or reason quote it are redacted too.
    The file is then rewritten (DuckDB keeps deleted and overwritten values in its blocks).
    ``dry_run`` only counts the person's rows."""
    from ingest.warehouse import compact

    path = ledger_path(home)
    if not path.exists():
        return {}
    keys = sorted({key.strip().lower() for key in keys})
    finals = ", ".join(f"'{s}'" for s in FINAL)
    mine = "(lower(trim(contact_key)) in (select key from forgotten_keys) or contact_id = $id)"
    pattern = "'" + mentions.replace("'", "''") + "'"  # a constant: compiled once
    quotes = (
        "coalesce(regexp_matches(lower(coalesce(cast(params as varchar), '') || ' ' || "
        "coalesce(cast(result as varchar), '') || ' ' || coalesce(reason, '')), "
        f"{pattern}), false)"
    )
    with activation_lock(home, lock_timeout):
        with Ledger(path) as ledger:
            con = ledger.con
            con.register("forgotten_keys", pl.DataFrame({"key": keys}, {"key": pl.String}))
            if dry_run:
                counts = {
                    "sends": f"select count(*) from sends where {mine}",
                    "dry_runs": "select count(*) from dry_runs "
                    "where lower(trim(contact_key)) in (select key from forgotten_keys)",
                }
                return {
                    name: con.execute(sql, {"id": contact_id} if "$id" in sql else {}).fetchone()[0]
                    for name, sql in counts.items()
                }
            con.begin()
            try:
                own = [
                    key
                    for (key,) in con.execute(
                        f"select idempotency_key from sends where {mine}", {"id": contact_id}
                    ).fetchall()
                ]
                sends = con.execute(
                    f"""update sends set
                          contact_key = case when {mine} then $alias else contact_key end,
                          contact_id = case when {mine} then $alias else contact_id end,
                          params = '{{}}', result = '{{}}',
                          state = case when {mine} and state not in ({finals}) then 'skipped'
                                       else state end,
                          reason = case
                            when {mine} and state = 'unknown'
                              then 'contact forgotten (it may have been sent; never retried)'
                            when {mine} and state not in ({finals})
                              then 'contact forgotten before it was sent'
                            when {quotes} then 'redacted: contact forgotten'
                            else reason end,
                          events_written = case when {mine} then true else events_written end
                        where {mine} or {quotes}
                        returning 1""",
                    {"id": contact_id, "alias": pseudonym},
                ).fetchall()
                con.register("own_keys", pl.DataFrame({"key": own}, {"key": pl.String}))
                dry = con.execute(
                    f"""delete from dry_runs
                       where lower(trim(contact_key)) in (select key from forgotten_keys)
                          or idempotency_key in (select key from own_keys)
                          or coalesce(
                            regexp_matches(lower(coalesce(rendered, '')), {pattern}), false)
                       returning 1""",
                ).fetchall()
                con.commit()
            except BaseException:
                con.rollback()
                raise
        if sends or dry:
            compact(path)
    return {"sends": len(sends), "dry_runs": len(dry)}


def stale(due_at: datetime | None, now: datetime, hours: float) -> bool:
    return due_at is not None and now - due_at > timedelta(hours=hours)
