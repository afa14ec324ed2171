"""Inventory units: a basic product or one variant of a multi-variant product, with its SKU, prices and stock.

Both kinds share the fields the inventory endpoint shows and the checks a write of them passes, so a
product, a variant and an inventory PATCH are all read and written here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emporion_devkit.sandbox.merchantpro.errors import ApiError, invalid
from emporion_devkit.sandbox.merchantpro.store import Store, money

PRICE_FIELDS = ("price_net", "price_gross", "old_price_net", "old_price_gross")
UNIT_FIELDS = ("sku", "ext_ref", "inventory_enabled", "stock", "weight", *PRICE_FIELDS)


def flag(value: object, field: str) -> bool:
    """A yes/no field: true/false, 1/0 or the admin's "on"/"off"."""
    if isinstance(value, bool):
        return value
    if value in (1, 0, "1", "0"):
        return value in (1, "1")
    if isinstance(value, str) and value.lower() in ("on", "off", "true", "false"):
        return value.lower() in ("on", "true")
    raise invalid(field, f"{value!r} is not one of on, off, true, false")


def quantity(value: object, field: str) -> Decimal:
    """A stock quantity: a number (negative stock is allowed when backorders are)."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise invalid(field, f"{value!r} is not a number") from None
    if isinstance(value, bool) or not number.is_finite():
        raise invalid(field, f"{value!r} is not a number")
    return number


def text(value: object, field: str, required: bool = False) -> str:
    """A text field; `required` refuses an empty one."""
    if value is None and not required:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool) or (required and not str(value).strip()):
        raise invalid(field, "a non-empty text is required" if required else f"{value!r} is not a text")
    return str(value)


def sku_owner(store: Store, sku: str) -> dict[str, Any] | None:
    """The product or variant that has `sku` (SKUs are unique across both), or None."""
    for kind in ("product", "variant"):
        for record in store.all(kind):
            if record.get("sku") == sku:
                return record
    return None


def apply_unit(store: Store, unit: dict[str, Any], data: dict[str, Any], prefix: str = "") -> None:
    """Write the SKU, stock and price fields of `data` onto `unit` (a basic product or a variant)."""
    if "sku" in data:
        sku = text(data["sku"], prefix + "sku", required=True)
        owner = sku_owner(store, sku)
        if owner is not None and owner["id"] != unit.get("id"):
            raise ApiError(
                400,
                "DuplicateEntry",
                f"{prefix}sku: {sku!r} is already used by id {owner['id']}",
                field="sku",
            )
        unit["sku"] = sku
    if "ext_ref" in data:
        unit["ext_ref"] = text(data["ext_ref"], prefix + "ext_ref") or None
    if "inventory_enabled" in data:
        unit["inventory_enabled"] = flag(data["inventory_enabled"], prefix + "inventory_enabled")
    if data.get("stock") is not None:  # null leaves the stock as it is
        unit["stock"] = quantity(data["stock"], prefix + "stock")
    if "weight" in data and data["weight"] not in (None, ""):
        unit["weight"] = money(data["weight"], prefix + "weight")
    for base in ("price", "old_price"):
        net, gross = data.get(f"{base}_net"), data.get(f"{base}_gross")
        if gross not in (None, ""):
            unit[f"{base}_gross"] = money(gross, f"{prefix}{base}_gross")
            unit[f"{base}_net"] = (
                money(net, f"{prefix}{base}_net")
                if net not in (None, "")
                else store.net(unit[f"{base}_gross"])
            )
        elif net not in (None, ""):
            unit[f"{base}_net"] = money(net, f"{prefix}{base}_net")
            unit[f"{base}_gross"] = store.gross(unit[f"{base}_net"])
        elif f"{base}_gross" in data or f"{base}_net" in data:
            unit[f"{base}_net"] = unit[f"{base}_gross"] = None


def new_unit() -> dict[str, Any]:
    """The defaults of a unit nobody has priced or stocked yet."""
    return {
        "sku": None,
        "ext_ref": None,
        "inventory_enabled": True,
        "stock": Decimal(0),
        "weight": None,
        "price_net": Decimal(0),
        "price_gross": Decimal(0),
        "old_price_net": None,
        "old_price_gross": None,
    }


def unit_view(unit: dict[str, Any], product_id: int) -> dict[str, Any]:
    """An inventory unit as the inventory endpoint shows it."""
    return {
        "id": unit["id"],
        "product_id": product_id,
        **{field: unit.get(field) for field in UNIT_FIELDS},
    }
