"""Collector settings, from ``FUNNELHOUSE_*`` variables (``FUNNELHOUSE_COLLECTOR_PORT`` …)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from ingest.env import EnvSettings


class CollectorSettings(EnvSettings):
    model_config = ConfigDict(frozen=True, extra="forbid")

    collector_host: str = Field("127.0.0.1", description="Interface to listen on.")
    collector_port: int = Field(8600, ge=0, le=65535, description="Port to listen on.")
    collector_public_url: str | None = Field(
        None,
        description="URL sites reach the collector at (in /mtc.js and redirects); default: "
        "the URL of the request.",
    )

    # --- durability: batch files under landing/collector/ ---
    collector_batch_max_events: int = Field(
        5_000, ge=1, description="Close a batch file after this many events."
    )
    collector_batch_max_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Close a batch file once it is this large."
    )
    collector_flush_seconds: float = Field(
        10, gt=0, description="Close a batch file this long after its first event."
    )

    # --- limits ---
    collector_max_body_bytes: int = Field(
        512 * 1024, ge=1024, description="Largest request body (Segment's batch limit)."
    )
    collector_max_event_bytes: int = Field(
        32 * 1024, ge=256, description="Largest single event (Segment's message limit)."
    )

    # --- privacy ---
    collector_store_ip: Literal["none", "truncated"] = Field(
        "none",
        description="none: the IP address is not stored; truncated: IPv4 /24, IPv6 /48.",
    )
    collector_honour_dnt: bool = Field(
        True,
        description="Do not record tracking (page views, track calls, views, downloads) from "
        "a browser that sends DNT: 1 or Sec-GPC: 1. Forms and unsubscribes are always kept.",
    )
    collector_require_consent: bool = Field(
        False,
        description="Record tracking only with consent: the fh_consent=1 cookie, consent=1 in "
        "the query, or context.consent true in a call.",
    )
    collector_write_key: SecretStr | None = Field(
        None,
        description="When set, /v1/* calls must carry it as HTTP Basic user (Segment's write "
        "key); the browser endpoints stay open.",
    )
    collector_cors_origins: list[str] = Field(
        default_factory=lambda: ["*"], description="Origins allowed to call the collector."
    )
    unsubscribe_secret: SecretStr | None = Field(
        None,
        description="Key that activation signs open, click and unsubscribe tokens with; "
        "without it those links answer 404.",
    )

    @field_validator("collector_cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
