"""Conflicts on fields both systems edit: kept per record and field, resolved when both sides agree again.

A record's field has at most one live row (open, or reverted while the owner's value is on its way
back). A two-way flow hands in a `ConflictCheck` for each record it compared: the conflicts it has
now are inserted or seen again, the record's other live ones are resolved. A conflict a person
dismissed stays dismissed while the two values stay the same; other values open a new one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.db import dumps_json
from emporion.state.records import Conflict, ConflictCheck
from emporion.state.sql import chunks, insert
from emporion.state.tables import LIVE_CONFLICT, conflict

LIVE = ("open", "reverted")
CLOSED = ("resolved", "dismissed")
COLUMNS = (
    conflict.c.pair,
    conflict.c.entity,
    conflict.c.natural_key,
    conflict.c.field,
    conflict.c.owner,
    conflict.c.policy,
    conflict.c["values"],
    conflict.c.flow,
    conflict.c.source_key,
    conflict.c.state,
    conflict.c.id,
    conflict.c.first_seen,
    conflict.c.last_seen,
    conflict.c.resolved_at,
    conflict.c.resolved_by,
)


def conflict_pair(first: str, second: str) -> str:
    """The name both flows of a two-way pair give their conflicts: the two connections, sorted."""
    return " <> ".join(sorted((first, second)))


def _stored(values: dict[str, Any]) -> Any:
    """Values as they read back from a JSON column (Decimal as text), to compare with stored ones."""
    return orjson.loads(dumps_json(values))


async def _known(
    conn: AsyncConnection, pair: str, entity: str, natural_keys: Sequence[str]
) -> list[tuple[int, str, str, str, Any]]:
    """(id, natural key, field, state, values) of the live and dismissed rows of these records."""
    found: list[tuple[int, str, str, str, Any]] = []
    for part in chunks(sorted(set(natural_keys))):
        stmt = select(
            conflict.c.id, conflict.c.natural_key, conflict.c.field, conflict.c.state, conflict.c["values"]
        ).where(
            conflict.c.pair == pair,
            conflict.c.entity == entity,
            conflict.c.natural_key.in_(part),
            conflict.c.state.in_((*LIVE, "dismissed")),
        )
        found.extend((int(r[0]), r[1], r[2], r[3], r[4]) for r in await conn.execute(stmt))
    return found


async def apply_checks(conn: AsyncConnection, checks: Sequence[ConflictCheck], now: datetime) -> None:
    """Keep the conflicts these checks found and resolve the checked records' other live ones."""
    latest = {(c.pair, c.entity, c.natural_key): c for c in checks}  # the last word per record wins
    by_scope: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pair, entity, natural_key in latest:
        by_scope[(pair, entity)].append(natural_key)
    resolve: list[int] = []
    seen_dismissed: list[int] = []
    rows: list[dict[str, Any]] = []
    for (pair, entity), natural_keys in sorted(by_scope.items()):
        known: dict[str, list[tuple[int, str, str, Any]]] = defaultdict(list)
        for id_, natural_key, field, state, values in await _known(conn, pair, entity, natural_keys):
            known[natural_key].append((id_, field, state, values))
        for natural_key in sorted(natural_keys):
            found = {c.field: c for c in latest[(pair, entity, natural_key)].found}
            rows_of = known.get(natural_key, [])
            resolve += [i for i, field, state, _ in rows_of if state in LIVE and field not in found]
            live = {field for _, field, state, _ in rows_of if state in LIVE}
            for field, found_conflict in sorted(found.items()):
                if field not in live:
                    same = _stored(found_conflict.values)
                    dismissed = [i for i, f, s, v in rows_of if f == field and s == "dismissed" and v == same]
                    if dismissed:  # a person let this difference stand
                        seen_dismissed += dismissed
                        continue
                rows.append(_row(found_conflict, pair, entity, natural_key, now))
    await _set(conn, resolve, {"state": "resolved", "resolved_at": now}, LIVE)
    await _set(conn, seen_dismissed, {"last_seen": now}, ("dismissed",))
    if rows:
        ins = insert(conn.dialect.name, conflict)
        new = ins.excluded
        stmt = ins.on_conflict_do_update(
            index_elements=[conflict.c.pair, conflict.c.entity, conflict.c.natural_key, conflict.c.field],
            index_where=text(LIVE_CONFLICT),
            set_={
                "owner": new.owner,
                "policy": new.policy,
                "values": new["values"],
                "flow": new.flow,
                "source_key": new.source_key,
                "state": new.state,
                "last_seen": new.last_seen,
            },
        )
        for part in chunks(rows):
            await conn.execute(stmt, list(part))


def _row(found: Conflict, pair: str, entity: str, natural_key: str, now: datetime) -> dict[str, Any]:
    """The insert values of a conflict found now (its record's pair, entity and key are the check's)."""
    if found.state not in LIVE:
        raise ValueError(
            f"conflict on {entity} {natural_key!r} field {found.field!r}: found as {found.state!r},"
            " expected open or reverted"
        )
    return {
        "pair": pair,
        "entity": entity,
        "natural_key": natural_key,
        "field": found.field,
        "owner": found.owner,
        "policy": found.policy,
        "values": found.values,
        "flow": found.flow,
        "source_key": found.source_key,
        "state": found.state,
        "first_seen": now,
        "last_seen": now,
    }


async def _set(
    conn: AsyncConnection, ids: Sequence[int], values: dict[str, Any], states: Sequence[str]
) -> int:
    """Update these rows while they are in one of `states`; how many changed."""
    changed = 0
    for part in chunks(sorted(set(ids))):
        stmt = update(conflict).where(conflict.c.id.in_(part), conflict.c.state.in_(states)).values(values)
        changed += (await conn.execute(stmt)).rowcount
    return changed


async def list_conflicts(
    conn: AsyncConnection,
    *,
    pair: str | None,
    flow: str | None,
    entities: Sequence[str] | None,
    state: str | None,
    limit: int,
    offset: int,
) -> list[Conflict]:
    """Conflicts, the most recently seen first."""
    stmt = (
        select(*COLUMNS)
        .order_by(conflict.c.last_seen.desc(), conflict.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if pair is not None:
        stmt = stmt.where(conflict.c.pair == pair)
    if flow is not None:
        stmt = stmt.where(conflict.c.flow == flow)
    if entities is not None:
        stmt = stmt.where(conflict.c.entity.in_(list(entities)))
    if state is not None:
        stmt = stmt.where(conflict.c.state == state)
    return [Conflict(*row) for row in await conn.execute(stmt)]


async def get_conflict(conn: AsyncConnection, conflict_id: int) -> Conflict | None:
    """One conflict by id."""
    row = (await conn.execute(select(*COLUMNS).where(conflict.c.id == conflict_id))).first()
    return Conflict(*row) if row else None


async def count_by_pair(conn: AsyncConnection, state: str) -> dict[str, int]:
    """Conflicts in `state` per pair."""
    stmt = (
        select(conflict.c.pair, func.count())
        .where(conflict.c.state == state)
        .group_by(conflict.c.pair)
        .order_by(conflict.c.pair)
    )
    return {pair: int(count) for pair, count in await conn.execute(stmt)}


async def dismiss(conn: AsyncConnection, conflict_id: int, by: str, now: datetime) -> bool:
    """Close a live conflict by a person's decision; False when there is no live conflict with that id."""
    values = {"state": "dismissed", "resolved_at": now, "resolved_by": by[:255]}
    return await _set(conn, [conflict_id], values, LIVE) == 1
