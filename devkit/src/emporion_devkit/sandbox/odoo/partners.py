"""Partners as Odoo's product module makes them: a pricelist of the partner's own, else the fallback.

`property_product_pricelist` is computed: the partner's own pricelist (18+: the company-dependent
`specific_property_product_pricelist`; 17: an ir.property, kept in the same column here) or, without
one, the first active pricelist of the company by sequence (`_get_partner_pricelist_multi`).
Writing it sets the partner's own (its inverse).

The first child contact with an address made under a partner without one gives the partner that
address (`_handle_first_contact_creation`, whatever the child's type).
"""

from __future__ import annotations

from typing import Any

from emporion_devkit.sandbox.odoo.orm import Env, Record, Registry

OWN = "specific_property_product_pricelist"
ADDRESS = ("street", "street2", "zip", "city", "state_id", "country_id")


def register(registry: Registry) -> None:
    """Plug the partner's pricelist into the ORM."""
    registry.computed[("res.partner", "property_product_pricelist")] = _pricelist
    registry.computed[("res.partner", "set:property_product_pricelist")] = _set_pricelist
    registry.created.setdefault("res.partner", []).append(_first_contact)


def _pricelist(env: Env, partner: Record) -> int | None:
    own = partner.get(OWN)
    if own and env.store.get("product.pricelist", own):
        return int(own)
    first = env.search("product.pricelist", [], limit=1, order="sequence asc, id asc")
    return int(first[0]) if first else None


def _set_pricelist(env: Env, record: Record) -> None:
    value: Any = record["__value__"]
    env.store.table("res.partner")[record["id"]][OWN] = int(value) if value else None
    env.store.touch("res.partner", record["id"])


def _first_contact(env: Env, ids: list[int]) -> None:
    """A partner without an address takes the one of its first child contact that has one."""
    table = env.store.table("res.partner")
    for ident in ids:
        child = table[ident]
        parent = table.get(child.get("parent_id") or 0)
        if parent is None or not any(child.get(name) for name in ADDRESS):
            continue
        siblings = [row for row in table.values() if row.get("parent_id") == parent["id"]]
        top = bool(parent.get("is_company")) or not parent.get("parent_id")
        if top and not any(parent.get(name) for name in ADDRESS) and len(siblings) == 1:
            env.write("res.partner", [parent["id"]], {name: child.get(name) or False for name in ADDRESS})
