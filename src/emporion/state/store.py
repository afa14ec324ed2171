"""StateStore: the one door to the state database (links, cursors, inbox, queue, dead letters, journal)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state import alerts as alerts_sql
from emporion.state import budgets, claims, drift, leases, ledger, orphans, reservations, retention
from emporion.state import circuits as circuit_sql
from emporion.state import conflicts as conflicts_sql
from emporion.state import console as console_sql
from emporion.state import inbox as inbox_sql
from emporion.state import queue as queue_sql
from emporion.state.circuits import CircuitRecord
from emporion.state.db import Database
from emporion.state.installation import installation_id
from emporion.state.migrate import alembic_config, current_revision, upgrade_connection
from emporion.state.records import (
    AlertRecord,
    Conflict,
    ConflictCheck,
    DeadLetter,
    InboxDelivery,
    JournalEntry,
    Lease,
    Link,
    RateGrant,
    ReconcileReport,
    WorkItem,
)
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

    async def installation_id(self) -> str:
        """This installation's id (generated on first use): it names the webhooks it registers."""
        return await self._db.write(installation_id)

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
        correlation_id: str | None = None,
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
                correlation_id=correlation_id,
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
        conflicts: Sequence[ConflictCheck] = (),
        reverts: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Record a batch's outcome in one transaction.

        Links are upserted, journal lines appended, dead letters upserted, conflicts kept or resolved
        (see conflicts.py) and `reverts` (flow, entity, key) queued as repairs. `retry` items count an
        attempt and become due after their delay (error, delay in seconds). `done` items are deleted
        if this worker still holds them and their key did not change meanwhile; a key re-enqueued while
        leased stays queued (lease cleared) so the newer change is processed too. A dead letter
        removes its key's work row too, whether or not its WorkItem is in `done`, unless the key
        changed after it was claimed: the newer change then gets its own chance.
        """

        async def work(conn: AsyncConnection) -> None:
            now = self._now()
            await self._write_ledger(conn, links, journal, dead, now)
            await _write_conflicts(conn, conflicts, reverts, now)
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

    async def extend_claims(self, items: Sequence[WorkItem], worker: str, lease_seconds: float) -> int:
        """Renew `worker`'s leases on these items for `lease_seconds` more (a batch still running)."""
        return await self._db.write(
            lambda conn: queue_sql.extend(conn, items, worker, self._now(), lease_seconds)
        )

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

    async def release_claim(self, flow: str, entity: str, key: str, *, owner: str) -> bool:
        """Give up a claim whose record could not be created (see claims.py)."""
        return await self._db.write(lambda conn: claims.release_claim(conn, flow, entity, key, owner))

    async def lease_holders(self) -> set[str]:
        """The workers holding leases on work, deliveries, claims or singleton jobs (see orphans.py)."""
        return await self._db.read(orphans.holders)

    async def release_holders(self, owners: Iterable[str]) -> int:
        """Free everything workers known to be dead hold (work, deliveries, claims, jobs); how many."""
        wanted = sorted(set(owners))
        return await self._db.write(lambda conn: orphans.release(conn, wanted))

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
        conflicts: Sequence[ConflictCheck] = (),
        reverts: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Write links, journal lines, dead letters and conflicts, queue reverts: one transaction.

        The paths outside the queue (the initial sync); see `finish` for conflicts and reverts.
        """

        async def work(conn: AsyncConnection) -> None:
            now = self._now()
            await self._write_ledger(conn, links, journal, dead, now)
            await _write_conflicts(conn, conflicts, reverts, now)

        await self._db.write(work)

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

    async def prune(self, ages: Mapping[str, timedelta], *, dry_run: bool = False) -> dict[str, int]:
        """Forget history older than its age (journal, inbox, audit, alerts, reports, dead letters).

        Rows still to do stay (see retention.py). Each batch is its own short transaction; `dry_run`
        counts what would go. Returns the rows per name.
        """
        now = self._now()
        removed: dict[str, int] = {}
        for name, age in ages.items():
            cutoff = now - age
            if dry_run:
                count = partial(retention.count_expired, name=name, cutoff=cutoff)
                removed[name] = await self._db.read(count)
                continue
            removed[name] = 0
            while True:
                batch = retention.BATCH
                gone = await self._db.write(
                    partial(retention.remove_expired, name=name, cutoff=cutoff, batch=batch)
                )
                removed[name] += gone
                if gone < batch:
                    break
        return removed

    async def journal_for(self, flow: str, entity: str, key: str, limit: int = 50) -> list[JournalEntry]:
        """What was done to one record, newest first."""
        return await self._db.read(lambda conn: ledger.journal_for(conn, flow, entity, key, limit))

    # -- alerts -------------------------------------------------------------------------------------

    async def alert_fire(self, fields: dict[str, Any], quiet_seconds: float) -> bool:
        """Record that an alert holds now; True when it is due to be sent (new, re-opened, or quiet over).

        `fields`: key, kind, subject, flow, severity, message, details (the alert table's columns).
        """
        return await self._db.write(lambda conn: alerts_sql.fire(conn, fields, self._now(), quiet_seconds))

    async def alert_resolve(self, key: str, message: str) -> bool:
        """Record that an alert is over; True when its opening was sent, so its end must be too."""
        return await self._db.write(lambda conn: alerts_sql.resolve(conn, key, message, self._now()))

    async def list_alerts(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        flow: str | None = None,
        limit: int = 50,
    ) -> list[AlertRecord]:
        """Recent alerts, the most recently seen first (the console's list; monitors' open alerts)."""
        return await self._db.read(lambda conn: alerts_sql.recent(conn, status, kind, flow, limit))

    async def dead_summary(self, sample: int = 5) -> dict[str, tuple[int, int, list[str]]]:
        """Per flow with open dead letters: (count, newest id, the newest `sample` record names)."""
        return await self._db.read(lambda conn: alerts_sql.dead_summary(conn, sample))

    async def polled_at(self) -> dict[str, datetime]:
        """Per flow: when its change feeds were last read successfully, by whichever process leads them."""
        return await self._db.read(alerts_sql.polled_at)

    async def waiting_since(self) -> dict[str, datetime]:
        """Per flow: since when its longest-waiting work item has been ready and unclaimed (lag)."""
        return await self._db.read(lambda conn: alerts_sql.waiting_since(conn, self._now()))

    async def open_dead_ids(self, flow: str | None = None) -> list[int]:
        """Ids of every open dead letter (of one flow), oldest first: what `retry --all` replays."""
        return await self._db.read(lambda conn: ledger.open_dead_ids(conn, flow))

    # -- reconciliation -----------------------------------------------------------------------------

    async def queue_repairs(
        self,
        flow: str,
        entity: str,
        keys: Iterable[str],
        *,
        stale: Iterable[str] = (),
        forget: Iterable[str] = (),
        priority: int = 20,
        reason: str = "repair",
        replay: bool = True,
    ) -> int:
        """Queue fixes found by a reconcile, in one transaction.

        `stale` links are marked drift (the next sync writes them even though the source did not
        change); `forget` links point at nothing and are deleted (the next sync searches the target and
        creates the record again). All `keys` are queued due now with attempts reset; without `replay`
        a row backing off after failures keeps its backoff.
        """
        key_list, stale_list, forget_list = list(keys), list(stale), list(forget)
        return await self._db.write(
            lambda conn: drift.queue_repairs(
                conn,
                self._now(),
                flow,
                entity,
                key_list,
                stale=stale_list,
                forget=forget_list,
                priority=priority,
                reason=reason,
                replay=replay,
            )
        )

    async def queued_keys(self, flow: str, entity: str, keys: Iterable[str]) -> set[str]:
        """Which of these keys wait in the work queue."""
        wanted = list(keys)
        return await self._db.read(lambda conn: drift.queued_keys(conn, flow, entity, wanted))

    async def save_report(self, report: ReconcileReport) -> int:
        """Keep a reconcile report; returns its id."""
        return await self._db.write(lambda conn: drift.insert_report(conn, report))

    async def list_reports(
        self, flow: str | None = None, limit: int = 20, offset: int = 0, *, with_items: bool = False
    ) -> list[ReconcileReport]:
        """Recent reconcile reports, newest first (without their items unless `with_items`)."""
        return await self._db.read(lambda conn: drift.list_reports(conn, flow, limit, offset, with_items))

    async def get_report(self, report_id: int) -> ReconcileReport | None:
        """One reconcile report with its drift items."""
        return await self._db.read(lambda conn: drift.get_report(conn, report_id))

    # -- conflicts on fields both systems edit --------------------------------------------------------

    async def list_conflicts(
        self,
        *,
        pair: str | None = None,
        flow: str | None = None,
        entities: Sequence[str] | None = None,
        state: str | None = "open",
        limit: int = 100,
        offset: int = 0,
    ) -> list[Conflict]:
        """Conflicts, the most recently seen first; state=None lists all (a pair: see conflict_pair)."""
        return await self._db.read(
            lambda conn: conflicts_sql.list_conflicts(
                conn, pair=pair, flow=flow, entities=entities, state=state, limit=limit, offset=offset
            )
        )

    async def get_conflict(self, conflict_id: int) -> Conflict | None:
        """One conflict by id."""
        return await self._db.read(lambda conn: conflicts_sql.get_conflict(conn, conflict_id))

    async def count_conflicts(self, state: str = "open") -> dict[str, int]:
        """Conflicts in `state` per pair of connections."""
        return await self._db.read(lambda conn: conflicts_sql.count_by_pair(conn, state))

    async def dismiss_conflict(self, conflict_id: int, by: str) -> bool:
        """Close a live conflict by a person's decision; False when it is not live (or not there)."""
        return await self._db.write(lambda conn: conflicts_sql.dismiss(conn, conflict_id, by, self._now()))

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

    # -- leases on singleton jobs and shared rate budgets --------------------------------------------

    async def acquire_lease(self, name: str, owner: str, seconds: float) -> bool:
        """Take or renew the lease `name` for `owner` for `seconds`; False while another process holds it."""
        return await self._db.write(lambda conn: leases.acquire(conn, name, owner, seconds, self._now()))

    async def release_lease(self, name: str, owner: str) -> bool:
        """Give up a lease at once (clean shutdown); False when `owner` did not hold it."""
        return await self._db.write(lambda conn: leases.release(conn, name, owner))

    async def leases(self, prefix: str = "") -> list[Lease]:
        """The leases currently held (not expired) whose names start with `prefix`."""
        return await self._db.read(lambda conn: leases.held(conn, self._now(), prefix))

    async def ensure_rate_budget(self, name: str, rate: float | None, capacity: float) -> None:
        """Create (or re-configure) the shared token bucket `name` (PostgreSQL only)."""
        self._require_postgresql("a shared rate budget")
        await self._db.write(lambda conn: budgets.ensure(conn, name, rate, capacity))

    async def take_rate_tokens(self, name: str, wanted: int) -> RateGrant:
        """Take up to `wanted` tokens from the shared bucket `name`, or learn how long to wait."""
        self._require_postgresql("a shared rate budget")
        return await self._db.write(lambda conn: budgets.take(conn, name, wanted))

    async def pause_rate_budget(self, name: str, seconds: float) -> None:
        """Hold the shared bucket `name` for `seconds`: every process's requests wait (a 429)."""
        self._require_postgresql("a shared rate budget")
        await self._db.write(lambda conn: budgets.pause(conn, name, seconds))

    def _require_postgresql(self, what: str) -> None:
        if self.dialect != "postgresql":
            raise RuntimeError(f"{what} needs a PostgreSQL state database (this one is {self.dialect})")

    # -- circuit breakers ---------------------------------------------------------------------------

    async def record_circuit(self, entry: CircuitRecord, *, opened: bool = False) -> None:
        """Keep a connection's circuit transition; `opened` counts one more opening."""
        await self._db.write(lambda conn: circuit_sql.record(conn, entry, opened, self._now()))

    async def circuits(self) -> list[CircuitRecord]:
        """Every connection's circuit as last reported, by connection name."""
        return await self._db.read(circuit_sql.read_all)

    async def postpone(self, items: Sequence[WorkItem], delay: float, reason: str) -> None:
        """Give leases back, due after `delay`, without counting an attempt (the target was not tried)."""
        if items:
            await self._db.write(
                lambda conn: queue_sql.back_off(
                    conn, [(i, reason, delay) for i in items], self._now(), count=False
                )
            )

    # -- console: pause flags, users, tokens, audit, dashboard reads ---------------------------------

    async def paused_flows(self) -> set[str]:
        """The flows an operator paused (their feed and work loops wait, in every process)."""
        return await self._db.read(console_sql.paused_flows)

    async def set_paused(self, flow: str, paused: bool, by: str) -> None:
        """Pause or resume a flow."""
        await self._db.write(lambda conn: console_sql.set_paused(conn, flow, paused, by, self._now()))

    async def get_user(self, name: str) -> console_sql.ConsoleUser | None:
        """A console user by name."""
        return await self._db.read(lambda conn: console_sql.get_user(conn, name))

    async def list_users(self) -> list[console_sql.ConsoleUser]:
        """Every console user."""
        return await self._db.read(console_sql.list_users)

    async def add_user(self, name: str, role: str, password_hash: str) -> bool:
        """Create a console user; False when the name is taken."""
        return await self._db.write(
            lambda conn: console_sql.add_user(conn, name, role, password_hash, self._now())
        )

    async def update_user(
        self, name: str, *, password_hash: str | None = None, role: str | None = None
    ) -> bool:
        """Change a user's password hash or role; False when there is no such user."""
        return await self._db.write(
            lambda conn: console_sql.update_user(
                conn, name, self._now(), password_hash=password_hash, role=role
            )
        )

    async def remove_user(self, name: str) -> bool:
        """Delete a console user and their sessions; False when there is no such user."""
        return await self._db.write(lambda conn: console_sql.remove_user(conn, name))

    async def add_session(
        self, fields: dict[str, Any], lifetime: timedelta, *, user_seen_at: datetime
    ) -> bool:
        """Keep a new console session; False when its user changed since `user_seen_at` (no session)."""
        return await self._db.write(
            lambda conn: console_sql.add_session(conn, fields, self._now(), lifetime, user_seen_at)
        )

    async def find_session(self, secret_hash: str) -> console_sql.ConsoleSession | None:
        """The live console session whose secret has this hash."""
        return await self._db.read(lambda conn: console_sql.find_session(conn, secret_hash, self._now()))

    async def list_sessions(self, user: str | None = None) -> list[console_sql.ConsoleSession]:
        """The live console sessions (of one user)."""
        return await self._db.read(lambda conn: console_sql.list_sessions(conn, self._now(), user))

    async def touch_session(self, session_id: str) -> None:
        """Remember that a console session was used now."""
        await self._db.write(lambda conn: console_sql.touch_session(conn, session_id, self._now()))

    async def end_session(self, session_id: str) -> bool:
        """End a console session by its id; False when there was none."""
        return await self._db.write(lambda conn: console_sql.end_session(conn, session_id))

    async def end_session_by_secret(self, secret_hash: str) -> bool:
        """End the console session whose secret has this hash (a logout)."""
        return await self._db.write(lambda conn: console_sql.end_session_by_secret(conn, secret_hash))

    async def add_token(
        self, name: str, scope: str, prefix: str, token_hash: str, expires_at: datetime | None
    ) -> int:
        """Keep a new API token's hash; returns its id."""
        return await self._db.write(
            lambda conn: console_sql.add_token(conn, name, scope, prefix, token_hash, self._now(), expires_at)
        )

    async def token_by_hash(self, token_hash: str) -> console_sql.ApiToken | None:
        """The API token with this hash (revoked or expired ones too: the caller decides)."""
        return await self._db.read(lambda conn: console_sql.token_by_hash(conn, token_hash))

    async def list_tokens(self) -> list[console_sql.ApiToken]:
        """Every API token (hashes only)."""
        return await self._db.read(console_sql.list_tokens)

    async def revoke_token(self, ident: str) -> int:
        """Revoke the live tokens with this id or name; returns how many."""
        return await self._db.write(lambda conn: console_sql.revoke_token(conn, ident, self._now()))

    async def touch_token(self, token_id: int) -> None:
        """Remember that a token was used now."""
        await self._db.write(lambda conn: console_sql.touch_token(conn, token_id, self._now()))

    async def audit(
        self,
        actor: str,
        action: str,
        *,
        target: str | None = None,
        outcome: str = "ok",
        client: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append a line to the audit log (who did what, to what, from where, how it ended)."""
        fields = {
            "at": self._now(),
            "actor": actor[:255],
            "action": action[:100],
            "target": target[:400] if target else None,
            "outcome": outcome,
            "client": client[:100] if client else None,
            "detail": detail,
        }
        await self._db.write(lambda conn: console_sql.add_audit(conn, fields))

    async def list_audit(
        self, limit: int = 100, offset: int = 0, *, actor: str | None = None, action: str | None = None
    ) -> list[console_sql.AuditEntry]:
        """The audit log, newest first."""
        return await self._db.read(lambda conn: console_sql.list_audit(conn, limit, offset, actor, action))

    async def journal_after(self, after_id: int, limit: int = 100) -> list[tuple[int, JournalEntry]]:
        """Journal lines newer than `after_id`, oldest first, with their ids (the event stream)."""
        return await self._db.read(lambda conn: console_sql.journal_after(conn, after_id, limit))

    async def last_journal_id(self) -> int:
        """The newest journal line's id (0 when empty)."""
        return await self._db.read(console_sql.last_journal_id)

    async def journal_activity(self, seconds: float) -> dict[tuple[str, str], int]:
        """Journal lines per (flow, action) over the last `seconds`."""
        since = self._now() - timedelta(seconds=seconds)
        return await self._db.read(lambda conn: console_sql.journal_activity(conn, since))

    async def last_write(self) -> dict[str, datetime]:
        """Per flow, when it last wrote (its newest journal line)."""
        return await self._db.read(console_sql.last_write)

    async def links_matching(self, term: str, limit: int = 50) -> list[Link]:
        """Links whose natural key (SKU, order number) or source key is `term`, over every flow."""
        return await self._db.read(lambda conn: console_sql.links_matching(conn, term, limit))

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
        resolved = await ledger.resolve_dead(conn, links) if links else []
        journal = [*journal, *(_resolution(letter) for letter in resolved)]
        if journal:
            await ledger.insert_journal(conn, journal, now)
        await ledger.upsert_dead(conn, dead_letters, now)


async def _write_conflicts(
    conn: AsyncConnection,
    checks: Sequence[ConflictCheck],
    reverts: Sequence[tuple[str, str, str]],
    now: datetime,
) -> None:
    """Keep the conflicts found and queue the reverts: the owner's value written again, link marked drift."""
    if checks:
        await conflicts_sql.apply_checks(conn, checks, now)
    by_entity: dict[tuple[str, str], list[str]] = defaultdict(list)
    for flow, entity, key in reverts:
        by_entity[(flow, entity)].append(key)
    for (flow, entity), keys in sorted(by_entity.items()):
        await drift.queue_repairs(conn, now, flow, entity, keys, stale=keys, reason="revert")


def _resolution(letter: DeadLetter) -> JournalEntry:
    """The journal line of a dead letter closed because its record has synced since."""
    detail = {"dead_letter": letter.id, "label": letter.record, "error": letter.reason}
    return JournalEntry(letter.flow, letter.entity, letter.key, "resolved", "synced since", detail=detail)


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
