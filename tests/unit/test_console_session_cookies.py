"""Session cookies on their own: signed, bound to a row of the state database, a CSRF token per login."""

from __future__ import annotations

from emporion.ops.auth import Accounts
from emporion.ops.sessions import Sessions
from emporion.state import StateStore


async def test_sessions_are_signed_and_expire(sqlite_url: str) -> None:
    store = await StateStore.connect(sqlite_url, migrate=True)
    try:
        await Accounts(store).add_user("alice", "operator", "a long enough secret", actor="test")
        alice = await store.get_user("alice")
        assert alice is not None
        sessions = Sessions("key-one", max_age=3600, store=store)
        issued = await sessions.issue(alice)
        assert issued is not None
        cookie, session = issued
        assert await sessions.read(cookie) == session and len(session.csrf) >= 30
        assert (session.user, session.role) == ("alice", "operator")
        assert await Sessions("key-two", 3600, store).read(cookie) is None  # another key: forged
        # change the signature's first character: its last one may differ only in base64's unused bits
        cut = cookie.rindex(".") + 1
        tampered = cookie[:cut] + ("A" if cookie[cut] != "A" else "B") + cookie[cut + 1 :]
        assert await sessions.read(tampered) is None
        assert await sessions.read(None) is None
        assert await Sessions("key-one", max_age=-1, store=store).read(cookie) is None  # too old
        assert sessions.csrf_ok(session, session.csrf) and not sessions.csrf_ok(session, None)
        again = await sessions.issue(alice)
        assert again is not None and again[1].csrf != session.csrf  # a fresh CSRF token per login
        assert again[1].id != session.id
        old_format = sessions.serializer.dumps({"u": "alice", "c": session.csrf})  # a stateless cookie
        assert await sessions.read(old_format) is None
        assert await sessions.end(cookie) and await sessions.read(cookie) is None  # logged out
        assert not await sessions.end(cookie)
        assert await sessions.read(again[0]) == again[1]  # the other login goes on
    finally:
        await store.close()
