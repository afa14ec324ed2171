"""The Tryton feed cursor survives storage and rejects garbage; the sample catalogue is deterministic."""

from __future__ import annotations

import datetime as dt

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.tryton.feed import FeedCursor, identity, stamp
from emporion_devkit.erp.catalogue import ean13, plan


def test_cursor_round_trip() -> None:
    cursor = FeedCursor(dt.datetime(2026, 11, 22, 13, 0, 1, 5), {"product.template:1:2026-11-22T13:00:01"})
    assert FeedCursor.loads(cursor.dumps()) == cursor


def test_garbage_cursor_is_a_permanent_error() -> None:
    with pytest.raises(Permanent, match="not a Tryton feed cursor"):
        FeedCursor.loads("{bad json")


def test_identity_changes_when_a_row_is_written_again() -> None:
    created = {"id": 5, "create_date": dt.datetime(2026, 1, 1), "write_date": None}
    written = {**created, "write_date": dt.datetime(2026, 1, 2)}
    assert stamp(created) == dt.datetime(2026, 1, 1)
    assert identity("stock.move", created) != identity("stock.move", written)


def test_catalogue_plan_is_deterministic_and_shaped_as_asked() -> None:
    first, second = plan(200, 0.1, 3), plan(200, 0.1, 3)
    assert first == second and first != plan(200, 0.1, 4)
    assert sum(1 for item in first if len(item.variants) > 1) == 20
    assert len({item.code for item in first}) == 200
    assert any(item.promotion and item.promotion[1] > 0 for item in first)
    assert any(not item.salable for item in first)


def test_ean13_check_digit() -> None:
    assert ean13(1) == "4000000000013"
    digits = [int(d) for d in ean13(123456)]
    assert sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0
