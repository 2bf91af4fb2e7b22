"""Ingest on real files into a real DuckDB warehouse: exactly once, reconciled, quarantined."""

from __future__ import annotations

import json
import os
from datetime import datetime

import polars as pl
import pytest

from ingest.loader import ingest
from tests.conftest import CORPUS, drop, query


def by_file(reports):
    return {r.file: r for r in reports}


def test_every_file_reconciles_and_bad_rows_carry_reasons(home):
    for path in CORPUS.rglob("*.*"):
        drop(home, path, path.parent.relative_to(CORPUS).as_posix())
    reports = by_file(ingest(home))

    assert {r.status for r in reports.values()} == {"loaded"}
    for report in reports.values():
        assert report.reconciles, report
    quarantined = dict(query(home, "select file, count(*) from raw.quarantine group by file"))
    for report in reports.values():
        assert quarantined.get(report.file, 0) == report.rows_quarantined
    loads = query(home, "select path, rows_read, rows_loaded, rows_quarantined from raw._loads")
    for path, read, loaded, bad in loads:
        assert read == loaded + bad == reports[path].rows_read

    reasons = dict(
        query(
            home,
            "select source_row, reason from raw.quarantine"
            " where file = 'contacts/mixed_problems.csv'",
        )
    )
    assert reasons[3] == "email: malformed email 'not-an-email'"
    assert reasons[4] == "points: not a whole number 'lots'"
    assert "missing columns" in reasons[5]
    assert "too many columns" in reasons[6]
    assert reasons[7] == "date_added: unparseable timestamp '31/31/2024'"
    assert reports["contacts/mixed_problems.csv"].rows_loaded == 3


def test_contacts_are_normalised_and_dialects_read(home):
    for name in ("mixed_problems.csv", "bom_semicolon_crlf.csv", "latin1.csv"):
        drop(home, CORPUS / "contacts" / name, "contacts")
    ingest(home)
    rows = dict(query(home, "select email, city from raw.contacts where city is not null"))
    assert rows["jose@example.es"] == "Málaga"
    assert rows["anna@example.de"] == "Köln\r\nInnenstadt"  # quoted newline kept
    assert rows["juergen@example.de"] == "München"  # Latin-1 bytes decoded
    assert rows["francois@example.fr"] == "Orléans"
    emails = [e for (e,) in query(home, "select email from raw.contacts order by _source_row")]
    assert "ada@example.com" in emails  # trimmed and lower-cased
    # A multi-line record keeps the row number where it starts; offsets are converted to UTC.
    (added,) = query(home, "select date_added from raw.contacts where email = 'ml@example.com'")[0]
    assert added == datetime(2024, 3, 2, 6, 0)
    # Formula-looking text is data: stored as is, never evaluated or dropped.
    assert query(
        home, "select firstname from raw.contacts where email = 'formula@example.com'"
    ) == [("=cmd|'/C calc'!A0",)]


def test_segment_spec_events(home):
    drop(home, CORPUS / "events" / "segment_mixed.jsonl", "events")
    (report,) = ingest(home)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (17, 7, 10)

    events = {}  # the first arrival of each id
    for row in query(
        home,
        "select event_id, event_type, occurred_at, anonymous_id, contact_key, properties"
        " from raw.events order by _source_row",
    ):
        events.setdefault((row[0], row[1]), row[1:])
    page = events[("m-1", "page_hit")]
    assert page[1] == datetime(2026, 10, 1, 9, 0)
    properties = json.loads(page[4])
    assert properties["url"] == "https://www.example.com/pricing"
    assert properties["path"] == "/pricing"  # from context.page
    assert properties["utm_source"] == "google" and properties["utm_medium"] == "cpc"
    identify = events[("m-2", "identify")]
    assert identify[1] == datetime(2026, 10, 1, 9, 5)  # +02:00 → UTC
    assert identify[2:4] == ("anon-1", "lead@example.com")
    assert events[("m-3", "email_open")][1] == datetime(2026, 9, 21, 14, 13, 20)  # epoch s
    assert events[("m-4", "email_click")][1] == datetime(2026, 9, 21, 14, 15)  # epoch ms
    assert ("m-5", "webinar_watched") in events  # custom track events keep their name
    assert events[("flat-1", "page_hit")][2] == "anon-5"  # flat funnelhouse events too
    # Duplicate message ids are recorded as they arrived; staging dedupes them.
    assert query(home, "select count(*) from raw.events where event_id = 'm-1'") == [(2,)]

    reasons = dict(query(home, "select source_row, reason from raw.quarantine order by source_row"))
    assert reasons[6] == "anonymous_id, contact_key: no anonymous id or contact"
    assert reasons[7] == "occurred_at: unparseable timestamp 'yesterday'"
    assert reasons[8] == "unsupported Segment call type 'group'"
    assert reasons[9] == "malformed email 'broken@@example'"
    assert reasons[11] == "event_id: missing"
    assert reasons[12].startswith("occurred_at: timestamp outside")
    assert reasons[13].startswith("occurred_at: timestamp outside")
    assert reasons[14].startswith("properties: not a JSON object")
    assert reasons[15] == "broken JSON"
    assert reasons[16] == "JSON value is not an object"


def test_reingest_loads_nothing_and_changed_file_is_a_new_version(home):
    path = drop(home, CORPUS / "events" / "segment_mixed.jsonl", "events")
    first = ingest(home)
    second = ingest(home)
    assert [r.status for r in first] == ["loaded"]
    assert [r.status for r in second] == ["skipped"]
    assert query(home, "select count(*) from raw._loads") == [(1,)]

    path.write_text(
        path.read_text() + '{"type":"page","messageId":"m-99","anonymousId":"a",'
        '"timestamp":"2026-10-05T00:00:00Z"}\n'
    )
    (third,) = ingest(home)
    assert third.status == "loaded" and third.new_version and third.rows_loaded == 8
    versions = query(
        home,
        "select count(distinct _load_id), count(*) from raw.events where _source = "
        "'events/segment_mixed.jsonl'",
    )
    assert versions == [(2, 15)]  # both versions kept, distinguishable by _load_id


def test_a_file_is_known_by_its_size_and_time_and_read_again_once_touched(home):
    """Like make and rsync: a file with the size and modification time of a loaded version is
    that version, so a run with nothing new hashes no file; a new modification time makes it
    read again, and loaded again only if its bytes changed."""
    path = drop(home, CORPUS / "events" / "segment_mixed.jsonl", "events")
    assert [r.status for r in ingest(home)] == ["loaded"]
    text, stat = path.read_text(), path.stat()
    same_size = text.replace('"m-', '"x-', 1)  # another event id, same number of bytes
    assert same_size != text and len(same_size) == len(text)
    path.write_text(same_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # size and time as loaded
    assert [r.status for r in ingest(home)] == ["skipped"]  # not read: taken as known

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched
    (report,) = ingest(home)
    assert report.status == "loaded" and report.new_version
    # touched again with the same bytes: hashed, found loaded, skipped
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert [r.status for r in ingest(home)] == ["skipped"]
    assert query(home, "select count(*), count(modified_ns) from raw._loads") == [(2, 2)]


def test_unreadable_files_are_reported_and_the_rest_still_load(home):
    (home.landing / "events" / "zero.parquet").write_bytes(b"")
    (home.landing / "events" / "garbage.parquet").write_bytes(b"PAR1 not really")
    (home.landing / "events" / "notes.docx").write_bytes(b"PK\x03\x04")
    (home.landing / "catalogs" / "unknown").mkdir(parents=True)
    (home.landing / "catalogs" / "unknown" / "x.csv").write_text("id\n1\n")
    (home.landing / "stray.csv").write_text("a\n1\n")
    drop(home, CORPUS / "contacts" / "latin1.csv", "contacts")

    reports = by_file(ingest(home))
    assert reports["contacts/latin1.csv"].status == "loaded"
    errors = {f: r.error for f, r in reports.items() if r.status == "failed"}
    assert errors == {
        "events/zero.parquet": "not a Parquet file: it is empty (0 bytes)",
        "events/garbage.parquet": errors["events/garbage.parquet"],
        "events/notes.docx": "unsupported file type '.docx' (use CSV, JSON lines or Parquet)",
        "catalogs/unknown/x.csv": errors["catalogs/unknown/x.csv"],
        "stray.csv": errors["stray.csv"],
    }
    assert errors["events/garbage.parquet"].startswith("not a readable Parquet file")
    assert errors["catalogs/unknown/x.csv"].startswith("unknown catalog folder 'unknown'")
    assert errors["stray.csv"].startswith("not in a source folder")
    assert all("\n" not in e for e in errors.values())
    # Failed files are tried again next time (and fail the same way) rather than forgotten.
    again = by_file(ingest(home))
    assert again["events/zero.parquet"].status == "failed"
    assert again["contacts/latin1.csv"].status == "skipped"


def test_parquet_events_with_nested_properties(home):
    frame = pl.DataFrame(
        {
            "event_id": ["p-1", "p-2"],
            "event_type": ["asset_download", "page_hit"],
            "occurred_at": [datetime(2026, 10, 1, 12), datetime(2026, 10, 1, 13)],
            "anonymous_id": ["a-1", None],
            "contact_key": [None, None],
            "properties": [{"asset_id": 7, "url": "x"}, {"asset_id": None, "url": "y"}],
        }
    )
    frame.write_parquet(home.landing / "events" / "batch.parquet")
    (report,) = ingest(home)
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    row = query(home, "select occurred_at, properties->>'asset_id' from raw.events")
    assert row == [(datetime(2026, 10, 1, 12), "7")]
    assert query(home, "select source_row, reason from raw.quarantine") == [
        (2, "anonymous_id, contact_key: no anonymous id or contact")
    ]


def test_catalogs_and_companies_are_typed(home):
    drop(home, CORPUS / "catalogs" / "emails" / "emails.csv", "catalogs/emails")
    drop(home, CORPUS / "companies" / "companies_bad.csv", "companies")
    reports = by_file(ingest(home))
    assert query(home, "select id, name, published from raw.emails") == [("1", "Newsletter", True)]
    assert reports["catalogs/emails/emails.csv"].rows_quarantined == 2
    assert query(home, "select companyname, companynumber_of_employees from raw.companies") == [
        ("Acme", 120)
    ]
    assert dict(
        query(
            home, "select source_row, reason from raw.quarantine where target_table = 'companies'"
        )
    ) == {
        3: "companyname: missing",
        4: "companynumber_of_employees: not a whole number 'many'",
    }


def _segment_lines(count: int, broken_at: int | None = None) -> str:
    lines = [
        json.dumps(
            {
                "type": "page",
                "messageId": f"m{i}",
                "anonymousId": f"a{i % 7}",
                "timestamp": "2026-05-01T10:00:00Z",
                "properties": {"url": f"https://example.com/{i}"},
            }
        )
        for i in range(count)
    ]
    if broken_at is not None:
        lines[broken_at] = '{"type": "page", broken'
    return "\n".join(lines) + "\n"


def test_a_file_commits_batch_by_batch_and_a_stop_midway_is_undone(home, monkeypatch):
    """Large files load in batches of their own transaction (memory stays one batch's); a
    process that stops midway leaves the file `loading`, and the next ingest removes what
    was committed and loads the file again in full: nothing doubled, nothing lost."""
    import ingest.loader as loader
    import ingest.readers as readers

    monkeypatch.setattr(readers, "JSONL_BATCH_BYTES", 4_000)  # about 25 lines a batch
    path = home.landing / "events" / "big.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_segment_lines(400, broken_at=350))

    real_batches = loader.read_batches

    def dying_after_five(file):
        for number, batch in enumerate(real_batches(file), start=1):
            if number == 6:
                raise KeyboardInterrupt  # the process is stopped in the middle of the file
            yield batch

    monkeypatch.setattr(loader, "read_batches", dying_after_five)
    with pytest.raises(KeyboardInterrupt):
        ingest(home)
    partial, status = query(
        home,
        "select (select count(*) from raw.events), (select status from raw._loads)",
    )[0]
    assert 0 < partial < 400 and status == "loading"  # committed batches, not yet loaded

    monkeypatch.setattr(loader, "read_batches", real_batches)
    report = ingest(home)[0]
    assert (report.status, report.rows_loaded, report.rows_quarantined) == ("loaded", 399, 1)
    assert query(home, "select count(*), count(distinct event_id) from raw.events") == [(399, 399)]
    assert query(home, "select count(*) from raw.quarantine") == [(1,)]
    statuses = query(home, "select status, error from raw._loads order by started_at")
    assert [s for s, _ in statuses] == ["interrupted", "loaded"]
    assert "loads again" in statuses[0][1]


def test_a_file_that_fails_after_committed_batches_keeps_none_of_its_rows(home, monkeypatch):
    import ingest.loader as loader
    import ingest.readers as readers

    monkeypatch.setattr(readers, "JSONL_BATCH_BYTES", 4_000)
    path = home.landing / "events" / "big.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_segment_lines(400))
    real_batches = loader.read_batches

    def unreadable_after_five(file):
        for number, batch in enumerate(real_batches(file), start=1):
            if number == 6:
                raise readers.UnreadableFile("not a readable JSON lines file: cut short")
            yield batch

    monkeypatch.setattr(loader, "read_batches", unreadable_after_five)
    report = ingest(home)[0]
    assert report.status == "failed" and "cut short" in report.error
    assert query(home, "select count(*) from raw.events") == [(0,)]
    assert query(home, "select status from raw._loads") == [("failed",)]
