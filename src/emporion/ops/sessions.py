"""Dashboard sessions kept in the state database, so that they can end at once.

The cookie carries a random secret, signed (itsdangerous, timed) so that forged or stale cookies are
refused without a database read; the table `console_session` keeps the secret's SHA-256, the user, the
CSRF token of that login and its expiry. A logout deletes the row; a password or role change and a
user's removal delete all of that user's rows in the same transaction; a login stores its row only if
the user is still the one whose password was checked. A cookie without a row is no session.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from emporion.state import StateStore
from emporion.state.console import ConsoleUser

from .auth import token_hash

TOUCH_EVERY = timedelta(minutes=1)  # `last_seen_at` is written at most this often per session


@dataclass(frozen=True)
class Session:
    """A live login: its id (to list and revoke it), the user and their role now, its CSRF token."""

    id: str
    user: str
    role: str
    csrf: str


class Sessions:
    """Issues, reads and ends dashboard sessions (signed cookie + a row in the state database)."""

    def __init__(self, key: str, max_age: float, store: StateStore) -> None:
        self.serializer = URLSafeTimedSerializer(key, salt="emporion.session")
        self.max_age = max_age
        self.store = store

    async def issue(self, user: ConsoleUser, client: str | None = None) -> tuple[str, Session] | None:
        """A new cookie value and its session; None when the user changed since it was read."""
        secret = secrets.token_urlsafe(32)
        session = Session(secrets.token_hex(16), user.name, user.role, secrets.token_urlsafe(24))
        fields = {
            "id": session.id,
            "secret_hash": token_hash(secret),
            "user_name": user.name,
            "csrf_token": session.csrf,
            "client": client[:100] if client else None,
        }
        lifetime = timedelta(seconds=self.max_age)
        if not await self.store.add_session(fields, lifetime, user_seen_at=user.updated_at):
            return None
        return self.serializer.dumps(secret), session

    def _secret(self, cookie: str | None) -> str | None:
        """The secret a cookie carries, or None when missing, forged, too old or of another format."""
        if not cookie:
            return None
        try:
            secret = self.serializer.loads(cookie, max_age=int(self.max_age))
        except BadSignature:
            return None
        return secret if isinstance(secret, str) else None

    async def read(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None (missing, forged, expired, logged out, revoked)."""
        secret = self._secret(cookie)
        if secret is None:
            return None
        found = await self.store.find_session(token_hash(secret))
        if found is None:
            return None
        if datetime.now(UTC) - found.last_seen_at >= TOUCH_EVERY:
            await self.store.touch_session(found.id)
        return Session(found.id, found.user_name, found.role, found.csrf_token)

    async def end(self, cookie: str | None) -> bool:
        """End the session a cookie names (a logout); False when it was not live."""
        secret = self._secret(cookie)
        return secret is not None and await self.store.end_session_by_secret(token_hash(secret))

    @staticmethod
    def csrf_ok(session: Session, sent: str | None) -> bool:
        """Whether the CSRF token sent with an unsafe request is the session's (constant time)."""
        return bool(sent) and hmac.compare_digest(session.csrf.encode(), (sent or "").encode())
