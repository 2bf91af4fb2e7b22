"""The tracking collector: the front door websites, email clients and Segment-compatible
libraries send to. Every accepted event goes to the spool (``landing/collector/``) before the
request is answered; ingest loads the closed batch files like any other landing file.

Refusals are 4xx answers with a reason (``{"error": …}``), counted per reason in
``/collector/stats``; nothing a client sends can crash the server.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from activation.tokens import verify_token
from ingest.collector.calls import (
    META_FIELDS,
    BadCall,
    Visitor,
    from_segment,
    make_call,
    new_id,
    page_from_query,
    reduce_ip,
)
from ingest.collector.personalise import Published
from ingest.collector.settings import CollectorSettings
from ingest.collector.spool import Spool
from ingest.fields import email_address
from ingest.home import Home
from pipelines.publish import published_path

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
ID_COOKIE = "fh_aid"
CONSENT_COOKIE = "fh_consent"
ID_PARAMS = ("anonymous_id", "mautic_device_id", "mtc_device_id")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
NO_STORE = {"Cache-Control": "no-store, max-age=0"}
COOKIE_SECONDS = 2 * 365 * 24 * 3600
# Form fields about the submission itself, not the contact.
FORM_META = {"formid", "formname", "return", "redirect", "messenger", "submit", *META_FIELDS}


class Refused(HTTPException):
    """A request the collector will not take; ``kind`` is its counter in the stats."""

    def __init__(self, status: int, reason: str, kind: str):
        super().__init__(status, reason)
        self.kind = kind


@dataclass
class Counters:
    accepted_events: int = 0
    refused: Counter = field(default_factory=Counter)  # per reason kind
    not_recorded: Counter = field(default_factory=Counter)  # dnt | no_consent


class Collector:
    def __init__(self, home: Home, settings: CollectorSettings):
        self.settings = settings
        self.spool = Spool(
            home.landing / "collector",
            settings.collector_batch_max_events,
            settings.collector_batch_max_bytes,
            settings.collector_flush_seconds,
        )
        self.published = Published(published_path(home))
        self.counters = Counters()

    def visitor(self, request: Request, values: Mapping[str, str] | None = None) -> Visitor:
        values = values or {}
        given = next((values[k] for k in ID_PARAMS if values.get(k)), None)
        anonymous_id = given or request.cookies.get(ID_COOKIE)
        if anonymous_id is not None and not ID_PATTERN.match(anonymous_id):
            raise Refused(400, "anonymous_id: 1–128 letters, digits or _.:-", "bad_id")
        email = None
        if values.get("email"):
            email = email_address(values["email"])
            if email is None:
                raise Refused(422, f"email: {values['email'][:80]!r} is not an email", "bad_email")
        return Visitor(
            anonymous_id=anonymous_id,
            email=email,
            ip=reduce_ip(
                request.client.host if request.client else None, self.settings.collector_store_ip
            ),
            user_agent=request.headers.get("user-agent"),
            locale=(request.headers.get("accept-language") or "").split(",")[0] or None,
        )

    def may_track(self, request: Request, consent: bool = False) -> bool:
        """Whether tracking (not forms or unsubscribes) may be recorded for this request."""
        if self.settings.collector_honour_dnt and (
            request.headers.get("dnt") == "1" or request.headers.get("sec-gpc") == "1"
        ):
            self.counters.not_recorded["dnt"] += 1
            return False
        if self.settings.collector_require_consent and not (
            consent
            or request.cookies.get(CONSENT_COOKIE) == "1"
            or request.query_params.get("consent") == "1"
        ):
            self.counters.not_recorded["no_consent"] += 1
            return False
        return True

    def record(self, calls: list[dict[str, Any]]) -> None:
        self.counters.accepted_events += self.spool.append(calls)
        for call in calls:
            if call["type"] == "identify" or call.get("event") == "Form Submitted":
                self.published.remember(call.get("anonymousId"), _email_of(call))

    def base_url(self, request: Request) -> str:
        return (self.settings.collector_public_url or str(request.base_url)).rstrip("/")


def _email_of(call: Mapping[str, Any]) -> str | None:
    for part in (call.get("traits"), (call.get("context") or {}).get("traits")):
        if isinstance(part, dict) and isinstance(part.get("email"), str):
            return email_address(part["email"])
    return None


def _collector(request: Request) -> Collector:
    return request.app.state.collector


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"body of {int(declared):,} bytes; the limit is {limit:,}", "too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body larger than the {limit:,} bytes allowed", "too_large")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette re-reads a consumed body from here (form parsing)
    return body


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8 text", "bad_json") from None
    except json.JSONDecodeError as error:
        raise Refused(
            400,
            f"body is not JSON: {error.msg} (line {error.lineno}, column {error.colno})",
            "bad_json",
        ) from None


async def _fields(request: Request) -> dict[str, str]:
    """Query, then a form or JSON body: single text values by name (Mautic's
    ``mauticform[email]`` is ``email``)."""
    values = dict(request.query_params)
    if request.method == "POST":
        body = await _body(request, _collector(request).settings.collector_max_body_bytes)
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            form = await request.form(max_files=0)
            pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        elif content_type.startswith("application/json"):
            data = _json(body)
            if not isinstance(data, dict):
                raise Refused(400, "body must be a JSON object of fields", "bad_json")
            pairs = [(k, "" if v is None else str(v)) for k, v in data.items()]
        else:
            try:
                pairs = parse_qsl(body.decode(), keep_blank_values=True)
            except UnicodeDecodeError:
                raise Refused(400, "form body is not UTF-8 text", "bad_form") from None
        for key, value in pairs:
            values[_field_name(key)] = value
    return values


def _field_name(key: str) -> str:
    match = re.fullmatch(r"mauticform\[(.+)\]", key)
    return (match.group(1) if match else key).strip().lower()


def _with_id_cookie(response: Response, request: Request, visitor: Visitor) -> Response:
    if visitor.anonymous_id and request.cookies.get(ID_COOKIE) != visitor.anonymous_id:
        response.set_cookie(
            ID_COOKIE, visitor.anonymous_id, max_age=COOKIE_SECONDS, httponly=True, samesite="lax"
        )
    return response


def _new_visitor(collector: Collector, request: Request, values: Mapping[str, str]) -> Visitor:
    visitor = collector.visitor(request, values)
    if visitor.anonymous_id is None:
        visitor = replace(visitor, anonymous_id=new_id())
    return visitor


# --- Mautic-compatible tracking ------------------------------------------------------------


async def tracking_pixel(request: Request) -> Response:
    collector = _collector(request)
    values = dict(request.query_params)
    visitor = _new_visitor(collector, request, values)
    if collector.may_track(request):
        collector.record(page_from_query(visitor, values))
    response = Response(GIF, media_type="image/gif", headers=NO_STORE)
    return _with_id_cookie(response, request, visitor)


async def mtc_event(request: Request) -> Response:
    collector = _collector(request)
    values = await _fields(request)
    visitor = _new_visitor(collector, request, values)
    if collector.may_track(request, consent=values.get("consent") == "1"):
        collector.record(page_from_query(visitor, values))
    response = JSONResponse(
        {"success": 1, "id": None, "sid": None, "device_id": visitor.anonymous_id},
        headers=NO_STORE,
    )
    return _with_id_cookie(response, request, visitor)


async def tracking_script(request: Request) -> Response:
    script = resources.files("ingest.collector").joinpath("static/mtc.js").read_text()
    script = script.replace("__COLLECTOR_URL__", _collector(request).base_url(request))
    return Response(
        script, media_type="application/javascript", headers={"Cache-Control": "max-age=300"}
    )


# --- Segment / RudderStack HTTP API ---------------------------------------------------------


def _segment_endpoint(expected: str | None):
    async def endpoint(request: Request) -> Response:
        collector = _collector(request)
        settings = collector.settings
        data = _json(await _body(request, settings.collector_max_body_bytes))
        if not isinstance(data, dict):
            raise Refused(400, "body must be a JSON object", "bad_json")
        _check_write_key(request, settings, data)
        raw_calls = data.get("batch") if expected is None else [data]
        if not isinstance(raw_calls, list):
            raise Refused(400, "batch: must be a list of calls", "bad_call")
        received = datetime.now(UTC)
        visitor = collector.visitor(request)
        shared_context = data.get("context") if expected is None else None
        calls = []
        for index, raw in enumerate(raw_calls):
            if isinstance(shared_context, dict) and isinstance(raw, dict):
                raw = {**raw, "context": {**shared_context, **(raw.get("context") or {})}}
            try:
                call = from_segment(
                    raw, received, visitor, settings.collector_max_event_bytes, expected
                )
            except BadCall as error:
                where = f"batch[{index}]." if expected is None else ""
                raise Refused(400, f"{where}{error}; nothing was accepted", "bad_call") from None
            calls.append(call)
        consented = all((c.get("context") or {}).get("consent") is True for c in calls)
        if calls and collector.may_track(request, consent=consented):
            collector.record(calls)
        return JSONResponse({"success": True})

    return endpoint


def _check_write_key(request: Request, settings: CollectorSettings, data: dict) -> None:
    if settings.collector_write_key is None:
        return
    expected = settings.collector_write_key.get_secret_value()
    given = data.pop("writeKey", None)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        with contextlib.suppress(ValueError):
            given = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
    if given != expected:
        raise Refused(401, "a valid write key is required (HTTP Basic user)", "bad_write_key")


# --- forms and assets -----------------------------------------------------------------------


async def form_submit(request: Request) -> Response:
    collector = _collector(request)
    form_id = _path_id(request, "form_id")
    values = await _fields(request)
    visitor = collector.visitor(request, values)
    form_fields = {k: v for k, v in values.items() if k not in FORM_META}
    referrer = request.headers.get("referer")
    properties = {"form_id": form_id, "fields": form_fields, "url": referrer}
    calls = [make_call("track", visitor, event="Form Submitted", properties=properties)]
    if visitor.email:
        traits = {k: v for k, v in form_fields.items() if v}
        calls.append(make_call("identify", visitor, traits={**traits, "email": visitor.email}))
    elif visitor.anonymous_id is None:
        raise Refused(422, "email: a form without an email needs the visitor's id", "bad_form")
    collector.record(calls)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"success": True, "form_id": form_id})
    target = values.get("return") or values.get("redirect") or referrer
    if target and referrer and _same_origin(target, referrer):
        return RedirectResponse(target, status_code=303)
    return HTMLResponse("<!doctype html><title>Thank you</title><p>Thank you!</p>")


def _same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return a.scheme in ("http", "https") and (a.scheme, a.netloc) == (b.scheme, b.netloc)


async def asset_download(request: Request) -> Response:
    collector = _collector(request)
    asset_id = _path_id(request, "asset_id")
    asset = collector.published.asset(asset_id)
    if asset is None or not asset.get("url"):
        raise Refused(404, f"unknown asset {asset_id!r}", "unknown_asset")
    visitor = _new_visitor(collector, request, dict(request.query_params))
    if collector.may_track(request):
        properties = {
            "asset_id": asset_id,
            "asset_url": asset["url"],
            "url": request.headers.get("referer"),
        }
        collector.record(
            [make_call("track", visitor, event="Asset Downloaded", properties=properties)]
        )
    response = RedirectResponse(asset["url"], status_code=302, headers=NO_STORE)
    return _with_id_cookie(response, request, visitor)


def _path_id(request: Request, name: str) -> str:
    value = request.path_params[name]
    if not ID_PATTERN.match(value):
        raise Refused(400, f"{name}: 1–128 letters, digits or _.:-", "bad_id")
    return value


# --- email links (tokens signed by activation) ----------------------------------------------


def _claim(request: Request, purpose: str, url: str | None = None):
    secret = _collector(request).settings.unsubscribe_secret
    token = request.path_params["token"]
    claim = verify_token(token, secret, purpose, url) if secret else None
    if claim is None:
        raise Refused(404, "this link is not valid", "bad_token")
    return claim


def _email_call(request: Request, claim, event: str, extra: Mapping[str, Any] | None = None):
    collector = _collector(request)
    visitor = replace(collector.visitor(request), email=claim.contact_key)
    properties = {"email_id": claim.email_id, "idempotency_key": claim.idempotency_key}
    # an unsubscribe counts once per message, however often its link is followed
    message_id = f"unsub:{claim.idempotency_key}" if event == "Email Unsubscribed" else None
    return make_call(
        "track",
        visitor,
        event=event,
        properties={**properties, **(extra or {})},
        message_id=message_id,
    )


async def email_open(request: Request) -> Response:
    try:
        claim = _claim(request, "open")
    except Refused as refused:
        _collector(request).counters.refused[refused.kind] += 1
        return Response(GIF, status_code=404, media_type="image/gif", headers=NO_STORE)
    _collector(request).record([_email_call(request, claim, "Email Opened")])
    return Response(GIF, media_type="image/gif", headers=NO_STORE)


async def email_click(request: Request) -> Response:
    url = request.query_params.get("url", "")
    claim = _claim(request, "click", url)
    click = _email_call(request, claim, "Email Link Clicked", {"link_url": url})
    _collector(request).record([click])
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


async def unsubscribe(request: Request) -> Response:
    """GET (the link in the footer) and POST (RFC 8058 one-click from the mail client) both
    unsubscribe at once, as Mautic does; the event sets the contact's email DNC."""
    claim = _claim(request, "unsubscribe")
    _collector(request).record([_email_call(request, claim, "Email Unsubscribed")])
    if request.method == "POST":
        return JSONResponse({"success": True})
    address = html.escape(claim.contact_key)
    return HTMLResponse(
        "<!doctype html><title>Unsubscribed</title>"
        f"<p>{address} will receive no more emails from us.</p>"
    )


# --- personalisation ------------------------------------------------------------------------


def _known_visitor(request: Request) -> Visitor:
    collector = _collector(request)
    visitor = collector.visitor(request, dict(request.query_params))
    if visitor.email is None:
        visitor = replace(visitor, email=collector.published.email_of(visitor.anonymous_id))
    return visitor


def _viewed(request: Request, visitor: Visitor, event: str, properties: dict[str, Any]) -> None:
    collector = _collector(request)
    if (visitor.anonymous_id or visitor.email) and collector.may_track(request):
        collector.record([make_call("track", visitor, event=event, properties=properties)])


async def dynamic_content(request: Request) -> Response:
    collector = _collector(request)
    slot = request.path_params["slot"]
    visitor = _known_visitor(request)
    item = collector.published.assignment("dynamic_content", slot, visitor.email)
    if item is None:
        raise Refused(404, f"no content for slot {slot!r}", "unknown_slot")
    _viewed(
        request,
        visitor,
        "Dynamic Content Viewed",
        {"dynamic_content_id": item["item_id"], "slot": slot, "variant": item.get("variant")},
    )
    if request.query_params.get("format") == "html":
        return HTMLResponse(item.get("content") or "", headers=NO_STORE)
    return JSONResponse(
        {
            "slot": slot,
            "dynamic_content_id": item["item_id"],
            "name": item.get("item_name"),
            "variant": item.get("variant"),
            "content": item.get("content"),
            "rule_id": item.get("rule_id"),
        },
        headers=NO_STORE,
    )


async def focus(request: Request) -> Response:
    collector = _collector(request)
    placement = request.query_params.get("placement", "site")
    visitor = _known_visitor(request)
    item = collector.published.assignment("focus", placement, visitor.email)
    if item is None:
        return Response(status_code=204, headers=NO_STORE)
    focus_id = item["item_id"]
    _viewed(request, visitor, "Focus Item Viewed", {"focus_id": focus_id, "slot": placement})
    click = {"anonymous_id": visitor.anonymous_id} if visitor.anonymous_id else {}
    click_url = f"{collector.base_url(request)}/focus/{focus_id}/click"
    return JSONResponse(
        {
            "focus_id": focus_id,
            "name": item.get("item_name"),
            "focus_type": item.get("focus_type"),
            "style": item.get("style"),
            "click_url": f"{click_url}?{urlencode(click)}" if click else click_url,
            "rule_id": item.get("rule_id"),
        },
        headers=NO_STORE,
    )


async def focus_click(request: Request) -> Response:
    collector = _collector(request)
    focus_id = _path_id(request, "focus_id")
    item = collector.published.focus_item(focus_id)
    if item is None or not item.get("url"):
        raise Refused(404, f"unknown focus item {focus_id!r}", "unknown_focus_item")
    visitor = _known_visitor(request)
    _viewed(request, visitor, "Focus Item Clicked", {"focus_id": focus_id, "url": item["url"]})
    return RedirectResponse(item["url"], status_code=302, headers=NO_STORE)


# --- operations -----------------------------------------------------------------------------


async def stats(request: Request) -> Response:
    collector = _collector(request)
    counters, spool = collector.counters, collector.spool.stats
    return JSONResponse(
        {
            "accepted_events": counters.accepted_events,
            "refused": dict(counters.refused),
            "not_recorded": dict(counters.not_recorded),
            "spooled_events": spool.events,
            "batch_files": spool.files,
            "recovered_files": spool.recovered_files,
            "recovered_events": spool.recovered_events,
        }
    )


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _refused(request: Request, error: HTTPException) -> Response:
    kind = getattr(error, "kind", f"http_{error.status_code}")
    collector = _collector(request)
    collector.counters.refused[kind] += 1
    return JSONResponse({"error": error.detail}, status_code=error.status_code)


ROUTES = [
    Route("/mtracking.gif", tracking_pixel, methods=["GET"]),
    Route("/mtc/event", mtc_event, methods=["POST"]),
    Route("/mtc.js", tracking_script, methods=["GET"]),
    Route("/v1/batch", _segment_endpoint(None), methods=["POST"]),
    Route("/v1/track", _segment_endpoint("track"), methods=["POST"]),
    Route("/v1/page", _segment_endpoint("page"), methods=["POST"]),
    Route("/v1/screen", _segment_endpoint("screen"), methods=["POST"]),
    Route("/v1/identify", _segment_endpoint("identify"), methods=["POST"]),
    Route("/form/{form_id}", form_submit, methods=["POST"]),
    Route("/asset/{asset_id}", asset_download, methods=["GET"]),
    Route("/email/open/{token}.gif", email_open, methods=["GET"]),
    Route("/email/click/{token}", email_click, methods=["GET"]),
    Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
    Route("/content/{slot}", dynamic_content, methods=["GET"]),
    Route("/focus", focus, methods=["GET"]),
    Route("/focus/{focus_id}/click", focus_click, methods=["GET"]),
    Route("/collector/stats", stats, methods=["GET"]),
    Route("/healthz", health, methods=["GET"]),
]


def create_app(home: Home, settings: CollectorSettings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        collector = Collector(home, settings)
        app.state.collector = collector
        flusher = asyncio.create_task(_flush_periodically(collector))
        try:
            yield
        finally:  # graceful shutdown: uvicorn has finished the requests in flight
            flusher.cancel()
            collector.spool.close()
            collector.published.close()

    return Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        exception_handlers={HTTPException: _refused},
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=settings.collector_cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["*"],
            )
        ],
    )


async def _flush_periodically(collector: Collector) -> None:
    interval = min(1.0, collector.settings.collector_flush_seconds / 2)
    while True:
        await asyncio.sleep(interval)
        collector.spool.flush_if_due()


def serve(home: Home, settings: CollectorSettings) -> None:
    """Run the collector until SIGINT/SIGTERM; uvicorn then stops accepting, finishes the
    requests in flight and the lifespan closes the open batch."""
    import uvicorn

    config = uvicorn.Config(
        create_app(home, settings),
        host=settings.collector_host,
        port=settings.collector_port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
        lifespan="on",
    )
    uvicorn.Server(config).run()
