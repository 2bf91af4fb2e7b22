"""Injection and secrets, on the real functions and commands.

* SQL: report definitions, the dashboards' typed inputs (search, contact, segment, quarantine
  reason) and the collector's URL values reach DuckDB only as parameters or as identifiers
  from a whitelist (the published catalog). Classic payloads run against a copy of the
  shared built home's published file: no error, nothing leaks, nothing changes.
* Templates: a template author's attempt to reach Python from Jinja (catalog subject, catalog
  HTML, a template file) is a SecurityError that activation reports as a failed message with
  its reason, never a traceback or an execution.
* CSV exports neutralise spreadsheet formulas.
* Secrets come from the environment only and never reach output, reports, result events,
  the ledger or any other file the commands write; servers listen on 127.0.0.1 by default.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest
from activation_servers import HttpServer, SmtpServer, contact, publish_queue, queue_row
from pydantic import SecretStr, ValidationError

from activation.render import EmailContent, Renderer, RenderError, Tracking
from activation.run import activate
from activation.settings import ActivationSettings
from dashboards import data
from dashboards import report_definitions as rd
from dashboards.data import Filters
from dashboards.queries import contacts as contact_queries
from dashboards.queries import overview, pipeline_health, segments
from dashboards.queries import reports as q
from dashboards.serve import streamlit_command
from ingest.collector.settings import CollectorSettings
from ingest.home import HOME_ENV, Home
from pipelines.publish import published_path

ROOT = Path(__file__).resolve().parents[1]
FUNNELHOUSE = str(Path(sys.executable).with_name("funnelhouse"))
NOW = datetime(2026, 11, 20, 10, 0)

SQL_PAYLOADS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DROP TABLE marts.dim_contacts; --',
    "'; DROP TABLE marts.dim_contacts; --",
    "x' UNION SELECT email FROM marts.dim_contacts --",
    "x') UNION SELECT table_name, 1 FROM information_schema.tables --",
    "\\'; select 1; --",
    "ʼ OR 1=1 --",  # U+02BC
    "’ OR ’1’=’1",  # U+2019
    "＇ OR ＇1＇=＇1",  # U+FF07 fullwidth
    "$1",
    "?",
    "%",
    "_",
    "1; ATTACH '/tmp/x.duckdb' AS x",
]


# --- a copy of the built home the dashboards read ---------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


@pytest.fixture(scope="module")
def dashboard_home(built_home, tmp_path_factory):
    """The built home's published file, copied, with contacts whose names are formulas and
    quarantine rows whose raw text is one; FUNNELHOUSE_HOME points the dashboards at it."""
    home = Home.resolve(tmp_path_factory.mktemp("injection") / "home").ensure()
    target = published_path(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(published_path(built_home), target)
    with duckdb.connect(str(target)) as con:
        (segment_id,) = con.execute(
            "select segment_id from marts.segment_membership order by segment_id limit 1"
        ).fetchone()
        for index, formula in enumerate(FORMULAS):
            contact_id = f"formula-{index}"
            con.execute(
                "insert into marts.dim_contacts by name select ? as contact_id, ? as email,"
                " ? as first_name, ? as company_name, -5 as points",
                [contact_id, f"formula{index}@example.com", formula, formula],
            )
            con.execute(
                "insert into marts.segment_membership by name select ? as segment_id,"
                " ? as contact_id, timestamp '2026-01-01' as since, 'filters' as matched_by",
                [segment_id, contact_id],
            )
            con.execute(
                "insert into pipeline.quarantine by name select 'contacts/x.csv' as file,"
                " ? as source_row, 'email' as field, 'email: malformed' as reason,"
                " ? as raw_text, 'contacts' as target_table,"
                " timestamp '2026-01-01' as quarantined_at",
                [index + 2, formula],
            )
    before = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home.root)
    data.clear_cache()
    yield home, segment_id
    if before is None:
        os.environ.pop(HOME_ENV, None)
    else:
        os.environ[HOME_ENV] = before
    data.clear_cache()


def _filters() -> Filters:
    return Filters(datetime(2020, 1, 1).date(), datetime(2030, 1, 1).date())


def test_report_values_are_parameters_and_names_come_from_the_catalog(dashboard_home):
    home, segment_id = dashboard_home
    before = _digest(published_path(home))
    catalog = q.catalog()  # the real page's catalog, read from the published file
    texts = set()
    for payload in SQL_PAYLOADS:
        definition = rd.ReportDefinition(
            name="Injection",
            source="marts.dim_contacts",
            columns=("email",),
            aggregate="count distinct",
            group_by=("country",),
            filters=(
                {"column": "email", "operator": "=", "value": payload},
                {"column": "first_name", "operator": "contains", "value": payload},
                {"column": "last_name", "operator": "starts with", "value": payload},
                {"column": "company_name", "operator": "in", "value": [payload, "x"]},
            ),
        )
        sql, params = q.build_query(definition, catalog, segment_id=payload)
        texts.add(sql)
        assert payload not in sql or payload in ("?", "%", "_")
        assert q.run(sql, params).is_empty()  # it ran, and matched nothing
        export = q.export(definition, catalog, segment_id=payload)
        assert export.decode().splitlines()[1:] == []
    assert len(texts) == 1  # the SQL text never depends on a value
    # names: only what the published catalog lists, else an error that names the field
    for fields, field in [
        ({"source": "marts.dim_contacts;drop_table_x"}, "source"),
        ({"source": "pipeline.loads"}, "source"),  # published, but not a report source
        ({"columns": ('email" from marts.dim_contacts --',)}, "columns[0]"),
        ({"aggregate": "count", "group_by": ("x' or 1=1 --",)}, "group_by[0]"),
        ({"period_column": "created_at; drop"}, "period_column"),
        ({"filters": ({"column": "1=1 --", "operator": "is empty"},)}, "filters[0].column"),
    ]:
        definition = rd.ReportDefinition(**{"name": "x", "source": "marts.dim_contacts", **fields})
        with pytest.raises(q.ReportError) as raised:
            q.build_query(definition, catalog)
        assert raised.value.field == field
    # operators, aggregates and units are a closed list
    for bad in (
        {"filters": [{"column": "email", "operator": "= '' or 1=1 --", "value": "x"}]},
        {"aggregate": "sum); drop table x; --"},
        {"date_bucket": {"column": "created_at", "unit": "day') --"}},
    ):
        with pytest.raises(ValidationError):
            rd.ReportDefinition(name="x", source="marts.dim_contacts", **bad)
    # a report's name becomes a file name: never a path out of <home>/reports
    saved = rd.save(
        home, rd.ReportDefinition(name="../../../etc/passwd", source=next(iter(catalog)))
    )
    assert saved.parent == rd.reports_dir(home) and saved.name == "etc-passwd.yaml"
    assert _digest(published_path(home)) == before


def test_typed_dashboard_inputs_are_parameters(dashboard_home):
    home, segment_id = dashboard_home
    before = _digest(published_path(home))
    filters = _filters()
    real = contact_queries.search(filters, "formula0@example")
    assert real["email"].to_list() == ["formula0@example.com"]  # the search itself works
    for payload in SQL_PAYLOADS:
        hostile = Filters(filters.start, filters.end, segment_id=payload)
        if payload not in ("%", "_", "?", "$1"):  # wildcards are escaped: no contact has them
            assert contact_queries.search(filters, payload).is_empty(), payload
        assert contact_queries.search_count(hostile, "") == 0
        assert contact_queries.contact(payload) is None
        assert contact_queries.timeline(filters, payload, [payload]).is_empty()
        assert contact_queries.points_history(payload).is_empty()
        assert segments.members(filters, payload, False, 10, 0).is_empty()
        assert segments.members_count(filters, payload, True) == 0
        overlap = segments.overlap(filters, payload, segment_id)
        assert (overlap["a_members"], overlap["both_members"]) == (0, 0)
        history = segments.history(filters, payload)  # a day series: all zero
        assert set(history.drop("day").sum().row(0)) <= {0, None}
        assert pipeline_health.quarantine_count(filters, False, payload) == 0
        assert pipeline_health.quarantine_rows(filters, False, payload, 10, 0).is_empty()
        kpis = overview.kpis(hostile)
        assert kpis["contacts"] == 0 and kpis["new_contacts"] == 0
    assert _digest(published_path(home)) == before


def test_no_dashboard_page_reads_url_parameters():
    """The dashboards take no input from the URL (st.query_params): nothing from a link can
    reach a query. A page that starts reading it must add its values to these tests."""
    readers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "dashboards").rglob("*.py")
        if "query_params" in path.read_text()
    ]
    assert readers == []


def _cells(export: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(export.decode(), newline="")))


def test_csv_exports_neutralise_spreadsheet_formulas(dashboard_home):
    home, segment_id = dashboard_home
    filters = _filters()
    members = _cells(segments.members_csv(filters, segment_id, False))
    header = members[0]
    by_email = {row[0]: dict(zip(header, row, strict=True)) for row in members[1:]}
    for index, formula in enumerate(FORMULAS):
        row = by_email[f"formula{index}@example.com"]
        assert row["first_name"] == "'" + formula  # shown as text, never run
        assert row["company_name"] == "'" + formula
        assert row["points"] == "-5"  # a number stays a number
    quarantine = _cells(pipeline_health.quarantine_csv(filters, False, None))
    raw = [dict(zip(quarantine[0], row, strict=True))["raw_text"] for row in quarantine[1:]]
    assert {"'" + f for f in FORMULAS} <= set(raw)
    report = rd.ReportDefinition(
        name="Names",
        source="marts.dim_contacts",
        columns=("email", "first_name"),
        filters=({"column": "email", "operator": "starts with", "value": "formula"},),
    )
    exported = _cells(q.export(report, q.catalog()))
    assert sorted(first for _, first in exported[1:]) == sorted("'" + f for f in FORMULAS)
    # no exported text cell starts like a formula
    for rows in (members, quarantine, exported):
        for cell in (c for row in rows[1:] for c in row):
            assert not re.match(r"[=+@\t\r]", cell), cell
            assert not cell.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", cell), cell


# --- the collector's URL values ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CollectorProcess:
    """`funnelhouse collect` in its own process group, output to a file."""

    def __init__(self, home: Home, log: Path, env: dict[str, str]):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [FUNNELHOUSE, "collect", "--home", str(home.root), "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, log.read_text()
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

    def bound_addresses(self) -> set[str]:
        """Local addresses listening on the port (from /proc/net/tcp and tcp6)."""
        found = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, port = local.split(":")
                if int(port, 16) == self.port and state == "0A":  # LISTEN
                    found.add(address)
        return found

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        return self.log.read_text()


def test_collector_url_values_reach_the_published_marts_only_as_parameters(
    dashboard_home, tmp_path
):
    home, _ = dashboard_home
    before = _digest(published_path(home))
    with duckdb.connect(str(published_path(home)), read_only=True) as con:
        emails = [e for (e,) in con.execute("select email from marts.dim_contacts").fetchall() if e]
    collector = CollectorProcess(
        home, tmp_path / "collector.log", {**os.environ, "FUNNELHOUSE_UNSUBSCRIBE_SECRET": "k"}
    )
    statuses = set()
    try:
        with httpx.Client(base_url=collector.url, timeout=10) as client:
            for payload in SQL_PAYLOADS:
                for method, path, params in [
                    ("GET", "/asset/1", {"anonymous_id": payload}),
                    ("GET", f"/asset/{payload}", {}),
                    ("GET", "/content/hero", {"email": payload}),
                    ("GET", "/content/hero", {"anonymous_id": payload}),
                    ("GET", f"/content/{payload}", {}),
                    ("GET", "/focus", {"placement": payload}),
                    ("GET", f"/focus/{payload}/click", {}),
                    ("GET", "/mtracking.gif", {"page_url": payload, "email": payload}),
                    ("GET", f"/email/click/{payload}", {"url": payload}),
                    ("GET", f"/unsubscribe/{payload}", {}),
                ]:
                    response = client.request(method, path, params=params)
                    statuses.add(response.status_code)
                    assert response.status_code < 500, (path, params, response.text)
                    assert not any(e in response.text for e in emails)  # no contact leaks
            # the dynamic content of an unknown visitor is the slot's default, whatever they send
            default = client.get("/content/hero").json()
            for payload in SQL_PAYLOADS[:3]:
                answer = client.get("/content/hero", params={"anonymous_id": "a", "x": payload})
                assert answer.json() == default
    finally:
        output = collector.stop()
    assert "Traceback" not in output and "Error" not in output, output
    assert max(statuses) < 500 and {400, 404, 422} <= statuses  # refused, each with a reason
    assert _digest(published_path(home)) == before


# --- templates: the sandbox -------------------------------------------------------------------

SSTI = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].system('touch /tmp/funnelhouse-pwned') }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ contact.__class__.__base__.__subclasses__() }}",
    "{{ (contact|attr('__class__')).__mro__ }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ request.application.__globals__ }}",
    "{{ email.items.__self__.__class__ }}",
]


def test_template_payloads_are_security_errors_not_executions():
    renderer = Renderer()
    tracking = Tracking("https://t.example.com", SecretStr("s"))
    person = {"email": "ann@example.com", "first_name": "Ann"}
    for payload in SSTI:
        for content in (
            EmailContent("9", "n", subject=payload),
            EmailContent("9", "n", subject="Hi", html=f"<p>{payload}</p>"),
        ):
            with pytest.raises(RenderError) as raised:
                renderer.render_email(content, person, "k", tracking)
            message = str(raised.value)
            assert message.startswith("email 9: template error:"), message
            assert "unsafe" in message or "undefined" in message, message
        with pytest.raises(RenderError, match="sms 3: template error"):
            renderer.render_sms("3", payload, person)
    assert not Path("/tmp/funnelhouse-pwned").exists()


def test_activation_reports_a_hostile_template_as_a_failed_message(home, tmp_path):
    ann = contact("ann@example.com", first_name="Ann")
    bob = contact("bob@example.com", first_name="Bob")
    # email 7: a catalog subject (from a Mautic export, say); email 8: a template file
    rows = [
        queue_row(ann, "send_email", "7", NOW - timedelta(minutes=5)),
        queue_row(bob, "send_email", "8", NOW - timedelta(minutes=5)),
    ]
    publish_queue(
        home,
        rows,
        [ann, bob],
        emails=[("7", "Hostile", SSTI[3]), ("8", "Files", "Hi")],
    )
    (home.root / "templates" / "email").mkdir(parents=True)
    (home.root / "templates" / "email" / "8.j2").write_text(
        "{% block html %}{{ lipsum.__globals__['os'].system('id') }}{% endblock %}"
    )
    smtp = SmtpServer().start()
    env = {
        **os.environ,
        "FUNNELHOUSE_SMTP_HOST": "127.0.0.1",
        "FUNNELHOUSE_SMTP_PORT": str(smtp.port),
        "FUNNELHOUSE_SMTP_TLS": "none",
        "FUNNELHOUSE_SMTP_FROM": "news@example-saas.com",
        "FUNNELHOUSE_TRACKING_URL": "https://t.example.com",
        "FUNNELHOUSE_UNSUBSCRIBE_SECRET": "s3cret",
    }
    try:
        dry = subprocess.run(
            [FUNNELHOUSE, "activate", "--home", str(home.root), "--dry-run"],
            env={**env, "COLUMNS": "250"},
            capture_output=True,
            text=True,
        )
        report = activate(home, settings=ActivationSettings.from_env(env), now=NOW)
    finally:
        smtp.stop()
    assert dry.returncode == 1  # failed messages: status 1
    assert "Traceback" not in dry.stdout + dry.stderr
    assert "template error" in dry.stdout and "is unsafe" in dry.stdout
    assert smtp.messages == []  # nothing was sent
    failed = {r.contact_key: r.reason for r in report.failed}
    assert set(failed) == {"ann@example.com", "bob@example.com"}
    assert all(reason.startswith("email ") and "is unsafe" in reason for reason in failed.values())


# --- secrets and bind addresses -----------------------------------------------------------------

SECRETS = {
    "FUNNELHOUSE_SMTP_PASSWORD": "smtp-pw-7Yq2Lk9Zt",
    "FUNNELHOUSE_SMS_TOKEN": "sms-tok-4Hn8Vc1Qx",
    "FUNNELHOUSE_WEBHOOK_SECRET": "hook-sec-2Pw6Rm3Jd",
    "FUNNELHOUSE_UNSUBSCRIBE_SECRET": "unsub-sec-9Ke5Tb7Ws",
    "FUNNELHOUSE_COLLECTOR_WRITE_KEY": "write-key-3Gf1Xn8Ua",
}


def _leaks(text: str | bytes) -> list[str]:
    raw = text if isinstance(text, bytes) else text.encode()
    found = []
    for name, secret in SECRETS.items():
        for form in (secret.encode(), base64.b64encode(secret.encode())):
            if form in raw:
                found.append(name)
    return found


def _files_leaking(root: Path) -> dict[str, list[str]]:
    return {
        str(path.relative_to(root)): leaks
        for path in root.rglob("*")
        if path.is_file() and (leaks := _leaks(path.read_bytes()))
    }


def test_secrets_stay_out_of_output_reports_and_files(built_home, home, tmp_path):
    # channels that answer with errors: SMS credentials refused, webhooks failing, SMTP down
    provider = HttpServer().start()
    provider.on("/2010-04-01/Accounts/AC1/Messages.json", (401, {}, b'{"message": "bad auth"}'))
    provider.on("/hook", *[(503, {}, b"busy")] * 10)
    closed = _free_port()
    env = {
        **os.environ,
        **SECRETS,
        "FUNNELHOUSE_SMTP_HOST": "127.0.0.1",
        "FUNNELHOUSE_SMTP_PORT": str(closed),
        "FUNNELHOUSE_SMTP_USER": "mailer",
        "FUNNELHOUSE_SMTP_TLS": "none",
        "FUNNELHOUSE_SMTP_FROM": "news@example-saas.com",
        "FUNNELHOUSE_SMS_URL": provider.url + "/2010-04-01",
        "FUNNELHOUSE_SMS_ACCOUNT": "AC1",
        "FUNNELHOUSE_SMS_FROM": "+15550001111",
        "FUNNELHOUSE_TRACKING_URL": "https://t.example.com",
        "FUNNELHOUSE_SEND_RETRY_ATTEMPTS": "2",
        "FUNNELHOUSE_SEND_RETRY_INITIAL_SECONDS": "0.01",
        "COLUMNS": "250",
    }
    ann = contact("ann@example.com", first_name="Ann", mobile="+4915112345678")
    due = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    rows = [
        queue_row(ann, "send_email", "1", due, step="e"),
        queue_row(ann, "send_sms", "1", due, step="s"),
        queue_row(
            ann, "call_webhook", "crm", due, step="w", params={"url": provider.url + "/hook"}
        ),
    ]
    publish_queue(home, rows, [ann], emails=[("1", "Welcome", "Welcome {{ contact.first_name }}")])
    reused = Home.resolve(tmp_path / "reused")
    shutil.copytree(built_home.root, reused.root)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [FUNNELHOUSE, *args], env={**env, **extra}, capture_output=True, text=True
        )

    try:
        results = {
            "activate --dry-run": run("activate", "--home", str(home.root), "--dry-run"),
            "activate": run("activate", "--home", str(home.root)),
            "activate (again)": run("activate", "--home", str(home.root)),
            "activate, a built home": run("activate", "--home", str(reused.root)),
            "activate, bad setting": run(
                "activate", "--home", str(home.root), FUNNELHOUSE_SMTP_PORT="not-a-port"
            ),
            "collect, bad setting": run(
                "collect", "--home", str(home.root), FUNNELHOUSE_COLLECTOR_PORT="x"
            ),
        }
        collector = CollectorProcess(home, tmp_path / "collector.log", env)
        try:
            with httpx.Client(base_url=collector.url, timeout=10) as client:
                call = {"type": "track", "event": "Signed Up", "anonymousId": "a1"}
                wrong = client.post("/v1/track", json={**call, "writeKey": "guess"})
                right = client.post(
                    "/v1/track",
                    json={**call, "writeKey": SECRETS["FUNNELHOUSE_COLLECTOR_WRITE_KEY"]},
                )
                basic = client.post(
                    "/v1/track", json=call, auth=(SECRETS["FUNNELHOUSE_COLLECTOR_WRITE_KEY"], "")
                )
                stats = client.get("/collector/stats")
            addresses = collector.bound_addresses()
        finally:
            collector_output = collector.stop()
    finally:
        provider.stop()

    assert (wrong.status_code, right.status_code, basic.status_code) == (401, 200, 200)
    assert not _leaks(wrong.text + right.text + basic.text + stats.text)
    assert addresses == {"0100007F"}  # 127.0.0.1 only
    assert not _leaks(collector_output) and "Traceback" not in collector_output

    for name, completed in results.items():
        output = completed.stdout + completed.stderr
        assert not _leaks(output), (name, _leaks(output), output[-3000:])
        assert "Traceback" not in output, (name, output[-3000:])
    # the commands did what they say (so the scan covered real work)
    assert results["activate --dry-run"].returncode == 0
    sent = results["activate"].stdout
    assert "cannot connect to SMTP server" in sent and "credentials refused" in sent, sent
    assert results["activate, bad setting"].returncode == 2
    assert "FUNNELHOUSE_SMTP_PORT='not-a-port'" in results["activate, bad setting"].stdout
    assert results["collect, bad setting"].returncode == 2
    assert "FUNNELHOUSE_COLLECTOR_PORT" in results["collect, bad setting"].stdout
    # nothing any command wrote holds a secret: ledger, result events, spooled calls, logs
    assert _files_leaking(home.root) == {}
    assert _files_leaking(reused.root) == {}
    assert provider.requests  # the provider was called: the token went to it, and only there


def test_servers_listen_on_localhost_unless_told_otherwise(tmp_path):
    home = Home.resolve(tmp_path / "home")
    argv, _ = streamlit_command(home)
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert argv[argv.index("--browser.serverAddress") + 1] == "127.0.0.1"
    assert CollectorSettings.from_env({}).collector_host == "127.0.0.1"
    for command in ("ui", "dashboard"):
        helped = subprocess.run(
            [FUNNELHOUSE, command, "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert re.search(
            r"--host\s+\S+\s+Address to bind\.\s+\[default: 127\.0\.0\.1\]", helped.stdout
        ), helped.stdout
