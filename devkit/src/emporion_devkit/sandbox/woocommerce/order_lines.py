"""Order lines: money formats, what a line sells, the stock it moves, its meta and how it is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.pricing import derive_stock

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop


def money(value: float) -> str:
    """Money as WooCommerce writes it in documents: a string with two decimals."""
    return f"{value + 0.0:.2f}"


def as_number(value: float) -> int | float:
    """Line item `price`: a JSON number, unrounded; whole numbers without a fraction, as PHP divides."""
    return int(value) if float(value).is_integer() else value


def to_float(value: Any, default: float = 0.0) -> float:
    """A number from a money string or number; `default` when it is not one."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def sellable(shop: Shop, product_id: int, variation_id: int) -> tuple[str, dict, dict]:
    """(kind, document, extra) of what a line item sells: the variation if given, else the product."""
    kind, record_id = ("variation", variation_id) if variation_id else ("product", product_id)
    found = shop.store.get(kind, record_id)
    if found is None:
        raise ApiError(400, "woocommerce_rest_invalid_product_id", f"Invalid product ID {record_id}.")
    return kind, found[0], found[1]


def adjust_stock(shop: Shop, kind: str, record_id: int, delta: int, sold: int = 0) -> tuple[int, int] | None:
    """Change a managed stock quantity (and total_sales); returns (before, after) or None if unmanaged."""
    found = shop.store.get(kind, record_id)
    if found is None:
        return None
    doc, extra = found
    if kind == "variation" and doc.get("manage_stock") is not True:
        parent = shop.store.get("product", extra["parent"])
        if parent is not None and parent[0].get("manage_stock") is True:
            moved = adjust_stock(shop, "product", extra["parent"], delta)
            if sold:
                adjust_stock(shop, kind, record_id, 0, sold)
            return moved
    before = dict(doc)
    result = None
    if doc.get("manage_stock") is True:
        result = (doc["stock_quantity"], doc["stock_quantity"] + delta)
        doc["stock_quantity"] += delta
        derive_stock(doc)
    target_kind, target = (kind, doc)
    if "total_sales" in doc:
        doc["total_sales"] = max(0, doc["total_sales"] + sold)
    if result is None and not sold:
        return None
    shop.save(shop.resources[target_kind], before, target, extra)
    if sold and kind == "variation":
        parent = shop.store.get("product", extra["parent"])
        if parent is not None:
            parent[0]["total_sales"] = max(0, parent[0]["total_sales"] + sold)
            shop.store.put(
                "product", parent[0]["id"], parent[0], parent[1], shop.resources["product"].columns(*parent)
            )
    return result


def line_product(item: dict[str, Any]) -> tuple[str, int]:
    """(kind, id) of what an order line sells."""
    return ("variation", item["variation_id"]) if item["variation_id"] else ("product", item["product_id"])


def line_meta(line: dict[str, Any], key: str) -> Any:
    """The value of a line's meta key, or None."""
    return next((m["value"] for m in line.get("meta_data", []) if m["key"] == key), None)


def set_line_meta(shop: Shop, line: dict[str, Any], key: str, value: Any) -> None:
    """Set (or add) a line's meta key, as `update_meta_data` does."""
    for entry in line["meta_data"]:
        if entry["key"] == key:
            entry["value"] = value
            return
    line["meta_data"].append({"id": shop.store.next_id("meta"), "key": key, "value": value})


def present_line(shop: Shop, line: Any) -> Any:
    """An order or refund line as shown: hidden fields dropped, meta with display keys, deleted products.

    A line that is not an object (a record corrupted on purpose by a test) is shown as stored."""
    if not isinstance(line, dict):
        return line
    out = {k: v for k, v in line.items() if not k.startswith("_") and k != "coupon_id"}
    out["meta_data"] = [
        {**m, "display_key": m["key"], "display_value": m["value"]} for m in line.get("meta_data", [])
    ]
    if "product_id" in line and (line["product_id"] or line["variation_id"]):
        kind, record_id = line_product(line)
        if shop.store.get(kind, record_id) is None:  # the product was deleted for good
            out.update(product_id=0, variation_id=0, sku=None, image={"id": 0, "src": ""})
    return out
