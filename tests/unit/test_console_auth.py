"""Access control pieces on their own: argon2id, sessions, limits, expiry, role order, the session key."""

from __future__ import annotations

import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emporion.config import ConfigError, parse_settings
from emporion.ops.auth import (
    LoginLimiter,
    Sessions,
    allows,
    hash_password,
    parse_expiry,
    session_key,
    verify_password,
)

CONFIG = """
state: {url: "sqlite:///state.db"}
server: {host: %s, console: {secure_cookies: false}}
connections: {}
"""


def test_passwords_are_argon2id_and_short_ones_refused() -> None:
    stored = hash_password("a long enough secret")
    assert stored.startswith("$argon2id$") and "a long enough secret" not in stored
    assert verify_password(stored, "a long enough secret")
    assert not verify_password(stored, "a long enough secreT")
    assert not verify_password(None, "a long enough secret")  # unknown user
    assert not verify_password("not a hash", "whatever")
    with pytest.raises(ValueError, match="at least 10"):
        hash_password("short")


def test_sessions_are_signed_and_expire() -> None:
    sessions = Sessions("key-one", max_age=3600)
    cookie, session = sessions.issue("alice")
    assert sessions.read(cookie) == session and len(session.csrf) >= 30
    assert Sessions("key-two", 3600).read(cookie) is None  # another key: forged
    # change the signature's first character: its last one may differ only in base64's unused bits
    cut = cookie.rindex(".") + 1
    assert sessions.read(cookie[:cut] + ("A" if cookie[cut] != "A" else "B") + cookie[cut + 1 :]) is None
    assert sessions.read(None) is None
    assert Sessions("key-one", max_age=-1).read(cookie) is None  # too old
    assert sessions.csrf_ok(session, session.csrf) and not sessions.csrf_ok(session, None)
    assert sessions.issue("alice")[1].csrf != session.csrf  # a fresh CSRF token per login


def test_login_limiter_counts_per_user_and_address_over_a_window() -> None:
    limiter = LoginLimiter(attempts=2, window=0.5)
    limiter.failed("ann", "10.0.0.1")
    assert limiter.retry_after("ann", "10.0.0.2") == 0
    limiter.failed("ann", "10.0.0.2")
    assert limiter.retry_after("ann", "10.0.0.3") > 0  # the user is locked, from anywhere
    assert limiter.retry_after("bob", "10.0.0.3") == 0
    limiter.failed("bob", "10.0.0.3")
    limiter.failed("cid", "10.0.0.3")
    assert limiter.retry_after("dan", "10.0.0.3") > 0  # the address is locked, for anyone
    time.sleep(0.6)
    assert limiter.retry_after("ann", "10.0.0.3") == 0
    limiter.failed("eve", "10.0.0.9")
    limiter.succeeded("eve")
    limiter.failed("eve", "10.0.0.8")
    assert limiter.retry_after("eve", "10.0.0.7") == 0  # a good login cleared the user's count


def test_roles_are_ordered_and_expiry_is_parsed() -> None:
    assert allows("admin", "operate") and allows("operator", "read") and allows("viewer", "read")
    assert not allows("viewer", "operate") and not allows("operator", "admin")
    assert parse_expiry(None) is None
    in_30_days = parse_expiry("30d")
    assert in_30_days is not None
    assert abs(in_30_days - datetime.now(UTC) - timedelta(days=30)) < timedelta(seconds=5)
    assert parse_expiry("2030-01-02") == datetime(2030, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_expiry("soon")


def test_session_key_is_generated_once_into_a_private_file(tmp_path: Path) -> None:
    settings = parse_settings(CONFIG % "127.0.0.1")
    key = session_key(settings, tmp_path / "secrets")
    path = tmp_path / "secrets" / "console-session"
    assert path.read_text().strip() == key and len(key) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session_key(settings, tmp_path / "secrets") == key


def test_insecure_cookies_only_on_a_loopback_host() -> None:
    assert parse_settings(CONFIG % "localhost").server.console.secure_cookies is False
    with pytest.raises(ConfigError, match=r"server\.console\.secure_cookies: may be off only"):
        parse_settings(CONFIG % "192.0.2.10")
