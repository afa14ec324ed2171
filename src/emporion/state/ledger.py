"""Links, journal and dead letters: batched writes and the reads behind lookups and the dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Text, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.records import DeadLetter, JournalEntry, Link
from emporion.state.sql import BatchStatement, Values, chunks, insert, insert_rows
from emporion.state.tables import dead, journal, link

LINK_COLUMNS = (
    link.c.flow,
    link.c.entity,
    link.c.source_key,
    link.c.target_ref,
    link.c.natural_key,
    link.c.fingerprint,
    link.c.state,
    link.c.last_error,
    link.c.synced_at,
    link.c.fields,
)
DEAD_COLUMNS = (
    dead.c.flow,
    dead.c.entity,
    dead.c.key,
    dead.c.reason,
    dead.c.field,
    dead.c.record,
    dead.c.payload,
    dead.c.attempts,
    dead.c.id,
    dead.c.failed_at,
    dead.c.status,
)
JOURNAL_COLUMNS = (
    journal.c.flow,
    journal.c.entity,
    journal.c.key,
    journal.c.action,
    journal.c.reason,
    journal.c.before_fingerprint,
    journal.c.after_fingerprint,
    journal.c.target_ref,
    journal.c.detail,
    journal.c.at,
)


def to_link(row: Row[Any]) -> Link:
    """A Link from a row selected with LINK_COLUMNS."""
    return Link(*row)


_TEXT, _TIME, _JSON = Text(), DateTime(timezone=True), JSONB()
_LINK_COLUMNS = (
    ("flow", _TEXT),
    ("entity", _TEXT),
    ("source_key", _TEXT),
    ("target_ref", _JSON),
    ("natural_key", _TEXT),
    ("fingerprint", _TEXT),
    ("state", _TEXT),
    ("last_error", _TEXT),
    ("synced_at", _TIME),
    ("updated_at", _TIME),
    ("fields", _JSON),
)
_JOURNAL_COLUMNS = (
    ("at", _TIME),
    ("flow", _TEXT),
    ("entity", _TEXT),
    ("key", _TEXT),
    ("action", _TEXT),
    ("reason", _TEXT),
    ("before_fingerprint", _TEXT),
    ("after_fingerprint", _TEXT),
    ("target_ref", _JSON),
    ("detail", _JSON),
)


def _link_upsert(dialect: str) -> Any:
    """Upsert by (flow, entity, source_key); NULL keeps the stored reference, fingerprint, baselines, time."""
    ins = insert_rows(dialect, link, _LINK_COLUMNS)
    new = ins.excluded
    return ins.on_conflict_do_update(
        index_elements=[link.c.flow, link.c.entity, link.c.source_key],
        set_={
            "target_ref": func.coalesce(new.target_ref, link.c.target_ref),
            "natural_key": func.coalesce(new.natural_key, link.c.natural_key),
            "fingerprint": func.coalesce(new.fingerprint, link.c.fingerprint),
            "synced_at": func.coalesce(new.synced_at, link.c.synced_at),
            "fields": func.coalesce(new.fields, link.c.fields),
            "state": new.state,
            "last_error": new.last_error,
            "updated_at": new.updated_at,
        },
    )


_UPSERT_LINKS = BatchStatement(_link_upsert, _LINK_COLUMNS)
_INSERT_JOURNAL = BatchStatement(
    lambda dialect: insert_rows(dialect, journal, _JOURNAL_COLUMNS), _JOURNAL_COLUMNS
)


async def upsert_links(conn: AsyncConnection, links: Sequence[Link], now: datetime) -> None:
    """Insert or update links by (flow, entity, source_key); None keeps what is stored (see Link)."""
    if not links:
        return
    latest = {(li.flow, li.entity, li.source_key): li for li in links}  # the last word per key wins
    values = Values(conn.dialect.name)
    stamp = values.time(now)
    rows = [
        (
            li.flow,
            li.entity,
            li.source_key,
            values.json(li.target_ref),
            li.natural_key,
            li.fingerprint,
            li.state,
            li.last_error,
            values.time(li.synced_at) if li.synced_at else (stamp if li.state == "synced" else None),
            stamp,
            values.json(li.fields),
        )
        for _, li in sorted(latest.items())
    ]
    await _UPSERT_LINKS.run(conn, rows)


async def insert_journal(conn: AsyncConnection, entries: Sequence[JournalEntry], now: datetime) -> None:
    """Append journal lines."""
    values = Values(conn.dialect.name)
    stamp = values.time(now)
    json = values.json
    rows = [
        (
            values.time(e.at) if e.at else stamp,
            e.flow,
            e.entity,
            e.key,
            e.action,
            e.reason,
            e.before_fingerprint,
            e.after_fingerprint,
            json(e.target_ref),
            json(e.detail),
        )
        for e in entries
    ]
    await _INSERT_JOURNAL.run(conn, rows)


async def upsert_dead(conn: AsyncConnection, letters: Sequence[DeadLetter], now: datetime) -> None:
    """Record dead letters; a key with an open letter already gets that letter updated, not a second one."""
    if not letters:
        return
    latest = {(d.flow, d.entity, d.key): d for d in letters}
    ins = insert(conn.dialect.name, dead)
    new = ins.excluded
    stmt = ins.on_conflict_do_update(
        index_elements=[dead.c.flow, dead.c.entity, dead.c.key],
        index_where=text("status = 'open'"),
        set_={
            "reason": new.reason,
            "record": new.record,
            "field": new.field,
            "payload": new.payload,
            "attempts": new.attempts,
            "failed_at": new.failed_at,
        },
    )
    rows = [
        {
            "flow": d.flow,
            "entity": d.entity,
            "key": d.key,
            "reason": d.reason,
            "record": d.record,
            "field": d.field,
            "payload": d.payload,
            "attempts": d.attempts,
            "failed_at": d.failed_at or now,
            "status": "open",
        }
        for _, d in sorted(latest.items())
    ]
    for part in chunks(rows):
        await conn.execute(stmt, list(part))


async def get_links(
    conn: AsyncConnection, flow: str, entity: str, column: Any, values: Sequence[str]
) -> list[Link]:
    """Links of (flow, entity) whose `column` is one of `values`."""
    found: list[Link] = []
    wanted = sorted(set(values))
    for part in chunks(wanted):
        stmt = select(*LINK_COLUMNS).where(link.c.flow == flow, link.c.entity == entity, column.in_(part))
        found.extend(Link(*row) for row in await conn.execute(stmt))
    return found


async def links_page(
    conn: AsyncConnection, flow: str, entity: str, after: str | None, size: int
) -> list[Link]:
    """The next page of links by source key (keyset paging: constant cost per page)."""
    stmt = (
        select(*LINK_COLUMNS)
        .where(link.c.flow == flow, link.c.entity == entity)
        .order_by(link.c.source_key)
        .limit(size)
    )
    if after is not None:
        stmt = stmt.where(link.c.source_key > after)
    return [Link(*row) for row in await conn.execute(stmt)]


async def count_links(conn: AsyncConnection, flow: str, entity: str) -> int:
    """How many links (flow, entity) has."""
    stmt = select(func.count()).select_from(link).where(link.c.flow == flow, link.c.entity == entity)
    return (await conn.execute(stmt)).scalar_one()


async def list_dead(
    conn: AsyncConnection, flow: str | None, status: str | None, limit: int, offset: int
) -> list[DeadLetter]:
    """Dead letters, newest first."""
    stmt = (
        select(*DEAD_COLUMNS).order_by(dead.c.failed_at.desc(), dead.c.id.desc()).limit(limit).offset(offset)
    )
    if flow is not None:
        stmt = stmt.where(dead.c.flow == flow)
    if status is not None:
        stmt = stmt.where(dead.c.status == status)
    return [DeadLetter(*row) for row in await conn.execute(stmt)]


async def get_dead(conn: AsyncConnection, ids: Sequence[int], status: str | None = None) -> list[DeadLetter]:
    """Dead letters by id (optionally only those in `status`)."""
    found: list[DeadLetter] = []
    for part in chunks(sorted(set(ids))):
        stmt = select(*DEAD_COLUMNS).where(dead.c.id.in_(part)).order_by(dead.c.id)
        if status is not None:
            stmt = stmt.where(dead.c.status == status)
        found.extend(DeadLetter(*row) for row in await conn.execute(stmt))
    return found


async def open_dead_ids(conn: AsyncConnection, flow: str | None) -> list[int]:
    """Ids of the open dead letters (of one flow), oldest first."""
    stmt = select(dead.c.id).where(dead.c.status == "open").order_by(dead.c.id)
    if flow is not None:
        stmt = stmt.where(dead.c.flow == flow)
    return [int(row[0]) for row in await conn.execute(stmt)]


async def resolve_dead(conn: AsyncConnection, links: Sequence[Link]) -> list[DeadLetter]:
    """Close the open dead letters of records that these links say have synced; the letters closed.

    A record that failed once and later synced (written, matched or created by another path) needs
    nobody's attention any more: its letter becomes `resolved`.
    """
    scopes: dict[tuple[str, str], set[str]] = {}
    for found in links:
        if found.state == "synced":
            scopes.setdefault((found.flow, found.entity), set()).add(found.source_key)
    closed: list[DeadLetter] = []
    for (flow, entity), keys in scopes.items():
        for part in chunks(sorted(keys)):
            scope = (
                dead.c.flow == flow,
                dead.c.entity == entity,
                dead.c.key.in_(part),
                dead.c.status == "open",
            )
            letters = [DeadLetter(*row) for row in await conn.execute(select(*DEAD_COLUMNS).where(*scope))]
            if letters:
                ids = [letter.id for letter in letters]
                await conn.execute(update(dead).where(dead.c.id.in_(ids)).values(status="resolved"))
                closed.extend(letters)
    return closed


async def set_dead_status(conn: AsyncConnection, ids: Sequence[int], status: str) -> int:
    """Move open dead letters to `status`; returns how many moved."""
    moved = 0
    for part in chunks(sorted(set(ids))):
        stmt = update(dead).where(dead.c.id.in_(part), dead.c.status == "open").values(status=status)
        moved += (await conn.execute(stmt)).rowcount
    return moved


async def journal_for(
    conn: AsyncConnection, flow: str, entity: str, key: str, limit: int
) -> list[JournalEntry]:
    """A record's journal, newest first."""
    stmt = (
        select(*JOURNAL_COLUMNS)
        .where(journal.c.flow == flow, journal.c.entity == entity, journal.c.key == key)
        .order_by(journal.c.at.desc(), journal.c.id.desc())
        .limit(limit)
    )
    return [JournalEntry(*row) for row in await conn.execute(stmt)]
