"""What Tryton needs to create a product that a shop does not carry: the flow's `create_defaults`.

Named in the merchant's terms (a unit's symbol or name, an account category's name, tax names) and
resolved to ids once per connector. A default naming something Tryton does not have is a Permanent
error naming the default and its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from emporion.connectors.create_defaults import RememberedDefaults, listed, read_defaults, refused
from emporion.connectors.tryton.client import TrytonClient

TYPES = ("goods", "service", "assets")
KNOWN = frozenset({"unit", "account_category", "type", "customer_taxes", "salable"})


@dataclass(frozen=True)
class TemplateDefaults:
    """Resolved create defaults of a product.template."""

    unit: int
    type: str
    account_category: int | None
    salable: bool | None  # None: the record's own


class CreateDefaults(RememberedDefaults[TemplateDefaults]):
    """Resolves a flow's create defaults against one Tryton database, remembering the answers."""

    def __init__(self, client: TrytonClient) -> None:
        super().__init__()
        self.client = client

    async def _resolve(self, defaults: Mapping[str, str]) -> TemplateDefaults:
        kind, salable = read_defaults(
            defaults, KNOWN, TYPES, "not a Tryton default", "Tryton's product types are"
        )
        category = await self._account_category(defaults.get("account_category"))
        await self._check_taxes(defaults.get("customer_taxes"), category, defaults.get("account_category"))
        return TemplateDefaults(
            unit=await self._unit(defaults.get("unit", "u")),
            type=kind,
            account_category=category,
            salable=salable,
        )

    async def _unit(self, value: str) -> int:
        for field in ("symbol", "name"):
            rows = await self.client.search_read(
                "product.uom", [(field, "=", value.strip())], ["id"], limit=1
            )
            if rows:
                return int(rows[0]["id"])
        raise refused("unit", value, "Tryton has no unit of measure with that symbol or name")

    async def _account_category(self, value: str | None) -> int | None:
        if value is None:
            return None  # Tryton creates products without one (their sales then need one set in Tryton)
        rows = await self.client.search_read(
            "product.category", [("accounting", "=", True), ("name", "=", value.strip())], ["id"], limit=1
        )
        if not rows:
            raise refused("account_category", value, "Tryton has no accounting product category of that name")
        return int(rows[0]["id"])

    async def _check_taxes(self, value: str | None, category: int | None, category_name: str | None) -> None:
        """Tryton 8.2 keeps customer taxes on the account category: the named taxes must exist, and
        are needed only when the category carries none, which emporion cannot change for it."""
        if value is None:
            return
        names = listed(value)
        rows = await self.client.search_read("account.tax", [("name", "in", names)], ["name"])
        missing = sorted(set(names) - {row["name"] for row in rows})
        if missing:
            raise refused("customer_taxes", value, f"Tryton has no tax named {', '.join(missing)}")
        if category is None:
            raise refused(
                "customer_taxes",
                value,
                "Tryton keeps customer taxes on the account category: name account_category",
            )
        (row,) = await self.client.read("product.category", [category], ["customer_taxes_used"])
        if not row["customer_taxes_used"]:
            raise refused(
                "customer_taxes",
                value,
                f"account category {category_name!r} carries no customer taxes and Tryton keeps them there:"
                " add these taxes to it in Tryton",
            )
