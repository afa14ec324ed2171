"""Typing helpers for mapped row fields: the record an error names, and list-like and custom fields."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from emporion.connectors.base import Permanent
from emporion.connectors.rows.values import to_decimal, to_text
from emporion.model import Variant
from emporion.model.base import CustomValue

T = TypeVar("T")
_LIST_SEPARATORS = (",", "|", ";")


def where(fields: Mapping[str, Any], entity: str, key: str) -> str:
    """The record an error names: the row's `_where` when the connector gave one, else `<entity> <key>`."""
    place = fields.get("_where")
    return str(place) if place else f"{entity} {key}"


def typed(record: str, name: str, convert: Callable[[Any], T], value: Any) -> T:
    """`convert(value)`; its ValueError as a Permanent naming the record and the field."""
    try:
        return convert(value)
    except ValueError as error:
        raise Permanent(f"{error}", record=record, field=name) from None


def required_text(record: str, name: str, fields: Mapping[str, Any]) -> str:
    """A text field that must not be empty."""
    text = typed(record, name, to_text, fields.get(name))
    if not text:
        raise Permanent(f"the {name} is empty", record=record, field=name)
    return text


def keys_of(value: Any) -> list[str]:
    """Category keys from a list, or from text such as `3,7` or `3|7`."""
    if value is None:
        return []
    items: Iterable[Any]
    if isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        text = to_text(value)
        separator = next((mark for mark in _LIST_SEPARATORS if mark in text), None)
        items = text.split(separator) if separator else [text]
    keys: list[str] = []
    for item in items:
        key = to_text(item)
        if key and key not in keys:
            keys.append(key)
    return keys


def attributes_of(record: str, value: Any) -> dict[str, str]:
    """A variant's `attributes.*` fields as text; an attribute without a value is left out."""
    if not isinstance(value, Mapping):
        return {}
    attributes: dict[str, str] = {}
    for name, item in value.items():
        text = typed(record, f"attributes.{name}", to_text, item)
        if text:
            attributes[str(name)] = text
    return attributes


def attribute_values(variants: Sequence[Variant]) -> dict[str, list[str]]:
    """The product's attributes: per name, the values its variants have, in the order first seen."""
    values: dict[str, list[str]] = {}
    for variant in variants:
        for name, value in variant.attributes.items():
            seen = values.setdefault(name, [])
            if value not in seen:
                seen.append(value)
    return values


def custom_of(record: str, value: Any) -> dict[str, CustomValue]:
    """`custom.*` fields as custom values: text, whole numbers, yes/no and decimals kept, the rest as text."""
    if not isinstance(value, Mapping):
        return {}
    custom: dict[str, CustomValue] = {}
    for name, item in value.items():
        if item is None or isinstance(item, (str, bool, int, Decimal)):
            custom[name] = item
        elif isinstance(item, float):
            custom[name] = typed(record, f"custom.{name}", to_decimal, item)
        else:
            custom[name] = typed(record, f"custom.{name}", to_text, item)
    return custom
