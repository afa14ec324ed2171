"""StateStore: the one door to the state database (links, cursors, inbox, queue, dead letters, journal)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state import claims, ledger, reservations
from emporion.state import inbox as inbox_sql
from emporion.state import queue as queue_sql
from emporion.state.db import Database
from emporion.state.migrate import alembic_config, current_revision, upgrade_connection
from emporion.state.records import DeadLetter, InboxDelivery, JournalEntry, Link, WorkItem
from emporion.state.tables import cursor, link

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class SchemaNotCurrent(RuntimeError):
    """The database is behind the latest migration: run `emporion db upgrade` or connect with migrate=True."""


class StateStore:
    """Async access to the state database; every method is one short transaction.

    Times come from this process's clock (UTC); leases and backoffs tolerate the usual small skew
    between machines.
    """

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self._db = database
        self._now = clock
        self.dialect: str = database.dialect

    # -- lifecycle ---------------------------------------------------------------------------------

    @classmethod
    async def connect(
        cls, url: str | URL, *, migrate: bool = True, clock: Clock = utc_now, **engine_options: Any
    ) -> StateStore:
        """Open the database at `url` (sqlite:///file.db, postgresql://...), migrating it when asked."""
        database = Database.open(url, **engine_options)
        try:
            if migrate:
                await database.write(lambda conn: conn.run_sync(upgrade_connection))
            else:
                await _check_schema(database)
        except BaseException:
            await database.dispose()
            raise
        return cls(database, clock)

    @staticmethod
    async def migrate(url: str | URL) -> None:
        """Bring the database at `url` to the latest schema (`emporion db upgrade`)."""
        database = Database.open(url)
        try:
            await database.write(lambda conn: conn.run_sync(upgrade_connection))
        finally:
            await database.dispose()

    async def close(self) -> None:
        """Close all connections."""
        await self._db.dispose()

    # -- cursors and the work queue ----------------------------------------------------------------

    async def get_cursor(self, flow: str, entity: str) -> str | None:
        """The change-feed position of (flow, entity), or None before the first poll."""
        stmt = select(cursor.c.value).where(cursor.c.flow == flow, cursor.c.entity == entity)
        return await self._db.read(lambda conn: _scalar(conn, stmt))

    async def enqueue(
        self,
        flow: str,
        entity: str,
        keys: Iterable[str],
        *,
        reason: str = "change",
        priority: int = 0,
        cursor: str | None = None,
        delay: float = 0,
    ) -> int:
        """Queue keys (coalescing with rows already queued) and, in the same transaction, move the cursor.

        The cursor therefore never passes a change that is not durably queued. Returns the number of
        distinct keys queued.
        """
        key_list = list(keys)

        async def work(conn: AsyncConnection) -> int:
            now = self._now()
            queued = await queue_sql.enqueue(
                conn,
                flow=flow,
                entity=entity,
                keys=key_list,
                reason=reason,
                priority=priority,
                due=now + timedelta(seconds=delay),
                now=now,
            )
            if cursor is not None:
                await queue_sql.set_cursor(conn, flow, entity, cursor, now)
            return queued

        return await self._db.write(work)

    async def claim(
        self, flow: str, entity: str, *, worker: str, limit: int, lease_seconds: float = 60
    ) -> list[WorkItem]:
        """Lease up to `limit` due items for `worker`, highest priority first."""
        return await self._db.write(
            lambda conn: queue_sql.claim(
                conn,
                flow=flow,
                entity=entity,
                worker=worker,
                limit=limit,
                now=self._now(),
                lease_seconds=lease_seconds,
            )
        )

    async def finish(
        self,
        done: Sequence[WorkItem],
        *,
        links: Sequence[Link] = (),
        journal: Sequence[JournalEntry] = (),
        dead: Sequence[DeadLetter] = (),
        retry: Sequence[tuple[WorkItem, str, float]] = (),
    ) -> None:
        """Record a batch's outcome in one transaction.

        Links are upserted, journal lines appended, dead letters upserted. `retry` items count an
        attempt and become due after their delay (error, delay in seconds). `done` items are deleted
        if this worker still holds them and their key did not change meanwhile; a key re-enqueued while
        leased stays queued (lease cleared) so the newer change is processed too. A dead letter
        removes its key's work row too, whether or not its WorkItem is in `done`, unless the key
        changed after it was claimed: the newer change then gets its own chance.
        """

        async def work(conn: AsyncConnection) -> None:
            now = self._now()
            await self._write_ledger(conn, links, journal, dead, now)
            if dead:
                in_done = {(i.flow, i.entity, i.key) for i in done}
                orphans = [
                    (d.flow, d.entity, d.key) for d in dead if (d.flow, d.entity, d.key) not in in_done
                ]
                await queue_sql.drop_keys(conn, orphans)
            if retry:
                await queue_sql.back_off(conn, retry, now)
            if done:
                await queue_sql.complete(conn, done)

        await self._db.write(work)

    async def release(self, items: Sequence[WorkItem]) -> None:
        """Give leases back without counting an attempt (graceful shutdown)."""
        if items:
            await self._db.write(lambda conn: queue_sql.release(conn, items))

    async def queue_depth(self, flow: str | None = None) -> dict[tuple[str, str], int]:
        """Queued rows per (flow, entity), leased or not."""
        return await self._db.read(lambda conn: queue_sql.depth(conn, flow))

    async def next_due(self, flow: str, entity: str) -> datetime | None:
        """When the next item of (flow, entity) becomes claimable (None: queue empty), to size a sleep."""
        return await self._db.read(lambda conn: queue_sql.next_due(conn, flow, entity))

    # -- links and one-off records ------------------------------------------------------------------

    async def get_links(self, flow: str, entity: str, keys: Iterable[str]) -> dict[str, Link]:
        """Links by source key (keys without a link are absent)."""
        wanted = list(keys)
        found = await self._db.read(
            lambda conn: ledger.get_links(conn, flow, entity, link.c.source_key, wanted)
        )
        return {li.source_key: li for li in found}

    async def find_links_by_natural_key(
        self, flow: str, entity: str, natural_keys: Iterable[str]
    ) -> dict[str, Link]:
        """Links by natural key (e.g. SKU); if several share one, the one with the smallest source key."""
        wanted = list(natural_keys)
        found = await self._db.read(
            lambda conn: ledger.get_links(conn, flow, entity, link.c.natural_key, wanted)
        )
        result: dict[str, Link] = {}
        for li in sorted(found, key=lambda li: li.source_key, reverse=True):
            result[li.natural_key or ""] = li
        return result

    async def iter_links(self, flow: str, entity: str, page_size: int = 1000) -> AsyncIterator[list[Link]]:
        """All links of (flow, entity) in pages, one short read per page (flat memory, no long lock)."""
        after: str | None = None
        while True:
            page = await self._db.read(
                lambda conn, after=after: ledger.links_page(conn, flow, entity, after, page_size)
            )
            if not page:
                return
            yield page
            if len(page) < page_size:
                return
            after = page[-1].source_key

    async def claim_link(
        self, flow: str, entity: str, key: str, *, owner: str, lease_seconds: float = 60.0
    ) -> Link | None:
        """Reserve `key` before creating its record in the target (see claims.py).

        Returns None when `owner` may create the record; otherwise the existing link: `synced` (use its
        target_ref) or `pending` (someone else is creating it: try again later).
        """
        lease = timedelta(seconds=lease_seconds)
        return await self._db.write(
            lambda conn: claims.claim_link(conn, flow, entity, key, owner, lease, self._now())
        )

    async def reserve(self, flow: str, order_key: str, quantities: Mapping[str, Decimal]) -> None:
        """Reserve stock for a shop order the ERP has not taken yet (replaces its previous reservation)."""
        await self._db.write(
            lambda conn: reservations.reserve(conn, flow, order_key, quantities, self._now())
        )

    async def release_reservations(self, flow: str, order_keys: Iterable[str]) -> None:
        """End the reservations of these orders."""
        keys = list(order_keys)
        await self._db.write(lambda conn: reservations.release(conn, flow, keys))

    async def reserved(self, skus: Iterable[str]) -> dict[str, Decimal]:
        """Units reserved per SKU by orders the ERP does not have yet, over every flow."""
        wanted = list(skus)
        return await self._db.read(lambda conn: reservations.reserved(conn, wanted))

    async def count_links(self, flow: str, entity: str) -> int:
        """How many links (flow, entity) has."""
        return await self._db.read(lambda conn: ledger.count_links(conn, flow, entity))

    async def record(
        self,
        *,
        links: Sequence[Link] = (),
        journal: Sequence[JournalEntry] = (),
        dead: Sequence[DeadLetter] = (),
    ) -> None:
        """Write links, journal lines and dead letters in one transaction (paths outside the queue)."""
        await self._db.write(lambda conn: self._write_ledger(conn, links, journal, dead, self._now()))

    # -- dead letters and journal -------------------------------------------------------------------

    async def list_dead(
        self, flow: str | None = None, status: str | None = "open", limit: int = 100, offset: int = 0
    ) -> list[DeadLetter]:
        """Dead letters, newest first; status=None lists all."""
        return await self._db.read(lambda conn: ledger.list_dead(conn, flow, status, limit, offset))

    async def get_dead(self, id: int) -> DeadLetter | None:
        """One dead letter by id."""
        found = await self._db.read(lambda conn: ledger.get_dead(conn, [id]))
        return found[0] if found else None

    async def retry_dead(self, ids: Iterable[int]) -> int:
        """Re-enqueue the keys of open dead letters (due now, attempts reset) and mark them 'retried'."""
        wanted = list(ids)

        async def work(conn: AsyncConnection) -> int:
            now = self._now()
            letters = await ledger.get_dead(conn, wanted, status="open")
            by_entity: dict[tuple[str, str], list[str]] = defaultdict(list)
            for letter in letters:
                by_entity[(letter.flow, letter.entity)].append(letter.key)
            for (flow, entity), keys in sorted(by_entity.items()):
                await queue_sql.enqueue(
                    conn,
                    flow=flow,
                    entity=entity,
                    keys=keys,
                    reason="replay",
                    priority=0,
                    due=now,
                    now=now,
                    replay=True,
                )
            return await ledger.set_dead_status(
                conn, [letter.id for letter in letters if letter.id], "retried"
            )

        return await self._db.write(work)

    async def discard_dead(self, ids: Iterable[int]) -> int:
        """Mark open dead letters 'discarded' (a person decided they need no replay)."""
        wanted = list(ids)
        return await self._db.write(lambda conn: ledger.set_dead_status(conn, wanted, "discarded"))

    async def journal_for(self, flow: str, entity: str, key: str, limit: int = 50) -> list[JournalEntry]:
        """What was done to one record, newest first."""
        return await self._db.read(lambda conn: ledger.journal_for(conn, flow, entity, key, limit))

    # -- inbox --------------------------------------------------------------------------------------

    async def inbox_add(
        self, source: str, delivery_id: str, topic: str, headers: Mapping[str, Any], body: bytes
    ) -> bool:
        """Keep a webhook delivery; False when (source, delivery_id) is already there (a re-delivery)."""
        return await self._db.write(
            lambda conn: inbox_sql.add(conn, source, delivery_id, topic, headers, body, self._now())
        )

    async def inbox_claim(
        self, *, worker: str, limit: int = 100, lease_seconds: float = 60, source: str | None = None
    ) -> list[InboxDelivery]:
        """Lease up to `limit` unprocessed deliveries, oldest first."""
        return await self._db.write(
            lambda conn: inbox_sql.claim(
                conn, worker=worker, limit=limit, now=self._now(), lease_seconds=lease_seconds, source=source
            )
        )

    async def inbox_mark_processed(self, ids: Iterable[int]) -> int:
        """Mark deliveries processed; returns how many were still pending."""
        wanted = list(ids)
        return await self._db.write(lambda conn: inbox_sql.mark_processed(conn, wanted, self._now()))

    # -- internals ----------------------------------------------------------------------------------

    @staticmethod
    async def _write_ledger(
        conn: AsyncConnection,
        links: Sequence[Link],
        journal: Sequence[JournalEntry],
        dead_letters: Sequence[DeadLetter],
        now: datetime,
    ) -> None:
        await ledger.upsert_links(conn, links, now)
        if journal:
            await ledger.insert_journal(conn, journal, now)
        await ledger.upsert_dead(conn, dead_letters, now)


async def _scalar(conn: AsyncConnection, stmt: Any) -> Any:
    return (await conn.execute(stmt)).scalar()


async def _check_schema(database: Database) -> None:
    """Refuse to run on a database that is behind the packaged migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    current = await database.read(lambda conn: conn.run_sync(current_revision))
    if current != head:
        raise SchemaNotCurrent(
            f"state database is at revision {current!r}, expected {head!r}: run `emporion db upgrade`"
        )


__all__ = ["SchemaNotCurrent", "StateStore", "utc_now"]
