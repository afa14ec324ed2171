"""Access control: argon2id passwords, hashed API tokens with scopes, user names, accounts (limits: limiter).

Roles and scopes line up: viewer = read, operator = read + operate, admin = everything (users, tokens).
Dashboard sessions (sessions.py) carry a CSRF token (synchronizer pattern: an unsafe request with the
cookie must send that token back in `X-CSRF-Token`; the cookie is `HttpOnly`, so a page of another site
can neither read it nor the token). Bearer tokens are not sent by browsers on their own and so need no
CSRF token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from emporion.config import Settings
from emporion.server.secrets import read_or_create, secrets_dir
from emporion.state import StateStore

from .models import (
    USER_NAME_PATTERN,
    USER_NAME_RULE,
    ConsoleSessionView,
    Identity,
    NewToken,
    Role,
    Scope,
    TokenView,
    UserView,
)

ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
SCOPES: tuple[Scope, ...] = ("read", "operate", "admin")
SCOPE_ROLE: dict[str, Role] = {"read": "viewer", "operate": "operator", "admin": "admin"}
ROLE_SCOPE: dict[str, Scope] = {role: scope for scope, role in SCOPE_ROLE.items()}
TOKEN_PREFIX = "emp_"  # noqa: S105 - marks emporion tokens (e.g. for secret scanners)
SESSION_COOKIE = "emporion_session"
CSRF_HEADER = "x-csrf-token"
MIN_PASSWORD_LENGTH = 10
EXPIRY_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
MAX_EXPIRY = timedelta(days=36525)  # a hundred years; leave the expiry out for a token that never expires
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # so that unknown users cost as much as known ones
HASHING_THREADS = 2  # argon2 hashes at once (each takes ~64 MiB and a core for ~150 ms)
_hashing_threads = anyio.CapacityLimiter(HASHING_THREADS)


class AccessError(Exception):
    """A request that may not go on: `status` 401 (who are you?) or 403 (not allowed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def allows(role: str, needed: Scope) -> bool:
    """Whether `role` may do what needs `needed` (read < operate < admin)."""
    return ROLES.index(role) >= SCOPES.index(needed)  # type: ignore[arg-type]


def hash_password(password: str) -> str:
    """An argon2id hash of a password (refusing short ones)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the stored hash (an unknown user costs the same time)."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_threaded(password: str) -> str:
    """`hash_password` in a worker thread (argon2 takes ~150 ms: the event loop serves on meanwhile)."""
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_hashing_threads)


async def verify_password_threaded(stored: str | None, password: str) -> bool:
    """`verify_password` in a worker thread; at most HASHING_THREADS hash at once, the others wait."""
    return await anyio.to_thread.run_sync(verify_password, stored, password, limiter=_hashing_threads)


def token_hash(token: str) -> str:
    """The stored form of an API token (tokens are long and random: a fast hash suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    """`--expires`: days (`30d`), hours (`12h`), minutes (`90m`) or an ISO date; None never expires.

    ValueError (with what to write instead) for anything else, a moment not in the future, or one
    more than a hundred years ahead.
    """
    if not text:
        return None
    now = now or datetime.now(UTC)
    amount, unit = text[:-1], text[-1:]
    if unit in EXPIRY_UNITS and amount.isascii() and amount.isdigit():
        if len(amount) > 12 or int(amount) > MAX_EXPIRY // EXPIRY_UNITS[unit]:
            raise ValueError(f"{text} is too far ahead: at most {MAX_EXPIRY.days}d (leave it out: never)")
        moment = now + int(amount) * EXPIRY_UNITS[unit]
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r}: use 30d, 12h, 90m or an ISO date such as 2030-01-31") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment <= now:
        raise ValueError(f"{text} is not in the future")
    if moment - now > MAX_EXPIRY:
        raise ValueError(f"{text} is too far ahead: at most {MAX_EXPIRY.days}d (leave it out: never)")
    return moment


def check_user_name(name: str) -> str:
    """The name, if it is a valid user name; else ValueError saying what one is."""
    if not re.fullmatch(USER_NAME_PATTERN, name):
        raise ValueError(f"{name!r} is not a valid user name: {USER_NAME_RULE}")
    return name


def user_view(user: object) -> UserView:
    """A user without the password hash."""
    return UserView.model_validate(user, from_attributes=True)


def token_view(token: object) -> TokenView:
    """A token without its hash."""
    return TokenView.model_validate(token, from_attributes=True)


class Accounts:
    """Users and tokens in the state database, with their audit lines (the CLI and the API share it)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    async def add_user(
        self, name: str, role: str, password: str, *, actor: str, client: str | None = None
    ) -> UserView:
        """Create a user; ValueError for an invalid or taken name, an unknown role, a short password."""
        check_user_name(name)
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not await self.store.add_user(name, role, await hash_password_threaded(password)):
            raise ValueError(f"user {name!r} exists already")
        await self.store.audit(actor, "user.add", target=name, client=client, detail={"role": role})
        found = await self.store.get_user(name)
        return user_view(found)

    async def set_password(self, name: str, password: str, *, actor: str, client: str | None = None) -> None:
        """Change a user's password; LookupError when there is no such user."""
        if not await self.store.update_user(name, password_hash=await hash_password_threaded(password)):
            raise LookupError(f"no user {name!r}")
        await self.store.audit(actor, "user.passwd", target=name, client=client)

    async def set_role(self, name: str, role: str, *, actor: str, client: str | None = None) -> None:
        """Change a user's role (ending their sessions); LookupError when there is no such user."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not await self.store.update_user(name, role=role):
            raise LookupError(f"no user {name!r}")
        await self.store.audit(actor, "user.role", target=name, client=client, detail={"role": role})

    async def remove_user(self, name: str, *, actor: str, client: str | None = None) -> None:
        """Delete a user (and their sessions); LookupError when there is no such user."""
        if not await self.store.remove_user(name):
            raise LookupError(f"no user {name!r}")
        await self.store.audit(actor, "user.remove", target=name, client=client)

    async def users(self) -> list[UserView]:
        """Every user."""
        return [user_view(user) for user in await self.store.list_users()]

    async def sessions(self, user: str | None = None) -> list[ConsoleSessionView]:
        """The live dashboard sessions (of one user), oldest first."""
        found = await self.store.list_sessions(user)
        return [ConsoleSessionView.model_validate(session, from_attributes=True) for session in found]

    async def revoke_session(self, ident: str, *, actor: str, client: str | None = None) -> None:
        """End a dashboard session by its id; LookupError when it is not live."""
        if not await self.store.end_session(ident):
            raise LookupError(f"no live session {ident!r}")
        await self.store.audit(actor, "session.revoke", target=ident, client=client)

    async def create_token(
        self,
        name: str,
        scope: str,
        expires_at: datetime | None = None,
        *,
        actor: str,
        client: str | None = None,
    ) -> NewToken:
        """Create a token; the returned secret is shown once and only its hash is kept."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        ident = await self.store.add_token(name, scope, token[:12], token_hash(token), expires_at)
        await self.store.audit(
            actor, "token.create", target=f"{ident}:{name}", client=client, detail={"scope": scope}
        )
        stored = next(t for t in await self.store.list_tokens() if t.id == ident)
        return NewToken(**token_view(stored).model_dump(), token=token)

    async def revoke_token(self, ident: str, *, actor: str, client: str | None = None) -> int:
        """Revoke tokens by id or name; LookupError when none was live."""
        count = await self.store.revoke_token(ident)
        if not count:
            raise LookupError(f"no live token {ident!r}")
        await self.store.audit(actor, "token.revoke", target=ident, client=client, detail={"count": count})
        return count

    async def tokens(self) -> list[TokenView]:
        """Every token (metadata only)."""
        return [token_view(token) for token in await self.store.list_tokens()]

    async def identify_token(self, token: str) -> Identity:
        """The identity behind a bearer token; AccessError 401 when unknown, revoked or expired."""
        found = await self.store.token_by_hash(token_hash(token))
        if found is None or found.revoked_at is not None:
            raise AccessError(401, "unknown or revoked token")
        if found.expires_at is not None and found.expires_at <= datetime.now(UTC):
            raise AccessError(401, "token expired")
        await self.store.touch_token(found.id)
        return Identity(actor=f"token:{found.name}", kind="token", role=SCOPE_ROLE[found.scope])


def session_key(settings: Settings, directory: Path | None = None) -> str:
    """The session signing key: `server.console.session_secret`, else generated (0600) into `directory`

    (the secrets directory of the webhook secrets by default).
    """
    configured = settings.server.console.session_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return read_or_create((directory or secrets_dir(settings)) / "console-session")
