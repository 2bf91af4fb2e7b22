"""What the collector writes: Segment-spec calls, one per line, mapped by ingest like any other
tracking source (``ingest.sources``). Browser hits (Mautic's pixel, ``/mtc/event``, forms,
downloads, email links, content and focus views) become the same calls, so
``landing/collector/`` holds one event shape.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CALL_TYPES = ("page", "screen", "track", "identify")
# Mautic's pixel and /mtc/event: query fields → page properties.
PAGE_FIELDS = {
    "page_url": "url",
    "page_title": "title",
    "page_referrer": "referrer",
    "page_language": "language",
}
UTM_FIELDS = {
    "utm_source": "source",
    "utm_medium": "medium",
    "utm_campaign": "name",
    "utm_term": "term",
    "utm_content": "content",
}
# Parameters about the request itself, never stored as contact fields.
META_FIELDS = {
    "anonymous_id",
    "mautic_device_id",
    "mtc_device_id",
    "mtc_id",
    "consent",
    "counter",
    "timezone_offset",
    "resolution",
    "platform",
    "do_not_track",
    "adblock",
    "fingerprint",
    "preferred_locale",
    "format",
}


class BadCall(ValueError):
    """A call the collector refuses; ``str()`` names the field and the reason."""


@dataclass(frozen=True)
class Visitor:
    """Who a request is about, and what of the request may be stored."""

    anonymous_id: str | None
    email: str | None = None
    ip: str | None = None  # already reduced by the privacy policy
    user_agent: str | None = None
    locale: str | None = None


def now_iso(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


def reduce_ip(ip: str | None, policy: str) -> str | None:
    """``none``: not stored; ``truncated``: IPv4 /24 and IPv6 /48, as analytics tools do."""
    if not ip or policy == "none":
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def context_of(visitor: Visitor, **extra: Any) -> dict[str, Any]:
    context = {
        "ip": visitor.ip,
        "userAgent": visitor.user_agent,
        "locale": visitor.locale,
        "traits": {"email": visitor.email} if visitor.email else None,
        **extra,
    }
    return {k: v for k, v in context.items() if v not in (None, {}, "")}


def make_call(
    call_type: str,
    visitor: Visitor,
    *,
    event: str | None = None,
    properties: Mapping[str, Any] | None = None,
    traits: Mapping[str, Any] | None = None,
    message_id: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A call made by the collector itself (timestamp: now)."""
    received = now_iso()
    call: dict[str, Any] = {
        "type": call_type,
        "messageId": message_id or new_id(),
        "timestamp": received,
        "receivedAt": received,
        "anonymousId": visitor.anonymous_id,
        "userId": visitor.email,
        "event": event,
        "properties": _clean(properties) if properties is not None else None,
        "traits": _clean(traits) if traits is not None else None,
        "context": {**context_of(visitor), **(context or {})} or None,
    }
    return {k: v for k, v in call.items() if v is not None}


def page_from_query(visitor: Visitor, query: Mapping[str, str]) -> list[dict[str, Any]]:
    """Mautic's tracking pixel / ``/mtc/event``: a page call, plus an identify when the hit
    names the contact (Mautic updates the contact from the pixel's contact fields)."""
    page = {name: query[key] for key, name in PAGE_FIELDS.items() if query.get(key)}
    campaign = {name: query[key] for key, name in UTM_FIELDS.items() if query.get(key)}
    calls = [
        make_call(
            "page",
            visitor,
            properties=page,
            context={"campaign": campaign} if campaign else None,
        )
    ]
    if visitor.email:
        known = {*PAGE_FIELDS, *UTM_FIELDS, *META_FIELDS}
        traits = {k: v for k, v in query.items() if k not in known and v}
        calls.append(make_call("identify", visitor, traits={**traits, "email": visitor.email}))
    return calls


def from_segment(
    raw: Any, received: datetime, visitor: Visitor, max_bytes: int, expected: str | None = None
) -> dict[str, Any]:
    """One Segment/RudderStack call as sent to ``/v1/*``, checked and normalised.

    The request's privacy policy replaces any ``context.ip`` the client sent; the timestamp is
    corrected for the client's clock skew with ``sentAt`` as Segment does."""
    if not isinstance(raw, dict):
        raise BadCall("a call must be a JSON object")
    call = dict(raw)
    call_type = call.get("type") or expected
    if call_type not in CALL_TYPES:
        raise BadCall(f"type: unsupported call type {call_type!r} (use {', '.join(CALL_TYPES)})")
    if expected and call_type != expected:
        raise BadCall(f"type: {call_type!r} sent to the /v1/{expected} endpoint")
    call["type"] = call_type
    for key in ("anonymousId", "userId", "messageId"):
        value = call.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            call[key] = str(value)
        elif value is not None and not isinstance(value, str):
            raise BadCall(f"{key}: must be a string")
    if not call.get("anonymousId") and not call.get("userId"):
        raise BadCall("anonymousId or userId is required")
    if call_type == "track" and not (isinstance(call.get("event"), str) and call["event"].strip()):
        raise BadCall("event: a track call needs an event name")
    for key in ("properties", "traits", "context"):
        if call.get(key) is not None and not isinstance(call[key], dict):
            raise BadCall(f"{key}: must be a JSON object")
    call["messageId"] = call.get("messageId") or new_id()
    call["timestamp"] = _corrected_timestamp(call, received)
    call["receivedAt"] = now_iso(received)
    context = dict(call.get("context") or {})
    context.pop("ip", None)
    if visitor.ip:
        context["ip"] = visitor.ip
    if context:
        call["context"] = context
    else:
        call.pop("context", None)
    size = len(json.dumps(call, ensure_ascii=False, separators=(",", ":")).encode())
    if size > max_bytes:
        raise BadCall(f"call is {size:,} bytes, more than the {max_bytes:,} allowed")
    return call


def _corrected_timestamp(call: Mapping[str, Any], received: datetime) -> str:
    timestamp = _parse_time(call, "timestamp") or _parse_time(call, "originalTimestamp")
    if timestamp is None:
        return now_iso(received)
    sent_at = _parse_time(call, "sentAt")
    if sent_at is not None:  # the client's clock may be off: keep its offsets, not its clock
        timestamp = received - (sent_at - timestamp)
    return now_iso(timestamp)


def _parse_time(call: Mapping[str, Any], key: str) -> datetime | None:
    value = call.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadCall(f"{key}: must be an ISO 8601 time text")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadCall(f"{key}: {value[:40]!r} is not an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}
