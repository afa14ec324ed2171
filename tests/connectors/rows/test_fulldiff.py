"""Full-diff change detection: changed, new, deleted and unchanged keys; hashes the same across drivers."""

from __future__ import annotations

import base64
import random
import zlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emporion.connectors.rows.fulldiff import Differ, Snapshot, diff, group_hash, row_hash


def _rows(stock: dict[str, Decimal]) -> list[tuple[str, bytes]]:
    return [(sku, row_hash({"sku": sku, "quantity": qty})) for sku, qty in stock.items()]


def test_changed_new_deleted_and_unchanged() -> None:
    first = {"A": Decimal(1), "B": Decimal(2), "C": Decimal(3)}
    _, _, snapshot = diff(None, _rows(first))
    second = {"A": Decimal(1), "B": Decimal(5), "D": Decimal(4)}
    changed, deleted, snapshot = diff(snapshot, _rows(second))
    assert changed == ["B", "D"]
    assert deleted == ["C"]
    assert diff(snapshot, _rows(second))[:2] == ([], [])


def test_without_a_snapshot_every_key_is_new() -> None:
    changed, deleted, snapshot = diff(None, _rows({"A": Decimal(1), "B": Decimal(2)}))
    assert (changed, deleted, len(snapshot)) == (["A", "B"], [], 2)


def test_the_same_row_hashes_alike_across_drivers() -> None:
    mariadb = {"sku": "A", "quantity": Decimal("1.50"), "active": 1, "at": datetime(2026, 1, 1, 12)}
    postgres = {
        "at": datetime(2026, 1, 1, 12, tzinfo=UTC),
        "active": True,
        "quantity": Decimal("1.5"),
        "sku": "A",
    }
    assert row_hash(mariadb) == row_hash(postgres)
    assert row_hash({"q": Decimal("10")}) == row_hash({"q": 10}) == row_hash({"q": Decimal("1E+1")})
    assert row_hash({"q": 1.5}) == row_hash({"q": Decimal("1.5")})


def test_different_rows_hash_differently() -> None:
    assert row_hash({"a": "1", "b": ""}) != row_hash({"a": "", "b": "1"})
    assert row_hash({"a": None}) != row_hash({"a": ""})
    assert row_hash({"a": "1"}) != row_hash({"a": 1})
    assert row_hash({"ab": "c"}) != row_hash({"a": "bc"})
    assert len(row_hash({"a": 1})) == 8


def test_group_hash_is_order_independent_and_counts_repeats() -> None:
    hashes = [row_hash({"warehouse": w, "quantity": q}) for w, q in (("Haupt", 1), ("Nord", 2), ("Süd", 3))]
    assert group_hash(hashes) == group_hash(reversed(hashes))
    assert group_hash(hashes[:1]) == hashes[0]
    assert group_hash([hashes[0], hashes[0]]) != group_hash([hashes[0]])
    # repeated keys in one poll are grouped the same way, in any order
    rows = [("SKU-1", h) for h in hashes]
    assert diff(None, rows)[2].get("SKU-1") == group_hash(hashes)
    assert diff(None, list(reversed(rows)))[2] == diff(None, rows)[2]


def test_dumps_loads_round_trip_and_size() -> None:
    snapshot = diff(None, _rows({f"SKU-{i:06d}": Decimal(i % 50) for i in range(100_000)}))[2]
    text = snapshot.dumps()
    assert Snapshot.loads(text) == snapshot
    assert text.startswith("fd1:")
    assert len(text) < 1_100_000  # 8 incompressible bytes per key; keys front-coded to almost nothing


@pytest.mark.parametrize(
    "text",
    [
        "",
        "v0:abc",
        "fd1:not base64!",
        "fd1:" + base64.b64encode(b"plain").decode(),
        "fd1:" + base64.b64encode(zlib.compress(b"\x02\x00\x01a")).decode(),  # two keys announced, one given
        "fd1:"
        + base64.b64encode(zlib.compress(b"\x02\x00\x01b\x00\x01a" + b"0" * 16)).decode(),  # not sorted
    ],
)
def test_damaged_or_foreign_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Snapshot.loads(text)


def test_a_truncated_cursor_is_refused() -> None:
    text = diff(None, _rows({"A": Decimal(1), "B": Decimal(2)}))[2].dumps()
    with pytest.raises(ValueError):
        Snapshot.loads(text[:-4])


keys = st.text(min_size=1, max_size=12)
tables = st.dictionaries(keys, st.integers(0, 3), max_size=30)


@given(tables)
def test_round_trip(table: dict[str, int]) -> None:
    snapshot = diff(None, [(k, row_hash({"v": v})) for k, v in table.items()])[2]
    assert Snapshot.loads(snapshot.dumps()) == snapshot


@given(tables, tables, st.randoms())
def test_diff_agrees_with_a_brute_force_model(
    before: dict[str, int], after: dict[str, int], rnd: random.Random
) -> None:
    snapshot = Snapshot.loads(diff(None, [(k, row_hash({"v": v})) for k, v in before.items()])[2].dumps())
    rows = [(k, row_hash({"v": v})) for k, v in after.items()]
    rnd.shuffle(rows)
    changed, deleted, new = diff(snapshot, iter(rows))
    assert set(changed) == {k for k in after if k not in before or before[k] != after[k]}
    assert len(changed) == len(set(changed))
    assert deleted == sorted(k for k in before if k not in after)
    assert set(new) == set(after)


def test_fed_page_by_page_it_agrees_with_one_pass() -> None:
    before = diff(None, _rows({"A": Decimal(1), "B": Decimal(2), "C": Decimal(3)}))[2]
    rows = [*_rows({"A": Decimal(1), "B": Decimal(7), "D": Decimal(4)}), ("B", row_hash({"x": 1}))]
    differ = Differ(before)
    for start in range(0, len(rows), 2):
        differ.add(rows[start : start + 2])
    assert differ.finish() == diff(before, rows)
