"""How to serve the dashboards: the ``streamlit run`` command line for a data home.

``funnelhouse dashboard`` runs it; tests start it on a free port. The server is headless (it
opens no browser), sends no usage statistics, watches no files, and listens on ``host`` only
(127.0.0.1 unless asked otherwise).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ingest.home import HOME_ENV, Home

APP = Path(__file__).resolve().parent / "app.py"
# Streamlit's "magic" (showing a bare expression's value) is off: the pages call st.* for all
# they show, and magic runs each page through ast.parse, which CPython 3.11.7 can fail with
# "AST constructor recursion depth mismatch" (fixed in 3.11.8). Tests set the same for
# AppTest (tests/conftest.py).
STREAMLIT_OPTIONS = {"runner.magicEnabled": False}


def streamlit_command(
    home: Home, host: str = "127.0.0.1", port: int = 8501
) -> tuple[list[str], dict[str, str]]:
    """``(argv, env)`` for ``subprocess``: ``streamlit run app.py`` serving ``home``."""
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--browser.serverAddress",
        host,
        "--browser.serverPort",
        str(port),
        "--client.toolbarMode",
        "viewer",
        *(
            arg
            for name, value in STREAMLIT_OPTIONS.items()
            for arg in (f"--{name}", str(value).lower())
        ),
    ]
    env = {
        **os.environ,
        HOME_ENV: str(home.root),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "STREAMLIT_SERVER_HEADLESS": "true",
    }
    return argv, env
