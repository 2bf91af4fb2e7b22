"""Signed tokens in tracking links: unsubscribe, open pixel and click redirects.

A token is ``<payload>.<signature>``, both base64url without padding: the payload is compact
JSON ``{"p": purpose, "k": idempotency key, "c": contact key (email), "e": email id}`` (a click
token adds ``"h"``, a hash of the target URL, so the collector is no open redirect), the
signature the first 16 bytes of HMAC-SHA256 over the payload with
``FUNNELHOUSE_UNSUBSCRIBE_SECRET``. The collector (``GET /unsubscribe/<token>``,
``GET /email/open/<token>.gif``, ``GET /email/click/<token>?url=…``) verifies a token with
``verify_unsubscribe_token`` / ``verify_token`` and the same secret, and learns from it which
contact and email the request is about without any lookup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from pydantic import SecretStr

PURPOSES = {"unsubscribe": "u", "open": "o", "click": "c"}
_SIGNATURE_BYTES = 16


@dataclass(frozen=True)
class TokenClaim:
    purpose: str  # unsubscribe | open | click
    idempotency_key: str
    contact_key: str
    email_id: str | None


def sign_token(
    secret: SecretStr | str,
    purpose: str,
    idempotency_key: str,
    contact_key: str,
    email_id: str | None,
    url: str | None = None,
) -> str:
    payload = {"p": PURPOSES[purpose], "k": idempotency_key, "c": contact_key, "e": email_id}
    if purpose == "click":
        payload["h"] = _url_hash(url or "")
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(_mac(secret, body))}"


def verify_token(
    token: str, secret: SecretStr | str, purpose: str, url: str | None = None
) -> TokenClaim | None:
    """The token's claim when its signature holds and it was made for ``purpose`` (and, for a
    click, for ``url``); ``None`` otherwise. Never raises on malformed input."""
    try:
        body, signature = token.strip().split(".")
        if not hmac.compare_digest(_unb64(signature), _mac(secret, body)):
            return None
        payload = json.loads(_unb64(body))
        if payload.get("p") != PURPOSES[purpose]:
            return None
        if purpose == "click" and payload.get("h") != _url_hash(url or ""):
            return None
        return TokenClaim(purpose, str(payload["k"]), str(payload["c"]), payload.get("e"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def verify_unsubscribe_token(token: str, secret: SecretStr | str) -> TokenClaim | None:
    """What the collector's ``GET /unsubscribe/<token>`` checks before recording an
    ``email_unsubscribe`` event for ``claim.contact_key``."""
    return verify_token(token, secret, "unsubscribe")


def _secret_bytes(secret: SecretStr | str) -> bytes:
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not value:
        raise ValueError("an empty secret signs nothing")
    return value.encode()


def _mac(secret: SecretStr | str, body: str) -> bytes:
    return hmac.new(_secret_bytes(secret), body.encode(), hashlib.sha256).digest()[
        :_SIGNATURE_BYTES
    ]


def _url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
