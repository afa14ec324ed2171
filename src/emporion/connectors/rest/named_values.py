"""Attributes a shop keeps as a list of name-value pairs (Medusa's options, Vendure's option groups).

Read: each pair's name and value(s) become `attributes[name]` (a product's values as a list, a
variant's one value as text); attributes mapped one by one (`attributes.color`) win. Written: the
pairs again, in the record's order, at the description's singular paths.
"""

from __future__ import annotations

from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.rest.conversions import Misfit, to_text
from emporion.connectors.rest.settings import NamedValues
from emporion.connectors.rest.settings.paths import put_at, singular_steps

Json = Any


def read_pairs(data: Json, pairs: NamedValues | None, many: bool, record: str, where: str) -> dict[str, Any]:
    """The attributes held as pairs in `data` (`many`: each a list of values, else one text)."""
    from emporion.connectors.rest.mapping import listed, value_at

    if pairs is None:
        return {}
    found: dict[str, Any] = {}
    for position, pair in enumerate(entry for entry in listed(data, pairs.items) if entry is not None):
        field = f"{where}attributes[{position}]"
        try:
            name = to_text(value_at(pair, pairs.name), f"{field} name")
            values = [
                to_text(value, f"{field} value") for value in listed(pair, pairs.value) if value is not None
            ]
        except Misfit as error:
            raise Permanent(str(error), record=record, field=field) from None
        if many:
            found.setdefault(name, []).extend(values)
        elif values:
            found[name] = values[0]
    return found


def write_pairs(body: dict[str, Any], attributes: dict[str, Any], pairs: NamedValues) -> None:
    """Put the attributes into `body` as a list of pairs at the description's paths."""
    name_steps, value_steps, items_steps = (
        singular_steps(path) for path in (pairs.name, pairs.value, pairs.items)
    )
    if name_steps is None or value_steps is None or items_steps is None:
        raise ValueError("the attribute pairs' paths name no single place to write")
    written = []
    for name, value in attributes.items():
        pair: dict[str, Any] = {}
        put_at(pair, name_steps, name)
        put_at(pair, value_steps, value)
        written.append(pair)
    put_at(body, items_steps, written)
