"""Version profiles: the names Odoo 17, 18 and 19 give to the same things, kept as data, never as code.

| what                      | 17                      | 18                    | 19                    |
|---------------------------|-------------------------|-----------------------|-----------------------|
| default API (`api: auto`) | jsonrpc                 | jsonrpc               | json2                 |
| sale.order.line taxes     | tax_id                  | tax_id                | tax_ids               |
| sale.order.line unit      | product_uom             | product_uom           | product_uom_id        |
| res.users groups          | groups_id               | groups_id             | group_ids             |
| storable products         | detailed_type='product' | is_storable           | is_storable           |
| product type field        | detailed_type           | type                  | type                  |
| stock context: warehouse  | warehouse               | warehouse_id          | warehouse_id          |
| stock context: location   | location                | location              | location              |
| model access probe        | check_access_rights     | has_access            | has_access            |
| stock.move quantity, unit | quantity, product_uom   | quantity, product_uom | quantity, product_uom |
| stock.return.picking: go  | create_returns          | action_create_returns | action_create_returns |
| account.payment memo      | ref                     | memo                  | memo                  |

17's names come from its upgrade notes and the comments left in 18's code (18 moved `detailed_type`
into `type` + `is_storable`, renamed the stock context key `warehouse` to `warehouse_id` and the
return wizard's `create_returns` to `action_create_returns`, and gave account.payment its own `memo`
where 17's payment showed its journal entry's `ref`); 18's and 19's were read in their sources
(sale/models/sale_order_line.py, base/models/res_users.py, stock/models/product.py,
stock/wizard/stock_picking_return.py, account/models/account_payment.py, odoo/orm/models.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ApiName = Literal["jsonrpc", "json2"]


@dataclass(frozen=True)
class Profile:
    """The version-specific names the connector uses, for one Odoo major version."""

    major: int
    api: ApiName  # the API `api: auto` chooses
    sale_line_taxes: str
    sale_line_uom: str
    user_groups: str
    storable_domain: tuple[tuple[str, str, Any], ...]
    product_type_field: str
    stock_warehouse_context: str
    stock_location_context: str
    access_method: Literal["check_access_rights", "has_access"]
    return_picking_method: str = "action_create_returns"  # the stock.return.picking wizard's button
    stock_move_quantity: str = "quantity"
    stock_move_uom: str = "product_uom"
    payment_memo: str = "memo"  # account.payment's memo (17: `ref`, the payment's journal entry's)

    def storable(self) -> list[Any]:
        """The domain of storable (stock-tracked) products, as a fresh list to combine with others."""
        return [tuple(term) for term in self.storable_domain]

    def warehouse_context(self, warehouse_id: int) -> dict[str, Any]:
        """The context that scopes computed stock (qty_available, free_qty) to one warehouse."""
        return {self.stock_warehouse_context: warehouse_id}


PROFILES: dict[int, Profile] = {
    17: Profile(
        major=17,
        api="jsonrpc",
        sale_line_taxes="tax_id",
        sale_line_uom="product_uom",
        user_groups="groups_id",
        storable_domain=(("detailed_type", "=", "product"),),
        product_type_field="detailed_type",
        stock_warehouse_context="warehouse",
        stock_location_context="location",
        access_method="check_access_rights",
        return_picking_method="create_returns",
        payment_memo="ref",
    ),
    18: Profile(
        major=18,
        api="jsonrpc",
        sale_line_taxes="tax_id",
        sale_line_uom="product_uom",
        user_groups="groups_id",
        storable_domain=(("is_storable", "=", True),),
        product_type_field="type",
        stock_warehouse_context="warehouse_id",
        stock_location_context="location",
        access_method="has_access",
    ),
    19: Profile(
        major=19,
        api="json2",
        sale_line_taxes="tax_ids",
        sale_line_uom="product_uom_id",
        user_groups="group_ids",
        storable_domain=(("is_storable", "=", True),),
        product_type_field="type",
        stock_warehouse_context="warehouse_id",
        stock_location_context="location",
        access_method="has_access",
    ),
}

OLDEST, NEWEST = min(PROFILES), max(PROFILES)


def profile_for(major: int) -> Profile:
    """The profile of `major`: a version between known ones takes the nearest older profile, a newer one
    the newest (Odoo keeps names for a while), an older one is refused by the caller (`supported`)."""
    if major in PROFILES:
        return PROFILES[major]
    if major > NEWEST:
        return PROFILES[NEWEST]
    older = [known for known in PROFILES if known <= major]
    return PROFILES[max(older)] if older else PROFILES[OLDEST]


def supported(major: int) -> bool:
    """Whether the connector knows this major version (17 and later)."""
    return major >= OLDEST
