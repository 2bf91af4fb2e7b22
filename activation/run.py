"""One activation run: execute what ``marts.activation_queue`` says is due, exactly once.

    published queue ──▶ policy (DNC, address, channel up, frequency cap) ──▶ ledger in_flight
        ──▶ channel (SMTP / SMS / webhook / none) ──▶ ledger sent|failed|… ──▶ result events

``activate(home)`` is what ``funnelhouse activate`` and the Dagster ``activation`` asset call;
``print_report`` prints its report. Rows whose key the ledger has finished are left alone, so
running it again right away (before the next build has seen the result events) sends nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from activation import events as result_events
from activation.catalog import Catalogs, read_catalogs, read_due
from activation.channels import (
    Ambiguous,
    ChannelDown,
    Permanent,
    RateLimiter,
    SendError,
    SmsChannel,
    SmtpChannel,
    Transient,
    WebhookChannel,
    with_retries,
)
from activation.compose import ComposeAhead, ComposedEmail, EmailJob, compose
from activation.journal import Journal
from activation.ledger import (
    FINAL,
    Ledger,
    LedgerRow,
    Standing,
    activation_dir,
    activation_lock,
    claim,
    decision,
    ledger_path,
    outcome,
    stale,
)
from activation.render import Renderer, RenderError, Tracking
from activation.settings import ActivationSettings, variable
from ingest.home import Home

MESSAGE_ACTIONS = ("send_email", "send_sms", "send_marketing_message")
INTERNAL_ACTIONS = (
    "add_to_segment",
    "remove_from_segment",
    "change_stage",
    "adjust_points",
    "update_field",
    "set_dnc",
)
ACTIONS = (*MESSAGE_ACTIONS, "call_webhook", *INTERNAL_ACTIONS)
# Contact fields a webhook receives (besides custom fields).
WEBHOOK_CONTACT_FIELDS = (
    "contact_id",
    "email",
    "first_name",
    "last_name",
    "title",
    "job_title",
    "company_name",
    "phone",
    "mobile",
    "city",
    "country",
    "timezone",
    "tags",
    "points",
    "stage_id",
    "stage_name",
    "preferred_channel",
)
CHANNELS = {"email": SmtpChannel, "sms": SmsChannel, "webhook": WebhookChannel}
DECISIONS_PER_TRANSACTION = 5_000


@dataclass(frozen=True)
class _Claim:
    """A message claimed in the ledger, waiting for its batch to be handed over."""

    row: dict[str, Any]
    channel: str
    result: dict[str, Any]
    send: Callable[[Any], str]  # given an open channel of its kind: the provider's id
    message_id: str | None
    retry_ambiguous: bool
    scope: str | None


@dataclass(frozen=True)
class ActionResult:
    idempotency_key: str
    campaign_id: str | None
    campaign_name: str | None
    step_id: str | None
    action: str | None
    channel: str | None
    contact_key: str | None
    status: str  # sent | failed | skipped | deferred | unknown
    reason: str | None = None
    message_id: str | None = None
    attempts: int = 0
    preview: str | None = None  # dry run: the rendered subject or text


@dataclass
class ActivationReport:
    run_id: str
    home: Path
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None = None
    published_at: datetime | None = None
    due: int = 0  # queue rows due now (for the campaign asked for)
    already_done: int = 0  # of those, finished by earlier runs
    results: list[ActionResult] = field(default_factory=list)  # what this run did
    unknown: list[ActionResult] = field(default_factory=list)  # waiting for the operator
    events_file: Path | None = None
    events_written: int = 0
    catalog_source: str = ""
    notes: list[str] = field(default_factory=list)

    def with_status(self, status: str) -> list[ActionResult]:
        return [r for r in self.results if r.status == status]

    @property
    def sent(self) -> list[ActionResult]:
        return self.with_status("sent")

    @property
    def skipped(self) -> list[ActionResult]:
        return self.with_status("skipped")

    @property
    def failed(self) -> list[ActionResult]:
        return self.with_status("failed")

    @property
    def deferred(self) -> list[ActionResult]:
        return self.with_status("deferred")

    def counts(self) -> dict[str, int]:
        counts = {s: 0 for s in ("sent", "skipped", "failed", "deferred", "unknown")}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        counts["unknown"] = len(self.unknown)
        counts["already_done"] = self.already_done
        return counts

    def metadata(self) -> dict[str, Any]:
        """Figures for Dagster's materialization metadata."""
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "due": self.due,
            **self.counts(),
            "events_written": self.events_written,
            "events_file": str(self.events_file) if self.events_file else "",
            "notes": "; ".join(self.notes),
        }


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def activate(
    home: Home | str | Path,
    *,
    dry_run: bool = False,
    campaign: str | None = None,
    settings: ActivationSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> ActivationReport:
    """Execute the due queue rows of the published file (only those of ``campaign``, a name or
    id, when given). ``dry_run`` renders and decides but sends nothing, writes no events and
    leaves the ledger's sends alone (it records what it would do in ``dry_runs``). ``now``
    pins the clock (UTC) for simulations: due rows, frequency caps and event times follow it."""
    home = home if isinstance(home, Home) else Home.resolve(home)
    settings = settings or ActivationSettings.from_env()
    clock = _utc_naive(now or datetime.now(UTC))
    run_id = new_run_id(clock)
    report = ActivationReport(run_id, home.root, dry_run, clock)
    pinned = now is not None
    with (
        activation_lock(home, settings.activation_lock_timeout_seconds),
        Ledger(ledger_path(home)) as ledger,
    ):
        _Run(home, settings, ledger, report, clock, campaign, progress, pinned).execute()
    return report


def _utc_naive(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


class _Run:
    def __init__(self, home, settings, ledger, report, now, campaign, progress, pinned):
        self.home: Home = home
        self.settings: ActivationSettings = settings
        self.ledger: Ledger = ledger
        self.report: ActivationReport = report
        self.now: datetime = now  # the run's start: what is due, frequency windows
        self.pinned = pinned  # a simulation's clock: every time of the run is `now`
        self.campaign = campaign
        self.progress = progress
        self.dry_run = report.dry_run
        self.template_dirs = [home.root / "templates"]
        self.renderer = Renderer(self.template_dirs)
        self.ahead: ComposeAhead | None = None  # emails composed in worker processes
        self.catalogs = Catalogs()
        self.down: dict[str, str] = {}  # channel scope → why it is not used this run
        self.channels: dict[tuple[str, int], Any] = {}  # (kind, lane) → open channel
        self.senders = ThreadPoolExecutor(settings.smtp_connections + 2, "activation-send")
        self.journal: Journal | None = None
        self.known: dict[str, Standing] = {}  # the ledger's standing of the due keys
        self.decisions: list[tuple] = []  # ledger writes of the batch being built
        self.claims: list[_Claim] = []
        self.sending: tuple[list[_Claim], list[Future]] | None = None  # the batch in flight
        self.limiters = {
            "email": RateLimiter(settings.email_rate_per_second),
            "sms": RateLimiter(settings.sms_rate_per_second),
            "webhook": RateLimiter(settings.webhook_rate_per_second),
        }
        self.sent_counts: dict[tuple[str, str], tuple[int, int]] = {}
        self.dry_records: list[dict[str, Any]] = []

    # --- the run ---

    def execute(self) -> None:
        report = self.report
        if self.dry_run:
            interrupted = self.ledger.rows("state = 'in_flight'")
            if interrupted:
                report.notes.append(
                    f"{len(interrupted)} sends were interrupted by a crash; a real run marks "
                    "them unknown"
                )
        else:
            journals = journal_dir(self.home)
            for row in self.ledger.recover(journals, self.now):
                report.notes.append(
                    f"recovered {row.idempotency_key} left in flight by run {row.run_id}"
                )
            Journal.remove_all(journals)
        due = read_due(self.home, self.now, self.campaign)
        report.published_at = due.published_at
        if due.note:
            report.notes.append(due.note)
        report.due = len(due.rows)
        self.known = self.ledger.standings(r["idempotency_key"] for r in due.rows)
        todo = []
        for row in due.rows:
            existing = self.known.get(row["idempotency_key"])
            if existing is None or existing.state == "deferred":
                todo.append((row, existing))
            elif existing.state in FINAL:
                report.already_done += 1
        if (
            self.settings.activation_max_actions
            and len(todo) > self.settings.activation_max_actions
        ):
            report.notes.append(
                f"{len(todo) - self.settings.activation_max_actions} due actions left for the "
                f"next run ({variable('activation_max_actions')})"
            )
            todo = todo[: self.settings.activation_max_actions]
        if todo:
            self._prepare(todo, due.contacts)
        completed = False
        try:
            for done, (row, existing) in enumerate(todo, start=1):
                contact = due.contacts.get(row["contact_id"])
                self._one(row, contact, existing)
                # A batch is bounded by its claims (what a crash can leave unsettled); decisions
                # send nothing, so they wait for a batch longer (thousands per transaction).
                if (
                    len(self.claims) >= self.settings.activation_batch_size
                    or len(self.decisions) >= DECISIONS_PER_TRANSACTION
                ):
                    self._flush()
                if self.progress:
                    self.progress(done, len(todo))
            self._flush()
            self._collect()
            completed = True
        finally:
            if self.ahead:
                self.ahead.close()
                report.notes.append(
                    f"{self.ahead.composed} emails composed ahead in "
                    f"{self.settings.email_compose_workers} worker processes"
                )
            self.senders.shutdown()
            for channel in self.channels.values():
                channel.close()
            if self.journal:  # kept after a failure: the next run's recovery reads it
                self.journal.close(delete=completed)
        report.unknown = [_result(r, "unknown") for r in self.ledger.rows("state = 'unknown'")]
        if self.dry_run:
            self.ledger.record_dry_run(report.run_id, self.dry_records, self.now)
        else:
            self._write_events()
        report.finished_at = _utc_naive(datetime.now(UTC))
        self.ledger.record_run(
            report.run_id,
            self.dry_run,
            report.started_at,
            report.finished_at,
            report.counts(),
            report.events_file.name if report.events_file else None,
        )

    def _prepare(self, todo, contacts) -> None:
        actions = {row["action"] for row, _ in todo}
        self.sent_counts = self.ledger.sent_counts(self.now)
        if actions & set(MESSAGE_ACTIONS):
            self.catalogs = read_catalogs(self.home, self.settings.catalog_lock_timeout_seconds)
            self.report.catalog_source = self.catalogs.source
        s = self.settings
        email_missing = s.email_missing()
        if self.dry_run:  # nothing is sent: only what rendering needs counts
            email_missing = [v for v in email_missing if "SMTP" not in v]
        if email_missing:
            self.down["email"] = "email is not configured: set " + ", ".join(email_missing)
        if s.sms_missing() and not self.dry_run:
            self.down["sms"] = "SMS is not configured: set " + ", ".join(s.sms_missing())
        if s.webhook_missing() and not self.dry_run:
            self.down["webhook"] = "webhooks are not configured: set " + ", ".join(
                s.webhook_missing()
            )
        for reason in self.down.values():
            self.report.notes.append(reason)
        self._compose_ahead(todo, contacts)

    def _compose_ahead(self, todo, contacts) -> None:
        """Start composing the run's emails in worker processes when there are enough of them
        (see activation.compose). Rows whose first channel is email are composed as they stand;
        the decisions still come in ``_message``."""
        s = self.settings
        if self.dry_run or "email" in self.down or not s.email_compose_workers:
            return
        jobs = []
        for position, (row, _) in enumerate(todo):
            contact = contacts.get(row["contact_id"])
            if row["action"] not in MESSAGE_ACTIONS or contact is None:
                continue
            channel, email_id = self._candidates(row, contact)[0]
            if channel == "email" and self._unreachable(channel, email_id, row, contact) is None:
                jobs.append((position, self._email_job(row, contact, email_id)))
        if len(jobs) >= s.email_compose_ahead_from:
            self.ahead = ComposeAhead(self.template_dirs, jobs, s.email_compose_workers)

    def _clock(self) -> datetime:
        """When something happens: the wall clock (UTC), or the pinned time of a simulation."""
        return self.now if self.pinned else _utc_naive(datetime.now(UTC))

    def _one(self, row: dict[str, Any], contact: dict | None, existing: Standing | None):
        action = row["action"]
        if existing is not None and stale(
            row.get("due_at"), self.now, self.settings.send_give_up_after_hours
        ):
            hours = self.settings.send_give_up_after_hours
            self._decide(row, "failed", f"gave up {hours:g} h after it was due: {existing.reason}")
            return
        if action in MESSAGE_ACTIONS:
            self._message(row, contact)
        elif action == "call_webhook":
            self._webhook(row, contact)
        elif action in INTERNAL_ACTIONS:
            self._internal(row)
        else:
            self._decide(row, "failed", f"unknown action {action!r}")

    # --- decisions and sends, recorded ---

    def _decide(
        self,
        row: dict[str, Any],
        state: str,
        reason: str | None,
        result: dict[str, Any] | None = None,
        preview: str | None = None,
    ) -> None:
        """A row settled without a send (skipped, deferred, failed before sending, executed
        internal action)."""
        channel = (result or {}).get("channel") or row.get("channel")
        if self.dry_run:
            self._dry(row, state, reason, channel, preview)
            return
        # Only deferred keys are taken up again, so the same standing means deferred again for
        # the same reason: the ledger already says so (a queue waiting on an unconfigured
        # channel would otherwise be rewritten on every run).
        if self.known.get(row["idempotency_key"]) != (state, reason):
            self.decisions.append(
                decision(
                    self._ledger_row(row, channel),
                    state,
                    reason,
                    self.report.run_id,
                    self._clock(),
                    result,
                )
            )
        self.report.results.append(
            _result_from_queue(row, state, reason, channel=channel, preview=preview)
        )

    def _dry(self, row, state, reason, channel, preview) -> None:
        self.report.results.append(
            _result_from_queue(row, state, reason, channel=channel, preview=preview)
        )
        self.dry_records.append(
            {
                "idempotency_key": row["idempotency_key"],
                "campaign_name": row.get("campaign_name"),
                "step_id": row.get("step_id"),
                "action": row.get("action"),
                "channel": channel,
                "contact_key": row.get("email"),
                "outcome": state,
                "reason": reason,
                "rendered": preview,
            }
        )

    def _ledger_row(self, row: dict[str, Any], channel: str | None) -> dict[str, Any]:
        return {**row, "channel": channel, "contact_key": row.get("email")}

    def _send(
        self,
        row: dict[str, Any],
        channel: str,
        result: dict[str, Any],
        send: Callable[[Any], str],
        *,
        message_id: str | None = None,
        retry_ambiguous: bool = False,
        scope: str | None = None,
        preview: str | None = None,
    ) -> None:
        """Claim the message for the batch (``_flush`` sends it). ``send`` is given an open
        channel of its kind and returns the provider's id."""
        self._count(row, channel, +1)  # before the batch is sent: frequency caps see it
        if self.dry_run:
            self._dry(row, "sent", "dry run: rendered, not sent", channel, preview)
            return
        self.claims.append(_Claim(row, channel, result, send, message_id, retry_ambiguous, scope))

    def _flush(self) -> None:
        """One batch: the previous batch's outcomes committed (``_collect``), then this one's
        decisions and claims together (``in_flight``), and its messages handed to the sender
        threads, one per lane (``_lanes``). The run goes on rendering the next batch while they
        send: at most one batch is ever in flight."""
        self._collect()
        claims, decisions = self.claims, self.decisions
        self.claims, self.decisions = [], []
        now = self._clock()
        entries = [
            claim(
                self._ledger_row(c.row, c.channel), self.report.run_id, now, c.message_id, c.result
            )
            for c in claims
        ]
        if claims and self.journal is None:
            self.journal = Journal(journal_dir(self.home), self.report.run_id)
        self.ledger.write(decisions + entries)
        if claims:
            lanes = self._lanes(claims).items()
            self.sending = (
                claims,
                [self.senders.submit(self._send_lane, lane, todo) for lane, todo in lanes],
            )

    def _lanes(self, claims: list[_Claim]) -> dict[tuple[str, int], list[_Claim]]:
        """Emails go round ``smtp_connections`` lanes (while one waits for the server's reply,
        another sends); SMS and webhooks one lane each, in the queue's order (their rate limits
        space the calls anyway). A lane is one open channel, sending its claims in order."""
        lanes: dict[tuple[str, int], list[_Claim]] = {}
        emails = 0
        for c in claims:
            lane = 0
            if c.channel == "email":
                lane, emails = emails % self.settings.smtp_connections, emails + 1
            lanes.setdefault((c.channel, lane), []).append(c)
        return lanes

    def _send_lane(self, lane: tuple[str, int], claims: list[_Claim]) -> dict[str, tuple]:
        channel = self._channel(*lane)
        return {c.row["idempotency_key"]: self._deliver(c, channel) for c in claims}

    def _collect(self) -> None:
        """Wait for the batch being sent and commit its outcomes."""
        if self.sending is None:
            return
        claims, lanes = self.sending
        self.sending = None
        done = {key: result for lane in lanes for key, result in lane.result().items()}
        outcomes = [done[c.row["idempotency_key"]] for c in claims]
        self.ledger.finish_all(outcomes)
        for c, (_, state, reason, message_id, attempts, _, _) in zip(claims, outcomes, strict=True):
            if state != "sent":
                self._count(c.row, c.channel, -1)
            if state != "unknown":  # unknown rows are listed together at the end of the run
                self.report.results.append(
                    _result_from_queue(
                        c.row,
                        state,
                        reason,
                        channel=c.channel,
                        message_id=message_id,
                        attempts=attempts,
                    )
                )

    def _deliver(self, c: _Claim, channel) -> tuple:
        """Hand one claimed message over, with retries (in a sender thread)."""
        key = c.row["idempotency_key"]
        scope = c.scope or c.channel
        if scope in self.down or c.channel in self.down:
            reason = self.down.get(scope) or self.down[c.channel]
            return outcome(key, "deferred", reason, self._clock(), result=c.result)
        limiter = self.limiters.get(c.channel)

        def attempt() -> str:
            if limiter:
                limiter.wait()
            return c.send(channel)

        message_id = c.message_id
        try:
            self.journal.handing_over(key)
            provider_id, attempts = with_retries(
                self.settings, attempt, retry_ambiguous=c.retry_ambiguous
            )
            state, reason, message_id = "sent", None, provider_id or message_id
            self.journal.accepted(key, message_id)
        except Permanent as error:
            state, reason, attempts = "failed", error.reason, getattr(error, "attempts", 1)
        except Ambiguous as error:
            state, reason, attempts = "unknown", error.reason, getattr(error, "attempts", 1)
        except (Transient, ChannelDown) as error:
            state, reason, attempts = "deferred", error.reason, getattr(error, "attempts", 1)
            if error.scope or isinstance(error, ChannelDown):
                self.down[error.scope or scope] = error.reason
        return outcome(key, state, reason, self._clock(), message_id, attempts, c.result)

    def _channel(self, kind: str, lane: int = 0):
        """The open channel of a lane (opened on first use, closed at the end of the run)."""
        if (kind, lane) not in self.channels:
            self.channels[kind, lane] = CHANNELS[kind](self.settings)
        return self.channels[kind, lane]

    def _count(self, row, channel, change: int) -> None:
        key = (row["contact_id"], channel)
        day, week = self.sent_counts.get(key, (0, 0))
        self.sent_counts[key] = (day + change, week + change)

    # --- messages: email, SMS, marketing message ---

    def _message(self, row: dict[str, Any], contact: dict | None) -> None:
        if contact is None:
            self._decide(row, "skipped", "contact not in marts.dim_contacts: DNC status unknown")
            return
        candidates = self._candidates(row, contact)
        reasons = []
        for channel, content_id in candidates:
            why = self._unreachable(channel, content_id, row, contact)
            if why is None:
                break
            reasons.append(why)
        else:
            self._decide(row, "skipped", "; ".join(dict.fromkeys(reasons)) or "no channel")
            return
        result = {
            "channel": channel,
            "payload_ref": content_id,
            ("email_id" if channel == "email" else "sms_id"): content_id,
        }
        if channel in self.down:
            self._decide(row, "deferred", self.down[channel], result)
            return
        capped = self._capped(row["contact_id"], channel)
        if capped:
            self._decide(row, "deferred", capped, result)
            return
        if channel == "email":
            self._email(row, contact, content_id, result)
        else:
            self._sms(row, contact, content_id, result)

    def _candidates(self, row, contact) -> list[tuple[str, str | None]]:
        action, params, ref = row["action"], row["params"], row.get("payload_ref")
        if action == "send_email":
            return [("email", params.get("email_id") or ref)]
        if action == "send_sms":
            return [("sms", params.get("sms_id") or ref)]
        # marketing message: the queue's channel, the contact's preferred one, then the others
        content = {
            "email": params.get("email_id") or (ref if row.get("channel") == "email" else None),
            "sms": params.get("sms_id") or (ref if row.get("channel") == "sms" else None),
        }
        order = [row.get("channel"), contact.get("preferred_channel"), "email", "sms"]
        channels = [c for c in dict.fromkeys(order) if c in content]
        return [(c, content[c]) for c in channels]

    def _unreachable(self, channel, content_id, row, contact) -> str | None:
        if channel == "email":
            if contact.get("is_dnc_email"):
                why = contact.get("dnc_email_reason") or "do not contact"
                return f"email: do not contact ({why})"
            if not (row.get("email") or contact.get("email")):
                return "email: no email address"
        else:
            if contact.get("is_dnc_sms"):
                why = contact.get("dnc_sms_reason") or "do not contact"
                return f"sms: do not contact ({why})"
            if not (row.get("mobile") or contact.get("mobile")):
                return "sms: no mobile number"
        if not content_id:
            return f"{channel}: the step names no {channel} to send"
        return None

    def _capped(self, contact_id: str, channel: str) -> str | None:
        day, week = self.sent_counts.get((contact_id, channel), (0, 0))
        s = self.settings
        per_day = s.email_cap_per_day if channel == "email" else s.sms_cap_per_day
        per_week = s.email_cap_per_week if channel == "email" else s.sms_cap_per_week
        noun = "emails" if channel == "email" else "SMS"
        if per_day and day >= per_day:
            return f"frequency cap: {per_day} {noun} per day"
        if per_week and week >= per_week:
            return f"frequency cap: {per_week} {noun} per week"
        return None

    def _email_job(self, row, contact, email_id: str) -> EmailJob:
        s = self.settings
        content = self.catalogs.email(str(email_id))
        to = row.get("email") or contact["email"]
        name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
        envelope = parseaddr(s.smtp_from or "")[1] or "activation@funnelhouse.invalid"
        return EmailJob(
            content=content,
            variables={**contact, "email": to},
            idempotency_key=row["idempotency_key"],
            tracking=Tracking(s.tracking_url, s.unsubscribe_secret),
            params=row["params"],
            to=to,
            to_name=name or None,
            sender=content.from_address or s.smtp_from or envelope,
            envelope_sender=envelope,
            campaign_id=row.get("campaign_id"),
        )

    def _email(self, row, contact, email_id: str, result: dict[str, Any]) -> None:
        job = self._email_job(row, contact, email_id)
        composed = self.ahead.take(job) if self.ahead else None
        if composed is None:
            try:
                composed = compose(self.renderer, job)
            except RenderError as error:
                composed = str(error)
        if not isinstance(composed, ComposedEmail):  # the template's error
            self._decide(row, "failed", composed, result)
            return
        self._send(
            row,
            "email",
            result,
            lambda smtp: smtp.send(composed.data, composed.message_id, job.envelope_sender, job.to),
            message_id=composed.message_id,
            preview=composed.subject,
        )

    def _sms(self, row, contact, sms_id: str, result: dict[str, Any]) -> None:
        try:
            text = self.renderer.render_sms(
                str(sms_id), self.catalogs.sms.get(str(sms_id)), contact, row["params"]
            )
        except RenderError as error:
            self._decide(row, "failed", str(error), result)
            return
        to = row.get("mobile") or contact["mobile"]
        self._send(row, "sms", result, lambda sms: sms.send(to, text), preview=text)

    # --- webhooks ---

    def _webhook(self, row: dict[str, Any], contact: dict | None) -> None:
        result = {"channel": "webhook", "payload_ref": row.get("payload_ref")}
        if "webhook" in self.down:
            self._decide(row, "deferred", self.down["webhook"], result)
            return
        params = row["params"]
        try:
            url = self._channel("webhook").url_for(row.get("payload_ref"), params)
        except SendError as error:
            self._decide(row, "failed", error.reason, result)
            return
        scope = f"webhook {_origin(url)}"
        if scope in self.down:
            self._decide(row, "deferred", self.down[scope], result)
            return
        contact = contact or {"contact_id": row["contact_id"], "email": row.get("email")}
        payload = {
            "event": "campaign.webhook",
            "idempotency_key": row["idempotency_key"],
            "campaign": {"id": row.get("campaign_id"), "name": row.get("campaign_name")},
            "step_id": row.get("step_id"),
            "webhook": row.get("payload_ref"),
            "due_at": result_events.iso(row.get("due_at")),
            "contact": _webhook_contact(contact, params.get("fields")),
            "data": params.get("data") or {},
        }
        method = str(params.get("method") or "POST")
        self._send(
            row,
            "webhook",
            result,
            lambda webhook: webhook.send(url, payload, row["idempotency_key"], method),
            retry_ambiguous=True,
            scope=scope,
            preview=url,
        )

    # --- actions on the contact itself (applied by the models from the result events) ---

    def _internal(self, row: dict[str, Any]) -> None:
        action, params, ref = row["action"], row["params"], row.get("payload_ref")
        result: dict[str, Any] = {"channel": "none", "payload_ref": ref}
        where = f"campaign {row.get('campaign_name') or row.get('campaign_id')}"
        if action == "adjust_points":
            raw = params.get("delta", params.get("points", ref))
            try:
                result |= {"delta": int(raw), "reason": params.get("reason") or where}
            except (TypeError, ValueError):
                self._decide(row, "failed", f"adjust_points needs an integer delta, not {raw!r}")
                return
        elif action == "set_dnc":
            dnc_channel = params.get("channel") or ref or "email"
            dnc_action = params.get("action") or "add"
            if dnc_channel not in ("email", "sms") or dnc_action not in ("add", "remove"):
                self._decide(
                    row, "failed", f"set_dnc: unknown channel {dnc_channel!r} or {dnc_action!r}"
                )
                return
            result |= {
                "dnc_channel": dnc_channel,
                "dnc_action": dnc_action,
                "reason": params.get("reason") or where,
            }
        elif action == "update_field":
            fields = params.get("fields")
            if not isinstance(fields, dict):
                if not ref:
                    self._decide(row, "failed", "update_field names no field")
                    return
                fields = {ref: params.get("value")}
            result["traits"] = fields
        elif not ref:
            self._decide(row, "failed", f"{action} names no target (segment or stage)")
            return
        reason = "dry run: not executed" if self.dry_run else None
        self._decide(row, "sent", reason, result, preview=f"{action} {ref or ''}".strip())

    # --- the closed loop ---

    def _write_events(self) -> None:
        pending = self.ledger.unwritten_events()
        assigned = {r.events_file for r in pending if r.events_file}
        for name in assigned:
            if result_events.events_path(self.home, name).exists():
                self.ledger.confirm_events_file(name)  # written before a crash, not confirmed
        pending = [
            r
            for r in pending
            if not (r.events_file and result_events.events_path(self.home, r.events_file).exists())
        ]
        if not pending:
            return
        name = result_events.new_file_name(self.report.run_id)
        self.ledger.assign_events_file([r.idempotency_key for r in pending], name)
        events = [event for row in pending for event in result_events.events_for(row)]
        path = result_events.events_path(self.home, name)
        result_events.write_events_file(path, events)
        self.ledger.confirm_events_file(name)
        self.report.events_file = path
        self.report.events_written = len(events)


def journal_dir(home: Home) -> Path:
    return activation_dir(home) / "journal"


def _webhook_contact(contact: dict[str, Any], fields) -> dict[str, Any]:
    """The step's ``fields`` (contact columns, ``custom.<key>`` for a custom field), else the
    usual set with the custom fields."""
    if isinstance(fields, list) and fields:
        custom = contact.get("custom_fields") or {}
        if isinstance(custom, str):
            try:
                custom = json.loads(custom)
            except ValueError:
                custom = {}
        return {
            name: (custom.get(name[7:]) if name.startswith("custom.") else contact.get(name))
            for name in map(str, fields)
        }
    return {
        **{k: contact.get(k) for k in WEBHOOK_CONTACT_FIELDS if k in contact},
        "custom_fields": contact.get("custom_fields"),
    }


def _origin(url: str) -> str:
    from activation.channels import _origin as origin

    return origin(url)


def _result_from_queue(row, status, reason, **extra) -> ActionResult:
    return ActionResult(
        idempotency_key=row["idempotency_key"],
        campaign_id=row.get("campaign_id"),
        campaign_name=row.get("campaign_name"),
        step_id=row.get("step_id"),
        action=row.get("action"),
        channel=extra.pop("channel", None) or row.get("channel"),
        contact_key=row.get("email"),
        status=status,
        reason=reason,
        **extra,
    )


def _result(row: LedgerRow, status: str) -> ActionResult:
    return ActionResult(
        idempotency_key=row.idempotency_key,
        campaign_id=row.campaign_id,
        campaign_name=row.campaign_name,
        step_id=row.step_id,
        action=row.action,
        channel=row.channel,
        contact_key=row.contact_key,
        status=status,
        reason=row.reason,
        message_id=row.message_id,
        attempts=row.attempts,
    )


# --- printing ---


def print_report(report: ActivationReport, console) -> None:
    """What ``funnelhouse activate`` prints: totals, then what was sent per campaign and step,
    what was skipped or deferred and why, what failed, and sends waiting for the operator."""
    from rich.table import Table

    verb = "would be " if report.dry_run else ""
    title = f"activation {report.run_id}" + (" (dry run: nothing sent)" if report.dry_run else "")
    counts = report.counts()
    totals = Table(title=title)
    totals.add_column("what")
    totals.add_column("rows", justify="right")
    totals.add_row("due now", f"{report.due:,}")
    totals.add_row("done by earlier runs", f"{report.already_done:,}")
    for status in ("sent", "skipped", "deferred", "failed"):
        totals.add_row(f"{verb}{status}", f"{counts.get(status, 0):,}")
    totals.add_row("unknown (crash: check with the provider)", f"{counts['unknown']:,}")
    console.print(totals)

    executed = [r for r in report.results if r.status == "sent"]
    if executed:
        table = Table(title=f"{verb}sent / executed")
        for column in ("campaign", "step", "action", "channel"):
            table.add_column(column)
        table.add_column("rows", justify="right")
        for (campaign, step, action, channel), n in _grouped(
            executed, lambda r: (r.campaign_name or r.campaign_id, r.step_id, r.action, r.channel)
        ):
            table.add_row(str(campaign), str(step), str(action), str(channel), f"{n:,}")
        console.print(table)
    for status, colour in (("skipped", "yellow"), ("deferred", "cyan"), ("failed", "red")):
        rows = report.with_status(status)
        if not rows:
            continue
        table = Table(title=f"{verb}{status}", title_style=colour)
        for column in ("campaign", "action", "reason"):
            table.add_column(column)
        table.add_column("rows", justify="right")
        for (campaign, action, reason), n in _grouped(
            rows, lambda r: (r.campaign_name or r.campaign_id, r.action, r.reason)
        ):
            table.add_row(str(campaign), str(action), str(reason), f"{n:,}")
        console.print(table)
    if report.unknown:
        table = Table(
            title="unknown: interrupted sends, never re-sent automatically", title_style="red"
        )
        for column in ("key", "contact", "channel", "message id"):
            table.add_column(column)
        for row in report.unknown[:50]:
            table.add_row(
                row.idempotency_key, str(row.contact_key), str(row.channel), str(row.message_id)
            )
        console.print(table)
        console.print(
            "Check each with the provider, then resolve it: "
            "activation.ledger.resolve_unknown(home, keys, 'sent' | 'not_sent')."
        )
    for note in report.notes:
        console.print(f"[dim]note:[/] {note}")
    if report.events_file:
        console.print(
            f"[green]{report.events_written:,} result events[/] → {report.events_file} "
            "(loaded by the next ingest)"
        )


def _grouped(rows, key) -> list[tuple[tuple, int]]:
    counts: dict[tuple, int] = {}
    for row in rows:
        counts[key(row)] = counts.get(key(row), 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
