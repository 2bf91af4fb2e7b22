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
  ``sent``, ``failed`` or ``skipped`` is done and is never executed again. Rows are written
  a batch at a time (``activation_batch_size``, one transaction for the batch's claims and
  decisions, one for its outcomes): a DuckDB commit costs milliseconds, so one per message
  would cap a run at a few hundred messages a second. Between the two commits the send
  journal (``activation.journal``) records each hand-over and each acceptance.
* **The crash rule.** A row still ``in_flight`` when a run starts was interrupted. Webhook
  calls carry the key in ``X-Funnelhouse-Delivery`` for receivers to deduplicate on, and
  non-channel actions only write events with fixed ids: those two are executed again. For
  email and SMS the crashed run's journal decides, when the machine has not restarted since
  (the journal is not synced to disk): accepted → ``sent``; never handed over → ``deferred``
  (sent again); handed over without an answer → ``unknown``. Without a trustworthy journal
  every such row is ``unknown`` (at most a batch). An ``unknown`` row is never re-sent
  automatically: every run reports it, with the email's Message-ID (one per key,
  ``render.message_id_for``) so the operator can look it up in the SMTP server's log (or the
  SMS provider's), then settles it with ``resolve_unknown(home, keys, "sent")`` or
  ``"not_sent"`` (which lets the next run send it). A send that failed ambiguously (the
  connection dropped after the message was handed over) becomes ``unknown`` by the same rule.
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
from typing import Any, Literal, NamedTuple

import duckdb
import polars as pl

from activation.journal import Journal, JournalView
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


# A ledger write (``Ledger.write``): the queue row's columns and the state it goes to.
_ENTRY_SCHEMA = {
    "idempotency_key": pl.String,
    "campaign_id": pl.String,
    "campaign_name": pl.String,
    "step_id": pl.String,
    "action": pl.String,
    "channel": pl.String,
    "contact_id": pl.String,
    "contact_key": pl.String,
    "payload_ref": pl.String,
    "params": pl.String,
    "due_at": pl.Datetime("us"),
    "state": pl.String,
    "reason": pl.String,
    "message_id": pl.String,
    "result": pl.String,
    "run_id": pl.String,
    "started_at": pl.Datetime("us"),
    "completed_at": pl.Datetime("us"),
}
_OUTCOME_SCHEMA = {
    "idempotency_key": pl.String,
    "state": pl.String,
    "reason": pl.String,
    "message_id": pl.String,
    "attempts": pl.Int32,
    "result": pl.String,
    "completed_at": pl.Datetime("us"),
}


def _entry(row, state, reason, message_id, run_id, now, completed_at, result) -> tuple:
    values = [row.get(c) for c in _COLUMNS]
    values = [v if v is None or isinstance(v, datetime) else str(v) for v in values]
    values[_COLUMNS.index("params")] = json.dumps(row.get("params") or {})
    return (*values, state, reason, message_id, json.dumps(result or {}), run_id, now, completed_at)


def claim(row, run_id, now, message_id, result=None) -> tuple:
    """``in_flight``: committed before the message is handed over."""
    return _entry(row, "in_flight", None, message_id, run_id, now, None, result)


def decision(row, state, reason, run_id, now, result=None) -> tuple:
    """A state reached without a send (skipped, deferred, failed, executed internally)."""
    return _entry(row, state, reason, None, run_id, now, now, result)


def outcome(key, state, reason, now, message_id=None, attempts=0, result=None) -> tuple:
    """What became of a claimed send."""
    return (key, state, reason, message_id, attempts, json.dumps(result or {}), now)


def _settled(row: LedgerRow, journal: JournalView, now: datetime) -> tuple:
    """The outcome of a send a crash left ``in_flight``."""
    crashed = f"run {row.run_id or '?'} crashed"
    if row.channel in REPLAYABLE_CHANNELS:
        return outcome(
            row.idempotency_key,
            "deferred",
            f"interrupted: {crashed}; executed again (safe for this channel)",
            now,
        )
    if journal.trusted and row.idempotency_key in journal.accepted:
        message_id, at = journal.accepted[row.idempotency_key]
        when = datetime.fromtimestamp(at, UTC).replace(tzinfo=None) if at else now
        reason = f"accepted by the provider before {crashed} (from its send journal)"
        return outcome(row.idempotency_key, "sent", reason, when, message_id or None)
    if journal.trusted and row.idempotency_key not in journal.handed_over:
        reason = f"claimed, but {crashed} before handing it over: sent again"
        return outcome(row.idempotency_key, "deferred", reason, now)
    reason = (
        f"interrupted: {crashed} while sending; it may or may not have left"
        + (f" ({journal.why_not})" if not journal.trusted else "")
        + f": check message id {row.message_id or '?'} with the provider, then resolve"
    )
    return outcome(row.idempotency_key, "unknown", reason, now)


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


class Standing(NamedTuple):
    """Where a key stands in the ledger."""

    state: str
    reason: str | None


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

    def standings(self, keys: Iterable[str]) -> dict[str, Standing]:
        """The state and reason of these keys' rows (absent: never seen): all a run needs to
        decide, without decoding whole rows (a queue waiting on a channel is read every run)."""
        frame = pl.DataFrame({"idempotency_key": list(keys)}, schema={"idempotency_key": pl.String})
        if frame.is_empty():
            return {}
        self.con.register("wanted_keys", frame)
        try:
            found = self.con.execute(
                "select idempotency_key, state, reason from sends"
                " inner join wanted_keys using (idempotency_key)"
            ).fetchall()
        finally:
            self.con.unregister("wanted_keys")
        return {key: Standing(state, reason) for key, state, reason in found}

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

    def recover(self, journals: Path, now: datetime) -> list[LedgerRow]:
        """Settle the rows crashed runs left ``in_flight`` by the crash rule (see the module),
        reading each run's send journal (``activation.journal``). Returns them."""
        interrupted = self.rows("state = 'in_flight'")
        views = {run: Journal.read(journals, run) for run in {r.run_id for r in interrupted}}
        self.finish_all([_settled(row, views[row.run_id], now) for row in interrupted])
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
        """Commit ``in_flight`` for one key about to be sent (new, or deferred before)."""
        self.write([claim(row, run_id, now, message_id, result)])

    def record(
        self,
        row: dict[str, Any],
        state: str,
        reason: str | None,
        run_id: str,
        now: datetime,
        result: dict[str, Any] | None = None,
    ) -> None:
        """Commit one decision taken without sending (skipped, deferred, failed before the
        send)."""
        self.write([decision(row, state, reason, run_id, now, result)])

    def write(self, entries: list[dict[str, Any]]) -> None:
        """Commit a batch of claims and decisions (``claim``, ``decision``) in one transaction.
        A new key is inserted; a key seen before may only be taken up again from ``deferred``:
        any other raises and the whole batch is rolled back."""
        if not entries:
            return
        batch = pl.DataFrame(entries, schema=_ENTRY_SCHEMA, orient="row")
        self.con.register("ledger_batch", batch)
        try:
            self.con.begin()
            try:
                retaken = self.con.execute(
                    """update sends set state = b.state, reason = b.reason,
                         message_id = coalesce(b.message_id, sends.message_id),
                         result = b.result, run_id = b.run_id, started_at = b.started_at,
                         completed_at = b.completed_at, params = b.params,
                         contact_key = b.contact_key, channel = b.channel
                       from ledger_batch b
                       where sends.idempotency_key = b.idempotency_key
                         and sends.state = 'deferred'
                       returning sends.idempotency_key"""
                ).fetchall()
                self.con.register(
                    "retaken_keys",
                    pl.DataFrame({"key": [k for (k,) in retaken]}, schema={"key": pl.String}),
                )
                self.con.execute(
                    f"""insert into sends ({", ".join(_ENTRY_SCHEMA)}, first_run_id)
                        select *, run_id from ledger_batch
                        where idempotency_key not in (select key from retaken_keys)"""
                )
                self.con.commit()
            except duckdb.ConstraintException:
                self.con.rollback()
                done = self.con.execute(
                    """select idempotency_key from sends inner join ledger_batch
                       using (idempotency_key) where sends.state <> 'deferred'"""
                ).fetchall()
                raise RuntimeError(
                    f"ledger: {done[0][0] if done else '?'} is already done; "
                    "refusing to take it up again"
                ) from None
            except BaseException:
                self.con.rollback()
                raise
        finally:
            self.con.unregister("ledger_batch")

    def finish_all(self, outcomes: list[dict[str, Any]]) -> None:
        """Commit the outcomes of a batch of sends (``outcome``) in one statement."""
        if not outcomes:
            return
        frame = pl.DataFrame(outcomes, schema=_OUTCOME_SCHEMA, orient="row")
        self.con.register("ledger_outcomes", frame)
        try:
            self.con.execute(
                """update sends set state = o.state, reason = o.reason,
                     message_id = coalesce(o.message_id, sends.message_id),
                     attempts = sends.attempts + o.attempts, result = o.result,
                     completed_at = o.completed_at
                   from ledger_outcomes o
                   where sends.idempotency_key = o.idempotency_key"""
            )
        finally:
            self.con.unregister("ledger_outcomes")

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
