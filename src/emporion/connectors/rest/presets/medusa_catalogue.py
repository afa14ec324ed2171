"""Medusa products as the description reads them: SKU, price in the currency, stock at the location."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emporion.connectors.rest.presets.medusa_calls import amount_of, exact

Json = Any
DEFAULT_OPTION = "Default"


def price_in(variant: Json, currency: str) -> Decimal | None:
    """The variant's price in `currency` without rules (not a price list's or a region's)."""
    for price in variant.get("prices") or []:
        if str(price.get("currency_code", "")).lower() == currency and not price.get("rules"):
            return amount_of(price.get("amount"))
    return None


def level_at(variant: Json, location: str) -> tuple[str | None, Json | None]:
    """The variant's inventory item id and its level at `location` (None where missing)."""
    for link in variant.get("inventory_items") or []:
        levels = (link.get("inventory") or {}).get("location_levels") or []
        found = next((level for level in levels if level.get("location_id") == location), None)
        return link.get("inventory_item_id"), found
    return None, None


def reserved(level: Json | None) -> Decimal:
    """Units reserved by placed orders not fulfilled yet at a level (0 without one)."""
    return Decimal(0) if level is None else exact(level.get("reserved_quantity"))


def sellable_at(variant: Json, location: str) -> Decimal | None:
    """Units the shop can sell at `location` (stocked less reserved): 0 without a level, None when
    Medusa keeps no stock for the variant."""
    if not variant.get("manage_inventory", True) or not location:
        return None
    _, level = level_at(variant, location)
    return Decimal(0) if level is None else exact(level.get("stocked_quantity")) - reserved(level)


def is_simple(data: Json) -> bool:
    """One variant whose options are only the "Default" one."""
    variants = data.get("variants") or []
    return len(variants) == 1 and all(
        (option.get("option") or {}).get("title") == DEFAULT_OPTION
        for option in variants[0].get("options") or []
    )


def shape_product(data: Json, currency: str, location: str) -> Json:
    """A Medusa product with its SKU, price and stock where the description reads them (`$.shaped`)."""
    variants = [
        {
            **variant,
            "shaped_price": price_in(variant, currency),
            "shaped_available": sellable_at(variant, location),
        }
        for variant in data.get("variants") or []
    ]
    shaped: dict[str, Any] = {
        "sku": data.get("external_id") or data.get("handle"),
        "currency": currency.upper(),
    }
    if is_simple(data):
        only = variants[0]
        shaped |= {
            "sku": only.get("sku"),
            "price": only["shaped_price"],
            "available": only["shaped_available"],
        }
        shaped |= {"variants": [], "options": []}
    else:
        options = [
            {
                "title": option.get("title"),
                "values": sorted(str(v.get("value")) for v in option.get("values") or []),
            }
            for option in data.get("options") or []
        ]
        shaped |= {"variants": variants, "options": options}
    return {**data, "shaped": shaped}
