"""Email and SMS campaigns of the window: what is sent when, and the catalog rows for them.

Newsletters go out every other Tuesday, product announcements on Thursdays about every
seven weeks, one re-engagement email three quarters into windows of four weeks or more, and
a couple of SMS campaigns; all on weekdays in the morning (UTC). The welcome email is a
template triggered by each new lead's form submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from ingest.generator.reference import SITE
from ingest.generator.site import PAGES
from ingest.generator.timeline import DAY, HOUR, MINUTE, Window

NEWSLETTER, ANNOUNCEMENT, REENGAGEMENT, WELCOME = (
    "newsletter",
    "announcement",
    "reengagement",
    "welcome",
)
WELCOME_ID, REENGAGEMENT_ID, DRAFT_ID = 1, 2, 3

_TOPICS = (
    "lead scoring that sales trusts", "cleaner segments", "deliverability wins",
    "nurture flows that convert", "campaign ROI in one query", "consent done right",
    "subject lines that work", "landing pages that convert", "dynamic content tips",
    "our data team's favourite reports", "webinar recap", "customer stories",
)  # fmt: skip
_FEATURES = (
    "Introducing live segments", "New: SMS campaigns", "Dynamic content on every page",
    "Dashboards, twice as fast", "Native webhooks", "Points and stages, reimagined",
    "A new reporting studio", "Warehouse-native audiences",
)  # fmt: skip
_SMS = (
    ("Webinar reminder", "Reminder: our live webinar on data-driven campaigns starts "
     "tomorrow at 16:00 CET. Join: {site}/webinar/data-driven-campaigns Reply STOP to opt out."),
    ("Spring offer", "20% off annual plans this week with code SPRING20: {site}/pricing "
     "Reply STOP to opt out."),
    ("Event invite", "Meet the Example SaaS team at our user meetup next Thursday. RSVP: "
     "{site}/about Reply STOP to opt out."),
    ("Trial nudge", "Your free trial is waiting: {site}/trial Reply STOP to opt out."),
)  # fmt: skip


@dataclass(frozen=True)
class EmailSend:
    email_id: int
    kind: str
    alias: str
    send_ms: int  # first message leaves at this time; the batch takes up to ~45 minutes
    links: np.ndarray  # page ids the email links to


@dataclass(frozen=True)
class SmsSend:
    sms_id: int
    send_ms: int


@dataclass(frozen=True)
class Schedule:
    emails: tuple[EmailSend, ...]  # list emails in send order (welcome is triggered)
    welcome_links: np.ndarray
    sms: tuple[SmsSend, ...]
    email_rows: list[dict]
    sms_rows: list[dict]


def _page_ids(*paths: str) -> np.ndarray:
    by_path = {p.path: p.id for p in PAGES}
    return np.array([by_path[path] for path in paths], dtype=np.int64)


_BLOG_PATHS = [p.path for p in PAGES if p.kind == "blog"]


def _weekday_on_or_after(window: Window, day: int, weekday: int) -> int:
    first = (window.end_date - timedelta(days=window.days)).weekday()
    return day + (weekday - (first + day)) % 7


def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


_SENDERS = {
    NEWSLETTER: ("newsletter", "news@example-saas.com"),
    ANNOUNCEMENT: ("product", "product@example-saas.com"),
}
_FIXED_EMAILS = (
    # (id, name, subject, type, category, sender, published, created days before the window)
    (WELCOME_ID, "Welcome email", "Welcome to Example SaaS, {contactfield=firstname}!",
     "template", "onboarding", "hello@example-saas.com", True, 400),
    (REENGAGEMENT_ID, "Re-engagement: we miss you", "Still interested? Here is what you missed",
     "list", "re-engagement", "hello@example-saas.com", True, 370),
    (DRAFT_ID, "Newsletter draft (unsent)", "Draft: quarterly roundup", "list", "newsletter",
     "news@example-saas.com", False, 3),
)  # fmt: skip


def build(window: Window, seed: int) -> Schedule:
    rng = np.random.default_rng([seed, 1 << 32, 2])
    sends: list[tuple[int, str, str, str, np.ndarray]] = []  # (ms, kind, name, subject, links)

    day = _weekday_on_or_after(window, 0, 1)  # every other Tuesday
    while day < window.days:
        ms = window.day_start(day) + 9 * HOUR + int(rng.integers(0, 4)) * 5 * MINUTE
        when = window.end_date - timedelta(days=window.days - day)
        topic = _TOPICS[int(rng.integers(len(_TOPICS)))]
        blog = rng.choice(len(_BLOG_PATHS), size=3, replace=False)
        links = _page_ids(*(_BLOG_PATHS[b] for b in blog), "/pricing")
        subject = f"{when:%B} digest: {topic}"
        sends.append((ms, NEWSLETTER, f"Newsletter {when.isoformat()}", subject, links))
        day += 14

    day = _weekday_on_or_after(window, min(10, window.days // 3), 3)  # Thursdays, 7 weeks apart
    feature = int(rng.integers(len(_FEATURES)))
    while day < window.days:
        ms = window.day_start(day) + 9 * HOUR + 10 * MINUTE
        title = _FEATURES[feature % len(_FEATURES)]
        links = _page_ids("/features", "/pricing", "/integrations")
        sends.append((ms, ANNOUNCEMENT, f"Product announcement: {title}", title, links))
        feature += 1
        day += 49

    if window.days >= 28:  # a Wednesday three quarters into the window
        day = _weekday_on_or_after(window, window.days * 3 // 4, 2)
        if day < window.days:
            ms = window.day_start(day) + 9 * HOUR + 15 * MINUTE
            links = _page_ids("/pricing", "/", "/webinar/data-driven-campaigns")
            sends.append((ms, REENGAGEMENT, "", "", links))

    email_rows = [_email_row(*row[:-1], window.start_ms - row[-1] * DAY) for row in _FIXED_EMAILS]
    emails: list[EmailSend] = []
    for ms, kind, name, subject, links in sorted(sends, key=lambda s: (s[0], s[1])):
        if kind == REENGAGEMENT:
            emails.append(EmailSend(REENGAGEMENT_ID, kind, "reengagement", ms, links))
            continue
        email_id = len(email_rows) + 1
        created = ms - int(rng.integers(2, 6)) * DAY
        email_rows.append(
            _email_row(email_id, name, subject, "list", *_SENDERS[kind], True, created)
        )
        emails.append(EmailSend(email_id, kind, _slug(name), ms, links))

    sms: list[SmsSend] = []
    sms_rows: list[dict] = []
    count = int(np.clip(window.days // 45, 1, len(_SMS)))
    for i in range(count):  # Wednesday afternoons, spread over the window
        day = _weekday_on_or_after(window, int(window.days * (i + 0.5) / count), 2)
        day = day - 7 if day >= window.days else day
        if day < 0:
            continue
        name, message = _SMS[i]
        ms = window.day_start(day) + 15 * HOUR
        sms.append(SmsSend(i + 1, ms))
        sms_rows.append(
            {
                "id": i + 1,
                "name": name,
                "message": message.format(site=SITE),
                "category": "sms",
                "published": 1,
                "created_at": ms - 3 * DAY,
            }
        )
    welcome_links = _page_ids("/features", "/blog/what-is-marketing-automation", "/trial")
    return Schedule(tuple(emails), welcome_links, tuple(sms), email_rows, sms_rows)


def _email_row(email_id, name, subject, email_type, category, sender, published, created) -> dict:
    return {
        "id": email_id,
        "name": name,
        "subject": subject,
        "email_type": email_type,
        "category": category,
        "from_address": sender,
        "published": int(published),
        "created_at": created,
    }
