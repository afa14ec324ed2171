"""The sandbox's records in SQLite: a (model, id, JSON) row per record, cached in memory."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

Record = dict[str, Any]


class Store:
    """Records by model and id; writes go to the cache and reach SQLite when the transaction commits.

    A failed call rolls back: the records it touched are reloaded from SQLite, as Odoo rolls back the
    cursor of a request that raised.
    """

    def __init__(self, path: str) -> None:
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL") if path != ":memory:" else None
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS record (model TEXT NOT NULL, id INTEGER NOT NULL, data BLOB NOT NULL,"
            " PRIMARY KEY (model, id))"
        )
        self.cache: dict[str, dict[int, Record]] = {}
        for model, record_id, data in self.db.execute(
            "SELECT model, id, data FROM record ORDER BY model, id"
        ):
            self.cache.setdefault(model, {})[record_id] = orjson.loads(data)
        self.dirty: set[tuple[str, int]] = set()
        self.high = {model: max(table) for model, table in self.cache.items() if table}
        self.depth = 0
        self.dangling: list[tuple[str, str, int]] = []  # (model.field, target model, id) to check at commit

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock for one call; commit what it changed, or reload it if the call raised."""
        with self.lock:
            self.depth += 1
            try:
                yield
            except BaseException:
                if self.depth == 1:
                    self._rollback()
                raise
            else:
                if self.depth == 1:
                    try:
                        self._verify()
                    except BaseException:
                        self._rollback()
                        raise
                    self._commit()
            finally:
                self.depth -= 1

    def _verify(self) -> None:
        """Fail as a foreign key does when a many2one written in this call points nowhere."""
        dangling, self.dangling = self.dangling, []
        for where, relation, record_id in dangling:
            if self.get(relation, record_id) is None:
                from emporion_devkit.sandbox.odoo.errors import ValidationError

                model, field = where.rsplit(".", 1)
                raise ValidationError(
                    "The operation cannot be completed:\n"
                    "- Create/update: a mandatory field is not set.\n"
                    "- Delete: another model requires the record being deleted."
                    " If possible, archive it instead.\n\n"
                    f"Model: {model}, Field: {field}"
                )

    def _commit(self) -> None:
        """Write the touched records to SQLite in one transaction."""
        if not self.dirty:
            return
        self.db.execute("BEGIN")
        for model, record_id in self.dirty:
            record = self.cache.get(model, {}).get(record_id)
            if record is None:
                self.db.execute("DELETE FROM record WHERE model = ? AND id = ?", (model, record_id))
            else:
                self.db.execute(
                    "INSERT OR REPLACE INTO record (model, id, data) VALUES (?, ?, ?)",
                    (model, record_id, orjson.dumps(record)),
                )
        self.db.execute("COMMIT")
        self.dirty.clear()

    def _rollback(self) -> None:
        """Forget the touched records' new state by reloading them from SQLite."""
        for model, record_id in self.dirty:
            row = self.db.execute(
                "SELECT data FROM record WHERE model = ? AND id = ?", (model, record_id)
            ).fetchone()
            table = self.cache.setdefault(model, {})
            if row is None:
                table.pop(record_id, None)
            else:
                table[record_id] = orjson.loads(row[0])
        self.dirty.clear()
        self.dangling.clear()

    def table(self, model: str) -> dict[int, Record]:
        """The records of a model by id (the live cache: mark changes with `touch`)."""
        return self.cache.setdefault(model, {})

    def get(self, model: str, record_id: int) -> Record | None:
        """One record, or None when it does not exist."""
        return self.cache.get(model, {}).get(record_id)

    def insert(self, model: str, values: Record) -> int:
        """Add a record with the next id of its model."""
        table = self.table(model)
        record_id = max(self.high.get(model, 0), max(table, default=0)) + 1
        self.high[model] = record_id
        table[record_id] = {**values, "id": record_id}
        self.dirty.add((model, record_id))
        return record_id

    def touch(self, model: str, record_id: int) -> None:
        """Mark a record changed in place, to be written at commit."""
        self.dirty.add((model, record_id))

    def delete(self, model: str, record_id: int) -> None:
        """Remove a record."""
        self.table(model).pop(record_id, None)
        self.dirty.add((model, record_id))

    def close(self) -> None:
        """Close the SQLite connection."""
        with self.lock:
            self.db.close()
