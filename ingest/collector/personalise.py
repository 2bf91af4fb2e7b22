"""Answers from the published marts: asset URLs, focus items, dynamic content, who an
anonymous visitor is.

The published file is replaced by a rename after every build. The reader attaches it read-only
to an in-memory DuckDB and re-attaches when the file's inode changes, so it never answers from
a file older than the last publish and never holds the build database. Each request queries
through its own cursor (DuckDB connections are not shared between threads).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import duckdb

RECENT_LINKS = 100_000  # identities learnt since the last publish, kept in memory


class Published:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._inode: int | None = None
        self._recent: OrderedDict[str, str] = OrderedDict()

    def remember(self, anonymous_id: str | None, email: str | None) -> None:
        """An identify or form the collector just accepted: the visitor is known from now on,
        before the next build publishes it."""
        if not anonymous_id or not email:
            return
        with self._lock:
            self._recent[anonymous_id] = email
            self._recent.move_to_end(anonymous_id)
            while len(self._recent) > RECENT_LINKS:
                self._recent.popitem(last=False)

    def email_of(self, anonymous_id: str | None) -> str | None:
        if not anonymous_id:
            return None
        with self._lock:
            recent = self._recent.get(anonymous_id)
        if recent:
            return recent
        row = self._one(
            "select email from published.marts.dim_tracking_ids where anonymous_id = ?",
            [anonymous_id],
        )
        return row["email"] if row else None

    def asset(self, asset_id: str) -> dict[str, Any] | None:
        return self._one(
            "select asset_id, title, url from published.marts.dim_assets where asset_id = ?",
            [asset_id],
        )

    def focus_item(self, focus_item_id: str) -> dict[str, Any] | None:
        return self._one(
            "select focus_item_id, name, url from published.marts.dim_focus_items "
            "where focus_item_id = ?",
            [focus_item_id],
        )

    def assignment(self, kind: str, slot: str, email: str | None) -> dict[str, Any] | None:
        """The contact's item for a slot, else the slot's default (what anyone gets)."""
        if email:
            row = self._one(
                "select * from published.marts.personalisation_assignments "
                "where email = ? and kind = ? and slot = ?",
                [email, kind, slot],
            )
            if row:
                return row
        return self._one(
            "select * from published.marts.personalisation_defaults where kind = ? and slot = ?",
            [kind, slot],
        )

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con, self._inode = None, None

    # --- internals ---

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        cursor = self._cursor()
        if cursor is None:
            return None
        try:
            with cursor:
                result = cursor.execute(sql, params)
                row = result.fetchone()
                if row is None:
                    return None
                return dict(zip([d[0] for d in result.description], row, strict=True))
        except duckdb.CatalogException:  # published before this mart existed
            return None

    def _cursor(self) -> duckdb.DuckDBPyConnection | None:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            return None  # nothing published yet
        with self._lock:
            if inode != self._inode:
                # the old connection is dropped, not closed: requests still reading it finish
                self._con = duckdb.connect()
                # tables are named published.marts.*: a cursor does not inherit a USE
                self._con.execute("attach ? as published (read_only)", [str(self.path)])
                self._inode = inode
            return self._con.cursor()
