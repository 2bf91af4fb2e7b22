"""The data generator: determinism, the landing-file contract and plausible behaviour."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingest.generator import GenerationSummary, generate, reference
from ingest.vocabulary import EVENT_TYPES, TRACK_EVENT_TYPES

END = date(2026, 7, 1)
CONTACT_COLUMNS = [
    "firstname", "lastname", "email", "company", "position", "phone", "mobile", "city", "state",
    "country", "timezone", "preferred_locale", "tags", "date_added", "lead_source", "industry",
    "newsletter_optin", "sms_optin",
]  # fmt: skip
COMPANY_COLUMNS = [
    "companyname", "companywebsite", "companyindustry", "companynumber_of_employees",
    "companycountry", "companycity", "companystate", "companyphone", "companyannual_revenue",
]  # fmt: skip
CATALOG_COLUMNS = {
    "emails": "id,name,subject,email_type,category,from_address,published,created_at",
    "sms": "id,name,message,category,published,created_at",
    "forms": "id,name,alias,form_type,published,created_at",
    "pages": "id,title,alias,url,language,category,published,created_at",
    "assets": "id,title,alias,url,extension,category,published,created_at",
    "focus_items": "id,name,focus_type,style,url,published,created_at",
    "dynamic_content": "id,name,slot_name,variant,segment_hint,content,published,created_at",
}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CSV_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
EMAIL_EVENTS = {name for name in TRACK_EVENT_TYPES if name.startswith("Email ")}


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


class Generated:
    def __init__(self, root: Path, summary: GenerationSummary) -> None:
        self.root = root
        self.summary = summary
        self.landing = root / "landing"
        self.events = [
            json.loads(line)
            for path in sorted((self.landing / "events").glob("events-*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        self.contacts = [
            row
            for path in sorted((self.landing / "contacts").glob("contacts-*.csv"))
            for row in read_csv(path)[1]
        ]

    def named(self, event: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == event]

    def email_of(self, event: dict) -> str | None:
        return event.get("userId") or event.get("context", {}).get("traits", {}).get("email")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Generated:
    root = tmp_path_factory.mktemp("small")
    return Generated(root, generate(root, contacts=300, days=20, seed=7, end_date=END))


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> Generated:
    root = tmp_path_factory.mktemp("medium")
    return Generated(root, generate(root, contacts=2000, days=30, seed=11, end_date=END))


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# --- determinism ---------------------------------------------------------------------------


def test_same_parameters_give_identical_bytes(small: Generated, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, contacts=300, days=20, seed=7, end_date=END)
    first, second = tree(small.root), tree(again)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name


def test_another_seed_gives_other_data(small: Generated, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(other, contacts=300, days=20, seed=8, end_date=END)
    first, second = tree(small.root), tree(other)
    assert first.keys() == second.keys()
    for name in ("landing/events/events-0000.jsonl", "landing/contacts/contacts-0000.csv",
                 "landing/companies/companies.csv"):  # fmt: skip
        assert first[name] != second[name]


def test_worker_processes_do_not_change_the_bytes(tmp_path: Path) -> None:
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    common = dict(contacts=250, days=10, seed=3, end_date=END, chunk_size=100)
    a = generate(serial, workers=1, **common)
    b = generate(parallel, workers=2, **common)
    assert tree(serial) == tree(parallel)
    assert a.events == b.events
    # the chunk files (events/desk-notices.jsonl is the desk's, issue 12)
    assert len(list((serial / "landing" / "events").glob("events-*.jsonl"))) == 3


def test_progress_reports_contacts_done(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(tmp_path, 250, 5, 1, END, lambda done, total: calls.append((done, total)),
             chunk_size=100)  # fmt: skip
    assert calls[0] == (0, 250)
    assert calls[-1] == (250, 250)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_a_smaller_generation_removes_stale_chunk_files(tmp_path: Path) -> None:
    generate(tmp_path, 300, 5, 1, END, chunk_size=100)
    summary = generate(tmp_path, 150, 5, 1, END, chunk_size=100)
    assert sorted(p.name for p in (tmp_path / "landing" / "events").glob("events-*")) == [
        "events-0000.jsonl",
        "events-0001.jsonl",
    ]
    assert sorted(p.name for p in summary.removed) == ["contacts-0002.csv", "events-0002.jsonl"]
    assert not (tmp_path / ".generator-staging").exists()


# --- the file contract ---------------------------------------------------------------------


def test_contacts_csv_columns_and_values(small: Generated) -> None:
    columns, rows = read_csv(small.landing / "contacts" / "contacts-0000.csv")
    assert columns == CONTACT_COLUMNS
    assert len(rows) == small.summary.contacts_in_csv
    emails = [row["email"].strip().lower() for row in rows]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}", e) for e in emails)
    assert sum(row["email"] != row["email"].strip().lower() for row in rows) < 0.1 * len(rows)
    zones = {(c.name, city, state): tz for c in reference.COUNTRIES for city, state, tz in c.cities}
    for row in rows:
        assert zones[(row["country"], row["city"], row["state"])] == row["timezone"]
        assert CSV_TIME.match(row["date_added"])
        assert row["newsletter_optin"] in ("0", "1") and row["sms_optin"] in ("0", "1")
        assert all(tag and "|" not in tag for tag in row["tags"].split("|") if row["tags"])
        if row["sms_optin"] == "1":
            assert row["mobile"]
    b2c = sum(not row["company"] for row in rows) / len(rows)
    assert 0.2 < b2c < 0.4
    share = small.summary.contacts_in_csv / small.summary.contacts
    assert 0.78 < share < 0.92


def test_companies_csv(small: Generated) -> None:
    columns, rows = read_csv(small.landing / "companies" / "companies.csv")
    assert columns == COMPANY_COLUMNS
    assert len(rows) == small.summary.companies
    names = {row["companyname"] for row in rows}
    assert len(names) == len(rows)
    assert {row["company"] for row in small.contacts if row["company"]} <= names
    assert all(int(row["companynumber_of_employees"]) > 0 for row in rows)


def test_company_sizes_are_heavy_tailed(medium: Generated) -> None:
    sizes = Counter(row["company"] for row in medium.contacts if row["company"])
    counts = sorted(sizes.values(), reverse=True)
    assert counts[0] >= 8 * (sum(counts) / len(counts))
    assert sum(c <= 2 for c in counts) > len(counts) / 2


def test_catalogs(small: Generated) -> None:
    for name, header in CATALOG_COLUMNS.items():
        columns, rows = read_csv(small.landing / "catalogs" / name / f"{name}.csv")
        assert columns == header.split(","), name
        assert len(rows) == small.summary.catalog_rows[name]
        assert all(row["id"].isdigit() and row["published"] in ("0", "1") for row in rows)
        assert all(CSV_TIME.match(row["created_at"]) for row in rows)
        assert len({row["id"] for row in rows}) == len(rows)
    _, emails = read_csv(small.landing / "catalogs" / "emails" / "emails.csv")
    assert {row["email_type"] for row in emails} == {"list", "template"}
    assert any(row["category"] == "newsletter" for row in emails)


def test_every_line_is_a_segment_message(small: Generated) -> None:
    assert small.events
    for event in small.events:
        assert event["type"] in ("page", "identify", "track")
        assert ISO.match(event["timestamp"])
        assert event.get("anonymousId") or event.get("userId")
        if event["type"] == "track":
            assert event["event"] in TRACK_EVENT_TYPES
        if event["type"] == "page":
            assert "userId" not in event
            assert set(event["properties"]) == {"url", "path", "title", "referrer", "page_id"}
            assert event["context"]["page"]["url"] == event["properties"]["url"]
            assert "campaign" not in event["context"] or "utm_source=" in event["properties"]["url"]
    ids = [event["messageId"] for event in small.events]
    assert len(set(ids)) == len(ids)
    assert "null" not in (small.landing / "events" / "events-0000.jsonl").read_text()


def test_summary_matches_the_files(small: Generated) -> None:
    counted: Counter = Counter()
    for event in small.events:
        if event["type"] == "track":
            counted[TRACK_EVENT_TYPES[event["event"]]] += 1
        else:
            counted[{"page": "page_hit", "identify": "identify"}[event["type"]]] += 1
    assert set(small.summary.events) == set(EVENT_TYPES)
    assert {k: v for k, v in small.summary.events.items() if v} == dict(counted)
    assert small.summary.total_events == len(small.events)
    assert all(path.is_file() for path in small.summary.files)
    assert small.summary.bytes_written == sum(p.stat().st_size for p in small.summary.files)
    csv_emails = {row["email"].strip().lower() for row in small.contacts}
    event_emails = {small.email_of(e) for e in small.events} - {None}
    assert len(event_emails - csv_emails) == small.summary.contacts_events_only
    assert small.summary.anonymous_visitors == 450


def test_events_stay_inside_the_window(small: Generated) -> None:
    start = datetime(2026, 6, 11, tzinfo=UTC)
    end = datetime(2026, 7, 1, tzinfo=UTC)
    assert small.summary.window_start == start and small.summary.window_end == end
    stamps = [parse_ts(event["timestamp"]) for event in small.events]
    assert min(stamps) >= start and max(stamps) < end


# --- plausible behaviour -------------------------------------------------------------------


def test_email_funnel_narrows(medium: Generated) -> None:
    n = Counter(event.get("event") for event in medium.events)
    assert n["Email Opened"] < n["Email Delivered"] < n["Email Sent"]
    assert n["Email Delivered"] + n["Email Bounced"] <= n["Email Sent"]
    assert n["Email Link Clicked"] < n["Email Opened"]
    unique_opens = {
        (e["userId"], e["properties"]["email_id"]) for e in medium.named("Email Opened")
    }
    assert 0.15 < len(unique_opens) / n["Email Delivered"] < 0.32
    assert 0.005 < n["Email Bounced"] / n["Email Sent"] < 0.06
    assert 0.05 < n["Email Link Clicked"] / len(unique_opens) < 0.3
    assert n["SMS Delivered"] + n["SMS Failed"] == n["SMS Sent"]


def test_nothing_is_emailed_after_do_not_contact(medium: Generated) -> None:
    blocked: dict[str, datetime] = {}
    for event in medium.events:
        is_dnc = event.get("event") == "Do Not Contact Changed"
        if is_dnc and event["properties"]["channel"] == "email":
            when = parse_ts(event["timestamp"])
            blocked[event["userId"]] = min(when, blocked.get(event["userId"], when))
    assert blocked
    for event in medium.events:
        if event.get("event") in EMAIL_EVENTS and event["userId"] in blocked:
            assert parse_ts(event["timestamp"]) <= blocked[event["userId"]]
    unsubscribed = Counter(e["userId"] for e in medium.named("Email Unsubscribed"))
    assert max(unsubscribed.values()) == 1
    hard = [e for e in medium.named("Email Bounced") if e["properties"]["bounce_type"] == "hard"]
    assert hard and all(e["userId"] in blocked for e in hard)


def test_list_emails_go_to_opted_in_contacts_on_weekday_mornings(medium: Generated) -> None:
    optin = {row["email"].strip().lower(): row["newsletter_optin"] for row in medium.contacts}
    sends = [e for e in medium.named("Email Sent") if e["properties"]["email_id"] >= 4]
    assert sends
    for event in sends:
        assert optin.get(event["userId"], "1") == "1"
        when = parse_ts(event["timestamp"])
        assert when.weekday() < 5 and 9 <= when.hour < 10


def test_new_leads_browse_anonymously_then_submit_then_identify(medium: Generated) -> None:
    csv_added = {
        row["email"].strip().lower(): datetime.strptime(
            row["date_added"], "%Y-%m-%d %H:%M:%S"
        ).replace(tzinfo=UTC)
        for row in medium.contacts
    }
    start = medium.summary.window_start
    by_email: dict[str, list[dict]] = defaultdict(list)
    pages_by_device: dict[str, list[datetime]] = defaultdict(list)
    for event in medium.events:
        if event["type"] == "page":
            pages_by_device[event["anonymousId"]].append(parse_ts(event["timestamp"]))
        elif email := medium.email_of(event):
            by_email[email].append(event)
    leads = [e for e in by_email if e not in csv_added or csv_added[e] >= start]
    assert len(leads) > 100
    for email in leads:
        events = by_email[email]
        submits = [parse_ts(e["timestamp"]) for e in events if e.get("event") == "Form Submitted"]
        identifies = [e for e in events if e["type"] == "identify"]
        assert submits and identifies, email
        first_id = min(identifies, key=lambda e: e["timestamp"])
        assert min(submits) <= parse_ts(first_id["timestamp"])
        # Nothing but anonymous page views before the lead exists.
        assert min(parse_ts(e["timestamp"]) for e in events) == min(submits)
        if email in csv_added:
            assert csv_added[email] <= min(submits) < csv_added[email] + timedelta(seconds=1)
        device_pages = pages_by_device[first_id["anonymousId"]]
        assert min(device_pages) < min(submits)


def test_known_contacts_act_only_after_they_were_added(medium: Generated) -> None:
    added = {
        row["email"].strip().lower(): row["date_added"].replace(" ", "T") + ".000Z"
        for row in medium.contacts
    }
    for event in medium.events:
        email = medium.email_of(event)
        if email in added:
            assert event["timestamp"] >= added[email]


def test_funnel_most_visitors_never_convert(medium: Generated) -> None:
    devices = {e["anonymousId"] for e in medium.events if e["type"] == "page"}
    identified = {e["anonymousId"] for e in medium.events if e["type"] == "identify"}
    assert len(identified) < 0.35 * len(devices)
    landing = [e for e in medium.events if e["type"] == "page" and "campaign" in e["context"]]
    sources = Counter((e["context"]["campaign"]["source"], e["context"]["campaign"]["medium"])
                      for e in landing)  # fmt: skip
    assert {("google", "cpc"), ("newsletter", "email"), ("linkedin", "social")} <= set(sources)


def test_weekdays_are_busier_than_weekends(medium: Generated) -> None:
    per_day: Counter = Counter()
    for event in medium.events:
        if event["type"] == "page":
            per_day[parse_ts(event["timestamp"]).date()] += 1
    weekday = [v for d, v in per_day.items() if d.weekday() < 5]
    weekend = [v for d, v in per_day.items() if d.weekday() >= 5]
    assert sum(weekday) / len(weekday) > 1.3 * sum(weekend) / len(weekend)
    hours = Counter(parse_ts(e["timestamp"]).hour for e in medium.named("Form Submitted"))
    assert hours


def test_events_reference_published_catalog_items(medium: Generated) -> None:
    published: dict[str, set[int]] = {}
    for name in CATALOG_COLUMNS:
        _, rows = read_csv(medium.landing / "catalogs" / name / f"{name}.csv")
        published[name] = {int(row["id"]) for row in rows if row["published"] == "1"}
    keys = {
        "page_id": "pages",
        "form_id": "forms",
        "asset_id": "assets",
        "focus_id": "focus_items",
        "dynamic_content_id": "dynamic_content",
        "email_id": "emails",
        "sms_id": "sms",
    }
    for event in medium.events:
        for key, catalog in keys.items():
            if key in event.get("properties", {}):
                assert event["properties"][key] in published[catalog], (key, event)


def test_some_exported_addresses_are_untidy(medium: Generated) -> None:
    untidy = [
        row["email"] for row in medium.contacts if row["email"] != row["email"].strip().lower()
    ]
    assert 0.01 * len(medium.contacts) < len(untidy) < 0.06 * len(medium.contacts)
