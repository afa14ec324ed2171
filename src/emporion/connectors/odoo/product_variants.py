"""The variants Odoo made for a template brought to the shop's: SKUs, weights, active flags, price extras."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.catalogue_writes import sends
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.mapping import ref_name, text
from emporion.connectors.odoo.product_parts import same
from emporion.connectors.odoo.product_values import Plan, Weight


async def finish(
    client: OdooClient, plan: Plan, rows: list[dict[str, Any]], values: list[dict[str, Any]], weight: Weight
) -> None:
    """SKUs, weights and active flags on the variants Odoo made; price extras on their values."""
    product, creating = plan.product, plan.create is not None
    assert plan.template is not None

    def send(name: str) -> bool:
        return sends(plan.item, name, creating)

    rows = sorted(rows, key=lambda row: (bool(row["active"]), -int(row["id"])))
    if not product.variants:
        live = [row for row in rows if row["active"]]
        coded = [row for row in rows if row["default_code"] == product.sku]
        if chosen := coded or live or rows:
            plan.refs = {product.sku: int(chosen[-1]["id"])}
        return
    pairs = {int(row["id"]): (ref_name(row["attribute_id"]), str(row["name"])) for row in values}
    by_combo = {
        frozenset(pairs.get(i, ("", "")) for i in row["product_template_attribute_value_ids"]): row
        for row in rows
    }
    commands: list[Any] = []
    matched: set[int] = set()
    for variant in product.variants:
        found = by_combo.get(frozenset(variant.attributes.items()))
        if found is None:
            raise Permanent(
                f"Odoo made no variant of {variant.attributes}",
                record=variant.sku,
                field="variants.attributes",
            )
        row = found
        ident = int(row["id"])
        matched.add(ident)
        plan.refs[variant.sku] = ident
        change: dict[str, Any] = {}
        if send("sku") and text(row["default_code"]) != variant.sku:
            change["default_code"] = variant.sku
        converted = await weight(variant.weight if variant.weight is not None else product.weight)
        if send("weight") and converted is not None and not same(row["weight"], converted):
            change["weight"] = converted
        shown = variant.active and product.active
        if (send("active") or send("variants")) and bool(row["active"]) != shown:
            change["active"] = shown
        if change:
            commands.append((1, ident, change))
    if send("variants") or send("active"):  # combinations the shop does not sell, variants it dropped
        commands += [
            (1, int(row["id"]), {"active": False})
            for row in rows
            if row["active"] and int(row["id"]) not in matched
        ]
    if commands:
        await client.write("product.template", [plan.template], {"product_variant_ids": commands})
    if send("list_price"):
        moves: dict[Decimal, list[int]] = {}
        for ident, pair in pairs.items():
            extra = plan.extras.get(pair, Decimal(0))
            row = next(row for row in values if int(row["id"]) == ident)
            if not same(row["price_extra"], extra):
                moves.setdefault(extra, []).append(ident)
        for extra, idents in sorted(moves.items()):
            await client.write("product.template.attribute.value", idents, {"price_extra": float(extra)})
