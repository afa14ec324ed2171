"""Product attributes for a shop's variants: selection attributes made or extended, and attribute sets.

A variant's attribute `Size: M` is the product.attribute named `Size` (type selection, string
`Size`) with the selection key `M`; the template carries an attribute set holding its attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from emporion.connectors.base import ConnectorError, Permanent
from emporion.connectors.tryton.client import TrytonClient

FREE_TYPES = frozenset({"char"})  # attribute types that take any text as it is


def selection_keys(text: str | None) -> list[str]:
    """The keys of a selection attribute's `key:label` lines."""
    return [line.split(":", 1)[0].strip() for line in (text or "").splitlines() if line.strip()]


def value_problem(value: str) -> str | None:
    """Why a value cannot be a selection key (None when it can)."""
    if not value.strip() or value != value.strip():
        return "is empty or has surrounding spaces"
    if ":" in value or "\n" in value or "\r" in value:
        return "contains ':' or a line break"
    return None


class Attributes:
    """Finds, creates and extends product attributes; picks or makes an attribute set for a template."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client
        self._sets: dict[int, frozenset[int]] | None = None  # attribute sets, read once per batch

    def forget(self) -> None:
        """Read the attribute sets again next time (a new batch: a person may have changed them)."""
        self._sets = None

    async def ensure(
        self, wanted: Mapping[str, Iterable[str]]
    ) -> tuple[dict[str, int], dict[str, Permanent]]:
        """Attribute ids by name, with every wanted value selectable; and the names that cannot be used."""
        names = sorted(wanted)
        if not names:
            return {}, {}
        fields = ["name", "type_", "selection"]
        rows = await self.client.search_read("product.attribute", [("name", "in", names)], fields)
        missing = [name for name in names if name not in {row["name"] for row in rows}]
        if missing:
            new = [
                {
                    "name": name,
                    "string": name,
                    "type_": "selection",
                    "selection": _lines(sorted(set(wanted[name]))),
                }
                for name in missing
            ]
            try:
                await self.client.model("product.attribute", "create", new)
            except Permanent:  # made meanwhile by another writer (names are unique): take it
                pass
            rows = await self.client.search_read("product.attribute", [("name", "in", names)], fields)
        ids: dict[str, int] = {}
        problems: dict[str, Permanent] = {}
        extend: list[tuple[list[int], dict[str, str]]] = []
        for row in rows:
            name = row["name"]
            ids[name] = int(row["id"])
            if row["type_"] in FREE_TYPES:
                continue
            if row["type_"] != "selection":
                problems[name] = Permanent(
                    f"Tryton's attribute {name!r} is of type {row['type_']}, not selection:"
                    " values cannot be added",
                    field="variants.attributes",
                )
                continue
            known = selection_keys(row["selection"])
            new_values = sorted(set(wanted[name]) - set(known))
            if new_values:
                extend.append(
                    (
                        [ids[name]],
                        {"selection": (row["selection"] or "").rstrip("\n") + "\n" + _lines(new_values)},
                    )
                )
        for name in names:
            if name not in ids:
                problems[name] = Permanent(
                    f"Tryton did not create attribute {name!r}", field="variants.attributes"
                )
        if extend:
            await self.client.model("product.attribute", "write", *[part for pair in extend for part in pair])
        return ids, problems

    async def attribute_set(self, attribute_ids: Iterable[int], current: int | None) -> int:
        """The template's set when it holds these attributes, else a set of exactly them (found or made)."""
        needed = frozenset(attribute_ids)
        if self._sets is None:
            rows = await self.client.search_read("product.attribute.set", [], ["attributes"])
            self._sets = {int(row["id"]): frozenset(row["attributes"]) for row in rows}
        holds = self._sets
        if current is not None and needed <= holds.get(current, frozenset()):
            return current
        for ident, attributes in sorted(holds.items()):
            if attributes == needed:
                return ident
        names = await self.client.read("product.attribute", sorted(needed), ["name"])
        label = ", ".join(sorted(row["name"] for row in names))
        try:
            (made,) = await self.client.model(
                "product.attribute.set", "create", [{"name": label, "attributes": [("add", sorted(needed))]}]
            )
        except ConnectorError as error:
            raise Permanent(
                f"Tryton refused attribute set {label!r}: {error}", field="variants.attributes"
            ) from error
        holds[int(made)] = needed
        return int(made)


def _lines(values: Iterable[str]) -> str:
    return "\n".join(f"{value}:{value}" for value in values)
