"""Reading records as Odoo answers: `read` (many2one as [id, name], empty as False), `search` with
domains, archived records left out unless `active_test` is False, and `order` clauses."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from emporion_devkit.sandbox.odoo.domain import compile_domain
from emporion_devkit.sandbox.odoo.errors import ValueFault
from emporion_devkit.sandbox.odoo.fields import Field
from emporion_devkit.sandbox.odoo.schema import fields_of
from emporion_devkit.sandbox.odoo.store import Record

if TYPE_CHECKING:
    from emporion_devkit.sandbox.odoo.orm import Env

ORDERS = {
    "sale.order": "date_order desc, id desc",
    "account.move": "date desc, name desc, id desc",
    "stock.picking": "id desc",
    "product.template": "name",
    "res.partner": "name, id",
}


def read(env: Env, model: str, ids: list[int], fields: list[str] | None = None) -> list[dict[str, Any]]:
    """Records as Odoo's `read` returns them (many2one as [id, name], empty as False)."""
    env.check(model, "read")
    names = fields or env.default_fields(model)
    specs = {name: env.field(model, name) for name in names}
    out = []
    for record in env.records(model, ids):
        row: dict[str, Any] = {"id": record["id"]}
        for name, spec in specs.items():
            if name != "id":
                row[name] = env.render(model, record, name, spec)
        out.append(row)
    return out


def default_fields(env: Env, model: str) -> list[str]:
    """The fields `read` returns without a list: all of this version's fields but binaries."""
    names = [
        env.version.external(model, n)
        for n, f in fields_of(model).items()
        if f.kind != "binary" and env.version.knows(model, n)
    ]
    return names + sorted(env.version.extra.get(model, set()))


def render(env: Env, model: str, record: Record, name: str, spec: Field) -> Any:
    """One field's value in Odoo's wire format."""
    inside = env.internal_name(model, name)
    value = env.value(model, record, inside)
    if spec.kind == "many2one":
        target = env.store.get(spec.relation or "", value) if value else None
        return [value, env.display_name(spec.relation or "", target)] if target else False
    if spec.kind in ("one2many", "many2many"):
        return list(value or [])
    if spec.kind == "boolean":
        return bool(value)
    if spec.kind == "integer":
        return int(value or 0)
    if spec.kind in ("float", "monetary"):
        return float(value or 0.0)
    return value if value not in (None, "") else False


def search(
    env: Env,
    model: str,
    domain: list[Any],
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[int]:
    """Ids of the records matching `domain` (archived ones left out unless active_test is False)."""
    env.check(model, "read")
    domain = list(domain or [])
    if (
        "active" in fields_of(model)
        and env.context.get("active_test", True)
        and not any(
            isinstance(leaf, list | tuple) and str(leaf[0]).split(".")[0] == "active" for leaf in domain
        )
    ):
        domain = ["&", ("active", "=", True), *domain] if domain else [("active", "=", True)]
    predicate = compile_domain(env, model, domain)
    found = [r for r in env.store.table(model).values() if predicate(r)]
    found = sorted_records(env, model, found, order or ORDERS.get(model, "id"))
    ids = [r["id"] for r in found][offset or 0 :]
    return ids[:limit] if limit else ids


def sorted_records(env: Env, model: str, records: list[Record], order: str) -> list[Record]:
    """Records sorted by an Odoo `order` clause ("name desc, id")."""
    for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
        match = re.fullmatch(r"(\w+)(?:\s+(asc|desc))?(?:\s+nulls\s+(?:first|last))?", part, re.IGNORECASE)
        if match is None:
            raise ValueFault(f'Invalid "order" specified ({order})')
        name, direction = match.group(1), (match.group(2) or "asc").lower()
        inside = env.internal_name(model, name)
        env.field(model, name)

        def key(record: Record, inside: str = inside) -> tuple[int, Any]:
            value = env.value(model, record, inside)
            if isinstance(value, list):
                value = value[0] if value else None
            return (0, value) if value not in (None, False) else (1, 0)

        records = sorted(records, key=key, reverse=direction == "desc")
    return records
