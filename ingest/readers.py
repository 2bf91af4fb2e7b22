"""Readers: one landing file → a frame of text columns, plus the rows that could not be split.

The format comes from the extension. Every reader numbers rows as a person would find them
(CSV: the header is row 1; JSON lines: the line number; Parquet: the record number) and
never drops one silently: a row it cannot read becomes a reject with its reason.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
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
JSONL_BATCH_BYTES = 64 * 2**20  # JSON lines are read this much at a time


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


# Files that are not text at all, by their first bytes: named in the error rather than read.
_MAGIC = {
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "a zip archive (an Excel .xlsx workbook?)",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
    b"\x1f\x8b": "gzip-compressed",
    b"%PDF": "a PDF document",
    b"SQLite format 3": "an SQLite database",
}


def binary_kind(path: Path) -> str | None:
    """What a file is when its first bytes say it is not text (``None``: it may be text)."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    kind = next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)
    # Binary formats are full of NUL bytes and other control characters; text, even with a
    # stray control character in a value, is not (UTF-16 text is half NULs: its BOM says so).
    controls = sum(byte < 9 or 13 < byte < 32 for byte in head)  # not tab, newlines, space
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if kind is None and not utf16 and head.count(0) >= 2 and controls > len(head) // 20:
        kind = "binary data, not text"
    return kind


def sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the bytes allow it, else Latin-1 as older exports use
    (read as Windows-1252, its superset, which Excel writes: € and curly quotes)."""
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


_CSV_OPTIONS = (
    "header = true, delim = $delim, quote = '\"', encoding = $encoding, store_rejects = true,"
    " max_line_size = 67108864, null_padding = false"
)


def _read_csv(path: Path) -> Batch:
    if path.stat().st_size == 0:
        return Batch(pl.DataFrame(schema={ROW: pl.Int64}), empty_rejects())
    kind = binary_kind(path)
    if kind:
        raise UnreadableFile(f"not a CSV file: it is {kind}")
    encoding = sniff_encoding(path)
    if encoding == "latin-1":
        # DuckDB's Latin-1 refuses the bytes 0x80-0x9f, which Windows-1252 exports use (€,
        # curly quotes, dashes): the file is read through a UTF-8 copy instead.
        with tempfile.TemporaryDirectory(prefix="funnelhouse-csv-") as folder:
            copy = Path(folder) / "utf8.csv"
            _transcode_windows_1252(path, copy)
            return _read_csv_text(copy, "utf-8")
    return _read_csv_text(path, encoding)


def _windows_1252_or_latin_1(error: UnicodeDecodeError) -> tuple[str, int]:
    """The five bytes Windows-1252 leaves undefined read as Latin-1 (C1 controls)."""
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("funnelhouse-latin-1", _windows_1252_or_latin_1)


def _transcode_windows_1252(source: Path, target: Path) -> None:
    with source.open("rb") as raw, target.open("w", encoding="utf-8", newline="") as out:
        while chunk := raw.read(1 << 22):  # one byte per character: chunks split cleanly
            out.write(chunk.decode("cp1252", errors="funnelhouse-latin-1"))


def _read_csv_text(path: Path, encoding: str) -> Batch:
    delimiter = sniff_delimiter(path, encoding)
    params = {"path": str(path), "delim": delimiter, "encoding": encoding}
    con = duckdb.connect()
    try:
        try:
            frame = con.sql(
                f"select * from read_csv($path, all_varchar = true, {_CSV_OPTIONS})", params=params
            ).pl()
        except duckdb.InvalidInputException as error:
            if "sniffing" not in str(error):
                raise
            # DuckDB's sniffer gives up on a file when a row is malformed in a way no dialect
            # explains (a stray quote inside an unquoted value, a quote left open at the end).
            # Read it the RFC 4180 way instead, with the header's names: the rows that break
            # the rules become rejects with their reason, the others load.
            con.close()
            con = duckdb.connect()
            columns = {name: "VARCHAR" for name in _csv_header(path, encoding, delimiter)}
            frame = con.sql(
                f"select * from read_csv($path, columns = $columns, auto_detect = false,"
                f" escape = '\"', {_CSV_OPTIONS})",
                params={**params, "columns": columns},
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


def _csv_header(path: Path, encoding: str, delimiter: str) -> list[str]:
    """The first record's names, unique and non-empty as DuckDB names them (a repeated name
    gets ``_1``, ``_2``; a blank one ``column<n>``)."""
    try:
        with path.open(encoding=encoding, errors="replace", newline="") as handle:
            header = next(csv.reader(handle, delimiter=delimiter), [])
    except csv.Error as error:
        raise UnreadableFile(f"not a readable CSV file: its header line: {error}") from None
    names: list[str] = []
    for index, raw in enumerate(header):
        name = raw.lstrip("\ufeff") if index == 0 else raw
        name = name or f"column{index}"
        base, suffix = name, 0
        while name in names:
            suffix += 1
            name = f"{base}_{suffix}"
        names.append(name)
    if not names:
        raise UnreadableFile("not a readable CSV file: no header line")
    return names


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


# --- JSON lines ----------------------------------------------------------------------------


ONE_DOCUMENT_CHECK_BYTES = 256 * 2**20  # a file this small may be checked as one JSON document


def _read_jsonl(path: Path) -> Iterator[Batch]:
    if path.stat().st_size == 0:
        yield Batch(pl.DataFrame(schema={ROW: pl.Int64, RAW: pl.String}), empty_rejects())
        return
    kind = binary_kind(path)
    if kind:
        raise UnreadableFile(f"not a JSON lines file: it is {kind}")
    encoding = sniff_encoding(path)
    if encoding == "utf-16":
        raise UnreadableFile(
            "not a readable JSON lines file: it is UTF-16 text (JSON lines must be UTF-8)"
        )
    # Lines that are not UTF-8 stop polars' line scanner for the whole file (and it numbers
    # the lines after them wrongly): such a file is read line by line instead, each bad line
    # becoming a reject of its own.
    chunks = _scanned_lines(path) if encoding == "utf-8" else _decoded_lines(path)
    first = True
    try:
        for chunk, undecodable in chunks:
            chunk = chunk.with_columns(
                pl.col(ROW).cast(pl.Int64),
                # a byte order mark may open the file: it is not part of the first object
                pl.when(pl.col(ROW) == 1)
                .then(pl.col(RAW).str.strip_prefix("\ufeff"))
                .otherwise(pl.col(RAW)),
            ).filter(pl.col(RAW).str.strip_chars().str.len_bytes() > 0)  # blank: not rows
            is_object = is_json_object(chunk[RAW])  # once: DuckDB parses every line
            objects = chunk.filter(is_object)
            others = chunk.filter(~is_object)
            rejects = reject_frame(
                others, "line", pl.col(RAW).map_batches(_json_reason, pl.String), pl.col(RAW)
            )
            batch = Batch(objects, pl.concat([undecodable, rejects]).sort(ROW))
            if first and objects.is_empty() and not others.is_empty():
                _refuse_one_document(path)
            first = False
            yield batch
    except pl.exceptions.PolarsError as error:
        raise UnreadableFile(f"not a readable JSON lines file: {_first_line(error)}") from None


def _scanned_lines(path: Path) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """The lines of a UTF-8 file in batches of at most JSONL_BATCH_ROWS lines, read about
    JSONL_BATCH_BYTES at a time: memory stays that of one batch, whatever the size of the
    file. (polars' own line scanner reads ahead without bound: its memory grew with the file.)"""
    number = 1
    with path.open("rb") as handle:
        for block in _whole_line_blocks(handle):
            lines = pl.Series(RAW, block.decode("utf-8").split("\n"), dtype=pl.String)
            frame = pl.DataFrame(
                {
                    ROW: pl.int_range(number, number + lines.len(), eager=True, dtype=pl.Int64),
                    RAW: lines.str.strip_suffix("\r"),
                }
            )
            number += lines.len()
            for start in range(0, frame.height, JSONL_BATCH_ROWS):
                yield frame.slice(start, JSONL_BATCH_ROWS), empty_rejects()


def _whole_line_blocks(handle) -> Iterator[bytes]:
    """The file's bytes in blocks of whole lines (no final newline), about JSONL_BATCH_BYTES
    each (a block grows to hold a longer line)."""
    pending = b""
    while block := handle.read(JSONL_BATCH_BYTES):
        data = pending + block
        cut = data.rfind(b"\n")
        if cut < 0:  # no line ends in it yet: read on
            pending = data
            continue
        yield data[:cut]
        pending = data[cut + 1 :]
    if pending:
        yield pending


def _decoded_lines(path: Path) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Lines of a file that is not all UTF-8: the good ones as text, the others as rejects."""
    numbers: list[int] = []
    texts: list[str] = []
    bad: list[tuple[int, str, str]] = []

    def flush() -> tuple[pl.DataFrame, pl.DataFrame]:
        frame = pl.DataFrame({ROW: numbers, RAW: texts}, schema={ROW: pl.Int64, RAW: pl.String})
        rejects = pl.DataFrame(
            [(n, "line", reason, text) for n, text, reason in bad],
            schema=REJECT_SCHEMA,
            orient="row",
        ).with_columns(raw_text=truncate(pl.col("raw_text")))
        numbers.clear(), texts.clear(), bad.clear()
        return frame, rejects

    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.removesuffix(b"\n").removesuffix(b"\r")
            try:
                texts.append(line.decode("utf-8"))
                numbers.append(number)
            except UnicodeDecodeError as error:
                reason = (
                    f"not UTF-8 text (byte {error.start + 1} of the line): JSON lines must be UTF-8"
                )
                bad.append((number, line.decode("utf-8", errors="replace"), reason))
            if len(texts) + len(bad) >= JSONL_BATCH_ROWS:
                yield flush()
    if texts or bad:
        yield flush()


def _json_reason(text: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"text": text})  # noqa: F841 (read by the SQL)
    with duckdb.connect() as con:
        reasons = con.sql(
            "select case when json_valid(text) then 'JSON value is not an object'"
            " else 'broken JSON' end as reason from frame"
        ).pl()
    return reasons["reason"]


def _refuse_one_document(path: Path) -> None:
    """A file with no JSON object on any line of its first batch may be one JSON document
    (an array of objects, or an object written over several lines): say so, rather than
    quarantining each line as broken."""
    if path.stat().st_size > ONE_DOCUMENT_CHECK_BYTES:
        return
    with path.open("rb") as handle:
        if handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"[", b"{"):
            return
    with duckdb.connect() as con:
        try:
            kind, length = con.execute(
                "select json_type(content::json),"
                " case when json_type(content::json) = 'ARRAY'"
                " then json_array_length(content::json) end from read_text(?)",
                [str(path)],
            ).fetchone()
        except (duckdb.Error, UnicodeDecodeError):  # (DuckDB's message may cut a character)
            return  # not one JSON document either: the lines are quarantined one by one
    if kind == "ARRAY":
        raise UnreadableFile(
            f"not JSON lines: the file is one JSON array of {length:,} "
            f"value{'' if length == 1 else 's'}; "
            "write one JSON object per line"
        )
    if kind == "OBJECT":
        raise UnreadableFile(
            "not JSON lines: the file is one JSON object written over several lines; "
            "write one JSON object per line"
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
