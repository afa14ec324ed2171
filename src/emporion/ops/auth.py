"""Access control: argon2id passwords, hashed API tokens with scopes, signed sessions, CSRF, login limits.

Roles and scopes line up: viewer = read, operator = read + operate, admin = everything (users, tokens).
Sessions are a signed cookie carrying the user's name and a CSRF token (synchronizer pattern: an unsafe
request with the cookie must send that token back in `X-CSRF-Token`; the cookie is `HttpOnly`, so a page
of another site can neither read it nor the token). Bearer tokens are not sent by browsers on their own
and so need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from emporion.config import Settings
from emporion.server.secrets import read_or_create, secrets_dir
from emporion.state import StateStore

from .models import Identity, NewToken, Role, Scope, TokenView, UserView

ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
SCOPES: tuple[Scope, ...] = ("read", "operate", "admin")
SCOPE_ROLE: dict[str, Role] = {"read": "viewer", "operate": "operator", "admin": "admin"}
ROLE_SCOPE: dict[str, Scope] = {role: scope for scope, role in SCOPE_ROLE.items()}
TOKEN_PREFIX = "emp_"  # noqa: S105 - marks emporion tokens (e.g. for secret scanners)
SESSION_COOKIE = "emporion_session"
CSRF_HEADER = "x-csrf-token"
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # so that unknown users cost as much as known ones


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


def token_hash(token: str) -> str:
    """The stored form of an API token (tokens are long and random: a fast hash suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_expiry(text: str | None) -> datetime | None:
    """`--expires`: a number of days (`30d`), hours (`12h`), or an ISO date; None never expires."""
    if not text:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if text[-1] in units and text[:-1].isdigit():
        return datetime.now(UTC) + timedelta(**{units[text[-1]]: int(text[:-1])})
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        """Create a user; ValueError when the role is unknown, the password short or the name taken."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not await self.store.add_user(name, role, hash_password(password)):
            raise ValueError(f"user {name!r} exists already")
        await self.store.audit(actor, "user.add", target=name, client=client, detail={"role": role})
        found = await self.store.get_user(name)
        return user_view(found)

    async def set_password(self, name: str, password: str, *, actor: str, client: str | None = None) -> None:
        """Change a user's password; LookupError when there is no such user."""
        if not await self.store.update_user(name, password_hash=hash_password(password)):
            raise LookupError(f"no user {name!r}")
        await self.store.audit(actor, "user.passwd", target=name, client=client)

    async def remove_user(self, name: str, *, actor: str, client: str | None = None) -> None:
        """Delete a user; LookupError when there is no such user."""
        if not await self.store.remove_user(name):
            raise LookupError(f"no user {name!r}")
        await self.store.audit(actor, "user.remove", target=name, client=client)

    async def users(self) -> list[UserView]:
        """Every user."""
        return [user_view(user) for user in await self.store.list_users()]

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


@dataclass
class Session:
    """A logged-in user as the session cookie says, with the CSRF token bound to that login."""

    user: str
    csrf: str


class Sessions:
    """Signs and reads session cookies (itsdangerous, with a key from the config or a 0600 file)."""

    def __init__(self, key: str, max_age: float) -> None:
        self.serializer = URLSafeTimedSerializer(key, salt="emporion.session")
        self.max_age = max_age

    def issue(self, user: str) -> tuple[str, Session]:
        """A new cookie value and its session (a fresh CSRF token per login)."""
        session = Session(user=user, csrf=secrets.token_urlsafe(24))
        return self.serializer.dumps({"u": user, "c": session.csrf}), session

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, or None when missing, forged or too old."""
        if not cookie:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("u"), str)
            or not isinstance(data.get("c"), str)
        ):
            return None
        return Session(user=data["u"], csrf=data["c"])

    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        """Whether the CSRF token sent with an unsafe request is the session's (constant time)."""
        return bool(sent) and hmac.compare_digest(session.csrf.encode(), (sent or "").encode())


def session_key(settings: Settings, directory: Path | None = None) -> str:
    """The session signing key: `server.console.session_secret`, else generated (0600) into `directory`

    (the secrets directory of the webhook secrets by default).
    """
    configured = settings.server.console.session_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return read_or_create((directory or secrets_dir(settings)) / "console-session")


class LoginLimiter:
    """Failed logins per user and per client address over a sliding window (in this process's memory).

    In memory: a restart forgets the count, and each process counts its own; the audit log keeps every
    failure for good. A lockout answers 429 with the seconds until the oldest failure leaves the window.
    """

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, user: str, client: str) -> float:
        """Seconds this user or address must wait before trying again (0: may try now)."""
        now = time.monotonic()
        waits = [
            failures[0] + self.window - now
            for key in (f"user:{user}", f"client:{client}")
            if len(failures := self._recent(key, now)) >= self.attempts
        ]
        return max(waits, default=0.0)

    def failed(self, user: str, client: str) -> None:
        """Count a failed login against the user and the address."""
        now = time.monotonic()
        for key in (f"user:{user}", f"client:{client}"):
            self._recent(key, now).append(now)

    def succeeded(self, user: str) -> None:
        """A good login clears the user's failures (not the address's)."""
        self._failures.pop(f"user:{user}", None)
