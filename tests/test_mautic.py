"""Real Mautic data files (from ../shared) dropped into landing/mautic/ load as what they are."""

from __future__ import annotations

import csv
import json
from datetime import datetime

from ingest.loader import ingest
from tests.conftest import drop, query


def test_mautic_exports_load_by_shape(home, mautic_fixtures):
    for path in mautic_fixtures.glob("*.csv"):
        drop(home, path, "mautic")
    reports = {r.file: r for r in ingest(home)}

    tables = {
        f.removeprefix("mautic/"): (r.table, r.rows_read, r.rows_quarantined)
        for f, r in reports.items()
    }
    assert tables == {
        "contacts.csv": ("contacts", 54, 0),
        "import_10contacts.csv": ("contacts", 10, 0),
        "companies.csv": ("companies", 4, 0),
        "page_hits.csv": ("events", 130, 0),
        "form_results.csv": ("events", 50, 0),
        "forms.csv": ("forms", 2, 0),
        "pages.csv": ("pages", 3, 0),
    }
    for path in mautic_fixtures.glob("*.csv"):  # every data row of every file arrived
        with path.open(newline="", encoding="utf-8") as handle:
            assert (
                reports[f"mautic/{path.name}"].rows_loaded == sum(1 for _ in csv.reader(handle)) - 1
            )


def test_mautic_contacts_keep_core_fields_and_rows_without_email(home, mautic_fixtures):
    drop(home, mautic_fixtures / "contacts.csv", "mautic")
    drop(home, mautic_fixtures / "import_10contacts.csv", "mautic")
    ingest(home)
    penny = query(
        home,
        "select title, firstname, lastname, city, zipcode, country, company, points, ip_address,"
        " custom_fields->>'facebook' is null from raw.contacts"
        " where email = 'pennykmoore@dayrep.com' and _source = 'mautic/contacts.csv'",
    )
    assert penny == [
        (
            "Mrs.",
            "Penny",
            "Moore",
            "HEWELSFIELD COMMON",
            "GL15 1XD",
            "United Kingdom",
            "Williams Bros.",
            100,
            "44.242.120.158",
            True,
        )
    ]
    # Anonymous Mautic contacts (no email) are kept: the models count them as visitors.
    assert query(home, "select count(*) from raw.contacts where email is null") == [(4,)]
    # The hand-written import file has spaces after commas: values are trimmed.
    assert query(
        home, "select company, country from raw.contacts where email = 'ariel@example.com'"
    ) == [("Enterprise Example Organization", "Switzerland")]


def test_mautic_page_hits_and_form_results_become_events(home, mautic_fixtures):
    drop(home, mautic_fixtures / "page_hits.csv", "mautic")
    drop(home, mautic_fixtures / "form_results.csv", "mautic")
    ingest(home)
    hit = query(
        home,
        "select occurred_at, anonymous_id, properties from raw.events"
        " where event_type = 'page_hit' order by _source_row limit 1",
    )[0]
    assert hit[:2] == (datetime(2014, 8, 9, 19, 0), "H764T844")  # US m/d/yy dates
    properties = json.loads(hit[2])
    assert properties["page_id"] == "3"
    assert properties["url"].endswith("3:kaleidoscope-conference-2014")
    assert properties["language"] == "es_MX"
    ids = query(home, "select count(distinct event_id), count(*) from raw.events")
    assert ids[0][0] == ids[0][1] == 180  # stable ids, unique even for repeated hits

    form = query(
        home,
        "select contact_key, properties from raw.events where event_type = 'form_submit'"
        " order by _source_row limit 1",
    )[0]
    assert form[0] == "pennykmoore@dayrep.com"
    assert json.loads(form[1])["fields"]["numberofattendees"] == "1"
    assert json.loads(form[1])["form_id"] == "1"


def test_reloading_a_grown_mautic_export_keeps_event_ids(home, mautic_fixtures):
    """Ids come from the row's content, so a re-export dedupes against the first one."""
    target = drop(home, mautic_fixtures / "page_hits.csv", "mautic")
    ingest(home)
    lines = target.read_text().splitlines()
    target.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")  # rows reordered
    (report,) = ingest(home)
    assert report.new_version
    assert query(home, "select count(distinct event_id), count(*) from raw.events") == [(130, 260)]
