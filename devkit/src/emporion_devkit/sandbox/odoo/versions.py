"""The version personalities (17, 18, 19): wire protocols, field names and context keys, kept as data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Personality:
    """What differs between the Odoo versions the sandbox plays."""

    major: int
    renames: dict[str, dict[str, str]]  # model -> {name on this version: the sandbox's internal name}
    hidden: dict[str, set[str]]  # model -> internal fields this version does not have
    extra: dict[str, set[str]] = field(default_factory=dict)  # model -> version-only virtual fields
    warehouse_context: str = "warehouse_id"
    json2: bool = False  # POST /json/2/<model>/<method>
    web_version: bool = False  # GET /web/version
    jsonrpc_error_code: int = 200
    keys_expire: bool = False  # an expired API key is refused
    has_access: bool = True  # has_access/check_access next to check_access_rights
    cancel_wizard: bool = True  # sale.order.action_cancel answers the sale.order.cancel wizard (17, 18)
    rounding: str = "round_per_line"  # the company's tax rounding (19 with l10n_de: round_globally)
    has_all_category: bool = True  # product.category "All" is the root (not on 19)
    group_names: dict[str, str] = field(
        default_factory=dict
    )  # groups whose full name differs on this version

    @property
    def serie(self) -> str:
        """The release series, e.g. "18.0"."""
        return f"{self.major}.0"

    @property
    def version_info(self) -> list[object]:
        """`server_version_info` as Odoo sends it."""
        return [self.major, 0, 0, "final", 0, ""]

    def internal(self, model: str, name: str) -> str:
        """The sandbox's name for a field named `name` on this version."""
        return self.renames.get(model, {}).get(name, name)

    def external(self, model: str, name: str) -> str:
        """This version's name for the sandbox's field `name`."""
        for outside, inside in self.renames.get(model, {}).items():
            if inside == name:
                return outside
        return name

    def knows(self, model: str, name: str) -> bool:
        """Whether this version has the (internal) field."""
        return name not in self.hidden.get(model, set())


OLD_LINE_NAMES = {
    "sale.order.line": {"tax_id": "tax_ids", "product_uom": "product_uom_id"},
    "res.users": {"groups_id": "group_ids"},
}
PERSONALITIES = {
    17: Personality(
        17,
        renames={**OLD_LINE_NAMES, "account.payment": {"ref": "memo"}},  # 18 renamed the memo
        hidden={
            "product.template": {"is_storable"},
            "product.product": {"is_storable"},
            "res.partner": {"specific_property_product_pricelist"},  # 17 keeps it in ir.property
        },
        extra={"product.template": {"detailed_type"}, "product.product": {"detailed_type"}},
        warehouse_context="warehouse",
        has_access=False,
    ),
    18: Personality(18, renames=OLD_LINE_NAMES, hidden={}, keys_expire=True),
    19: Personality(
        19,
        renames={},
        hidden={},
        json2=True,
        web_version=True,
        jsonrpc_error_code=0,
        keys_expire=True,
        cancel_wizard=False,
        rounding="round_globally",
        has_all_category=False,
        group_names={
            "base.group_partner_manager": "Contact/Creation",
            "account.group_account_invoice": "Accounting/Invoicing",
            "account.group_account_manager": "Accounting/Administrator",
        },
    ),
}


def personality(version: int) -> Personality:
    """The personality of Odoo `version` (17, 18 or 19)."""
    if version not in PERSONALITIES:
        raise ValueError(f"the Odoo sandbox plays versions 17, 18 and 19, not {version}")
    return PERSONALITIES[version]
