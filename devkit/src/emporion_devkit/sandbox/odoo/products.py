"""Products: variants generated from attribute lines, display names, a variant's template fields."""

from __future__ import annotations

import itertools
from typing import Any

from emporion_devkit.sandbox.odoo.orm import Env, Registry
from emporion_devkit.sandbox.odoo.store import Record

RELATED = (
    "list_price",
    "sale_ok",
    "type",
    "is_storable",
    "categ_id",
    "uom_id",
    "taxes_id",
    "description_sale",
    "image_1920",
)


def register(registry: Registry) -> None:
    """Plug the product logic into the ORM."""
    registry.created["product.template"] = [_create_variants_after_create]
    registry.written.setdefault("product.template", []).append(_variants_after_write)
    registry.created["product.template.attribute.line"] = [_lines_created]
    registry.written["product.template.attribute.line"] = [_lines_written]
    registry.names["product.product"] = _variant_name
    registry.names["product.category"] = _category_path
    registry.names["product.template.attribute.value"] = lambda env, r: str(r.get("name") or "")
    registry.computed[("product.category", "complete_name")] = _category_path
    registry.names["res.partner"] = _partner_name
    registry.computed[("res.partner", "commercial_partner_id")] = _commercial_partner
    registry.names["stock.location"] = lambda env, r: str(r.get("complete_name") or r.get("name") or "")
    registry.names["stock.picking.type"] = _picking_type_name
    registry.names["product.attribute.value"] = _attribute_value_name
    registry.names["product.pricelist"] = _pricelist_name
    registry.computed[("product.template", "weight_uom_name")] = lambda env, r: "kg"
    registry.computed[("product.template", "currency_id")] = lambda env, r: (
        env.store.get("res.company", 1) or {}
    ).get("currency_id")
    registry.created["product.pricelist.item"] = [_item_template]
    for name in RELATED:
        registry.computed[("product.product", name)] = _related(name)
    registry.computed[("product.product", "name")] = lambda env, r: _template(env, r).get("name")
    registry.computed[("product.product", "price_extra")] = _price_extra
    registry.computed[("product.product", "lst_price")] = lambda env, r: round(
        float(_template(env, r).get("list_price") or 0) + _price_extra(env, r), 2
    )
    registry.computed[("product.template", "product_variant_count")] = lambda env, r: len(
        _variants(env, r["id"])
    )
    registry.computed[("product.template", "product_variant_id")] = lambda env, r: next(
        iter(_variants(env, r["id"])), None
    )
    for model in ("product.template", "product.product"):
        registry.computed[(model, "detailed_type")] = _detailed_type
        registry.computed[(model, "set:detailed_type")] = _set_detailed_type
    registry.computed[("product.template", "type")] = _type
    registry.computed[("product.product", "type")] = lambda env, r: _type(env, _template(env, r))
    registry.computed[("product.template", "set:type")] = _set_type


def _item_template(env: Env, ids: list[int]) -> None:
    """A variant's pricelist item also names its template (as Odoo's compute does)."""
    for item_id in ids:
        item = env.store.table("product.pricelist.item")[item_id]
        variant = env.store.get("product.product", item.get("product_id") or 0)
        if variant is not None and not item.get("product_tmpl_id"):
            item["product_tmpl_id"] = variant["product_tmpl_id"]
            env.store.touch("product.pricelist.item", item_id)


def _picking_type_name(env: Env, kind: Record) -> str:
    warehouse = env.store.get("stock.warehouse", kind.get("warehouse_id") or 0)
    return f"{warehouse['name']}: {kind.get('name')}" if warehouse else str(kind.get("name"))


def _attribute_value_name(env: Env, value: Record) -> str:
    attribute = env.store.get("product.attribute", value.get("attribute_id") or 0) or {}
    return f"{attribute.get('name')}: {value.get('name')}"


def _pricelist_name(env: Env, pricelist: Record) -> str:
    currency = env.store.get("res.currency", pricelist.get("currency_id") or 0) or {}
    return f"{pricelist.get('name')} ({currency.get('name', 'EUR')})"


def _template(env: Env, variant: Record) -> Record:
    return env.store.get("product.template", variant["product_tmpl_id"]) or {}


def _related(name: str) -> Any:
    def related(env: Env, variant: Record) -> Any:
        return _template(env, variant).get(name)

    return related


def _variants(env: Env, template_id: int) -> list[int]:
    return [
        i
        for i, r in env.store.table("product.product").items()
        if r.get("product_tmpl_id") == template_id and r.get("active", True)
    ]


def _price_extra(env: Env, variant: Record) -> float:
    table = env.store.table("product.template.attribute.value")
    return round(
        sum(
            float(table[i].get("price_extra") or 0)
            for i in variant.get("product_template_attribute_value_ids") or []
            if i in table
        ),
        2,
    )


def _variant_name(env: Env, variant: Record) -> str:
    name = str(_template(env, variant).get("name") or "")
    values = [
        env.store.get("product.template.attribute.value", i)
        for i in variant.get("product_template_attribute_value_ids") or []
    ]
    labels = ", ".join(str(v.get("name")) for v in values if v)
    code = variant.get("default_code")
    return f"{'[' + code + '] ' if code else ''}{name}{' (' + labels + ')' if labels else ''}"


def _category_path(env: Env, category: Record) -> str:
    names: list[str] = []
    current: Record | None = category
    while current is not None:
        names.append(str(current.get("name")))
        current = (
            env.store.get("product.category", current["parent_id"]) if current.get("parent_id") else None
        )
    return " / ".join(reversed(names))


def _partner_name(env: Env, partner: Record) -> str:
    parent = env.store.get("res.partner", partner["parent_id"]) if partner.get("parent_id") else None
    name = partner.get("name") or ""
    if parent is not None:
        label = name or {"invoice": "Invoice Address", "delivery": "Delivery Address"}.get(
            str(partner.get("type")), ""
        )
        return f"{parent.get('name')}, {label}"
    return str(name)


def _commercial_partner(env: Env, partner: Record) -> int:
    """The top of a contact's parent chain (the company, or the person itself)."""
    current = partner
    while current.get("parent_id") and (parent := env.store.get("res.partner", current["parent_id"])):
        current = parent
    return int(current["id"])


def _detailed_type(env: Env, record: Record) -> str:
    source = _template(env, record) if "product_tmpl_id" in record else record
    return "product" if source.get("is_storable") else str(source.get("type") or "consu")


def _set_detailed_type(env: Env, record: Record) -> None:
    value = record["__value__"]
    target_id = record.get("product_tmpl_id") or record["id"]
    template = env.store.table("product.template")[target_id]
    template["type"], template["is_storable"] = ("consu", True) if value == "product" else (value, False)
    env.store.touch("product.template", target_id)


def _type(env: Env, template: Record) -> str:
    """`type`: on 17 it still says "product" for a storable product (18 split it into type + is_storable)."""
    if env.version.major == 17:
        return _detailed_type(env, template)
    return str(template.get("type") or "consu")


def _set_type(env: Env, record: Record) -> None:
    """Writing `type` (on 17 "product" means storable)."""
    if env.version.major == 17:
        _set_detailed_type(env, record)
        return
    env.store.table("product.template")[record["id"]]["type"] = record["__value__"]
    env.store.touch("product.template", record["id"])


def _lines_created(env: Env, ids: list[int]) -> None:
    """Attribute lines get their template attribute values (price_extra from the value's default)."""
    sudo = env.sudo()
    ptav = env.store.table("product.template.attribute.value")
    for line_id in ids:
        line = env.store.table("product.template.attribute.line")[line_id]
        have = {
            r.get("product_attribute_value_id")
            for r in ptav.values()
            if r.get("attribute_line_id") == line_id
        }
        for value_id in line.get("value_ids") or []:
            if value_id in have:
                continue
            value = env.store.table("product.attribute.value")[value_id]
            sudo.create(
                "product.template.attribute.value",
                [
                    {
                        "name": value["name"],
                        "product_tmpl_id": line["product_tmpl_id"],
                        "attribute_line_id": line_id,
                        "product_attribute_value_id": value_id,
                        "attribute_id": value["attribute_id"],
                        "price_extra": float(value.get("default_extra_price") or 0.0),
                    }
                ],
            )


def _lines_written(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    """Values added to a line get their template values, removed ones lose them; then the variants
    follow (Odoo's `_update_product_template_attribute_values`)."""
    ptav = env.store.table("product.template.attribute.value")
    templates = set()
    for line_id in ids:
        line = env.store.table("product.template.attribute.line")[line_id]
        templates.add(line["product_tmpl_id"])
        kept = set(line.get("value_ids") or [])
        for row in list(ptav.values()):
            if row.get("attribute_line_id") == line_id and row.get("product_attribute_value_id") not in kept:
                env.store.delete("product.template.attribute.value", row["id"])
    _lines_created(env, ids)
    for template_id in sorted(templates):
        sync_variants(env, template_id)


def _create_variants_after_create(env: Env, ids: list[int]) -> None:
    for template_id in ids:
        sync_variants(env, template_id)


def _variants_after_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if "attribute_line_ids" in vals or (vals.get("active") and any(not _variants(env, i) for i in ids)):
        for template_id in ids:
            sync_variants(env, template_id)
    if "active" in vals and not vals["active"]:  # archiving a template archives its variants
        for row in env.store.table("product.product").values():
            if row.get("product_tmpl_id") in ids and row.get("active", True):
                row["active"] = False
                env.store.touch("product.product", row["id"])
    if "default_code" in vals:  # a template with one variant keeps the code on that variant
        for template_id in ids:
            variants = _variants(env, template_id)
            if len(variants) == 1:
                env.store.table("product.product")[variants[0]]["default_code"] = vals["default_code"] or None
                env.store.touch("product.product", variants[0])


def sync_variants(env: Env, template_id: int) -> None:
    """Create the variants the template's attribute lines call for (one without attributes), activate
    the existing ones of those combinations and archive the others (Odoo's `_create_variant_ids`, which
    deletes those it can; the sandbox keeps them archived)."""
    sudo = env.sudo()
    template = env.store.table("product.template")[template_id]
    ptav = env.store.table("product.template.attribute.value")
    lines = [
        r
        for r in env.store.table("product.template.attribute.line").values()
        if r.get("product_tmpl_id") == template_id
    ]
    groups = [[v["id"] for v in ptav.values() if v.get("attribute_line_id") == line["id"]] for line in lines]
    combinations = [sorted(c) for c in itertools.product(*groups)] if groups else [[]]
    rows = sorted(  # as Odoo sorts them: an active variant, the oldest, stands for its combination
        (r for r in env.store.table("product.product").values() if r.get("product_tmpl_id") == template_id),
        key=lambda r: (bool(r.get("active", True)), -r["id"]),
    )
    existing = {tuple(sorted(r.get("product_template_attribute_value_ids") or [])): r["id"] for r in rows}
    wanted = {tuple(c) for c in combinations}
    for combination, variant_id in existing.items():
        row = env.store.table("product.product")[variant_id]
        active = combination in wanted
        if bool(row.get("active", True)) != active:
            row["active"] = active
            env.store.touch("product.product", variant_id)
    for combination in combinations:
        if tuple(combination) not in existing:
            code = template.get("default_code") if not combination else None
            sudo.create(
                "product.product",
                [
                    {
                        "product_tmpl_id": template_id,
                        "product_template_attribute_value_ids": [(6, 0, combination)],
                        "combination_indices": ",".join(str(i) for i in combination),
                        "default_code": code or False,
                    }
                ],
            )
