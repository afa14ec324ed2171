"""What Tryton needs to create a product that a shop does not carry: the flow's `create_defaults`.

Named in the merchant's terms (a unit's symbol or name, an account category's name, tax names) and
resolved to ids once per connector. A default naming something Tryton does not have is a Permanent
error naming the default and its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from emporion.connectors.base import Permanent
from emporion.connectors.tryton.client import TrytonClient

TYPES = ("goods", "service", "assets")
YES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
KNOWN = frozenset({"unit", "account_category", "type", "customer_taxes", "salable"})


@dataclass(frozen=True)
class TemplateDefaults:
    """Resolved create defaults of a product.template."""

    unit: int
    type: str
    account_category: int | None
    salable: bool | None  # None: the record's own


def _refused(name: str, value: str, why: str) -> Permanent:
    return Permanent(f"create_defaults {name} {value!r}: {why}", field=f"create_defaults.{name}")


class CreateDefaults:
    """Resolves a flow's create defaults against one Tryton database, remembering the answers."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client
        self._resolved: dict[tuple[tuple[str, str], ...], TemplateDefaults] = {}

    async def resolve(self, defaults: Mapping[str, str]) -> TemplateDefaults:
        """The template values `defaults` name; Permanent when one names what Tryton does not have.

        Only answers that resolve are remembered: a unit or category the merchant adds in Tryton
        afterwards is found when the dead letter is retried.
        """
        key = tuple(sorted(defaults.items()))
        if key not in self._resolved:
            self._resolved[key] = await self._resolve(defaults)
        return self._resolved[key]

    async def _resolve(self, defaults: Mapping[str, str]) -> TemplateDefaults:
        unknown = sorted(set(defaults) - KNOWN)
        if unknown:
            raise _refused(
                unknown[0], defaults[unknown[0]], f"not a Tryton default (known: {', '.join(sorted(KNOWN))})"
            )
        kind = defaults.get("type", "goods").strip()
        if kind not in TYPES:
            raise _refused("type", kind, f"Tryton's product types are {', '.join(TYPES)}")
        salable_text = defaults.get("salable")
        if salable_text is not None and salable_text.strip().lower() not in YES:
            raise _refused("salable", salable_text, "expected true or false")
        category = await self._account_category(defaults.get("account_category"))
        await self._check_taxes(defaults.get("customer_taxes"), category, defaults.get("account_category"))
        return TemplateDefaults(
            unit=await self._unit(defaults.get("unit", "u")),
            type=kind,
            account_category=category,
            salable=None if salable_text is None else YES[salable_text.strip().lower()],
        )

    async def _unit(self, value: str) -> int:
        for field in ("symbol", "name"):
            rows = await self.client.search_read(
                "product.uom", [(field, "=", value.strip())], ["id"], limit=1
            )
            if rows:
                return int(rows[0]["id"])
        raise _refused("unit", value, "Tryton has no unit of measure with that symbol or name")

    async def _account_category(self, value: str | None) -> int | None:
        if value is None:
            return None  # Tryton creates products without one (their sales then need one set in Tryton)
        rows = await self.client.search_read(
            "product.category", [("accounting", "=", True), ("name", "=", value.strip())], ["id"], limit=1
        )
        if not rows:
            raise _refused(
                "account_category", value, "Tryton has no accounting product category of that name"
            )
        return int(rows[0]["id"])

    async def _check_taxes(self, value: str | None, category: int | None, category_name: str | None) -> None:
        """Tryton 8.2 keeps customer taxes on the account category: the named taxes must exist, and
        are needed only when the category carries none, which emporion cannot change for it."""
        if value is None:
            return
        names = [name.strip() for name in value.split(",") if name.strip()]
        rows = await self.client.search_read("account.tax", [("name", "in", names)], ["name"])
        missing = sorted(set(names) - {row["name"] for row in rows})
        if missing:
            raise _refused("customer_taxes", value, f"Tryton has no tax named {', '.join(missing)}")
        if category is None:
            raise _refused(
                "customer_taxes",
                value,
                "Tryton keeps customer taxes on the account category: name account_category",
            )
        (row,) = await self.client.read("product.category", [category], ["customer_taxes_used"])
        if not row["customer_taxes_used"]:
            raise _refused(
                "customer_taxes",
                value,
                f"account category {category_name!r} carries no customer taxes and Tryton keeps them there:"
                " add these taxes to it in Tryton",
            )
