"""The models the sandbox knows: their fields (kind, relation, default), as Odoo declares them (19 names).

Fields whose name differs by version are renamed at the API boundary (`versions.py`); computed fields
that are not stored (stock quantities, amounts read live) are filled in by `computed.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """One field of a model: its kind, the model it points to, the inverse of a one2many, a default."""

    kind: str
    relation: str | None = None
    inverse: str | None = None
    default: Any = None
    computed: bool = False  # not stored: filled in when read

    @property
    def relational(self) -> bool:
        """Whether the field points to other records."""
        return self.kind in ("many2one", "one2many", "many2many")


def m2o(relation: str) -> Field:
    """A many2one field."""
    return Field("many2one", relation)


def o2m(relation: str, inverse: str) -> Field:
    """A one2many field (stored on the other side)."""
    return Field("one2many", relation, inverse)


def m2m(relation: str) -> Field:
    """A many2many field."""
    return Field("many2many", relation)


CHAR, TEXT, HTML, INT, FLOAT = Field("char"), Field("text"), Field("html"), Field("integer"), Field("float")
BOOL, DATE, DATETIME, BINARY = (
    Field("boolean", default=False),
    Field("date"),
    Field("datetime"),
    Field("binary"),
)
MONEY = Field("monetary", default=0.0)
ACTIVE = Field("boolean", default=True)


def sel(default: str | None = None) -> Field:
    """A selection field with a default."""
    return Field("selection", default=default)


def comp(kind: str, relation: str | None = None) -> Field:
    """A computed, non-stored field."""
    return Field(kind, relation, computed=True)


COMMON = {
    "id": Field("integer"),
    "display_name": comp("char"),
    "create_date": DATETIME,
    "write_date": DATETIME,
    "create_uid": m2o("res.users"),
    "write_uid": m2o("res.users"),
}

MODELS: dict[str, dict[str, Field]] = {
    "res.company": {
        "account_fiscal_country_id": m2o("res.country"),
        "name": CHAR,
        "currency_id": m2o("res.currency"),
        "partner_id": m2o("res.partner"),
        "country_id": m2o("res.country"),
        "tax_calculation_rounding_method": sel("round_per_line"),
    },
    "res.currency": {
        "decimal_places": Field("integer", default=2),
        "name": CHAR,
        "symbol": CHAR,
        "rounding": Field("float", default=0.01),
        "active": ACTIVE,
    },
    "res.country": {"name": CHAR, "code": CHAR},
    "res.country.state": {"name": CHAR, "code": CHAR, "country_id": m2o("res.country")},
    "res.groups": {"name": CHAR, "full_name": CHAR, "xml_id": CHAR, "implied_ids": m2m("res.groups")},
    "res.partner": {
        "name": CHAR,
        "parent_id": m2o("res.partner"),
        "child_ids": o2m("res.partner", "parent_id"),
        "type": sel("contact"),
        "is_company": BOOL,
        "company_name": CHAR,
        "email": CHAR,
        "phone": CHAR,
        "street": CHAR,
        "street2": CHAR,
        "zip": CHAR,
        "city": CHAR,
        "state_id": m2o("res.country.state"),
        "country_id": m2o("res.country"),
        "vat": CHAR,
        "ref": CHAR,
        "lang": CHAR,
        "active": ACTIVE,
        "customer_rank": Field("integer", default=0),
        "commercial_partner_id": comp("many2one", "res.partner"),
        "company_id": m2o("res.company"),
    },
    "res.users": {
        "name": CHAR,
        "login": CHAR,
        "partner_id": m2o("res.partner"),
        "group_ids": m2m("res.groups"),
        "company_id": m2o("res.company"),
        "active": ACTIVE,
        "share": BOOL,
    },
    "res.users.apikeys": {
        "name": CHAR,
        "user_id": m2o("res.users"),
        "scope": CHAR,
        "expiration_date": DATETIME,
    },
    "uom.uom": {
        "name": CHAR,
        "factor": Field("float", default=1.0),
        "rounding": Field("float", default=0.01),
    },
    "product.category": {
        "name": CHAR,
        "parent_id": m2o("product.category"),
        "complete_name": comp("char"),
        "child_id": o2m("product.category", "parent_id"),
    },
    "product.attribute": {
        "name": CHAR,
        "display_type": sel("radio"),
        "create_variant": sel("always"),
        "value_ids": o2m("product.attribute.value", "attribute_id"),
        "sequence": INT,
    },
    "product.attribute.value": {
        "name": CHAR,
        "attribute_id": m2o("product.attribute"),
        "sequence": INT,
        "default_extra_price": FLOAT,
    },
    "product.template": {
        "weight_uom_name": comp("char"),
        "name": CHAR,
        "default_code": CHAR,
        "barcode": CHAR,
        "categ_id": m2o("product.category"),
        "list_price": Field("float", default=1.0),
        "standard_price": FLOAT,
        "sale_ok": Field("boolean", default=True),
        "purchase_ok": Field("boolean", default=True),
        "active": ACTIVE,
        "type": sel("consu"),
        "is_storable": BOOL,
        "weight": FLOAT,
        "volume": FLOAT,
        "description": HTML,
        "description_sale": TEXT,
        "image_1920": BINARY,
        "uom_id": m2o("uom.uom"),
        "currency_id": m2o("res.currency"),
        "company_id": m2o("res.company"),
        "taxes_id": m2m("account.tax"),
        "attribute_line_ids": o2m("product.template.attribute.line", "product_tmpl_id"),
        "product_variant_ids": o2m("product.product", "product_tmpl_id"),
        "product_variant_count": comp("integer"),
        "product_variant_id": comp("many2one", "product.product"),
        "qty_available": comp("float"),
        "free_qty": comp("float"),
        "virtual_available": comp("float"),
        "incoming_qty": comp("float"),
        "outgoing_qty": comp("float"),
    },
    "product.template.attribute.line": {
        "product_tmpl_id": m2o("product.template"),
        "attribute_id": m2o("product.attribute"),
        "value_ids": m2m("product.attribute.value"),
        "active": ACTIVE,
        "product_template_value_ids": o2m("product.template.attribute.value", "attribute_line_id"),
    },
    "product.template.attribute.value": {
        "name": CHAR,
        "product_tmpl_id": m2o("product.template"),
        "attribute_line_id": m2o("product.template.attribute.line"),
        "product_attribute_value_id": m2o("product.attribute.value"),
        "attribute_id": m2o("product.attribute"),
        "price_extra": FLOAT,
        "ptav_active": ACTIVE,
    },
    "product.product": {
        "product_tmpl_id": m2o("product.template"),
        "default_code": CHAR,
        "barcode": CHAR,
        "active": ACTIVE,
        "product_template_attribute_value_ids": m2m("product.template.attribute.value"),
        "combination_indices": CHAR,
        "weight": FLOAT,
        "volume": FLOAT,
        "name": comp("char"),
        "list_price": comp("float"),
        "lst_price": comp("float"),
        "price_extra": comp("float"),
        "sale_ok": comp("boolean"),
        "type": comp("selection"),
        "is_storable": comp("boolean"),
        "categ_id": comp("many2one", "product.category"),
        "uom_id": comp("many2one", "uom.uom"),
        "taxes_id": comp("many2many", "account.tax"),
        "description_sale": comp("text"),
        "image_1920": comp("binary"),
        "qty_available": comp("float"),
        "free_qty": comp("float"),
        "virtual_available": comp("float"),
        "incoming_qty": comp("float"),
        "outgoing_qty": comp("float"),
    },
    "product.pricelist": {
        "name": CHAR,
        "active": ACTIVE,
        "currency_id": m2o("res.currency"),
        "sequence": INT,
        "item_ids": o2m("product.pricelist.item", "pricelist_id"),
        "company_id": m2o("res.company"),
    },
    "product.pricelist.item": {
        "pricelist_id": m2o("product.pricelist"),
        "applied_on": sel("3_global"),
        "product_tmpl_id": m2o("product.template"),
        "product_id": m2o("product.product"),
        "categ_id": m2o("product.category"),
        "min_quantity": FLOAT,
        "date_start": DATETIME,
        "date_end": DATETIME,
        "compute_price": sel("fixed"),
        "fixed_price": FLOAT,
        "percent_price": FLOAT,
        "base": sel("list_price"),
        "base_pricelist_id": m2o("product.pricelist"),
        "price_discount": FLOAT,
        "price_surcharge": FLOAT,
        "price_round": FLOAT,
        "price_min_margin": FLOAT,
        "price_max_margin": FLOAT,
        "active": ACTIVE,
        "company_id": m2o("res.company"),
        "currency_id": m2o("res.currency"),
    },
    "stock.location": {
        "name": CHAR,
        "complete_name": CHAR,
        "usage": sel("internal"),
        "location_id": m2o("stock.location"),
        "warehouse_id": m2o("stock.warehouse"),
        "active": ACTIVE,
        "company_id": m2o("res.company"),
    },
    "stock.warehouse": {
        "name": CHAR,
        "code": CHAR,
        "lot_stock_id": m2o("stock.location"),
        "view_location_id": m2o("stock.location"),
        "out_type_id": m2o("stock.picking.type"),
        "in_type_id": m2o("stock.picking.type"),
        "active": ACTIVE,
        "company_id": m2o("res.company"),
    },
    "stock.picking.type": {
        "name": CHAR,
        "code": sel("outgoing"),
        "sequence_code": CHAR,
        "warehouse_id": m2o("stock.warehouse"),
        "default_location_src_id": m2o("stock.location"),
        "default_location_dest_id": m2o("stock.location"),
        "active": ACTIVE,
    },
    "stock.quant": {
        "inventory_quantity": FLOAT,
        "product_id": m2o("product.product"),
        "location_id": m2o("stock.location"),
        "quantity": FLOAT,
        "reserved_quantity": FLOAT,
        "in_date": DATETIME,
        "warehouse_id": comp("many2one", "stock.warehouse"),
        "company_id": m2o("res.company"),
    },
    "stock.picking": {
        "name": CHAR,
        "origin": CHAR,
        "partner_id": m2o("res.partner"),
        "picking_type_id": m2o("stock.picking.type"),
        "picking_type_code": comp("selection"),
        "location_id": m2o("stock.location"),
        "location_dest_id": m2o("stock.location"),
        "state": sel("draft"),
        "scheduled_date": DATETIME,
        "date_done": DATETIME,
        "move_ids": o2m("stock.move", "picking_id"),
        "sale_id": m2o("sale.order"),
        "carrier_id": m2o("delivery.carrier"),
        "carrier_tracking_ref": CHAR,
        "return_ids": o2m("stock.picking", "return_id"),
        "return_id": m2o("stock.picking"),
        "company_id": m2o("res.company"),
    },
    "stock.move": {
        "name": CHAR,
        "reference": CHAR,
        "product_id": m2o("product.product"),
        "product_uom_qty": FLOAT,
        "quantity": FLOAT,
        "product_uom": m2o("uom.uom"),
        "location_id": m2o("stock.location"),
        "location_dest_id": m2o("stock.location"),
        "state": sel("draft"),
        "picking_id": m2o("stock.picking"),
        "sale_line_id": m2o("sale.order.line"),
        "origin_returned_move_id": m2o("stock.move"),
        "date": DATETIME,
        "picked": BOOL,
        "company_id": m2o("res.company"),
    },
    "account.tax": {
        "description": CHAR,
        "include_base_amount": BOOL,
        "name": CHAR,
        "amount": FLOAT,
        "amount_type": sel("percent"),
        "price_include": BOOL,
        "type_tax_use": sel("sale"),
        "active": ACTIVE,
        "company_id": m2o("res.company"),
    },
    "account.journal": {"name": CHAR, "code": CHAR, "type": sel("sale"), "company_id": m2o("res.company")},
    "account.payment.term": {"name": CHAR},
    "account.payment.method.line": {"name": CHAR, "journal_id": m2o("account.journal")},
    "delivery.carrier": {
        "name": CHAR,
        "product_id": m2o("product.product"),
        "delivery_type": sel("fixed"),
        "fixed_price": FLOAT,
        "active": ACTIVE,
        "company_id": m2o("res.company"),
    },
    "sale.order": {
        "name": CHAR,
        "client_order_ref": CHAR,
        "origin": CHAR,
        "reference": CHAR,
        "state": sel("draft"),
        "partner_id": m2o("res.partner"),
        "partner_invoice_id": m2o("res.partner"),
        "partner_shipping_id": m2o("res.partner"),
        "pricelist_id": m2o("product.pricelist"),
        "currency_id": m2o("res.currency"),
        "date_order": DATETIME,
        "validity_date": DATE,
        "note": HTML,
        "order_line": o2m("sale.order.line", "order_id"),
        "warehouse_id": m2o("stock.warehouse"),
        "carrier_id": m2o("delivery.carrier"),
        "payment_term_id": m2o("account.payment.term"),
        "amount_untaxed": MONEY,
        "amount_tax": MONEY,
        "amount_total": MONEY,
        "invoice_status": sel("no"),
        "picking_ids": o2m("stock.picking", "sale_id"),
        "delivery_count": comp("integer"),
        "invoice_ids": comp("many2many", "account.move"),
        "invoice_count": comp("integer"),
        "locked": BOOL,
        "delivery_status": comp("selection"),
        "company_id": m2o("res.company"),
        "user_id": m2o("res.users"),
    },
    "sale.order.line": {
        "order_id": m2o("sale.order"),
        "sequence": Field("integer", default=10),
        "name": TEXT,
        "product_id": m2o("product.product"),
        "product_template_id": comp("many2one", "product.template"),
        "product_uom_qty": Field("float", default=1.0),
        "product_uom_id": m2o("uom.uom"),
        "price_unit": FLOAT,
        "discount": FLOAT,
        "tax_ids": m2m("account.tax"),
        "price_subtotal": MONEY,
        "price_tax": MONEY,
        "price_total": MONEY,
        "qty_delivered": FLOAT,
        "qty_invoiced": FLOAT,
        "qty_to_invoice": FLOAT,
        "is_delivery": BOOL,
        "display_type": sel(None),
        "state": comp("selection"),
        "currency_id": comp("many2one", "res.currency"),
        "move_ids": o2m("stock.move", "sale_line_id"),
        "invoice_lines": m2m("account.move.line"),
        "company_id": m2o("res.company"),
    },
    "sale.order.cancel": {"order_id": m2o("sale.order")},
    "sale.advance.payment.inv": {
        "advance_payment_method": sel("delivered"),
        "sale_order_ids": m2m("sale.order"),
    },
    "account.move": {
        "line_ids": o2m("account.move.line", "move_id"),
        "name": CHAR,
        "ref": CHAR,
        "move_type": sel("entry"),
        "state": sel("draft"),
        "partner_id": m2o("res.partner"),
        "invoice_date": DATE,
        "date": DATE,
        "journal_id": m2o("account.journal"),
        "currency_id": m2o("res.currency"),
        "invoice_origin": CHAR,
        "payment_reference": CHAR,
        "invoice_line_ids": o2m("account.move.line", "move_id"),
        "amount_untaxed": MONEY,
        "amount_tax": MONEY,
        "amount_total": MONEY,
        "amount_residual": MONEY,
        "payment_state": sel("not_paid"),
        "reversed_entry_id": m2o("account.move"),
        "reversal_move_ids": o2m("account.move", "reversed_entry_id"),
        "company_id": m2o("res.company"),
    },
    "account.move.line": {
        "move_id": m2o("account.move"),
        "name": CHAR,
        "product_id": m2o("product.product"),
        "quantity": FLOAT,
        "price_unit": FLOAT,
        "discount": FLOAT,
        "tax_ids": m2m("account.tax"),
        "price_subtotal": MONEY,
        "price_total": MONEY,
        "sale_line_ids": m2m("sale.order.line"),
        "display_type": sel("product"),
    },
    "account.payment": {
        "name": CHAR,
        "amount": MONEY,
        "partner_id": m2o("res.partner"),
        "state": sel("draft"),
        "memo": CHAR,
        "date": DATE,
        "journal_id": m2o("account.journal"),
        "reconciled_invoice_ids": m2m("account.move"),
        "payment_type": sel("inbound"),
    },
    "account.payment.register": {
        "payment_method_line_id": m2o("account.payment.method.line"),
        "amount": FLOAT,
        "journal_id": m2o("account.journal"),
        "payment_date": DATE,
        "communication": CHAR,
        "line_ids": m2m("account.move"),
    },
    "account.move.reversal": {
        "move_ids": m2m("account.move"),
        "reason": CHAR,
        "date": DATE,
        "journal_id": m2o("account.journal"),
        "new_move_ids": m2m("account.move"),
    },
    "stock.return.picking": {
        "picking_id": m2o("stock.picking"),
        "product_return_moves": o2m("stock.return.picking.line", "wizard_id"),
    },
    "stock.return.picking.line": {
        "wizard_id": m2o("stock.return.picking"),
        "product_id": m2o("product.product"),
        "quantity": FLOAT,
        "move_id": m2o("stock.move"),
        "move_quantity": FLOAT,
        "uom_id": m2o("uom.uom"),
    },
}


def fields_of(model: str) -> dict[str, Field]:
    """All fields of a model, the common ones included."""
    return {**COMMON, **MODELS[model]}
