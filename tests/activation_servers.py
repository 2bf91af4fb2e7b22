"""Real servers on 127.0.0.1 for the activation tests, and a published file holding a queue.

* ``SmtpServer``: aiosmtpd in its own thread; keeps every message it accepted, can refuse
  recipients (``rcpt_replies``) or messages (``data_replies``, consumed in order), and can
  call ``on_message`` (the crash test kills the sender from there).
* ``HttpServer``: http.server in a thread playing the SMS provider and webhook receivers;
  records each request, answers from ``replies[path]`` (consumed in order) or 201 + a sid.
* ``publish_queue``: writes ``published/funnelhouse.duckdb`` with ``marts.activation_queue``
  (the contract's columns), ``marts.dim_contacts`` and ``reports.rpt_email_performance``, swapped
  in by rename as the real publish does.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
from aiosmtpd.controller import Controller

from ingest.home import Home
from pipelines.publish import published_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    peer: tuple

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class SmtpServer:
    messages: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address → reply
    data_replies: list[str] = field(default_factory=list)  # replies before accepting
    data_attempts: int = 0
    rcpt_attempts: dict[str, int] = field(default_factory=dict)
    on_message: Any = None  # called with the number of messages accepted so far
    drop_after_data: int = 0  # keep this many messages but hang up instead of answering
    port: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.data_attempts += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.peer)
        )
        if self.on_message:
            self.on_message(len(self.messages))
        if self.drop_after_data:
            self.drop_after_data -= 1
            server.transport.close()  # the message arrived; the sender never hears so
        return "250 Message accepted for delivery"

    def start(self) -> SmtpServer:
        self.port = self.port or free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def connections(self) -> int:
        return len({m.peer for m in self.messages})

    def by_recipient(self) -> dict[str, list[EmailMessage]]:
        out: dict[str, list[EmailMessage]] = {}
        for received in self.messages:
            for rcpt in received.rcpt_tos:
                out.setdefault(rcpt, []).append(received.message)
        return out

    def message_ids(self) -> list[str]:
        return [str(m.message["Message-ID"]) for m in self.messages]


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpServer:
    def __init__(self):
        self.requests: list[HttpRequest] = []
        self.replies: dict[str, list[tuple[int, dict, bytes]]] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with server.lock:
                    server.requests.append(
                        HttpRequest(self.command, self.path, dict(self.headers.items()), body)
                    )
                    queued = server.replies.get(self.path.split("?")[0])
                    reply = queued.pop(0) if queued else None
                if reply is None:
                    sid = "SM" + hashlib.sha1(body).hexdigest()[:32]
                    reply = (201, {}, json.dumps({"sid": sid, "status": "queued"}).encode())
                status, headers, payload = reply
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_GET = _handle  # noqa: N815

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> HttpServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def on(self, path: str, *replies: tuple[int, dict, bytes]) -> None:
        self.replies.setdefault(path, []).extend(replies)

    def to(self, path: str) -> list[HttpRequest]:
        return [r for r in self.requests if r.path.split("?")[0] == path]


# --- the published file ---

QUEUE_DDL = """
create table marts.activation_queue (
    idempotency_key varchar, campaign_id varchar, campaign_name varchar, step_id varchar,
    action varchar, channel varchar, contact_id varchar, email varchar, mobile varchar,
    timezone varchar, payload_ref varchar, params json, due_at timestamp, queued_at timestamp
)"""

CONTACTS_DDL = """
create table marts.dim_contacts (
    contact_id varchar, email varchar, first_name varchar, last_name varchar,
    company_name varchar, mobile varchar, timezone varchar, preferred_locale varchar,
    custom_fields json, points hugeint, stage_name varchar,
    is_dnc_email boolean, dnc_email_reason varchar, is_dnc_sms boolean, dnc_sms_reason varchar,
    preferred_channel varchar
)"""


def contact(email_address: str, **fields) -> dict[str, Any]:
    base = {
        "contact_id": hashlib.md5(email_address.encode()).hexdigest(),
        "email": email_address,
        "first_name": None,
        "last_name": None,
        "company_name": None,
        "mobile": None,
        "timezone": "Europe/Berlin",
        "preferred_locale": "en",
        "custom_fields": None,
        "points": 0,
        "stage_name": None,
        "is_dnc_email": False,
        "dnc_email_reason": None,
        "is_dnc_sms": False,
        "dnc_sms_reason": None,
        "preferred_channel": "email",
    }
    return {**base, **fields}


def queue_row(
    person: dict[str, Any],
    action: str,
    payload_ref: str | None,
    due_at: datetime,
    *,
    campaign: str = "Welcome series",
    step: str = "s1",
    channel: str | None = None,
    params: dict | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    default_channel = {"send_email": "email", "send_sms": "sms", "call_webhook": "webhook"}
    return {
        "idempotency_key": key
        or hashlib.sha256(
            f"{campaign}|{step}|{person['contact_id']}|{due_at}".encode()
        ).hexdigest(),
        "campaign_id": campaign.lower().replace(" ", "-"),
        "campaign_name": campaign,
        "step_id": step,
        "action": action,
        "channel": channel or default_channel.get(action, "none"),
        "contact_id": person["contact_id"],
        "email": person["email"],
        "mobile": person.get("mobile"),
        "timezone": person.get("timezone"),
        "payload_ref": payload_ref,
        "params": json.dumps(params or {}),
        "due_at": due_at,
        "queued_at": due_at,
    }


def publish_queue(
    home: Home,
    rows: list[dict[str, Any]],
    contacts: list[dict[str, Any]],
    emails: list[tuple[str, str, str]] = (),
) -> Path:
    target = published_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".publish-{os.getpid()}.duckdb")
    staging.unlink(missing_ok=True)
    with duckdb.connect(str(staging)) as con:
        for schema in ("marts", "reports", "pipeline"):
            con.execute(f"create schema {schema}")
        con.execute(QUEUE_DDL)
        con.execute(CONTACTS_DDL)
        con.execute(
            "create table reports.rpt_email_performance "
            "(email_id varchar, email_name varchar, subject varchar)"
        )
        con.execute("create table pipeline.publish (published_at timestamp, run_id varchar)")
        con.execute("insert into pipeline.publish values (now()::timestamp, 'test')")
        for row in rows:
            con.execute(
                f"insert into marts.activation_queue values ({', '.join('?' * len(row))})",
                list(row.values()),
            )
        for person in contacts:
            columns = ", ".join(f"? as {k}" for k in person)
            con.execute(
                f"insert into marts.dim_contacts by name select {columns}", list(person.values())
            )
        for email_row in emails:
            con.execute("insert into reports.rpt_email_performance values (?, ?, ?)", email_row)
    os.replace(staging, target)
    return target
