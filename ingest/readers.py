"""Readers: one landing file → a frame of text columns, plus the rows that could not be split.

The format comes from the extension. Every reader numbers rows as a person would find them
(CSV: the header is row 1; JSON lines: the line number; Parquet: the record number) and
never drops one silently: a row it cannot read becomes a reject with its reason.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from ingest.fields import is_json_object

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
}
ROW = "_source_row"
RAW = "_raw"  # JSON lines keep their text for quarantine and for event mapping
REJECT_SCHEMA = {ROW: pl.Int64, "field": pl.String, "reason": pl.String, "raw_text": pl.String}
RAW_TEXT_LIMIT = 10_000  # quarantine keeps this much of an offending row
JSONL_BATCH_ROWS = 500_000


class UnreadableFile(Exception):
    """The file as a whole cannot be read (its one-line message is shown to the user)."""


@dataclass
class Batch:
    frame: pl.DataFrame  # text columns as named in the file, plus ROW (and RAW for JSON lines)
    rejects: pl.DataFrame  # REJECT_SCHEMA: rows the reader could not split into fields

    @property
    def rows_read(self) -> int:
        return self.frame.height + self.rejects.height


def format_of(path: Path) -> str | None:
    return FORMATS.get(path.suffix.lower())


def read_batches(path: Path) -> Iterator[Batch]:
    """Batches of one file; large JSON lines files come in several, others in one."""
    fmt = format_of(path)
    if fmt is None:
        raise UnreadableFile(
            f"unsupported file type '{path.suffix}' (use CSV, JSON lines or Parquet)"
        )
    if fmt == "jsonl":
        yield from _read_jsonl(path)
    elif fmt == "parquet":
        yield _read_parquet(path)
    else:
        yield _read_csv(path)


def reject_frame(frame: pl.DataFrame, field, reason, raw: pl.Expr) -> pl.DataFrame:
    """Rows of ``frame`` as rejects; ``field``/``reason`` are text or expressions over it."""
    return frame.select(
        pl.col(ROW).cast(pl.Int64),
        field=_lit(field),
        reason=_lit(reason),
        raw_text=truncate(raw.cast(pl.String)),
    )


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def truncate(text: pl.Expr) -> pl.Expr:
    return (
        pl.when(text.str.len_chars() > RAW_TEXT_LIMIT)
        .then(text.str.slice(0, RAW_TEXT_LIMIT) + pl.lit(" …[truncated]"))
        .otherwise(text)
    )


def _lit(value) -> pl.Expr:
    return value if isinstance(value, pl.Expr) else pl.lit(value, pl.String)


# --- CSV -----------------------------------------------------------------------------------


def sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the bytes allow it, else Latin-1 as older exports use."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def sniff_delimiter(path: Path, encoding: str) -> str:
    """The delimiter that splits the header line most often (comma on a tie)."""
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        header = handle.readline().lstrip("\ufeff")
    counts = {}
    for delimiter in (",", ";", "\t", "|"):
        row = next(csv.reader(io.StringIO(header), delimiter=delimiter), [])
        counts[delimiter] = len(row)
    return max(counts, key=lambda d: (counts[d], d == ","))


def _read_csv(path: Path) -> Batch:
    if path.stat().st_size == 0:
        return Batch(pl.DataFrame(schema={ROW: pl.Int64}), empty_rejects())
    encoding = sniff_encoding(path)
    delimiter = sniff_delimiter(path, encoding)
    con = duckdb.connect()
    try:
        frame = con.sql(
            "select * from read_csv($path, header = true, all_varchar = true, delim = $delim,"
            " quote = '\"', encoding = $encoding, store_rejects = true,"
            " max_line_size = 67108864, null_padding = false)",
            params={"path": str(path), "delim": delimiter, "encoding": encoding},
        ).pl()
        bad = con.sql(
            "select line, arg_min(coalesce(column_name, '#' || column_idx), column_idx) as field,"
            " arg_min(lower(error_type) || ': ' || error_message, column_idx) as reason,"
            " any_value(trim(csv_line, chr(10) || chr(13))) as raw_text"
            " from reject_errors group by line order by line"
        ).pl()
    except duckdb.Error as error:
        raise UnreadableFile(f"not a readable CSV file: {_first_line(error)}") from None
    finally:
        con.close()
    # Rejected records keep their number; the others take the remaining numbers in order.
    # (DuckDB counts blank lines it skips, so rows after a blank line in mid-file are
    # numbered one lower than DuckDB would: exports rarely have them.)
    rejected = bad["line"].cast(pl.Int64)
    total = frame.height + rejected.len()
    numbers = pl.int_range(2, total + 2, eager=True, dtype=pl.Int64)
    accepted = numbers.filter(~numbers.is_in(rejected.implode()))
    frame = frame.cast(pl.String).with_columns(pl.Series(ROW, accepted[: frame.height]))
    bad = reject_frame(
        bad.rename({"line": ROW}), pl.col("field"), pl.col("reason"), pl.col("raw_text")
    )
    return Batch(frame, bad)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


# --- JSON lines ----------------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterator[Batch]:
    if path.stat().st_size == 0:
        yield Batch(pl.DataFrame(schema={ROW: pl.Int64, RAW: pl.String}), empty_rejects())
        return
    lines = pl.scan_lines(path, name=RAW, row_index_name=ROW, row_index_offset=1)
    try:
        for chunk in lines.collect_batches(chunk_size=JSONL_BATCH_ROWS):
            chunk = chunk.with_columns(pl.col(ROW).cast(pl.Int64)).filter(
                pl.col(RAW).str.strip_chars().str.len_bytes() > 0  # blank lines are not rows
            )
            is_object = pl.col(RAW).map_batches(is_json_object, return_dtype=pl.Boolean)
            yield Batch(
                chunk.filter(is_object),
                reject_frame(chunk.filter(~is_object), "line", _json_reason(), pl.col(RAW)),
            )
    except pl.exceptions.PolarsError as error:
        raise UnreadableFile(f"not a readable JSON lines file: {_first_line(error)}") from None


def _json_reason() -> pl.Expr:
    valid = pl.col(RAW).str.json_path_match("$").is_not_null()
    return (
        pl.when(valid).then(pl.lit("JSON value is not an object")).otherwise(pl.lit("broken JSON"))
    )


def flatten_json(batch: Batch) -> Batch:
    """Top-level keys of each JSON object → text columns (nested values stay JSON text)."""
    con = duckdb.connect()
    try:
        frame = batch.frame  # noqa: F841 (read by the SQL below)
        keys = [
            k
            for (k,) in con.sql(
                f"select distinct unnest(json_keys({RAW})) as k from frame order by k"
            ).fetchall()
        ]
        columns = ", ".join(
            f"{RAW}->>{_sql_string(k)} as {_sql_ident(k)}" for k in keys if k not in (ROW, RAW)
        )
        flat = con.sql(f"select {ROW}, {RAW}{', ' + columns if columns else ''} from frame").pl()
    finally:
        con.close()
    return Batch(flat, batch.rejects)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


# --- Parquet -------------------------------------------------------------------------------


def _read_parquet(path: Path) -> Batch:
    if path.stat().st_size == 0:
        raise UnreadableFile("not a Parquet file: it is empty (0 bytes)")
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise UnreadableFile(f"not a readable Parquet file: {_first_line(error)}") from None
    as_text = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, (pl.Struct, pl.List, pl.Array)):
            column = pl.struct(column.alias("v")).struct.json_encode().str.json_path_match("$.v")
        elif isinstance(dtype, pl.Datetime) and dtype.time_zone:
            column = column.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")
        as_text.append(column.cast(pl.String).alias(name))
    frame = frame.select(as_text).with_row_index(ROW, offset=1)
    return Batch(frame.with_columns(pl.col(ROW).cast(pl.Int64)), empty_rejects())
