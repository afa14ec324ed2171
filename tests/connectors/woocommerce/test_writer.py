"""Pure parts of the WooCommerce writer and change feed: category ordering, cursors, what a matched
product already holds and what a taken SKU names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emporion.connectors.base import Permanent, WriteItem
from emporion.connectors.woocommerce.categories import category_levels
from emporion.connectors.woocommerce.errors import WooError
from emporion.connectors.woocommerce.feed import decode_cursor, encode_cursor
from emporion.connectors.woocommerce.writer import existing_id, holds, is_sku_clash, linked_id, record_label
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


# --- what a matched product already holds (recorded from WooCommerce 10.0.2) -------------------------

RECORDED = Path(__file__).parents[2] / "data" / "woocommerce-10.0.2"


def test_a_product_read_back_in_edit_context_holds_what_was_sent() -> None:
    exchanges = json.loads((RECORDED / "product-view-vs-edit.json").read_text())["exchanges"]
    sent, edit = exchanges[0]["request"]["body"], exchanges[2]["response"]["body"]
    assert edit["name"] != sent["name"]  # the shop stores "&" as "&amp;" ...
    assert holds(edit, sent)  # ... which is what was sent all the same
    assert not holds(edit, {**sent, "regular_price": "21.00"})
    assert not holds(edit, {**sent, "name": "Café & Bar"})
    assert holds(edit, {"regular_price": "19.990"})  # money compared as numbers
    assert holds(
        {"meta_data": [{"id": 7, "key": "a", "value": "1"}, {"id": 8, "key": "_x", "value": ""}]},
        {"meta_data": [{"key": "a", "value": "1"}]},
    )  # the shop's own meta does not count


def test_a_taken_sku_names_the_existing_product() -> None:
    exchanges = json.loads((RECORDED / "products-batch-create-update.json").read_text())["exchanges"]
    errors = [
        WooError.from_body(entry["error"])
        for exchange in exchanges
        for entry in (exchange["response"]["body"] or {}).get("update", [])
        if isinstance(entry, dict) and entry.get("error", {}).get("code") == "product_invalid_sku"
    ]
    assert errors and all(e.sku_exists and e.resource_id for e in errors)
    assert existing_id(errors[0], None) == errors[0].resource_id
    assert is_sku_clash(errors[0])
