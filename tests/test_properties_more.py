"""More property tests: CSV cells of any text through the reader, the email normaliser, the
segment filter macros' SQL literals, the email/SMS renderer with hostile contact data, and
the email headers' wire form.

The segment macros are rendered without a dbt project parse: each macro of
``dbt_project/macros`` (and the dbt and dbt-duckdb utility macros they call, ``type_string``,
``dateadd`` …) becomes a dbt ``CallableMacroGenerator`` in dbt's own Jinja environment, with
the few context members the filters use (``return``, ``adapter.dispatch``, ``var``, ``ref``,
``exceptions``, ``modules``). That is the code path dbt runs for a macro call, minus the
manifest; the rendered SQL then runs on a real DuckDB and must select exactly what the same
filter written with ``?`` parameters selects.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from email import policy as email_policy
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl
from dbt.adapters.duckdb.column import DuckDBColumn
from dbt_common.clients import jinja as dbt_jinja
from dbt_common.clients.jinja import CallableMacroGenerator
from dbt_common.exceptions import CompilationError
from dbt_common.exceptions.macros import MacroReturn
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from pydantic import SecretStr

from activation.render import SMTP_POLICY, EmailContent, Renderer, Tracking, mautic_tokens
from ingest.fields import email_address, normalize_email, parse_email
from ingest.readers import ROW, read_batches

ROOT = Path(__file__).resolve().parents[1]

# Text of any kind but lone surrogates (a file cannot hold them).
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
# The classic payloads and the characters SQL and templates give meaning to, mixed in.
PAYLOADS = [
    "' OR 1=1 --",
    "'; drop table victim; --",
    "\\'; drop table victim; --",
    "x' UNION SELECT table_name FROM information_schema.tables --",
    '"; DROP TABLE victim; --',
    "‘ OR ’1’=’1",  # unicode quotes
    "50%_off\\",
    "{{ 7*7 }}",
    "{% for x in range(3) %}{{ x }}{% endfor %}",
    "{contactfield=firstname|x}",
    "<script>alert('x')</script>",
    "a\x00b",
    "İstanbul",
]
hostile = st.one_of(any_text, st.sampled_from(PAYLOADS))


def _apply(expr_fn, values: list[str | None]) -> list:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.String})
        .select(expr_fn(pl.col("v")))["v"]
        .to_list()
    )


# --- CSV: any cells, any quoting --------------------------------------------------------------

cell = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from(["a,b;c", 'say "hi"', '""', "\\", '\\"', "two\r\nlines", "\n", "'", " "]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(
        st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), min_size=2, max_size=5, unique=True
    ),
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
)
def test_csv_rows_of_any_cells_load_with_their_values_or_are_rejected(
    tmp_path_factory, header, data, delimiter, quoting
):
    """Well-formed rows load cell for cell; a row with too few or too many cells is rejected
    with its row number; nothing else happens to any row."""
    width = len(header)
    rows = data.draw(
        st.lists(
            st.lists(cell, min_size=width, max_size=width).flatmap(
                lambda row: st.sampled_from([row, row[:-1], [*row, "extra"]])
            ),
            min_size=1,
            max_size=12,
        )
    )
    path = tmp_path_factory.mktemp("csv") / "file.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=quoting)
        writer.writerow(header)
        writer.writerows(rows)
    (batch,) = list(read_batches(path))
    assert batch.rows_read == len(rows)
    numbers = range(2, len(rows) + 2)
    ragged = [n for n, row in zip(numbers, rows, strict=True) if len(row) != width]
    assert sorted(batch.rejects[ROW].to_list()) == ragged
    whole = [(n, row) for n, row in zip(numbers, rows, strict=True) if len(row) == width]
    assert batch.frame[ROW].to_list() == [n for n, _ in whole]
    assert batch.frame.select(header).rows() == [tuple(row) for _, row in whole]


# --- emails -----------------------------------------------------------------------------------

local_part = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._+\-]{0,20}[a-zA-Z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)
domain = st.from_regex(r"([a-zA-Z0-9]{1,10}\.){1,3}[a-zA-Z]{2,6}", fullmatch=True)
addresses = st.builds(lambda local, host: f"{local}@{host}", local_part, domain)
# characters no address may hold: whitespace of every kind, controls, format characters
unprintable = st.characters(categories=("Zs", "Zl", "Zp", "Cc", "Cf")).filter(
    lambda c: c not in "\x00"
)


@settings(max_examples=200, deadline=None)
@given(hostile)
def test_email_normaliser_is_idempotent_and_accepts_only_one_at_without_spaces(text):
    (normalised,) = _apply(normalize_email, [text])
    assert _apply(normalize_email, [normalised]) == [normalised]
    (parsed,) = _apply(parse_email, [text])
    assert _apply(parse_email, [parsed]) == [parsed]  # idempotent
    assert email_address(text) == parsed  # the collector's forms check the same way
    if parsed is not None:
        assert parsed == normalised
        assert parsed.count("@") == 1
        assert not any(
            c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp") for c in parsed
        ), repr(parsed)


@settings(max_examples=150, deadline=None)
@given(addresses, st.data())
def test_email_case_does_not_matter_and_a_space_or_second_at_is_never_accepted(address, data):
    variants = [address, address.upper(), address.lower(), address.swapcase()]
    assert _apply(parse_email, variants) == [address.lower()] * 4
    position = data.draw(st.integers(min_value=1, max_value=len(address) - 1))
    spaced = address[:position] + data.draw(unprintable) + address[position:]
    doubled = address[:position] + "@" + address[position:]
    assert _apply(parse_email, [spaced, doubled]) == [None, None]


# --- segment filter macros --------------------------------------------------------------------


def _macro_blocks(paths: list[Path]) -> dict[str, str]:
    blocks = {}
    for path in paths:
        for block in dbt_jinja.extract_toplevel_blocks(
            path.read_text(), allowed_blocks={"macro"}, collect_raw_data=False
        ):
            blocks[block.block_name] = block.full_block
    return blocks


def _raise_return(value):
    raise MacroReturn(value)


def _raise_compiler_error(message, node=None):
    raise CompilationError(message)


class _Adapter:
    """``adapter.dispatch`` as dbt-duckdb resolves it: duckdb__name, then default__name."""

    def __init__(self, context: dict):
        self.context = context

    def dispatch(self, name: str, macro_namespace: str | None = None):
        for prefix in ("duckdb__", "default__"):
            if prefix + name in self.context:
                return self.context[prefix + name]
        raise CompilationError(f"no implementation of {name}")


def _segment_macros() -> dict:
    """Every segment macro callable as a dbt macro call renders it."""
    import dbt.include.duckdb as duckdb_include
    import dbt.include.global_project as global_project

    utils = [
        *sorted((Path(global_project.__file__).parent / "macros" / "utils").glob("*.sql")),
        *sorted((Path(duckdb_include.__file__).parent / "macros" / "utils").glob("*.sql")),
    ]
    dbt_macros = _macro_blocks(utils)
    macros_dir = ROOT / "dbt_project" / "macros"
    project = _macro_blocks(
        [
            *sorted(macros_dir.glob("segment_*.sql")),
            macros_dir / "json.sql",
            macros_dir / "portable.sql",
        ]
    )
    context: dict = {}
    for name, sql in {**dbt_macros, **project}.items():
        context[name] = CallableMacroGenerator(SimpleNamespace(name=name, macro_sql=sql), context)
    context.update(
        {
            "return": _raise_return,
            "exceptions": SimpleNamespace(raise_compiler_error=_raise_compiler_error),
            "modules": SimpleNamespace(re=re, datetime=dt),
            "var": lambda name, default=None: (
                "2026-03-31 15:20:00" if name == "segment_reference_time" else default
            ),
            "run_started_at": dt.datetime(2026, 3, 31, 15, 20),
            "api": SimpleNamespace(Column=DuckDBColumn),
            "ref": lambda name: name,  # the tables below carry the models' names
            "adapter": _Adapter(context),
        }
    )
    context["dbt"] = SimpleNamespace(**{name: context[name] for name in dbt_macros})
    return context


MACROS = _segment_macros()

# a filter → the same question asked with ? parameters (values lower-cased as the macros do)
TEXT_FILTERS = {
    "=": ("lower(name) = ?", lambda v: [v.lower()]),
    "!=": ("(not lower(name) = ? or name is null)", lambda v: [v.lower()]),
    "contains": ("contains(lower(name), ?)", lambda v: [v.lower()]),
    "starts_with": ("starts_with(lower(name), ?)", lambda v: [v.lower()]),
    "ends_with": ("ends_with(lower(name), ?)", lambda v: [v.lower()]),
    "in": ("lower(name) in (?, ?)", lambda v: [v.lower(), "zz"]),
    "!like": (
        "(not (lower(name) like ?) or name is null)",
        lambda v: [v.lower() if "%" in v else f"%{v.lower()}%"],
    ),
}


def _filter(kind: str, value: str) -> tuple[str, str, list]:
    """(rendered filter, oracle SQL, oracle parameters) of one kind of filter for one value."""
    if kind in TEXT_FILTERS:
        oracle, params = TEXT_FILTERS[kind]
        argument = [value, "zz"] if kind == "in" else value
        return MACROS["contact_field"]("name", kind, argument), oracle, params(value)
    if kind == "custom_field":
        return (
            MACROS["custom_field"]("plan", "=", value),
            "lower(json_extract_string(custom_fields, '$.plan')) = ?",
            [value.lower()],
        )
    if kind == "tags":
        return MACROS["tags"]("has_any", [value]), "contains(tags, ?)", [f"|{value.lower()}|"]
    if kind == "visited_url":
        return (
            MACROS["visited_url"](value, since="-30 days"),
            "exists (select 1 from fct_events as e where e.contact_id = contact.contact_id"
            " and e.event_type = 'page_hit' and contains(lower(e.url), ?)"
            " and e.occurred_at >= timestamp '2026-03-01')",
            [value.lower()],
        )
    return (
        MACROS["company_field"]("industry", "=", value),
        "exists (select 1 from dim_companies as c where c.company_id = contact.company_id"
        " and lower(c.industry) = ?)",
        [value.lower()],
    )


FILTER_KINDS = [*TEXT_FILTERS, "custom_field", "tags", "visited_url", "company_field"]


def _segment_database(values: list[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create table victim (x integer)")
    con.execute(
        "create table contact (contact_id integer, name varchar, custom_fields json,"
        " tags varchar, company_id integer, score double)"
    )
    con.execute(
        "create table fct_events (contact_id integer, event_type varchar, url varchar,"
        " occurred_at timestamp)"
    )
    con.execute("create table dim_companies (company_id integer, industry varchar)")
    rows = list(enumerate(values))
    con.executemany(
        "insert into contact values ($1, $2, json_object('plan', $2::varchar),"
        " '|' || lower($2) || '|', $1, $1)",
        rows,
    )
    con.executemany(
        "insert into fct_events values ($1, 'page_hit', 'https://example.com/' || $2,"
        " timestamp '2026-03-30')",
        rows,
    )
    con.executemany("insert into dim_companies values (?, ?)", rows)
    con.execute("insert into contact values (-1, null, null, null, null, null)")
    return con


def _selected(con, condition: str, params: list | None = None) -> list[int]:
    rows = con.execute(
        f"select contact_id from contact where {condition} order by contact_id", params or []
    ).fetchall()
    return [r[0] for r in rows]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(hostile, st.sampled_from(FILTER_KINDS)), min_size=1, max_size=5))
def test_segment_filter_values_stay_literals_that_duckdb_reads_back_unchanged(filters):
    con = _segment_database([value for value, _ in filters])
    for value, kind in filters:
        literal = MACROS["segment_literal"](value)
        assert con.execute(f"select {literal}").fetchall() == [(value,)]
        sql, oracle, params = _filter(kind, value)
        assert _selected(con, sql) == _selected(con, oracle, params), (value, sql)
    assert con.execute("select count(*) from victim").fetchall() == [(0,)]  # still there


DATE_FORMS = st.sampled_from(
    ["now", "today", "-30 days", "+2 hours", "this month", "last year", "anniversary",
     "2026-01-01", "2026-01-01 10:00", "2026-01-01T10:00:00.5", " Today "]
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(hostile, DATE_FORMS),
    st.sampled_from(["=", "!=", "gt", "gte", "lt", "lte"]),
    st.sampled_from(["contact_field", "last_active"]),
)
def test_segment_date_values_are_a_known_date_form_or_a_compile_error(value, operator, macro):
    """Dates are never pasted into SQL as they are: a value that is not one of the
    documented forms stops the compile with a message naming them."""
    try:
        if macro == "contact_field":
            sql = MACROS["contact_field"]("created_at", operator, value)
        else:
            sql = MACROS["last_active"](
                "within" if operator in ("gt", "gte") else "not_within", value
            )
    except CompilationError as error:
        message = str(error)
        assert any(m in message for m in ("is not one of", "does not apply", "only works with"))
        return
    DATES.execute(f"select count(*) from contact where {sql}").fetchall()
    assert DATES.execute("select count(*) from victim").fetchall() == [(0,)]


DATES = duckdb.connect()
DATES.execute("create table victim (x integer)")
DATES.execute("create table contact (created_at timestamp, last_active_at timestamp)")
DATES.execute("insert into contact values ('2026-03-31 10:00', null), (null, '2025-03-31')")


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.integers(min_value=-(2**62), max_value=2**62),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.booleans(),
    )
)
def test_segment_numbers_and_booleans_render_as_themselves(number):
    con = NUMBERS
    literal = MACROS["segment_literal"](number)
    (back,) = con.execute(f"select {literal}").fetchone()
    if isinstance(number, bool):
        assert back is number
        return
    assert type(number)(back) == number  # (DuckDB reads 0.5 as a DECIMAL: the same number)
    sql = MACROS["contact_field"]("score", "gt", number, type="number")
    assert _selected(con, sql) == _selected(con, "score > ?", [number])


NUMBERS = _segment_database(["a", "b", "c"])


# --- templates --------------------------------------------------------------------------------

TEMPLATE = """{% block subject %}Hi {{ contact.first_name }} from {{ contact.city }}{% endblock %}
{% block html %}<p>Hello {{ contact.first_name }}!</p><p>{{ contact.plan }}</p>
<p><a href="https://example.com/offer">Offer</a></p>{% endblock %}
{% block text %}Hello {{ contact.first_name }}! {{ contact.plan }}{% endblock %}
"""


def _renderer(tmp: Path) -> Renderer:
    (tmp / "email").mkdir(parents=True, exist_ok=True)
    (tmp / "email" / "prop.j2").write_text(TEMPLATE)
    (tmp / "sms").mkdir(exist_ok=True)
    (tmp / "sms" / "prop.j2").write_text("Hi {{ contact.first_name }}, {{ contact.plan }}")
    return Renderer([tmp])


TRACKING = Tracking("https://t.example.com", SecretStr("property-secret"))


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=hostile, city=hostile, plan=hostile)
def test_contact_values_render_literally_escaped_in_html_and_never_run(
    tmp_path_factory, first, city, plan
):
    renderer = _renderer(tmp_path_factory.getbasetemp() / "templates")
    person = {
        "email": "ann@example.com",
        "first_name": first,
        "city": city,
        "custom_fields": {"plan": plan},
    }
    rendered = renderer.render_email(EmailContent("prop"), person, "key-1", TRACKING)
    assert rendered.subject == " ".join(f"Hi {first} from {city}".split())
    assert f"<p>Hello {escape(first)}!</p><p>{escape(plan)}</p>" in rendered.html
    assert f"Hello {first}! {plan}".strip() in rendered.text
    # the only link is the template's own: none came from the data
    assert list(rendered.links.values()) == ["https://example.com/offer"]
    sms = renderer.render_sms("prop", None, person)
    assert sms == f"Hi {first}, {plan}".strip()


@settings(max_examples=100, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
        lambda d: "}" not in d
    )
)
def test_mautic_token_defaults_are_text_whatever_they_hold(default):
    renderer = Renderer()
    template = renderer.text_env.from_string(
        mautic_tokens("Hi {contactfield=firstname|" + default + "}")
    )
    assert template.render(contact={}) == "Hi " + default.replace("\r\n", "\n").replace("\r", "\n")


# What the wire policy's one-line short cut must equal: compat32's own folding.
COMPAT32_WIRE = email_policy.compat32.clone(linesep="\r\n", max_line_length=998)


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(["Subject", "To", "From", "List-Unsubscribe", "X-Funnelhouse-Key"]),
    value=st.one_of(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120),
        st.text(alphabet=st.sampled_from(list('ab ;<>\t"=')), min_size=950, max_size=1050),
    ),
)
@example(name="Subject", value="ab " * 329 + "ab")  # "Subject: …" is 998 characters
@example(name="Subject", value="ab " * 329 + "abc")  # 999: folded
def test_headers_go_on_the_wire_as_compat32_folds_them(name, value):
    assert SMTP_POLICY.fold_binary(name, value) == COMPAT32_WIRE.fold_binary(name, value)
    assert SMTP_POLICY.fold(name, value) == COMPAT32_WIRE.fold(name, value)
