"""Debian's chromium (installed by `make setup`), driven by Playwright through its
executable_path: no browser is downloaded. Flags for a headless run without network extras."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
