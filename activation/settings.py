"""Activation settings: channels, send policy and tracking, from ``FUNNELHOUSE_*`` variables.

Same style as ``pipelines.settings``: one frozen pydantic model, each field read from
``FUNNELHOUSE_<FIELD>`` (``FUNNELHOUSE_SMTP_HOST`` → ``smtp_host``) or its default. Secrets are
``SecretStr``: they print as ``**********`` in reprs, logs and Dagster's resource config, and
only the channel that needs one reads its value. Nothing here is hard-coded to a provider:
a channel without its settings is reported as not configured and its messages wait.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from ingest.env import EnvSettings, SettingsError, variable

__all__ = ["ActivationSettings", "SettingsError", "variable"]


class ActivationSettings(EnvSettings):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- email over SMTP ---
    smtp_host: str | None = Field(None, description="SMTP server host; unset: email waits.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str | None = Field(None, description="SMTP login (none: no AUTH).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (upgrade after connect), ssl (implicit TLS), none."
    )
    smtp_from: str | None = Field(
        None,
        description="Envelope sender and default From (an email's catalog from_address, when "
        "present, is the From header).",
    )
    smtp_timeout_seconds: float = Field(30, gt=0, description="Socket timeout per SMTP command.")
    smtp_reuse_connection: bool = Field(
        True, description="Send a batch over one SMTP connection (false: one per message)."
    )
    smtp_messages_per_connection: int = Field(
        200, ge=1, description="Reconnect after this many messages on one connection."
    )
    smtp_connections: int = Field(
        2,
        ge=1,
        description="SMTP connections sending at once (one thread each: while one waits for "
        "the server's reply, another sends).",
    )

    email_compose_workers: int = Field(
        2,
        ge=0,
        description="Worker processes composing emails (render, MIME) ahead of the sending "
        "run, when it has at least email_compose_ahead_from emails to send (0: all inline).",
    )
    email_compose_ahead_from: int = Field(
        500,
        ge=1,
        description="Emails a run must have due before it starts composing workers (starting "
        "them costs about a second).",
    )

    # --- SMS over a Twilio-compatible HTTP API ---
    sms_url: str | None = Field(
        None, description="API base URL; messages go to {url}/Accounts/{account}/Messages.json."
    )
    sms_account: str | None = Field(None, description="Account SID (basic-auth user).")
    sms_token: SecretStr | None = Field(None, description="Auth token (basic-auth password).")
    sms_from: str | None = Field(None, description="Sender number or id (From).")

    # --- webhooks ---
    webhook_secret: SecretStr | None = Field(
        None, description="Key of the X-Funnelhouse-Signature HMAC-SHA256 over the body."
    )
    webhook_urls: dict[str, str] = Field(
        default_factory=dict,
        description='JSON object: webhook name → URL (a step\'s params may give "url" instead).',
    )
    http_timeout_seconds: float = Field(15, gt=0, description="Timeout of SMS and webhook calls.")

    # --- tracking (the collector of a later issue) ---
    tracking_url: str | None = Field(
        None,
        description="Base URL of the tracking collector: open pixel, click redirects and "
        "unsubscribe links point at it. Required to send email.",
    )
    unsubscribe_secret: SecretStr | None = Field(
        None,
        description="Key that signs unsubscribe, open and click tokens (HMAC-SHA256). Required "
        "to send email; the collector verifies tokens with the same key.",
    )

    # --- send policy ---
    email_cap_per_day: int = Field(3, ge=0, description="Emails per contact per 24 h (0: no cap).")
    email_cap_per_week: int = Field(
        10, ge=0, description="Emails per contact per 7 days (0: none)."
    )
    sms_cap_per_day: int = Field(1, ge=0, description="SMS per contact per 24 h (0: no cap).")
    sms_cap_per_week: int = Field(3, ge=0, description="SMS per contact per 7 days (0: no cap).")
    email_rate_per_second: float = Field(
        0, ge=0, description="At most this many emails per second (0: as fast as the server)."
    )
    sms_rate_per_second: float = Field(5, ge=0, description="SMS per second (0: no limit).")
    webhook_rate_per_second: float = Field(20, ge=0, description="Webhook calls per second.")
    send_retry_attempts: int = Field(
        4, ge=1, description="Attempts per message for transient errors (1: no retry)."
    )
    send_retry_initial_seconds: float = Field(
        0.5, ge=0, description="First backoff; doubles each time."
    )
    send_retry_max_seconds: float = Field(30, ge=0, description="Longest single backoff.")
    send_give_up_after_hours: float = Field(
        48,
        gt=0,
        description="A message deferred (channel down, frequency cap) for longer than this "
        "after it was due is recorded as failed instead of waiting for another run.",
    )
    activation_max_actions: int = Field(
        0, ge=0, description="Execute at most this many queue rows per run (0: all that are due)."
    )
    activation_batch_size: int = Field(
        100,
        ge=1,
        description="Messages per ledger transaction: a batch's claims are committed before "
        "any of its messages is sent, its outcomes after (1: a commit per message).",
    )
    activation_lock_timeout_seconds: float = Field(
        600, ge=0, description="How long a run waits for another activation run to finish."
    )
    catalog_lock_timeout_seconds: float = Field(
        5,
        ge=0,
        description="How long to wait for the warehouse lock to read the email/SMS catalogs "
        "(busy: the published reports and the templates are used).",
    )

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _json_object(cls, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ValueError(f"not a JSON object of name → URL: {error}") from None
        return value

    @field_validator("smtp_tls", mode="before")
    @classmethod
    def _tls_words(cls, value):
        if isinstance(value, str):
            word = value.strip().lower()
            return {"true": "starttls", "1": "starttls", "false": "none", "0": "none"}.get(
                word, word
            )
        return value

    # --- what each channel needs ---

    def email_missing(self) -> list[str]:
        """Variables the email channel needs and lacks (empty: ready)."""
        needed = {
            "smtp_host": self.smtp_host,
            "smtp_from": self.smtp_from,
            "tracking_url": self.tracking_url,
            "unsubscribe_secret": self.unsubscribe_secret,
        }
        return [variable(name) for name, value in needed.items() if not value]

    def sms_missing(self) -> list[str]:
        needed = {
            "sms_url": self.sms_url,
            "sms_account": self.sms_account,
            "sms_token": self.sms_token,
            "sms_from": self.sms_from,
        }
        return [variable(name) for name, value in needed.items() if not value]

    def webhook_missing(self) -> list[str]:
        return [] if self.webhook_secret else [variable("webhook_secret")]
