"""The dashboard's helpers on their own: where a login may send the browser, and times for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emporion.ops.web import ago, duration, local_path, stamp


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/dead?status=all", "/dead?status=all"),
        ("/records/catalogue/product/3", "/records/catalogue/product/3"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/ok\\..\\x", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\tx", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_a_login_goes_on_to_local_paths_only(target: str | None, expected: str) -> None:
    assert local_path(target) == expected


def test_times_read_as_distances_and_stamps() -> None:
    now = datetime.now(UTC)
    assert ago(None) == "-" and stamp(None) == "-"
    assert ago(now - timedelta(seconds=12)) in {"12 s ago", "13 s ago"}
    assert ago(now - timedelta(minutes=3, seconds=5)) == "3 min ago"
    assert ago(now - timedelta(hours=5)) == "5 h ago" and ago(now - timedelta(days=2)) == "2 d ago"
    assert ago(now + timedelta(seconds=30)) == "just now"
    assert ago((now - timedelta(minutes=2)).replace(tzinfo=None)) == "2 min ago"  # naive = UTC
    assert stamp(datetime(2026, 12, 3, 21, 5, 9, tzinfo=UTC)) == "2026-12-03 21:05:09 UTC"
    lags = [duration(s) for s in (None, 0.4, 42, 185, 7440)]
    assert lags == ["0 s", "0 s", "42 s", "3 min 5 s", "2 h 4 min"]
