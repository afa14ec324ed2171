"""Reading values out of WooCommerce order JSON: amounts, ids, nested objects, lists and meta entries."""

from __future__ import annotations

import html
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from emporion.connectors.woocommerce.mapping import MappingError, parse_decimal


def money(value: Any, field: str) -> Decimal:
    """An amount, 0 when empty; anything that is not a number is a MappingError naming `field`."""
    return parse_decimal(value, field) or Decimal(0)


def text(value: Any) -> str:
    """A text as people read it: WooCommerce hands out names and titles HTML-escaped (`&ndash;`,
    `&#8482;`, `&amp;`, `&lt;Variable&gt;`), which must not reach another system as entities."""
    return html.unescape(str(value)) if value not in (None, "") else ""


def whole(value: Any, field: str) -> int:
    """A WooCommerce id or count (a number or digits); anything else is a MappingError naming `field`."""
    if value in (None, "", 0, False):
        return 0
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 19:
        raise MappingError(f"{field} is not a whole number", field)
    return int(text)


def block(data: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """A nested object (billing, shipping); anything but an object or nothing is a MappingError."""
    value = data.get(name)
    if value is not None and not isinstance(value, Mapping):
        raise MappingError(f"{name} is not an object", name)
    return value


def items(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """A list of objects (line_items, refunds); anything else is a MappingError naming the entry."""
    value = data.get(name) or []
    if not isinstance(value, list):
        raise MappingError(f"{name} is not a list", name)
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise MappingError(f"{name}[{index}] is not an object", f"{name}[{index}]")
    return value


def meta_value(meta_data: Any, key: str) -> Any:
    """The value of the meta entry `key` (None when absent)."""
    for entry in meta_data if isinstance(meta_data, list) else ():
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


def truthy(value: Any) -> bool:
    """WooCommerce's ways of saying yes: true, 1, "1", "yes", "true"."""
    return value is True or str(value).strip().lower() in ("1", "yes", "true")
