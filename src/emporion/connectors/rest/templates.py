"""Placeholders in a call's path, parameters, body and variables, filled from a write's values.

`render(template, values)`: a string that is exactly `{name}` becomes the value itself (a number
stays a number, a list a list); `{name}` inside longer text is replaced by the value's text; dotted
names reach into mappings (`{option.location}`, `{parent.id}`). A name without a value is an error
naming it, never an empty string sent to the shop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class MissingValue(KeyError):
    """A template names a value the write does not have."""


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """`template` (str, list, dict, or a scalar left as it is) with its placeholders filled from `values`."""
    raise NotImplementedError
