"""The console's statements: flow pause flags, users, sessions, API tokens, the audit log, dashboard reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.ledger import JOURNAL_COLUMNS, LINK_COLUMNS
from emporion.state.records import JournalEntry, Link
from emporion.state.sql import insert
from emporion.state.tables import (
    UTCDateTime,
    api_token,
    audit_log,
    console_session,
    console_user,
    flow_control,
    journal,
    link,
)


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """A person who may log in to the console, with their role (viewer, operator, admin)."""

    name: str
    role: str
    password_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A dashboard login as stored (never its secret), with its user's role as it is now."""

    id: str
    user_name: str
    role: str
    csrf_token: str
    client: str | None
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token as stored: its hash only (the token itself is shown once, at creation)."""

    id: int
    name: str
    scope: str
    prefix: str
    token_hash: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log: who did what, to what, when, from where, and how it ended."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    client: str | None
    detail: dict[str, Any] | None


# -- flow pause flags ------------------------------------------------------------------------------


async def paused_flows(conn: AsyncConnection) -> set[str]:
    """The flows paused now."""
    rows = await conn.execute(select(flow_control.c.flow).where(flow_control.c.paused.is_(True)))
    return {row[0] for row in rows}


async def set_paused(conn: AsyncConnection, flow: str, paused: bool, by: str, now: datetime) -> None:
    """Pause or resume one flow (an upsert of its flag)."""
    ins = insert(conn.dialect.name, flow_control)
    stmt = ins.on_conflict_do_update(
        index_elements=[flow_control.c.flow],
        set_={"paused": ins.excluded.paused, "changed_by": ins.excluded.changed_by, "changed_at": now},
    )
    await conn.execute(stmt, {"flow": flow, "paused": paused, "changed_by": by, "changed_at": now})


# -- users -----------------------------------------------------------------------------------------

USER_COLUMNS = (
    console_user.c.name,
    console_user.c.role,
    console_user.c.password_hash,
    console_user.c.created_at,
    console_user.c.updated_at,
)


async def get_user(conn: AsyncConnection, name: str) -> ConsoleUser | None:
    """One user by name."""
    row = (await conn.execute(select(*USER_COLUMNS).where(console_user.c.name == name))).first()
    return ConsoleUser(*row) if row else None


async def list_users(conn: AsyncConnection) -> list[ConsoleUser]:
    """Every user, by name."""
    return [ConsoleUser(*row) for row in await conn.execute(select(*USER_COLUMNS).order_by("name"))]


async def add_user(conn: AsyncConnection, name: str, role: str, password_hash: str, now: datetime) -> bool:
    """Create a user; False when the name is taken."""
    if await get_user(conn, name) is not None:
        return False
    await conn.execute(
        console_user.insert().values(
            name=name, role=role, password_hash=password_hash, created_at=now, updated_at=now
        )
    )
    return True


async def update_user(
    conn: AsyncConnection,
    name: str,
    now: datetime,
    *,
    password_hash: str | None = None,
    role: str | None = None,
) -> bool:
    """Change a user's password hash and/or role; False when there is no such user."""
    values: dict[str, Any] = {"updated_at": now}
    if password_hash is not None:
        values["password_hash"] = password_hash
    if role is not None:
        values["role"] = role
    result = await conn.execute(update(console_user).where(console_user.c.name == name).values(**values))
    if result.rowcount and (password_hash is not None or role is not None):
        await end_user_sessions(conn, name)  # a new password or role: every login so far ends
    return bool(result.rowcount)


async def remove_user(conn: AsyncConnection, name: str) -> bool:
    """Delete a user and end their sessions (a later user of that name gets none of them)."""
    await end_user_sessions(conn, name)
    result = await conn.execute(delete(console_user).where(console_user.c.name == name))
    return bool(result.rowcount)


# -- sessions --------------------------------------------------------------------------------------

SESSION_COLUMNS = (
    console_session.c.id,
    console_session.c.user_name,
    console_user.c.role,
    console_session.c.csrf_token,
    console_session.c.client,
    console_session.c.created_at,
    console_session.c.expires_at,
    console_session.c.last_seen_at,
)
SESSION_JOIN = console_session.join(console_user, console_user.c.name == console_session.c.user_name)


async def add_session(
    conn: AsyncConnection, fields: dict[str, Any], now: datetime, lifetime: timedelta, user_seen_at: datetime
) -> bool:
    """Keep a new session, only if its user is unchanged since `user_seen_at` (their `updated_at`).

    The password was checked against that version of the user; a password or role change, or a
    removal and a new user of the same name, since then must leave no session behind. False: no session.
    """
    row = fields | {"created_at": now, "expires_at": now + lifetime, "last_seen_at": now}
    values = [literal(value, type_=console_session.c[name].type) for name, value in row.items()]
    source = select(*values).where(
        console_user.c.name == row["user_name"],
        console_user.c.updated_at == literal(user_seen_at, type_=UTCDateTime()),
    )
    result = await conn.execute(console_session.insert().from_select(list(row), source))
    expired = (console_session.c.user_name == row["user_name"]) & (console_session.c.expires_at <= now)
    await conn.execute(delete(console_session).where(expired))  # the user's old logins, even without pruning
    return bool(result.rowcount)


async def find_session(conn: AsyncConnection, secret_hash: str, now: datetime) -> ConsoleSession | None:
    """The live session whose secret has this hash (expired ones and those of removed users: None)."""
    stmt = (
        select(*SESSION_COLUMNS)
        .select_from(SESSION_JOIN)
        .where(console_session.c.secret_hash == secret_hash, console_session.c.expires_at > now)
    )
    row = (await conn.execute(stmt)).first()
    return ConsoleSession(*row) if row else None


async def list_sessions(
    conn: AsyncConnection, now: datetime, user: str | None = None
) -> list[ConsoleSession]:
    """The live sessions (of one user), oldest first."""
    stmt = (
        select(*SESSION_COLUMNS)
        .select_from(SESSION_JOIN)
        .where(console_session.c.expires_at > now)
        .order_by(console_session.c.created_at, console_session.c.id)
    )
    if user is not None:
        stmt = stmt.where(console_session.c.user_name == user)
    return [ConsoleSession(*row) for row in await conn.execute(stmt)]


async def touch_session(conn: AsyncConnection, session_id: str, now: datetime) -> None:
    """Remember when a session was last used."""
    stmt = update(console_session).where(console_session.c.id == session_id).values(last_seen_at=now)
    await conn.execute(stmt)


async def end_session(conn: AsyncConnection, session_id: str) -> bool:
    """End one session by its id (an admin's revocation); False when there was none."""
    result = await conn.execute(delete(console_session).where(console_session.c.id == session_id))
    return bool(result.rowcount)


async def end_session_by_secret(conn: AsyncConnection, secret_hash: str) -> bool:
    """End the session whose secret has this hash (a logout); False when there was none."""
    result = await conn.execute(delete(console_session).where(console_session.c.secret_hash == secret_hash))
    return bool(result.rowcount)


async def end_user_sessions(conn: AsyncConnection, name: str) -> int:
    """End every session of a user; how many."""
    result = await conn.execute(delete(console_session).where(console_session.c.user_name == name))
    return int(result.rowcount or 0)


# -- tokens ----------------------------------------------------------------------------------------

TOKEN_COLUMNS = (
    api_token.c.id,
    api_token.c.name,
    api_token.c.scope,
    api_token.c.prefix,
    api_token.c.token_hash,
    api_token.c.created_at,
    api_token.c.expires_at,
    api_token.c.revoked_at,
    api_token.c.last_used_at,
)


async def add_token(
    conn: AsyncConnection,
    name: str,
    scope: str,
    prefix: str,
    token_hash: str,
    now: datetime,
    expires_at: datetime | None,
) -> int:
    """Keep a new token's hash; returns its id."""
    result = await conn.execute(
        api_token.insert()
        .values(
            name=name,
            scope=scope,
            prefix=prefix,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(api_token.c.id)
    )
    return int(result.scalar_one())


async def token_by_hash(conn: AsyncConnection, token_hash: str) -> ApiToken | None:
    """The token with this hash, revoked or not."""
    row = (await conn.execute(select(*TOKEN_COLUMNS).where(api_token.c.token_hash == token_hash))).first()
    return ApiToken(*row) if row else None


async def list_tokens(conn: AsyncConnection) -> list[ApiToken]:
    """Every token, oldest first."""
    return [ApiToken(*row) for row in await conn.execute(select(*TOKEN_COLUMNS).order_by(api_token.c.id))]


async def revoke_token(conn: AsyncConnection, ident: str, now: datetime) -> int:
    """Revoke the live tokens with this id or name; returns how many."""
    match = api_token.c.name == ident
    if ident.isdigit():
        match = or_(match, api_token.c.id == int(ident))
    result = await conn.execute(
        update(api_token).where(match, api_token.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    return int(result.rowcount)


async def touch_token(conn: AsyncConnection, token_id: int, now: datetime) -> None:
    """Remember when a token was last used."""
    await conn.execute(update(api_token).where(api_token.c.id == token_id).values(last_used_at=now))


# -- audit -----------------------------------------------------------------------------------------

AUDIT_COLUMNS = (
    audit_log.c.id,
    audit_log.c.at,
    audit_log.c.actor,
    audit_log.c.action,
    audit_log.c.target,
    audit_log.c.outcome,
    audit_log.c.client,
    audit_log.c.detail,
)


async def add_audit(conn: AsyncConnection, fields: dict[str, Any]) -> None:
    """Append one audit line (at, actor, action, target, outcome, client, detail)."""
    await conn.execute(audit_log.insert().values(**fields))


async def list_audit(
    conn: AsyncConnection, limit: int, offset: int, actor: str | None, action: str | None
) -> list[AuditEntry]:
    """Audit lines, newest first."""
    stmt = select(*AUDIT_COLUMNS).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
    if actor:
        stmt = stmt.where(audit_log.c.actor == actor)
    if action:
        stmt = stmt.where(audit_log.c.action == action)
    return [AuditEntry(*row) for row in await conn.execute(stmt)]


# -- dashboard reads -------------------------------------------------------------------------------


async def journal_after(conn: AsyncConnection, after_id: int, limit: int) -> list[tuple[int, JournalEntry]]:
    """Journal lines with an id above `after_id`, oldest first (the event stream)."""
    stmt = (
        select(journal.c.id, *JOURNAL_COLUMNS)
        .where(journal.c.id > after_id)
        .order_by(journal.c.id)
        .limit(limit)
    )
    return [(row[0], JournalEntry(*row[1:])) for row in await conn.execute(stmt)]


async def last_journal_id(conn: AsyncConnection) -> int:
    """The id of the newest journal line (0 when empty)."""
    return int((await conn.execute(select(func.max(journal.c.id)))).scalar() or 0)


async def journal_activity(conn: AsyncConnection, since: datetime) -> dict[tuple[str, str], int]:
    """Journal lines since `since` per (flow, action): throughput and errors of the last minutes."""
    stmt = (
        select(journal.c.flow, journal.c.action, func.count())
        .where(journal.c.at >= since)
        .group_by(journal.c.flow, journal.c.action)
    )
    return {(flow, action): count for flow, action, count in await conn.execute(stmt)}


async def last_write(conn: AsyncConnection) -> dict[str, datetime]:
    """Per flow, the time of its newest journal line (its last write)."""
    stmt = select(journal.c.flow, func.max(journal.c.at)).group_by(journal.c.flow)
    return {flow: at for flow, at in await conn.execute(stmt) if at is not None}


async def links_matching(conn: AsyncConnection, term: str, limit: int) -> list[Link]:
    """Links whose natural key (SKU, order number) or source key is `term`, over every flow."""
    stmt = (
        select(*LINK_COLUMNS)
        .where(or_(link.c.natural_key == term, link.c.source_key == term))
        .order_by(link.c.flow, link.c.entity, link.c.source_key)
        .limit(limit)
    )
    return [Link(*row) for row in await conn.execute(stmt)]
