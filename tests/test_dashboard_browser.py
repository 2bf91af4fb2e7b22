"""End to end: the dashboards served on 127.0.0.1 and opened in real headless Chromium.

Debian's chromium (installed by `make setup`) is driven by Playwright through its
executable_path: no browser is downloaded. The server is started the way `funnelhouse
dashboard` starts it (dashboards.serve.streamlit_command), in its own process group, and the
whole group is stopped at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from dashboards.serve import streamlit_command
from ingest.home import Home
from tests.browser import CHROMIUM, CHROMIUM_ARGS

TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, f"streamlit exited early:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"streamlit not healthy after {seconds} s:\n{log.read_text()[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=15)


def test_dashboard_renders_plotly_charts_in_chromium(built_home: Home, tmp_path: Path) -> None:
    port = free_port()
    argv, env = streamlit_command(built_home, port=port)
    assert argv[1:4] == ["-m", "streamlit", "run"]
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert env["FUNNELHOUSE_HOME"] == str(built_home.root)
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "streamlit.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            argv, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_healthy(url, server, log)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(TIMEOUT_MS)

                page.goto(url)
                expect(page.get_by_role("heading", name="Overview")).to_be_visible()
                trend = page.locator(".js-plotly-plot", has_text="New and active contacts per day")
                trend.first.wait_for()
                expect(trend.first.locator(".main-svg").first).to_be_attached()
                expect(page.get_by_text("Emails sent").first).to_be_visible()
                page.screenshot(path=tmp_path / "overview.png")

                page.get_by_test_id("stSidebarNav").get_by_role("link", name="Web").click()
                expect(page.get_by_role("heading", name="Web", exact=True)).to_be_visible()
                traffic = page.locator(
                    ".js-plotly-plot", has_text="Sessions and page views per day"
                )
                traffic.first.wait_for()
                expect(traffic.first.locator(".main-svg").first).to_be_attached()
                assert page.url.endswith("/web")
                page.screenshot(path=tmp_path / "web.png")
            finally:
                browser.close()
    finally:
        stop(server)
    for shot in ("overview.png", "web.png"):
        assert (tmp_path / shot).stat().st_size > 10_000
    assert "Traceback" not in log.read_text()
