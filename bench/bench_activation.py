"""Benchmark: emails per second to a local SMTP server, with and without connection reuse.

    python bench/bench_activation.py [--messages 5000] [--home /tmp/fh-bench-activation]

An aiosmtpd server (its ``Sink`` handler, which accepts and drops) runs in its own process on
127.0.0.1, so client and server do not share a GIL. Two measurements, each with one SMTP
connection per batch (``FUNNELHOUSE_SMTP_REUSE_CONNECTION`` true) and one per message (false):

* transport: composed messages (their wire bytes) handed to the SMTP channel — what the wire
  costs (until 2026-11-24 it also serialised each message: figures before then are lower);
* activate(): the whole run over a published queue of that many rows — composing (Jinja
  sandbox, click tracking, tokens, MIME; in ``--compose-workers`` worker processes, 0:
  inline), the ledger's two commits per message (in_flight, then sent), the SMTP send and the
  result events file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from activation_servers import contact, free_port, publish_queue, queue_row  # noqa: E402

from activation.channels import SmtpChannel  # noqa: E402
from activation.compose import EmailJob, compose  # noqa: E402
from activation.render import EmailContent, Renderer, Tracking  # noqa: E402
from activation.run import activate  # noqa: E402
from activation.settings import ActivationSettings  # noqa: E402
from ingest.home import Home  # noqa: E402


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the SMTP server did not start")


def settings(port: int, reuse: bool, compose_workers: int = 2) -> ActivationSettings:
    return ActivationSettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        smtp_from="Example SaaS <news@example-saas.com>",
        smtp_reuse_connection=reuse,
        smtp_messages_per_connection=1_000_000,
        tracking_url="https://t.example-saas.com",
        unsubscribe_secret=SecretStr("bench-secret"),
        email_cap_per_day=0,
        email_cap_per_week=0,
        email_compose_workers=compose_workers,
    )


def transport(port: int, messages: int, reuse: bool) -> float:
    config = settings(port, reuse)
    renderer = Renderer()
    tracking = Tracking(config.tracking_url, config.unsubscribe_secret)
    content = EmailContent("1", "Welcome email", "Welcome!")
    composed = [
        compose(
            renderer,
            EmailJob(
                content=content,
                variables={"email": f"c{i}@example.com", "first_name": f"C{i}"},
                idempotency_key=f"k{i}",
                tracking=tracking,
                params=None,
                to=f"c{i}@example.com",
                to_name=None,
                sender=config.smtp_from,
                envelope_sender="news@example-saas.com",
                campaign_id="bench",
            ),
        )
        for i in range(messages)
    ]
    channel = SmtpChannel(config)
    started = time.perf_counter()
    for i, message in enumerate(composed):
        channel.send(message.data, message.message_id, "news@example-saas.com", f"c{i}@example.com")
    channel.close()
    return time.perf_counter() - started


def full_run(
    port: int, messages: int, reuse: bool, root: Path, compose_workers: int
) -> tuple[float, int]:
    shutil.rmtree(root, ignore_errors=True)
    home = Home.resolve(root).ensure()
    now = datetime(2026, 11, 20, 10, 0)
    people = [contact(f"c{i}@example.com", first_name=f"C{i}") for i in range(messages)]
    rows = [
        queue_row(p, "send_email", "1", now - timedelta(seconds=i)) for i, p in enumerate(people)
    ]
    publish_queue(home, rows, people, emails=[("1", "Welcome email", "Welcome!")])
    started = time.perf_counter()
    report = activate(home, settings=settings(port, reuse, compose_workers), now=now)
    return time.perf_counter() - started, len(report.sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--home", type=Path, default=Path("/tmp/fh-bench-activation"))
    parser.add_argument(
        "--reuse-only", action="store_true", help="only the one-connection runs (quicker)"
    )
    parser.add_argument(
        "--compose-workers",
        type=int,
        default=2,
        help="worker processes composing emails in activate() (0: composed inline)",
    )
    args = parser.parse_args()
    modes = (True,) if args.reuse_only else (True, False)
    figures = {"messages": args.messages}
    port = free_port()
    server = start_server(port)
    try:
        print(f"{args.messages:,} messages to aiosmtpd (Sink) on 127.0.0.1:{port}, own process")
        print(f"{'what':<34}{'seconds':>10}{'emails/s':>12}")
        for reuse in modes:
            label = "one connection" if reuse else "a connection per message"
            seconds = transport(port, args.messages, reuse)
            print(f"{'transport, ' + label:<34}{seconds:>10.2f}{args.messages / seconds:>12,.0f}")
            if reuse:
                figures["transport_emails_per_s"] = args.messages / seconds
        for reuse in modes:
            label = "one connection" if reuse else "a connection per message"
            seconds, sent = full_run(port, args.messages, reuse, args.home, args.compose_workers)
            assert sent == args.messages, f"only {sent} sent"
            print(f"{'activate(), ' + label:<34}{seconds:>10.2f}{sent / seconds:>12,.0f}")
            if reuse:
                figures["activate_emails_per_s"] = sent / seconds
        print("RESULT " + json.dumps(figures))  # read by bench/scale.py
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
