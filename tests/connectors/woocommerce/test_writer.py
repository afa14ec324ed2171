"""Pure parts of the WooCommerce writer and change feed: category ordering and cursors."""

from __future__ import annotations

import pytest

from emporion.connectors.base import Permanent, WriteItem
from emporion.connectors.woocommerce.categories import category_levels
from emporion.connectors.woocommerce.feed import decode_cursor, encode_cursor
from emporion.connectors.woocommerce.writer import linked_id, record_label
from emporion.model import Category, Product


def item(key: str, parent: str | None = None, ref: dict | None = None) -> WriteItem:
    return WriteItem(key, Category(key=key, name=f"cat {key}", parent_key=parent), ref)


def test_parents_in_the_same_call_come_first() -> None:
    items = [item("c", "b"), item("b", "a"), item("a"), item("x", "77")]
    levels, cycles = category_levels(items)
    assert [[i.key for i in level] for level in levels] == [["a", "x"], ["b"], ["c"]]
    assert cycles == []


def test_a_linked_parent_is_not_waited_for() -> None:
    # "a" is linked already: the engine put its WooCommerce id in parent_key, so "b" need not wait.
    items = [item("b", "a"), item("a", ref={"id": 5})]
    levels, _ = category_levels(items)
    assert [[i.key for i in level] for level in levels] == [["b", "a"]]


def test_cycles_are_reported_not_looped() -> None:
    levels, cycles = category_levels([item("a", "b"), item("b", "a"), item("c")])
    assert [[i.key for i in level] for level in levels] == [["c"]]
    assert sorted(i.key for i in cycles) == ["a", "b"]


def test_link_and_label_helpers() -> None:
    product = WriteItem("erp-1", Product(key="erp-1", sku="SKU-1", name="P"), {"id": "42"})
    assert linked_id(product) == 42
    assert record_label(product) == "SKU-1"
    assert linked_id(item("z")) is None
    assert record_label(item("z")) == "z"


def test_cursor_round_trip_and_refusal_of_foreign_cursors() -> None:
    cursor = encode_cursor(kind="product", since="2026-11-22T10:00:00", page=2, started="2026-11-22T10:05:00")
    state = decode_cursor(cursor, "product")
    assert state["page"] == 2 and state["since"] == "2026-11-22T10:00:00"
    with pytest.raises(Permanent):
        decode_cursor(cursor, "category")
    with pytest.raises(Permanent):
        decode_cursor("2026-11-22", "product")
