"""Resources below an order: its notes and its refunds (with gateway refunds and restocking)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.orders import (
    REFUNDING_GATEWAYS,
    OrderResource,
    adjust_stock,
    as_number,
    money,
    to_float,
)
from emporion_devkit.sandbox.woocommerce.resource import Filter, Resource
from emporion_devkit.sandbox.woocommerce.schema import FieldSpec

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop


class NoteResource(Resource):
    """`/orders/<id>/notes`: private and customer notes (not paged, no update, no trash)."""

    kind = "note"
    route = "orders/{parent}/notes"
    parent_kind = "order"
    label = "order_note"
    paged = False
    editable = False
    required = ("note",)
    fields: ClassVar[dict[str, FieldSpec]] = {
        "note": "string",
        "customer_note": "boolean",
        "added_by_user": "boolean",
    }
    orderby: ClassVar[dict[str, str]] = {"date": "created_gmt", "id": "id", "include": "id"}

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a note request."""
        doc["note"] = data.get("note", doc["note"])
        doc["customer_note"] = data.get("customer_note", doc["customer_note"])
        if data.get("added_by_user"):
            doc["author"] = "admin"

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """Notes' `type`: any, customer or internal."""
        kind = (params.get("type") or ["any"])[0]
        if kind == "customer":
            return [("json_extract(doc, '$.customer_note') = 1", [])]
        if kind == "internal":
            return [("json_extract(doc, '$.customer_note') = 0", [])]
        return []


class RefundResource(Resource):
    """`/orders/<id>/refunds`: refunds, through the gateway (`api_refund`) and restocking (`api_restock`)."""

    kind = "refund"
    route = "orders/{parent}/refunds"
    parent_kind = "order"
    label = "shop_order_refund"
    editable = False
    id_code = "woocommerce_rest_shop_order_refund_invalid_id"
    fields: ClassVar[dict[str, FieldSpec]] = {
        "amount": "money",
        "reason": "string",
        "refunded_by": "integer",
        "meta_data": "array",
        "line_items": "array",
        "api_refund": "boolean",
        "api_restock": "boolean",
    }

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Create a refund: check the amount, refund through the gateway, restock, update the order."""
        if not creating:
            return
        order_doc, order_extra = shop.load("order", extra["parent"])
        items = {item["id"]: item for item in order_doc["line_items"]}
        lines = []
        for raw in data.get("line_items") or []:
            if not isinstance(raw, dict) or int(raw.get("id") or 0) not in items:
                continue
            source = items[int(raw["id"])]
            quantity = int(to_float(raw.get("quantity", 0)))
            refund_total = to_float(raw.get("refund_total", 0))
            lines.append((source, quantity, refund_total))
        amount = (
            to_float(data["amount"])
            if data.get("amount") not in (None, "")
            else sum(total for _, _, total in lines)
        )
        if amount <= 0:
            raise ApiError(
                400, "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero."
            )
        refunded = sum(-to_float(r["total"]) for r in order_doc["refunds"])
        if amount > to_float(order_doc["total"]) - refunded + 1e-9:
            raise ApiError(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        api_refund = data.get("api_refund", True)
        if api_refund and order_doc["payment_method"] not in REFUNDING_GATEWAYS:
            raise ApiError(
                500,
                "woocommerce_rest_cannot_create_order_refund",
                "The payment gateway for this order does not support automatic refunds.",
            )
        doc.update(
            amount=money(amount), reason=data.get("reason", ""), refunded_by=data.get("refunded_by", 1)
        )
        doc["refunded_payment"] = bool(api_refund)
        doc["meta_data"] = shop.merge_meta([], data.get("meta_data") or [])
        doc["line_items"] = [
            {
                "id": shop.store.next_id("item"),
                "name": source["name"],
                "product_id": source["product_id"],
                "variation_id": source["variation_id"],
                "quantity": -quantity,
                "tax_class": source["tax_class"],
                "subtotal": money(-total),
                "subtotal_tax": "0.00",
                "total": money(-total),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [
                    {"id": shop.store.next_id("meta"), "key": "_refunded_item_id", "value": str(source["id"])}
                ],
                "sku": source["sku"],
                "price": as_number(-total / quantity if quantity else 0),
                "refund_total": total,
            }
            for source, quantity, total in lines
        ]
        restocked = []
        if data.get("api_restock", True):
            for source, quantity, _ in lines:
                if quantity <= 0 or not order_extra.get("stock_reduced"):
                    continue
                kind, record_id = (
                    ("variation", source["variation_id"])
                    if source["variation_id"]
                    else ("product", source["product_id"])
                )
                moved = adjust_stock(shop, kind, record_id, quantity)
                if moved:
                    restocked.append(f"Item #{record_id} stock increased from {moved[0]} to {moved[1]}.")
        before = dict(order_doc)
        order_doc["refunds"] = [
            {"id": doc["id"], "reason": doc["reason"], "total": money(-amount)},
            *order_doc["refunds"],
        ]
        if abs(to_float(order_doc["total"]) - refunded - amount) < 0.005:
            order_doc["status"] = "refunded"
        OrderResource.note(
            shop,
            order_doc["id"],
            f"Refunded {money(amount)} {shop.currency}"
            + (f" - {doc['reason']}" if doc["reason"] else "")
            + ".",
        )
        for line in restocked:
            OrderResource.note(shop, order_doc["id"], line)
        shop.save(shop.resources["order"], before, order_doc, order_extra)

    def after_delete(self, shop: Shop, doc: dict, extra: dict) -> None:
        """Deleting a refund removes it from its order."""
        found = shop.store.get("order", extra["parent"])
        if found is not None:
            order_doc, order_extra = found
            before = dict(order_doc)
            order_doc["refunds"] = [r for r in order_doc["refunds"] if r["id"] != doc["id"]]
            shop.save(shop.resources["order"], before, order_doc, order_extra)
