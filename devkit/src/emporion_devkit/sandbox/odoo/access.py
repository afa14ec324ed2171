"""Users, groups, API keys and the access table: who may read, write, create or delete which model.

The table is a small version of Odoo's ir.model.access rows for the models the connector touches; the
groups' implications follow Odoo's (all-documents salesman implies own-documents, and so on).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from emporion_devkit.sandbox.odoo.errors import AccessDenied
from emporion_devkit.sandbox.odoo.orm import Env, Registry

GROUPS = {  # xml id -> (full name, implied xml ids)
    "base.group_user": ("Role/User", ()),
    "base.group_partner_manager": ("Extra Rights/Contact Creation", ()),
    "base.group_system": ("Administration/Settings", ("base.group_erp_manager", "base.group_user")),
    "base.group_erp_manager": ("Administration/Access Rights", ("base.group_user",)),
    "sales_team.group_sale_salesman": ("Sales/User: Own Documents Only", ("base.group_user",)),
    "sales_team.group_sale_salesman_all_leads": (
        "Sales/User: All Documents",
        ("sales_team.group_sale_salesman",),
    ),
    "sales_team.group_sale_manager": ("Sales/Administrator", ("sales_team.group_sale_salesman_all_leads",)),
    "stock.group_stock_user": ("Inventory/User", ("base.group_user",)),
    "stock.group_stock_manager": ("Inventory/Administrator", ("stock.group_stock_user",)),
    "account.group_account_invoice": ("Invoicing/Billing", ("base.group_user",)),
    "account.group_account_manager": (
        "Invoicing/Billing Administrator",
        ("account.group_account_invoice",),
    ),
}
EMPLOYEE, SALES, STOCK, BILLING = (
    "base.group_user",
    "sales_team.group_sale_salesman",
    "stock.group_stock_user",
    "account.group_account_invoice",
)
SALES_ADMIN, STOCK_ADMIN, SYSTEM = (
    "sales_team.group_sale_manager",
    "stock.group_stock_manager",
    "base.group_system",
)
CATALOGUE = [(EMPLOYEE, "r"), (SALES_ADMIN, "rwcu"), (STOCK_ADMIN, "rwcu")]
ACL: dict[str, list[tuple[str, str]]] = {
    **{
        m: CATALOGUE
        for m in (
            "product.template",
            "product.product",
            "product.category",
            "product.attribute",
            "product.attribute.value",
            "product.template.attribute.line",
            "product.template.attribute.value",
            "product.pricelist",
            "product.pricelist.item",
            "uom.uom",
            "delivery.carrier",
            "account.tax",
        )
    },
    **{
        m: [(EMPLOYEE, "r"), (SYSTEM, "rwcu")]
        for m in (
            "res.country",
            "res.country.state",
            "res.currency",
            "res.company",
            "res.groups",
            "res.users",
        )
    },
    "res.users.apikeys": [(EMPLOYEE, "r")],
    "res.partner": [
        (EMPLOYEE, "r"),
        ("base.group_partner_manager", "rwcu"),
        (STOCK_ADMIN, "rwc"),
        (SALES_ADMIN, "rwc"),
    ],
    "res.partner.category": [(EMPLOYEE, "r"), ("base.group_partner_manager", "rwcu")],
    "sale.order": [(SALES, "rwc"), (BILLING, "rw"), (SALES_ADMIN, "rwcu"), (STOCK, "r")],
    "sale.order.line": [(SALES, "rwcu"), (BILLING, "rw")],
    "sale.order.cancel": [(SALES, "rwc")],
    "sale.advance.payment.inv": [(SALES, "rwc")],
    **{
        m: [(STOCK, "rwcu")]
        for m in ("stock.picking", "stock.move", "stock.return.picking", "stock.return.picking.line")
    },
    "stock.quant": [(EMPLOYEE, "r"), (STOCK, "rwc")],
    **{
        m: [(EMPLOYEE, "r"), (STOCK_ADMIN, "rwcu")]
        for m in ("stock.warehouse", "stock.location", "stock.picking.type")
    },
    "account.move": [(BILLING, "rwcu"), (SALES, "r")],
    **{
        m: [(BILLING, "rwcu")]
        for m in (
            "account.move.line",
            "account.payment",
            "account.payment.register",
            "account.move.reversal",
        )
    },
    "account.journal": [(EMPLOYEE, "r"), (BILLING, "r")],
    "account.payment.term": [(EMPLOYEE, "r")],
    "account.payment.method.line": [(EMPLOYEE, "r")],
}
LETTER = {"read": "r", "write": "w", "create": "c", "unlink": "u"}


def user_groups(env: Env, uid: int) -> set[str]:
    """The xml ids of a user's groups with everything they imply."""
    user = env.store.get("res.users", uid) or {}
    direct = {(env.store.get("res.groups", g) or {}).get("xml_id") for g in user.get("group_ids") or []}
    found, todo = set(), [g for g in direct if g]
    while todo:
        group = todo.pop()
        if group not in found:
            found.add(group)
            todo.extend(GROUPS.get(group, ("", ()))[1])
    return found


def missing_group(env: Env, model: str, operation: str) -> str | None:
    """None when the user may do `operation` on `model`; else the groups that would allow it, named."""
    if env.uid in (1, 2) and SYSTEM in user_groups(env, env.uid):
        return None
    rows = ACL.get(model, [(SYSTEM, "rwcu")])
    allowed = [group for group, letters in rows if LETTER[operation] in letters]
    if set(allowed) & user_groups(env, env.uid):
        return None
    names = sorted(env.version.group_names.get(g, GROUPS[g][0]) for g in allowed)
    return "\n\t- ".join(names) or "Administration/Settings"


def register(registry: Registry) -> None:
    """Plug the access table and the user's own methods into the ORM."""
    from emporion_devkit.sandbox.odoo.methods import BUSINESS, Method

    registry.access = missing_group
    BUSINESS[("res.users", "context_get")] = Method((), _context_get, on_records=False)
    BUSINESS[("res.users", "has_group")] = Method(("group_ext_id",), _has_group)


def _has_group(env: Env, model: str, ids: list[int], group_ext_id: str) -> bool:
    """Whether the user (the record, else the caller) is in a group given by its xml id."""
    return group_ext_id in user_groups(env, ids[0] if ids else env.uid)


def _context_get(env: Env, model: str, ids: list[int]) -> dict[str, object]:
    """The calling user's context (res.users.context_get): language, time zone and uid."""
    return {"lang": "en_US", "tz": False, "uid": env.uid}


def hash_key(key: str) -> str:
    """How the sandbox keeps a key (never in clear, as Odoo hashes it)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh key shaped like Odoo's (40 hex characters)."""
    return secrets.token_hex(20)


def add_key(env: Env, uid: int, key: str, expiration: str | None = None, name: str = "emporion") -> int:
    """Give a user an API key, with an expiry ("YYYY-MM-DD HH:MM:SS" UTC) or none."""
    (key_id,) = env.sudo().create(
        "res.users.apikeys",
        [{"name": name, "user_id": uid, "scope": False, "expiration_date": expiration or False}],
    )
    record = env.store.table("res.users.apikeys")[key_id]
    record["key_hash"] = hash_key(key)
    env.store.touch("res.users.apikeys", key_id)
    return key_id


def user_by_key(env: Env, key: str) -> int | None:
    """The user a key belongs to; None for an unknown key or (when the version enforces it) an expired one."""
    digest, now = hash_key(key), datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    for record in env.store.table("res.users.apikeys").values():
        if record.get("key_hash") == digest:
            expires = record.get("expiration_date")
            if not (env.version.keys_expire and expires and expires < now):
                return int(record["user_id"])
    return None


def authenticate(env: Env, login: str, password: str) -> int:
    """A user id for a login and a password or API key; AccessDenied otherwise."""
    for user in env.store.table("res.users").values():
        if user.get("login") == login and user.get("active", True):
            if user.get("password_hash") and user["password_hash"] == hash_key(password):
                return int(user["id"])
            if user_by_key(env, password) == user["id"]:
                return int(user["id"])
    raise AccessDenied()
