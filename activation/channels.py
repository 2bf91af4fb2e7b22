"""Channels: SMTP email, SMS over a Twilio-compatible HTTP API, signed webhooks.

Each send ends in one of four ways, which decide what the ledger records:

* it returns the provider's message id — ``sent``;
* ``Permanent`` — the provider refused this message (SMTP 5xx reply, HTTP 4xx): ``failed``,
  never retried;
* ``Transient`` — the provider did not take it and said so or could not be reached (SMTP 4xx,
  connection refused, HTTP 429/5xx): retried with exponential backoff (tenacity, honouring
  ``Retry-After``), then ``deferred`` to the next run; ``scope`` marks errors that concern the
  whole channel (cannot connect) so the rest of the run does not wait on it again;
* ``Ambiguous`` — the connection broke after the message was handed over: the provider may
  have it. Email and SMS record ``unknown`` and are not re-sent (see ``ledger``); webhooks,
  whose receivers deduplicate on ``X-Funnelhouse-Delivery``, retry.

``ChannelDown`` (not configured, login refused, bad certificate) stops a channel for the run:
its messages wait as ``deferred``.

Secrets (SMTP password, SMS token, webhook key) are read with ``get_secret_value()`` only at
the call that needs them and never appear in a reason, a log line or a report.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from activation.settings import ActivationSettings

T = TypeVar("T")
SIGNATURE_HEADER = "X-Funnelhouse-Signature"
DELIVERY_HEADER = "X-Funnelhouse-Delivery"
USER_AGENT = "funnelhouse-activation/0.1"


class SendError(Exception):
    def __init__(self, reason: str, *, scope: str | None = None, retry_after: float = 0):
        super().__init__(reason)
        self.reason = reason
        self.scope = scope  # set: the error concerns every message of this channel/endpoint
        self.retry_after = retry_after


class Transient(SendError):
    pass


class Permanent(SendError):
    pass


class Ambiguous(SendError):
    pass


class ChannelDown(SendError):
    pass


def with_retries(
    settings: ActivationSettings,
    send: Callable[[], T],
    *,
    retry_ambiguous: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """Call ``send`` until it returns or fails for good; returns (result, attempts). The last
    error is raised with ``attempts`` set on it."""
    attempts = 0

    def counted() -> T:
        nonlocal attempts
        attempts += 1
        try:
            return send()
        except Ambiguous as error:
            if retry_ambiguous:
                raise Transient(error.reason) from error
            raise

    def backoff(state: RetryCallState) -> float:
        base = settings.send_retry_initial_seconds * 2 ** (state.attempt_number - 1)
        error = state.outcome.exception() if state.outcome else None
        hinted = getattr(error, "retry_after", 0) or 0
        return min(settings.send_retry_max_seconds, max(base, hinted))

    retrying = Retrying(
        stop=stop_after_attempt(settings.send_retry_attempts),
        wait=backoff,
        retry=retry_if_exception_type(Transient),
        reraise=True,
        sleep=sleep,
    )
    try:
        return retrying(counted), attempts
    except SendError as error:
        error.attempts = attempts
        raise


class RateLimiter:
    """At most ``rate`` calls per second (0: unlimited), spaced evenly."""

    def __init__(self, rate: float, sleep: Callable[[float], None] = time.sleep):
        self.interval = 1 / rate if rate > 0 else 0.0
        self.next_at = 0.0
        self.sleep = sleep
        self._lock = threading.Lock()  # shared by the sender threads

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            if self.next_at > now:
                self.sleep(self.next_at - now)
                now = self.next_at
            self.next_at = now + self.interval


# --- email over SMTP -------------------------------------------------------------------------


def _smtp_error(code: int, reply: bytes | str, what: str) -> SendError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = f"SMTP {what} refused: {code} {' '.join(text.split())}"[:300]
    if 400 <= code < 500:
        return Transient(reason)
    return Permanent(reason)


class SmtpChannel:
    """One SMTP connection reused across a batch (``smtp_reuse_connection``), reopened after
    ``smtp_messages_per_connection`` messages or an error."""

    scope = "email"

    def __init__(self, settings: ActivationSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._sent_on_connection = 0
        self.connections = 0

    # connection

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.smtp_tls == "ssl":
                smtp = smtplib.SMTP_SSL(
                    s.smtp_host,
                    s.smtp_port,
                    timeout=s.smtp_timeout_seconds,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            smtp.ehlo()
            if s.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_user:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_user, password)
        except smtplib.SMTPAuthenticationError as error:
            raise ChannelDown(
                f"SMTP login refused for user {s.smtp_user!r} ({error.smtp_code})", scope="email"
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise ChannelDown(f"SMTP server does not support it: {error}", scope="email") from None
        except ssl.SSLCertVerificationError as error:
            raise ChannelDown(f"SMTP TLS certificate rejected: {error}", scope="email") from None
        except smtplib.SMTPResponseException as error:
            failure = _smtp_error(error.smtp_code, error.smtp_error, "connection")
            failure.scope = "email"
            raise failure from None
        except (OSError, smtplib.SMTPException) as error:
            raise Transient(
                f"cannot connect to SMTP server {s.smtp_host}:{s.smtp_port}: {error}",
                scope="email",
            ) from None
        self.connections += 1
        self._sent_on_connection = 0
        return smtp

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _reset(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    # sending

    def send(self, data: bytes, message_id: str, envelope_from: str, to: str) -> str:
        """Hand one message (``dot_stuffed`` bytes) to the server; returns its Message-ID."""
        smtp = self._connection()
        try:
            code, reply = smtp.mail(envelope_from)
            if code != 250:
                self._reset(smtp)
                raise _smtp_error(code, reply, "MAIL FROM")
            code, reply = smtp.rcpt(to)
            if code not in (250, 251):
                self._reset(smtp)
                raise _smtp_error(code, reply, "RCPT TO")
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._reset(smtp)
                raise _smtp_error(code, reply, "DATA")
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise Transient(f"SMTP connection lost before the message was sent: {error}") from None
        # From here on the server has (part of) the message: a lost connection is ambiguous.
        try:
            smtp.send(data)
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self._drop()
            raise Ambiguous(
                f"SMTP connection lost after the message was handed over ({error}): "
                "the server may have accepted it"
            ) from None
        if code != 250:
            failure = _smtp_error(code, reply, "message")
            if isinstance(failure, Transient):
                self._drop()
            raise failure
        self._sent_on_connection += 1
        if (
            not self.settings.smtp_reuse_connection
            or self._sent_on_connection >= self.settings.smtp_messages_per_connection
        ):
            self.close()
        return message_id


_LEADING_DOT = re.compile(rb"(?m)^\.")


def dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: lines starting with a dot doubled, CRLF ends, the final dot line."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


# --- HTTP (SMS and webhooks) -----------------------------------------------------------------


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after")
    if not value:
        return 0
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return 0


def _http_send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    scope: str,
    auth_is_ours: bool,
    **kwargs: Any,
) -> httpx.Response:
    try:
        response = client.request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        raise Transient(f"cannot connect to {_origin(url)}: {error}", scope=scope) from None
    except httpx.TransportError as error:
        raise Ambiguous(
            f"{type(error).__name__} after the request to {_origin(url)} was sent: {error}"
        ) from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise Transient(
            f"HTTP {status} from {_origin(url)}: {_snippet(response)}",
            retry_after=_retry_after(response),
        )
    if status in (401, 403) and auth_is_ours:
        raise ChannelDown(f"HTTP {status} from {_origin(url)}: credentials refused", scope=scope)
    if status >= 400:
        raise Permanent(f"HTTP {status} from {_origin(url)}: {_snippet(response)}")
    return response


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


def _snippet(response: httpx.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict):
            text = body.get("message") or body.get("error") or json.dumps(body)
        else:
            text = json.dumps(body)
    except ValueError:
        text = response.text
    return " ".join(str(text).split())[:200]


class SmsChannel:
    """Twilio-compatible: ``POST {url}/Accounts/{account}/Messages.json`` with a form body
    (To, From, Body) and basic auth (account, token); the JSON answer's ``sid`` is the id."""

    scope = "sms"

    def __init__(self, settings: ActivationSettings):
        self.settings = settings
        self.base_url = (settings.sms_url or "").rstrip("/")
        self.client = httpx.Client(
            auth=(
                settings.sms_account or "",
                settings.sms_token.get_secret_value() if settings.sms_token else "",
            ),
            timeout=settings.http_timeout_seconds,
            headers={"User-Agent": USER_AGENT},
        )

    def send(self, to: str, body: str) -> str:
        account = self.settings.sms_account
        response = _http_send(
            self.client,
            "POST",
            f"{self.base_url}/Accounts/{account}/Messages.json",
            scope="sms",
            auth_is_ours=True,
            data={"To": to, "From": self.settings.sms_from, "Body": body},
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if isinstance(answer, dict) and answer.get("status") in ("failed", "undelivered"):
            raise Permanent(f"SMS provider: {answer.get('error_message') or answer['status']}")
        sid = answer.get("sid") if isinstance(answer, dict) else None
        return str(sid or response.headers.get("x-request-id") or f"HTTP {response.status_code}")

    def close(self) -> None:
        self.client.close()


def webhook_signature(secret: str | bytes, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact request body with the webhook secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_webhook_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """What a receiver checks (constant-time)."""
    return bool(header) and hmac.compare_digest(webhook_signature(secret, body), header)


class WebhookChannel:
    """JSON POST (or the step's ``method``) with ``X-Funnelhouse-Signature`` over the body and
    the idempotency key in ``X-Funnelhouse-Delivery``."""

    scope = "webhook"

    def __init__(self, settings: ActivationSettings):
        self.settings = settings
        self.client = httpx.Client(
            timeout=settings.http_timeout_seconds, headers={"User-Agent": USER_AGENT}
        )

    def url_for(self, name: str | None, params: dict[str, Any]) -> str:
        url = params.get("url") or (self.settings.webhook_urls.get(name or "") if name else None)
        if not url:
            raise Permanent(
                f"no URL for webhook {name!r}: give the step a url or set it in "
                "FUNNELHOUSE_WEBHOOK_URLS"
            )
        return str(url)

    def send(self, url: str, payload: dict[str, Any], key: str, method: str = "POST") -> str:
        body = json.dumps(payload, default=str, separators=(",", ":"), sort_keys=True).encode()
        secret = self.settings.webhook_secret.get_secret_value()
        response = _http_send(
            self.client,
            method.upper(),
            url,
            scope=f"webhook {_origin(url)}",
            auth_is_ours=False,
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: webhook_signature(secret, body),
                DELIVERY_HEADER: key,
            },
        )
        return f"HTTP {response.status_code}"

    def close(self) -> None:
        self.client.close()
