"""SQLite persistence: one table per resource kind holding the JSON document plus indexed columns."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

KINDS = (
    "product", "variation", "category", "order", "note", "refund", "customer", "coupon", "webhook", "tax",
)  # fmt: skip
INDEXED = (
    "parent_id",
    "sku",
    "status",
    "slug",
    "email",
    "code",
    "name",
    "created_gmt",
    "modified_gmt",
    "cats",
)

# WordPress keeps products, variations, orders, refunds and coupons as posts: they share one id sequence.
SEQUENCES = {
    "product": "post",
    "variation": "post",
    "order": "post",
    "refund": "post",
    "coupon": "post",
    "category": "term",
    "customer": "user",
    "note": "comment",
    "webhook": "webhook",
    "tax": "tax",
    "meta": "meta",
    "item": "item",
}
FIRST_IDS = {
    "post": 10, "term": 15, "user": 1, "comment": 1, "webhook": 0, "tax": 0, "meta": 100, "item": 0,
}  # fmt: skip


class Store:
    """A thread-safe SQLite store of resource documents; a file keeps the shop across restarts."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self._depth = 0
        self._create_schema()

    def _create_schema(self) -> None:
        with self.transaction():
            for kind in KINDS:
                self.db.execute(
                    f'CREATE TABLE IF NOT EXISTS "{kind}" (id INTEGER PRIMARY KEY, '
                    "parent_id INTEGER NOT NULL DEFAULT 0, sku TEXT, status TEXT, slug TEXT, email TEXT, "
                    "code TEXT, name TEXT, created_gmt TEXT, modified_gmt TEXT, cats TEXT, "
                    "doc TEXT NOT NULL, extra TEXT NOT NULL)"
                )
                for column in ("parent_id", "sku", "status", "modified_gmt", "email", "code", "slug"):
                    self.db.execute(f'CREATE INDEX IF NOT EXISTS "{kind}_{column}" ON "{kind}" ({column})')
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS api_key (consumer_key TEXT PRIMARY KEY, "
                "consumer_secret TEXT NOT NULL, permissions TEXT NOT NULL, "
                "description TEXT NOT NULL DEFAULT '')"
            )
            self.db.execute(
                'CREATE TABLE IF NOT EXISTS "option" (name TEXT PRIMARY KEY, value TEXT NOT NULL)'
            )
            for name, first in FIRST_IDS.items():
                self.db.execute("INSERT OR IGNORE INTO sequence VALUES (?, ?)", (name, first))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one (possibly nested) immediate transaction under the store lock."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self.db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.db.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run the block so that a failure undoes only its own writes (one batch item)."""
        with self.lock:
            self.db.execute("SAVEPOINT item")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK TO item")
                self.db.execute("RELEASE item")
                raise
            self.db.execute("RELEASE item")

    def next_id(self, kind: str) -> int:
        """The next deterministic id for a kind (posts share one sequence, as in WordPress)."""
        with self.lock:
            row = self.db.execute(
                "UPDATE sequence SET value = value + 1 WHERE name = ? RETURNING value", (SEQUENCES[kind],)
            ).fetchone()
            return int(row[0])

    def get(self, kind: str, record_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The (document, internal extras) of one record, or None."""
        with self.lock:
            row = self.db.execute(f'SELECT doc, extra FROM "{kind}" WHERE id = ?', (record_id,)).fetchone()
        return None if row is None else (orjson.loads(row[0]), orjson.loads(row[1]))

    def put(self, kind: str, record_id: int, doc: dict, extra: dict, columns: dict[str, Any]) -> None:
        """Insert or replace one record with its index columns."""
        values = [columns.get(name) for name in INDEXED]
        values[0] = values[0] or 0
        with self.lock:
            self.db.execute(
                f'INSERT OR REPLACE INTO "{kind}" (id, {", ".join(INDEXED)}, doc, extra) '
                f"VALUES (?, {', '.join('?' * len(INDEXED))}, ?, ?)",
                (record_id, *values, orjson.dumps(doc).decode(), orjson.dumps(extra).decode()),
            )

    def remove(self, kind: str, record_id: int) -> None:
        """Delete one record for good."""
        with self.lock:
            self.db.execute(f'DELETE FROM "{kind}" WHERE id = ?', (record_id,))

    def select(
        self, kind: str, where: Sequence[str], args: Sequence[Any], order: str, limit: int, offset: int
    ) -> tuple[list[tuple[dict, dict]], int]:
        """One page of records matching all `where` clauses, and the total number of matches."""
        clause = " WHERE " + " AND ".join(where) if where else ""
        with self.lock:
            total = self.db.execute(f'SELECT count(*) FROM "{kind}"{clause}', args).fetchone()[0]
            rows = self.db.execute(
                f'SELECT doc, extra FROM "{kind}"{clause} ORDER BY {order} LIMIT ? OFFSET ?',
                (*args, limit, offset),
            ).fetchall()
        return [(orjson.loads(doc), orjson.loads(extra)) for doc, extra in rows], int(total)

    def select_union(
        self, parts: Sequence[tuple[str, Sequence[str], Sequence[Any]]], order: str, limit: int, offset: int
    ) -> tuple[list[tuple[str, dict, dict]], int]:
        """Like `select` over several kinds at once: rows are (kind, document, extras)."""
        selects, args = [], []
        for kind, where, part_args in parts:
            clause = " WHERE " + " AND ".join(where) if where else ""
            selects.append(
                f"SELECT '{kind}' AS kind, id, name, slug, sku, created_gmt, modified_gmt, doc, extra "
                f'FROM "{kind}"{clause}'
            )
            args += list(part_args)
        union = " UNION ALL ".join(selects)
        with self.lock:
            total = self.db.execute(f"SELECT count(*) FROM ({union})", args).fetchone()[0]
            rows = self.db.execute(
                f"SELECT kind, doc, extra FROM ({union}) ORDER BY {order} LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [(kind, orjson.loads(doc), orjson.loads(extra)) for kind, doc, extra in rows], int(total)

    def ids(self, kind: str, where: str, args: Sequence[Any]) -> list[int]:
        """Ids of the records matching one clause."""
        with self.lock:
            return [row[0] for row in self.db.execute(f'SELECT id FROM "{kind}" WHERE {where}', args)]

    def scalar(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """The first column of the first row of a query."""
        with self.lock:
            row = self.db.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def option(self, name: str, default: Any = None) -> Any:
        """A stored shop option (WordPress' `get_option`), decoded from JSON; `default` if unset."""
        with self.lock:
            row = self.db.execute('SELECT value FROM "option" WHERE name = ?', (name,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def set_option(self, name: str, value: Any) -> None:
        """Store a shop option (WordPress' `update_option`)."""
        with self.lock:
            self.db.execute(
                'INSERT OR REPLACE INTO "option" (name, value) VALUES (?, ?)',
                (name, orjson.dumps(value).decode()),
            )

    def keys(self) -> list[tuple[str, str, str]]:
        """All API keys as (consumer_key, consumer_secret, permissions)."""
        with self.lock:
            return list(self.db.execute("SELECT consumer_key, consumer_secret, permissions FROM api_key"))

    def add_key(self, consumer_key: str, consumer_secret: str, permissions: str) -> None:
        """Store an API key (replacing one with the same consumer key)."""
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO api_key (consumer_key, consumer_secret, permissions) "
                "VALUES (?, ?, ?)",
                (consumer_key, consumer_secret, permissions),
            )

    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self.db.close()
