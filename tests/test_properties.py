"""Property tests for the parts every row goes through: readers, email and time parsing."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta, timezone

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.fields import parse_email, parse_timestamp
from ingest.readers import ROW, read_batches

local_part = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._+\-]{0,20}[a-zA-Z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)
domain = st.from_regex(r"([a-zA-Z0-9]{1,10}\.){1,3}[a-zA-Z]{2,6}", fullmatch=True)


def _apply(expr_fn, values: list[str | None]) -> list:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.String})
        .select(expr_fn(pl.col("v")))["v"]
        .to_list()
    )


@given(local_part, domain, st.sampled_from(["", " ", "\t", "  "]))
def test_email_normaliser_trims_lowercases_and_is_idempotent(local, host, pad):
    address = f"{local}@{host}"
    (parsed,) = _apply(parse_email, [f"{pad}{address.upper()}{pad}"])
    assert parsed == address.lower()
    assert _apply(parse_email, [parsed]) == [parsed]


@given(st.text(max_size=40))
def test_email_parser_accepts_only_single_at_addresses_without_spaces(text):
    (parsed,) = _apply(parse_email, [text])
    if parsed is not None:
        assert parsed.count("@") == 1
        assert parsed == parsed.strip().lower()
        assert not any(ch.isspace() for ch in parsed)
        assert "." in parsed.split("@")[1]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
instants = st.datetimes(min_value=datetime(1996, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@given(instants, offsets)
def test_timestamps_in_any_offset_and_epoch_unit_land_on_the_same_utc_instant(instant, zone):
    utc = instant.replace(tzinfo=UTC)
    local = utc.astimezone(zone)
    spellings = [
        local.isoformat(timespec="milliseconds"),
        local.isoformat(sep=" ", timespec="milliseconds"),
        utc.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        str((utc - EPOCH) // timedelta(milliseconds=1)),  # epoch milliseconds
    ]
    parsed = _apply(parse_timestamp, spellings)
    assert parsed == [instant] * len(spellings)
    (seconds,) = _apply(parse_timestamp, [str((utc - EPOCH) // timedelta(seconds=1))])
    assert seconds == instant.replace(microsecond=0)


cell = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["a,b", 'say "hi"', "two\nlines", "semi;colon", "é ü ß", "=1+1"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(
        st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True), min_size=1, max_size=6, unique=True
    ),
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_csv_reader_round_trips_any_well_formed_file(tmp_path_factory, header, data, delimiter):
    rows = data.draw(
        st.lists(
            st.lists(cell, min_size=len(header), max_size=len(header)), min_size=1, max_size=15
        )
    )
    path = tmp_path_factory.mktemp("csv") / "file.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)
    (batch,) = list(read_batches(path))
    assert batch.rejects.height == 0
    assert batch.frame[ROW].to_list() == list(range(2, len(rows) + 2))
    assert batch.frame.select(header).rows() == [tuple(r) for r in rows]


def _is_blank(line: str) -> bool:
    """Blank by Unicode White_Space, as the reader strips; Python's str.strip() also drops the
    ASCII separators \x1c-\x1f, which are content (read and quarantined, not skipped)."""
    return all(c.isspace() and c not in "\x1c\x1d\x1e\x1f" for c in line)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.dictionaries(
                st.text(max_size=8),
                st.one_of(st.integers(), st.text(max_size=20), st.none()),
                max_size=4,
            ).map(json.dumps),
            st.text(max_size=30).filter(lambda s: "\n" not in s and "\r" not in s),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_json_lines_reader_accounts_for_every_non_blank_line(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("jsonl") / "file.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batches = list(read_batches(path))
    read = sum(b.rows_read for b in batches)
    assert read == sum(1 for line in lines if not _is_blank(line))
    objects = sum(b.frame.height for b in batches)
    assert objects == sum(_is_json_object(line) for line in lines)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
