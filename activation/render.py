"""Rendering messages: Jinja2 sandboxed templates with contact tokens, tracking and unsubscribe.

Templates live in ``activation/templates/`` (and, taking precedence, ``<home>/templates/``):

* ``email/<email id>.j2`` — one file per email with the blocks ``subject``, ``html`` and
  (optional) ``text``; ``email/default.j2`` serves an email without its own file;
* ``layout.html.j2`` / ``layout.txt.j2`` — the default layout around every email's body: the
  footer with the unsubscribe link, and the open pixel;
* ``sms/<sms id>.j2`` — an SMS text (else the catalog's message, else ``sms/default.j2``).

Templates run in Jinja's sandbox: a template (or a catalog subject, which may come from a
Mautic export) can read the contact's fields but not reach Python. Tokens:
``{{ contact.first_name | default("there", true) }}`` is Mautic's
``{contactfield=firstname|there}``; Mautic's own syntax is accepted too and translated, as are
``{unsubscribe_url}`` and ``{webview_url}``. A missing field renders empty, never ``None``.

After rendering, every ``http(s)`` link of the HTML part is rewritten to the collector's click
redirect (``{tracking}/email/click/<token>?url=…``), an open pixel
(``{tracking}/email/open/<token>.gif``) is added, and the signed unsubscribe link goes into the
footer and the ``List-Unsubscribe`` header (with ``List-Unsubscribe-Post`` for one-click).
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import FileSystemLoader, TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from activation.tokens import sign_token

PACKAGE_TEMPLATES = Path(__file__).with_name("templates")
# The wire format: CRLF line ends, headers folded only past SMTP's 998-character limit (a long
# signed URL in List-Unsubscribe stays one token: mail clients would not recognise it folded or
# MIME-encoded), 7-bit transfer encodings (quoted-printable) that any server takes. Messages are
# built with the email package's compat32 classes: non-ASCII headers are encoded explicitly
# (RFC 2047) and building costs a third of what the newer header registry does.


class _SmtpPolicy(policy.Compat32):
    """compat32, writing a header that is printable ASCII and fits on one line as it is: what
    compat32's folding makes of it too (a property test checks it), without the Header
    machinery that took a quarter of the time of composing a message."""

    def _one_line(self, name: str, value) -> str | None:
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()
            and len(name) + 2 + len(value) <= self.max_line_length
        ):
            return f"{name}: {value}{self.linesep}"
        return None

    def fold(self, name, value):
        return self._one_line(name, value) or super().fold(name, value)

    def fold_binary(self, name, value):
        line = self._one_line(name, value)
        return line.encode("ascii") if line else super().fold_binary(name, value)


SMTP_POLICY = _SmtpPolicy(linesep="\r\n", max_line_length=998)
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


class RenderError(ValueError):
    """A template that cannot be rendered (syntax, sandbox violation, missing content): the
    message fails permanently with this reason."""


# Mautic contact field names → funnelhouse dim_contacts columns (both work in templates).
MAUTIC_ALIASES = {
    "firstname": "first_name",
    "lastname": "last_name",
    "company": "company_name",
    "companyname": "company_name",
    "position": "job_title",
    "zipcode": "zip_code",
    "address1": "address_line1",
    "preferred_locale": "preferred_locale",
}


def contact_context(contact: dict[str, Any]) -> dict[str, Any]:
    """The ``contact`` variable: dim_contacts columns, their Mautic names, custom fields."""
    values = {k: v for k, v in contact.items() if k != "custom_fields"}
    custom = contact.get("custom_fields") or {}
    if isinstance(custom, str):
        import json

        try:
            custom = json.loads(custom)
        except ValueError:
            custom = {}
    if isinstance(custom, dict):
        for key, value in custom.items():
            values.setdefault(key, value)
    for mautic, column in MAUTIC_ALIASES.items():
        values.setdefault(mautic, values.get(column))
    return values


_MAUTIC_FIELD = re.compile(r"\{contactfield=([A-Za-z0-9_]+)(?:\|([^}]*))?\}")
_MAUTIC_SIMPLE = {
    "{unsubscribe_url}": "{{ unsubscribe_url }}",
    "{webview_url}": "{{ webview_url }}",
    "{tracking_pixel}": "",
}


def mautic_tokens(text: str) -> str:
    """Translate Mautic's ``{contactfield=name|default}`` tokens into Jinja expressions."""

    def field_token(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if default is None:
            return "{{ contact." + name + " }}"
        return "{{ contact." + name + " | default(" + _jinja_string(default) + ", true) }}"

    text = _MAUTIC_FIELD.sub(field_token, text)
    for token, replacement in _MAUTIC_SIMPLE.items():
        text = text.replace(token, replacement)
    return text


def _jinja_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _finalize(value: Any) -> Any:
    return "" if value is None else value


@dataclass(frozen=True)
class EmailContent:
    """What the emails catalog says about an email (all optional)."""

    email_id: str
    name: str | None = None
    subject: str | None = None
    from_address: str | None = None
    html: str | None = None  # a catalog's own body (attributes.custom_html / content / html)
    text: str | None = None


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str
    unsubscribe_url: str
    pixel_url: str
    links: dict[str, str] = field(default_factory=dict)  # tracked URL → original URL


@dataclass(frozen=True)
class Tracking:
    base_url: str
    secret: Any  # SecretStr

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


MAX_REPEAT = 100_000  # the longest text or list a template may build with * (range's limit)


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, stricter in two ways:

    * an unsafe attribute (``''.__class__``, ``cycler.__init__``) raises ``SecurityError``
      where it is read; Jinja's own sandbox only returns an undefined value that prints as
      nothing, so a probe at the end of a chain rendered silently instead of failing;
    * ``*`` and ``**`` cannot build huge values (``'x' * 10**9`` would take the memory).
    """

    intercepted_binops = frozenset(["*", "**"])

    def unsafe_undefined(self, obj: Any, attribute: str):
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
        )

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, str | bytes | list | tuple)]
            counts = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
            if sizes and counts and sizes[0] * counts[0] > MAX_REPEAT:
                raise SecurityError(f"a repeated value longer than {MAX_REPEAT:,} is unsafe.")
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("a power above 64 is unsafe.")
        return super().call_binop(context, operator, left, right)


class Renderer:
    """Sandboxed Jinja environments over the home's and the package's template folders."""

    def __init__(self, template_dirs: list[Path] | None = None):
        dirs = [str(d) for d in (template_dirs or []) if d.is_dir()] + [str(PACKAGE_TEMPLATES)]
        loader = FileSystemLoader(dirs)
        # A Renderer lives for one run: templates are read and compiled once, not checked on
        # disk for every message (auto_reload), and catalog texts compile once each (_compiled).
        common = dict(
            loader=loader, finalize=_finalize, keep_trailing_newline=False, auto_reload=False
        )
        self.html_env = _Sandbox(autoescape=True, **common)
        self.text_env = _Sandbox(autoescape=False, **common)
        self._templates: dict[tuple[bool, str], Any] = {}
        self._found: dict[str, str | None] = {}

    def _compiled(self, env: _Sandbox, source: str):
        """A catalog text (Mautic tokens allowed) as a template of ``env``, compiled once."""
        key = (env is self.html_env, source)
        if key not in self._templates:
            self._templates[key] = env.from_string(mautic_tokens(source))
        return self._templates[key]

    # --- email ---

    def render_email(
        self,
        content: EmailContent,
        contact: dict[str, Any],
        idempotency_key: str,
        tracking: Tracking,
        extra: dict[str, Any] | None = None,
    ) -> RenderedEmail:
        contact_key = contact.get("email") or ""
        unsubscribe_url = tracking.url(
            "/unsubscribe/"
            + sign_token(
                tracking.secret, "unsubscribe", idempotency_key, contact_key, content.email_id
            )
        )
        pixel_url = tracking.url(
            "/email/open/"
            + sign_token(tracking.secret, "open", idempotency_key, contact_key, content.email_id)
            + ".gif"
        )
        variables = {
            "contact": contact_context(contact),
            "email": {"id": content.email_id, "name": content.name, "subject": content.subject},
            "unsubscribe_url": unsubscribe_url,
            "webview_url": "",
            "params": extra or {},
        }
        try:
            subject, body_html, body_text = self._email_parts(content, variables)
            links: dict[str, str] = {}
            body_html = Markup(
                _track_links(
                    body_html,
                    lambda url: self._click_url(
                        tracking, idempotency_key, contact_key, content.email_id, url, links
                    ),
                    skip=(tracking.base_url.rstrip("/"),),
                )
            )
            layout_vars = {
                **variables,
                "subject": subject,
                "body": body_html,
                "pixel_url": pixel_url,
            }
            full_html = self.html_env.get_template("layout.html.j2").render(layout_vars)
            full_text = self.text_env.get_template("layout.txt.j2").render(
                {**layout_vars, "body": body_text}
            )
        except (TemplateSyntaxError, UndefinedError, SecurityError, TemplateNotFound) as error:
            raise RenderError(f"email {content.email_id}: template error: {error}") from None
        subject = " ".join(subject.split())
        if not subject:
            raise RenderError(f"email {content.email_id}: empty subject")
        return RenderedEmail(subject, full_html, full_text, unsubscribe_url, pixel_url, links)

    def _email_parts(self, content: EmailContent, variables: dict) -> tuple[str, str, str]:
        name = self._first_template(f"email/{content.email_id}.j2")
        own = name is not None
        if content.html and not own:  # the catalog carries the email's body
            html_body = self._compiled(self.html_env, content.html).render(variables)
            text_body = (
                self._compiled(self.text_env, content.text).render(variables)
                if content.text
                else html_to_text(html_body)
            )
            subject = self._catalog_subject(content, variables)
            return subject, html_body, text_body
        name = name or "email/default.j2"
        html_template = self.html_env.get_template(name)
        text_template = self.text_env.get_template(name)
        html_body = _render_block(html_template, "html", variables)
        if html_body is None:
            raise RenderError(f"email {content.email_id}: template {name} has no html block")
        text_body = _render_block(text_template, "text", variables)
        if text_body is None or not text_body.strip():
            text_body = html_to_text(html_body)
        subject = _render_block(text_template, "subject", variables)
        if not (subject and subject.strip()):
            subject = self._catalog_subject(content, variables)
        return subject, html_body, text_body.strip()

    def _catalog_subject(self, content: EmailContent, variables: dict) -> str:
        source = content.subject or content.name
        if not source:
            raise RenderError(
                f"email {content.email_id}: no subject (not in the emails catalog, no template)"
            )
        return self._compiled(self.text_env, source).render(variables)

    def _first_template(self, name: str) -> str | None:
        """``name`` if a template folder has it (looked up once per run), else None."""
        if name not in self._found:
            try:
                self.text_env.get_template(name)
                self._found[name] = name
            except TemplateNotFound:
                self._found[name] = None
        return self._found[name]

    @staticmethod
    def _click_url(
        tracking: Tracking,
        key: str,
        contact_key: str,
        email_id: str,
        url: str,
        links: dict[str, str],
    ) -> str:
        token = sign_token(tracking.secret, "click", key, contact_key, email_id, url)
        tracked = tracking.url(f"/email/click/{token}?url={quote(url, safe='')}")
        links[tracked] = url
        return tracked

    # --- sms ---

    def render_sms(
        self,
        sms_id: str,
        message: str | None,
        contact: dict[str, Any],
        extra: dict[str, Any] | None = None,
    ) -> str:
        variables = {"contact": contact_context(contact), "params": extra or {}}
        try:
            name = self._first_template(f"sms/{sms_id}.j2")
            if name is None and message:
                text = self._compiled(self.text_env, message).render(variables)
            else:
                template = self.text_env.get_template(name or "sms/default.j2")
                text = template.render({**variables, "message": message or ""})
        except (TemplateSyntaxError, UndefinedError, SecurityError, TemplateNotFound) as error:
            raise RenderError(f"sms {sms_id}: template error: {error}") from None
        text = text.strip()
        if not text:
            raise RenderError(f"sms {sms_id}: empty message (no catalog message, no template)")
        return text


def _render_block(template, block: str, variables: dict) -> str | None:
    render = template.blocks.get(block)
    if render is None:
        return None
    context = template.new_context(variables)
    return "".join(render(context))


# --- links ---

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)


def _track_links(markup: str, rewrite, skip: tuple[str, ...]) -> str:
    def replace(match: re.Match) -> str:
        url = html.unescape(match.group(3))
        if any(url.startswith(prefix) for prefix in skip if prefix):
            return match.group(0)
        quote_char = match.group(2)
        return f"{match.group(1)}{quote_char}{html.escape(rewrite(url))}{quote_char}"

    return _HREF.sub(replace, markup)


class _TextExtractor(HTMLParser):
    _BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: list[str | None] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        if tag == "a":
            self.href.append(dict(attrs).get("href"))
        if tag == "li":
            self.parts.append("\n- ")
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head", "title"):
            self.skip = max(0, self.skip - 1)
        if tag == "a" and self.href:
            href = self.href.pop()
            if href and href.startswith("http"):
                self.parts.append(f" ({href})")
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """A plain-text part from HTML: paragraphs become blank-line separated, links show their
    URL in brackets."""
    parser = _TextExtractor()
    parser.feed(markup)
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- the message ---


def message_id_for(idempotency_key: str, sender: str) -> str:
    """One Message-ID per idempotency key: the operator can look a key up in the SMTP
    server's log to settle a send left in flight by a crash."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "funnelhouse.invalid"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _header_text(text: str):
    text = _one_line(text)
    return text if text.isascii() else Header(text, "utf-8")


def _address(value: str) -> str:
    """A From/To value with its display name RFC 2047-encoded when it is not ASCII."""
    name, address = parseaddr(_one_line(value))
    return formataddr((name, address), charset="utf-8") if name else address


def build_message(
    rendered: RenderedEmail,
    *,
    to: str,
    to_name: str | None,
    sender: str,
    envelope_sender: str,
    idempotency_key: str,
    campaign_id: str | None,
    date,
) -> MIMEMultipart:
    """The MIME message (text and HTML alternatives); ``bytes(message)`` is what goes on the
    wire. Header values come from data (names, subjects): each is folded to one line, so no
    value can add a header."""
    # A boundary of our own spares the generator its random one and the body scan that checks
    # it: "=_" never occurs in quoted-printable text ("=" is written "=3D").
    boundary = "=_fh_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    message = MIMEMultipart("alternative", boundary=boundary, policy=SMTP_POLICY)
    message["From"] = _address(sender)
    message["To"] = (
        formataddr((_one_line(to_name), to), charset="utf-8") if to_name else _one_line(to)
    )
    message["Subject"] = _header_text(rendered.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id_for(idempotency_key, envelope_sender)
    message["List-Unsubscribe"] = f"<{rendered.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Funnelhouse-Key"] = _one_line(idempotency_key)
    if campaign_id:
        message["X-Funnelhouse-Campaign"] = _header_text(str(campaign_id))
    message.attach(MIMEText(rendered.text + "\n", "plain", _UTF8_QP))
    message.attach(MIMEText(rendered.html, "html", _UTF8_QP))
    return message
