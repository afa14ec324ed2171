"""Access control pieces on their own: argon2id, sessions, limits, expiry, role order, the session key."""

from __future__ import annotations

import stat
import time
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

import pytest

from emporion.config import ConfigError, parse_settings
from emporion.ops.auth import (
    allows,
    hash_password,
    parse_expiry,
    session_key,
    verify_password,
)
from emporion.ops.limiter import REFUSALS_AUDITED, LoginLimiter, TrustedProxies, address_group

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


def test_login_limiter_counts_per_user_and_address_pair_and_per_address() -> None:
    limiter = LoginLimiter(attempts=2, window=0.5, address_attempts=3)
    assert limiter.reserve("ann", "10.0.0.1").allowed and limiter.reserve("ann", "10.0.0.1").allowed
    refused = limiter.reserve("ann", "10.0.0.1")
    assert not refused.allowed and 0 < refused.wait <= 0.5  # the pair is locked
    assert limiter.reserve("ann", "10.0.0.2").allowed  # another address is not locked out with it
    assert limiter.reserve("bob", "10.0.0.1").allowed
    assert not limiter.reserve("dan", "10.0.0.1").allowed  # the address is locked, for anyone
    time.sleep(0.6)
    assert limiter.reserve("ann", "10.0.0.1").allowed
    limiter.reserve("eve", "10.0.0.9")
    limiter.succeeded(limiter.reserve("eve", "10.0.0.9"))
    assert limiter.reserve("eve", "10.0.0.9").allowed  # a good login cleared the pair's count
    assert limiter.reserve("eve", "10.0.0.9").allowed  # ... and gave the address its attempt back


def test_login_limiter_counts_ipv6_per_64_and_stays_bounded() -> None:
    limiter = LoginLimiter(attempts=5, window=60, address_attempts=2, max_entries=50)
    assert limiter.reserve("a", "2001:db8::1").allowed and limiter.reserve("b", "2001:db8::2").allowed
    assert not limiter.reserve("c", "2001:db8::ffff").allowed  # the same /64
    assert limiter.reserve("c", "2001:db8:0:1::1").allowed
    for index in range(2000):
        limiter.reserve(f"user{index}", f"10.{index // 250}.{index % 250}.1")
    assert len(limiter) <= 50
    assert address_group("::ffff:192.0.2.1") == "192.0.2.1" and address_group("bogus") == "unknown"


def test_a_refused_client_gets_a_few_audit_lines_per_window() -> None:
    limiter = LoginLimiter(attempts=1, window=60, address_attempts=1)
    limiter.reserve("ann", "10.0.0.1")
    refusals = [limiter.reserve(f"user{index}", "10.0.0.1") for index in range(50)]
    assert [v.audit for v in refusals] == [True] * REFUSALS_AUDITED + [False] * (50 - REFUSALS_AUDITED)
    assert len(limiter) == 2  # refused attempts add no entries


def test_the_client_is_the_right_most_hop_a_trusted_proxy_names() -> None:
    proxies = TrustedProxies([ip_network("10.0.0.0/8"), ip_network("::1")])
    assert proxies.client("192.0.2.1", ["203.0.113.9"]) == "192.0.2.1"  # not a trusted peer
    assert proxies.client("10.0.0.2", []) == "10.0.0.2"
    assert proxies.client("10.0.0.2", ["198.51.100.7, 203.0.113.9", "10.0.0.5"]) == "203.0.113.9"
    assert proxies.client("::1", ["10.0.0.7, 10.0.0.5"]) == "10.0.0.7"  # every hop trusted: the first
    assert proxies.client("::ffff:10.0.0.2", ["203.0.113.9"]) == "203.0.113.9"
    assert proxies.client("10.0.0.2", ["203.0.113.9, <script>"]) == "unknown"
    assert TrustedProxies([]).client("10.0.0.2", ["203.0.113.9"]) == "10.0.0.2"


def test_trusted_proxies_are_addresses_or_networks() -> None:
    with_proxies = CONFIG.replace("console: {", "console: {trusted_proxies: [%s], ")
    networks = parse_settings(with_proxies % ("localhost", "10.0.0.1, '::1'")).server.console.trusted_proxies
    assert [str(network) for network in networks] == ["10.0.0.1/32", "::1/128"]
    with pytest.raises(ConfigError, match=r"server\.console\.trusted_proxies"):
        parse_settings(with_proxies % ("localhost", "proxy.lan"))


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


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("999999999999h", "too far ahead"),  # was an OverflowError (a 500 from the API)
        ("99999999d", "too far ahead"),  # was an OverflowError (a traceback from the CLI)
        ("9" * 5000 + "m", "too far ahead"),
        ("36526d", "too far ahead"),
        ("9999-12-31", "too far ahead"),
        ("2001-01-01", "not in the future"),
        ("0h", "not in the future"),
        ("²d", "use 30d, 12h, 90m or an ISO date"),
        ("12x", "use 30d, 12h, 90m or an ISO date"),
    ],
)
def test_absurd_expiries_are_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_expiry(text)
    assert parse_expiry("36525d") is not None  # a hundred years is the most


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
