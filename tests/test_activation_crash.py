"""Exactly once across a crash: a real activation process killed with SIGKILL in the middle of
an SMTP batch, then restarted, sends nothing twice and loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from activation_servers import SmtpServer, contact, publish_queue, queue_row

from activation.events import events_dir
from activation.ledger import Ledger, ledger_path, resolve_unknown
from activation.run import activate, journal_dir
from activation.settings import ActivationSettings

NOW = datetime(2026, 11, 20, 10, 0)
BATCH, KILL_AT = 12, 5

RUNNER = """
import sys
from datetime import datetime
from activation.run import activate, journal_dir
activate(sys.argv[1], now=datetime.fromisoformat(sys.argv[2]))
"""


def _killed_mid_batch(home, smtp: SmtpServer) -> tuple[dict, list[dict], Path]:
    """Start a real activation process over BATCH emails and SIGKILL it the moment the server
    accepts message KILL_AT (before the sender hears the 250). Returns its env and the rows."""
    people = [contact(f"p{i:02}@example.com", first_name=f"P{i}") for i in range(BATCH)]
    rows = [
        queue_row(p, "send_email", "1", NOW - timedelta(minutes=i)) for i, p in enumerate(people)
    ]
    publish_queue(home, rows, people)
    child: dict[str, subprocess.Popen] = {}
    killed = threading.Event()

    def kill_after(accepted: int) -> None:
        if accepted == KILL_AT and not killed.is_set():
            os.kill(child["process"].pid, signal.SIGKILL)
            killed.set()

    smtp.on_message = kill_after
    smtp.start()
    env = {
        **os.environ,
        "FUNNELHOUSE_SMTP_HOST": "127.0.0.1",
        "FUNNELHOUSE_SMTP_PORT": str(smtp.port),
        "FUNNELHOUSE_SMTP_TLS": "none",
        "FUNNELHOUSE_SMTP_FROM": "news@example-saas.com",
        "FUNNELHOUSE_TRACKING_URL": "http://127.0.0.1:9/t",
        "FUNNELHOUSE_UNSUBSCRIBE_SECRET": "s3cret",
        "FUNNELHOUSE_EMAIL_CAP_PER_DAY": "0",
    }
    child["process"] = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(home.root), NOW.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child["process"].communicate(timeout=60)
    assert killed.is_set() and child["process"].returncode == -signal.SIGKILL
    # the whole batch was claimed in one commit before its first message left
    with Ledger(ledger_path(home)) as ledger:
        assert Counter(r.state for r in ledger.rows()) == {"in_flight": BATCH}
    assert not list(events_dir(home).glob("*.jsonl"))  # the crash came before the events
    [journal] = journal_dir(home).glob("*.journal")
    return env, rows, journal


def test_a_run_killed_mid_batch_and_restarted_sends_each_message_once(home):
    smtp = SmtpServer()
    try:
        env, rows, journal = _killed_mid_batch(home, smtp)
        received_before = len(smtp.messages)  # KILL_AT, or one more another connection had
        assert KILL_AT <= received_before <= KILL_AT + 1

        settings = ActivationSettings.from_env(env)
        restart = activate(home, settings=settings, now=NOW + timedelta(minutes=1))

        # the journal settles what it can: accepted → sent, never handed over → sent now; only
        # the messages handed over without an answer (one per connection at most) are unknown
        assert 1 <= len(restart.unknown) <= settings.smtp_connections
        assert all("interrupted" in u.reason for u in restart.unknown)
        with Ledger(ledger_path(home)) as ledger:
            confirmed = ledger.rows("reason like 'accepted by the provider before run%'")
        assert len(confirmed) >= KILL_AT - settings.smtp_connections  # 250s not yet read
        assert len(confirmed) + len(restart.unknown) + len(restart.sent) == BATCH
        assert not journal.exists()  # settled: the crashed run's journal is gone
        ids = Counter(smtp.message_ids())
        assert max(ids.values()) == 1  # nothing twice
        # the operator finds each unknown Message-ID in the server's log, or not, and settles
        for unknown in restart.unknown:
            outcome = "sent" if unknown.message_id in ids else "not_sent"
            assert resolve_unknown(home, [unknown.idempotency_key], outcome) == 1
        settle = activate(home, settings=settings, now=NOW + timedelta(minutes=2))
        assert settle.unknown == [] and settle.already_done + len(settle.sent) == BATCH
        assert len(smtp.messages) == BATCH and max(Counter(smtp.message_ids()).values()) == 1
        recipients = sorted(r for m in smtp.messages for r in m.rcpt_tos)
        assert recipients == sorted(r["email"] for r in rows)  # nothing lost, nothing twice
    finally:
        smtp.stop()

    # every key has its result events exactly once, also those sent by the killed run
    events = [
        json.loads(line)
        for path in events_dir(home).glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    actions = Counter(
        e["properties"]["idempotency_key"] for e in events if e["event_type"] == "campaign_action"
    )
    assert actions == Counter({r["idempotency_key"]: 1 for r in rows})
    assert sum(e["event_type"] == "email_sent" for e in events) == BATCH
    assert len({e["event_id"] for e in events}) == len(events)


def test_after_a_machine_restart_the_journal_is_not_trusted(home):
    """The journal is not synced to disk: written in another boot, it may have lost lines, so
    every claimed email of the crashed batch is unknown and none is sent again."""
    smtp = SmtpServer()
    try:
        env, rows, journal = _killed_mid_batch(home, smtp)
        lines = journal.read_text().splitlines()
        journal.write_text("\n".join(["boot\tanother-boot", *lines[1:]]) + "\n")
        received = len(smtp.messages)
        restart = activate(home, settings=ActivationSettings.from_env(env), now=NOW)
        assert len(restart.unknown) == BATCH and restart.results == []
        assert all("the machine restarted since" in u.reason for u in restart.unknown)
        assert len(smtp.messages) == received
    finally:
        smtp.stop()
