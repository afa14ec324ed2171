"""A flow's create defaults for any target: a default the target cannot use is a Permanent naming it.

What every target's create defaults share: unknown names refused, the product type and salable flag
read, comma-separated names split, and each distinct mapping resolved once. What the names resolve
to (units, categories, taxes) each connector finds in its own system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Generic, TypeVar

from emporion.connectors.base import Permanent

T = TypeVar("T")
YES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def refused(name: str, value: str, why: str) -> Permanent:
    """A create default the target cannot use, naming the default and its value."""
    return Permanent(f"create_defaults {name} {value!r}: {why}", field=f"create_defaults.{name}")


def listed(text: str) -> list[str]:
    """The names of a comma-separated list, blanks left out."""
    return [name.strip() for name in text.split(",") if name.strip()]


def read_defaults(
    defaults: Mapping[str, str], known: frozenset[str], types: Sequence[str], unknown: str, types_are: str
) -> tuple[str, bool | None]:
    """The product type and salable flag `defaults` name (None: the record's own), checked.

    A name not in `known` is refused as `unknown`, a type not in `types` with `types_are` before them.
    """
    extra = sorted(set(defaults) - known)
    if extra:
        raise refused(extra[0], defaults[extra[0]], f"{unknown} (known: {', '.join(sorted(known))})")
    kind = defaults.get("type", "goods").strip()
    if kind not in types:
        raise refused("type", kind, f"{types_are} {', '.join(types)}")
    salable = defaults.get("salable")
    if salable is not None and salable.strip().lower() not in YES:
        raise refused("salable", salable, "expected true or false")
    return kind, None if salable is None else YES[salable.strip().lower()]


class RememberedDefaults(Generic[T]):
    """A flow's create defaults resolved once per distinct mapping (`_resolve` says how).

    Only answers that resolve are remembered: what the merchant adds in the target afterwards is
    found when the dead letter is retried.
    """

    def __init__(self) -> None:
        self._resolved: dict[tuple[tuple[str, str], ...], T] = {}

    async def resolve(self, defaults: Mapping[str, str]) -> T:
        """The target values `defaults` name; Permanent when one names what the target does not have."""
        key = tuple(sorted(defaults.items()))
        if key not in self._resolved:
            self._resolved[key] = await self._resolve(defaults)
        return self._resolved[key]

    async def _resolve(self, defaults: Mapping[str, str]) -> T:
        raise NotImplementedError
