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

from activation_servers import SmtpServer, contact, publish_queue, queue_row

from activation.events import events_dir
from activation.ledger import Ledger, ledger_path, resolve_unknown
from activation.run import activate
from activation.settings import ActivationSettings

NOW = datetime(2026, 11, 20, 10, 0)
BATCH, KILL_AT = 12, 5

RUNNER = """
import sys
from datetime import datetime
from activation.run import activate
activate(sys.argv[1], now=datetime.fromisoformat(sys.argv[2]))
"""


def test_a_run_killed_mid_batch_and_restarted_sends_each_message_once(home):
    people = [contact(f"p{i:02}@example.com", first_name=f"P{i}") for i in range(BATCH)]
    rows = [
        queue_row(p, "send_email", "1", NOW - timedelta(minutes=i)) for i, p in enumerate(people)
    ]
    publish_queue(home, rows, people)
    smtp = SmtpServer()
    child: dict[str, subprocess.Popen] = {}
    killed = threading.Event()

    def kill_after(accepted: int) -> None:
        # the server has the message but the sender will never hear its 250
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
    try:
        child["process"] = subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(home.root), NOW.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        child["process"].communicate(timeout=60)
        assert killed.is_set() and child["process"].returncode == -signal.SIGKILL
        assert len(smtp.messages) == KILL_AT
        with Ledger(ledger_path(home)) as ledger:
            states = Counter(r.state for r in ledger.rows())
        assert states == {"sent": KILL_AT - 1, "in_flight": 1}  # committed before the send
        assert not list(events_dir(home).glob("*.jsonl"))  # the crash came before the events

        settings = ActivationSettings.from_env(env)
        restart = activate(home, settings=settings, now=NOW + timedelta(minutes=1))

        # the interrupted send is not repeated: it is reported for the operator to check
        [unknown] = restart.unknown
        assert "interrupted by a crash" in unknown.reason
        assert len(restart.sent) == BATCH - KILL_AT
        ids = Counter(smtp.message_ids())
        assert len(smtp.messages) == BATCH and max(ids.values()) == 1  # nothing twice
        recipients = sorted(r for m in smtp.messages for r in m.rcpt_tos)
        assert recipients == sorted(p["email"] for p in people)  # nothing lost
        # the operator finds its Message-ID in the server's log and settles it as sent
        assert unknown.message_id in ids
        assert resolve_unknown(home, [unknown.idempotency_key], "sent") == 1
        settle = activate(home, settings=settings, now=NOW + timedelta(minutes=2))
        assert settle.results == [] and settle.unknown == [] and settle.already_done == BATCH
        assert len(smtp.messages) == BATCH
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
