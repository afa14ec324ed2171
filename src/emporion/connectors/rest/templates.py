"""Placeholders in a call's path, parameters, body and variables, filled from a write's values.

`render(template, values)`: a string that is exactly `{name}` becomes the value itself (a number
stays a number, a list a list); `{name}` inside longer text is replaced by the value's text; dotted
names reach into mappings (`{option.location}`, `{parent.id}`). A name without a value is an error
naming it, never an empty string sent to the shop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")


class MissingValue(KeyError):
    """A template names a value the write does not have."""


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """`template` (str, list, dict, or a scalar left as it is) with its placeholders filled from `values`."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return value_of(whole.group(1), values)
        return PLACEHOLDER.sub(lambda match: as_text(match.group(1), values), template)
    if isinstance(template, Mapping):
        return {key: render(value, values) for key, value in template.items()}
    if isinstance(template, list | tuple):
        return [render(item, values) for item in template]
    return template


def value_of(name: str, values: Mapping[str, Any]) -> Any:
    """The value `name` stands for: a key of `values`, or a dotted path through nested mappings."""
    if name in values:
        return values[name]
    current: Any = values
    for part in name.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list | tuple) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise MissingValue(f"no value for the placeholder {{{name}}}")
    return current


def as_text(name: str, values: Mapping[str, Any]) -> str:
    """The value of `name` as it reads inside longer text (see `spelled`)."""
    value = value_of(name, values)
    if value is None:
        raise MissingValue(f"the placeholder {{{name}}} has no value (null)")
    return str(spelled(value))


def spelled(value: Any) -> Any:
    """A value as text spells it: booleans in lower case, lists comma-joined, Decimals as written
    (4.90); other values as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(spelled(item)) for item in value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value
