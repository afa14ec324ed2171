"""One canonical field of a described mapping: its type, read from the shop's value, written back.

A canonical field is named by its dotted path in the model (`list_price`, `billing.city`,
`custom.color`, `price_lists.retail`); its annotation decides the conversion. Decimal fields are
amounts (by the entity's `money` kind) unless they count or weigh something (QUANTITIES).
"""

from __future__ import annotations

import functools
import types
import typing
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from emporion.connectors.rest.conversions import (
    Misfit,
    Money,
    moment_out,
    money_in,
    money_out,
    number_out,
    shown,
    to_bool,
    to_custom,
    to_datetime,
    to_decimal,
    to_int,
    to_text,
)
from emporion.model import Image, StockLevel

if TYPE_CHECKING:
    from emporion.connectors.rest.settings import EntitySettings, NestedList

QUANTITIES = frozenset({"quantity", "weight", "available", "rate_percent"})
ABSENT: Any = object()  # a field the record does not hold (a custom value it lacks)
# what an order's mapping fills in beyond its `fields` (orders_mapping.order_values)
ORDER_FILLED = frozenset({"status", "raw_status", "customer"})


def unkept(settings: EntitySettings) -> frozenset[str]:
    """The canonical fields of an entity that neither its `fields` nor its nested lists map.

    The shop never holds them, so reading them back finds nothing: declared as not kept, they are
    left out of verification and reconciliation instead of differing on every record.
    """
    from emporion.connectors.rest.settings import OrderEntity

    kept = {"key"} | _mapped(settings)
    if isinstance(settings, OrderEntity):
        kept |= ORDER_FILLED
    return frozenset(settings.canonical.model_fields) - kept


def _mapped(settings: EntitySettings | NestedList) -> set[str]:
    """The top-level canonical names an entity or list maps, its lists' and their items' included."""
    mapped = {name.split(".")[0] for name in settings.fields}
    if getattr(settings, "attributes", None) is not None:
        mapped.add("attributes")
    for name, items in settings.sublists().items():
        mapped |= {name} | _mapped(items)
    return mapped


@functools.lru_cache(maxsize=1024)
def annotation_of(model: type[BaseModel], name: str) -> Any:
    """The type of the canonical field `name` of `model` (`custom.color` -> the custom value type)."""
    current: Any = model
    annotation: Any = None
    parts = name.split(".")
    for index, part in enumerate(parts):
        annotation = current.model_fields[part].annotation
        if typing.get_origin(annotation) is dict:
            return typing.get_args(annotation)[1] if index == len(parts) - 2 else annotation
        current = _plain(annotation)
    return annotation


def _plain(annotation: Any) -> Any:
    """`X | None` -> X; a union of several types (a custom value) is kept."""
    if isinstance(annotation, types.UnionType):
        kept = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return kept[0] if len(kept) == 1 else annotation
    return annotation


def is_money(name: str, annotation: Any) -> bool:
    """Whether a Decimal field is an amount of money (not a quantity, weight or rate)."""
    return _plain(annotation) is Decimal and name.rsplit(".", 1)[-1] not in QUANTITIES


def read(
    name: str, annotation: Any, value: Any, money: Money, currency: str | None, zone: tzinfo = UTC
) -> Any:
    """The canonical value of field `name` from the shop's `value` (not None); Misfit if it does not fit."""
    kind = _plain(annotation)
    if typing.get_origin(kind) is list:
        (item,) = typing.get_args(kind)
        listed = value if isinstance(value, list) else [value]
        return [_item(name, item, entry, position) for position, entry in enumerate(listed)]
    if isinstance(kind, types.UnionType):
        return to_custom(value, name)
    if kind is Decimal:
        return money_in(value, name, money, currency) if is_money(name, kind) else to_decimal(value, name)
    if kind is bool:
        return to_bool(value, name)
    if kind is int:
        return to_int(value, name)
    if kind is str:
        return to_text(value, name)
    if kind is datetime:
        return to_datetime(value, name, zone)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(value)
        except ValueError:
            known = ", ".join(str(member.value) for member in kind)
            raise Misfit(f"{name} {shown(value)} is not one of: {known}") from None
    raise Misfit(f"{name} cannot be read from one value")


def _item(name: str, item: Any, entry: Any, position: int) -> Any:
    """One entry of a list field: text, an image ({url, alt} or a URL), a stock level."""
    if item is Image:
        if isinstance(entry, str):
            return Image(url=entry, position=position)
        if isinstance(entry, dict) and isinstance(url := entry.get("url", entry.get("src")), str):
            return Image(url=url, alt=str(entry.get("alt") or ""), position=position)
        raise Misfit(f"{name}[{position}] is not an image (a URL or an object with `url`)")
    if item is StockLevel:
        if isinstance(entry, dict) and "warehouse" in entry and "quantity" in entry:
            warehouse = to_text(entry["warehouse"], f"{name}[{position}].warehouse")
            return StockLevel(
                warehouse=warehouse, quantity=to_decimal(entry["quantity"], f"{name}[{position}]")
            )
        raise Misfit(f"{name}[{position}] is not a stock level (an object with `warehouse` and `quantity`)")
    return to_text(entry, f"{name}[{position}]")


def write(name: str, annotation: Any, value: Any, money: Money) -> Any:
    """The shop's JSON value of a canonical value (Decimal stays Decimal: the client sends it as a number)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [write_part(entry, name, money) for entry in value]
    if isinstance(value, Decimal):
        return money_out(value, name, money) if is_money(name, annotation) else number_out(value)
    return write_part(value, name, money)


def write_part(value: Any, name: str, money: Money) -> Any:
    """A single value, image or stock level as JSON."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return moment_out(value)
    if isinstance(value, Image):
        return {"url": value.url, "alt": value.alt}
    if isinstance(value, StockLevel):
        return {"warehouse": value.warehouse, "quantity": number_out(value.quantity)}
    if isinstance(value, Decimal):
        return number_out(value)
    return value


def value_of(record: BaseModel, name: str) -> Any:
    """The value of canonical field `name` in `record` (ABSENT where a named value is missing)."""
    current: Any = record
    for part in name.split("."):
        if isinstance(current, dict):
            current = current.get(part, ABSENT)
        elif isinstance(current, BaseModel):
            current = getattr(current, part)
        else:
            return None  # inside a part the record does not hold (no sale price): written as null
        if current is ABSENT:
            return ABSENT
    return current
