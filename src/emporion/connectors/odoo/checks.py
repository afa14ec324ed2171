"""`emporion check` for an Odoo connection: login, the access the connector needs, warehouses, pricelists
and the API key's remaining lifetime.

Access is asked of Odoo per model and operation (`check_access_rights(op, raise_exception=False)` on
17, `has_access(op)` on no records from 18 on: the profile names the method), and a refusal names the
group that grants it, as Odoo's ir.model.access data has it (sale, stock, account, base).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from emporion.connectors.base import CheckResult, ConnectorError
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.keys import key_lifetime
from emporion.connectors.odoo.settings import OdooConnection


@dataclass(frozen=True)
class Group:
    """An Odoo group as a person finds it in the user form, and its XML id."""

    label: str
    xml_id: str

    def __str__(self) -> str:
        return f"{self.label!r} ({self.xml_id})"


EMPLOYEE = Group("Internal User", "base.group_user")
SALES = Group("Sales: all documents", "sales_team.group_sale_salesman_all_leads")
INVENTORY = Group("Inventory: user", "stock.group_stock_user")
BILLING = Group("Invoicing: billing", "account.group_account_invoice")
CONTACTS = Group("Contact Creation", "base.group_partner_manager")

# (model, operations, the group that grants them): what the catalogue, the change feed and the sales
# target call, from each module's security/ir.model.access.csv (product, stock, sale, account, base).
NEEDED: tuple[tuple[str, tuple[str, ...], Group], ...] = (
    ("product.template", ("read",), EMPLOYEE),
    ("product.product", ("read",), EMPLOYEE),
    ("product.category", ("read",), EMPLOYEE),
    ("product.template.attribute.value", ("read",), EMPLOYEE),
    ("product.pricelist", ("read",), EMPLOYEE),
    ("product.pricelist.item", ("read",), EMPLOYEE),
    ("stock.warehouse", ("read",), EMPLOYEE),
    ("stock.quant", ("read",), EMPLOYEE),
    ("stock.move", ("read",), INVENTORY),
    ("res.partner", ("read", "create", "write"), CONTACTS),
    ("sale.order", ("read", "create", "write"), SALES),
    ("sale.order.line", ("read", "create", "write"), SALES),
    ("stock.picking", ("read", "write"), INVENTORY),
    ("stock.return.picking", ("create",), INVENTORY),
    ("account.move", ("read", "write"), BILLING),
    ("account.payment.register", ("create",), BILLING),
    ("account.move.reversal", ("create",), BILLING),
)


async def has_access(client: OdooClient, model: str, operation: str) -> bool:
    """Whether the connection's user may `operation` on `model` in general (no record rules)."""
    if client.profile.access_method == "check_access_rights":
        allowed = await client.call(
            model, "check_access_rights", None, operation=operation, raise_exception=False
        )
    else:
        allowed = await client.call(model, "has_access", [], operation=operation)
    return bool(allowed)


async def access_lines(client: OdooClient) -> list[CheckResult]:
    """One line per model: the operations the connector needs that the user lacks, with the group."""
    lines: list[CheckResult] = []
    for model, operations, group in NEEDED:
        try:
            missing = [op for op in operations if not await has_access(client, model, op)]
        except ConnectorError as error:
            lines.append(CheckResult(f"access {model}", False, f"cannot ask Odoo about {model}: {error}"))
            continue
        if missing:
            detail = f"user {client.login!r} may not {', '.join(missing)} {model}: give it the group {group}"
            lines.append(CheckResult(f"access {model}", False, detail))
        else:
            lines.append(CheckResult(f"access {model}", True, f"{', '.join(operations)}"))
    return lines


async def warehouse_line(client: OdooClient, settings: OdooConnection) -> CheckResult:
    """The configured warehouse codes found in Odoo (none configured: every warehouse)."""
    try:
        rows = await client.search_read("stock.warehouse", [], ["code", "name"], order="id")
    except ConnectorError as error:
        return CheckResult("warehouses", False, f"cannot read stock.warehouse: {error}")
    codes = {str(row.get("code") or ""): row["id"] for row in rows}
    missing = [code for code in settings.warehouses if code not in codes]
    if missing:
        known = ", ".join(sorted(code for code in codes if code)) or "none"
        return CheckResult("warehouses", False, f"Odoo has no warehouse {', '.join(missing)} (has {known})")
    chosen = settings.warehouses or sorted(code for code in codes if code)
    return CheckResult(
        "warehouses", bool(chosen), ", ".join(f"{code}={codes[code]}" for code in chosen) or "none"
    )


async def pricelist_line(client: OdooClient, settings: OdooConnection) -> CheckResult | None:
    """The configured pricelists (and the sale pricelist) found in Odoo by name; None when none is set."""
    names = [*settings.pricelists, *([settings.sale_pricelist] if settings.sale_pricelist else [])]
    if not names:
        return None
    try:
        rows = await client.search_read("product.pricelist", [("name", "in", names)], ["name"])
    except ConnectorError as error:
        return CheckResult("pricelists", False, f"cannot read product.pricelist: {error}")
    found = {str(row["name"]): row["id"] for row in rows}
    missing = [name for name in names if name not in found]
    if missing:
        return CheckResult("pricelists", False, f"Odoo has no pricelist named {', '.join(missing)}")
    return CheckResult("pricelists", True, ", ".join(f"{name}={found[name]}" for name in names))


async def key_line(client: OdooClient, settings: OdooConnection) -> CheckResult:
    """How long the API key has left; a key inside the warning window says to renew it."""
    try:
        lifetime = await key_lifetime(client)
    except ConnectorError as error:
        return CheckResult("api key", False, f"cannot read the user's API keys (res.users.apikeys): {error}")
    now = datetime.now(UTC)
    detail = lifetime.describe(now)
    days = lifetime.days_left(now)
    if days is not None and days <= settings.key_expiry_warning_days:
        detail += ": renew it (Preferences > Account Security > New API Key) and update the configuration"
    return CheckResult("api key", days is None or days > 0, detail)


async def run_checks(client: OdooClient, settings: OdooConnection) -> list[CheckResult]:
    """Every line of `emporion check` for this connection; a failed login ends the list."""
    try:
        await client.connect()
    except ConnectorError as error:
        return [CheckResult("login", False, str(error))]
    version = client.version
    edition = f", {version.edition}" if version.edition else ""
    results = [
        CheckResult(
            "login",
            True,
            f"Odoo {version.serie}{edition} over {client.api} as {client.login!r} (user id {client.uid})",
        ),
        CheckResult("version profile", True, f"field names of Odoo {client.profile.major}"),
    ]
    results.extend(await access_lines(client))
    results.append(await warehouse_line(client, settings))
    pricelists = await pricelist_line(client, settings)
    if pricelists is not None:
        results.append(pricelists)
    results.append(await key_line(client, settings))
    return results
