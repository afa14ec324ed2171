"""Resources below an order: its notes and its refunds (with gateway refunds and restocking)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.order_lines import (
    adjust_stock,
    as_number,
    line_meta,
    line_product,
    money,
    present_line,
    set_line_meta,
    to_float,
)
from emporion_devkit.sandbox.woocommerce.orders import REFUNDING_GATEWAYS, OrderResource
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
        sources = {
            line["id"]: (kind, line)
            for kind in ("line_items", "shipping_lines", "fee_lines")
            for line in order_doc[kind]
        }
        wanted: list[tuple[str, dict, int, float, dict[int, float]]] = []
        for raw in data.get("line_items") or []:
            if not isinstance(raw, dict) or int(to_float(raw.get("id"))) not in sources:
                continue
            kind, source = sources[int(to_float(raw["id"]))]
            taxes = {
                int(to_float(t.get("id"))): to_float(t.get("refund_total"))
                for t in raw.get("refund_tax") or []
                if isinstance(t, dict) and to_float(t.get("refund_total"))
            }
            quantity = int(to_float(raw.get("quantity", 0))) if kind == "line_items" else 0
            total = to_float(raw.get("refund_total", 0))
            if quantity or total or taxes:
                wanted.append((kind, source, quantity, total, taxes))
        amount = (
            to_float(data["amount"])
            if data.get("amount") not in (None, "")
            else sum(total + sum(taxes.values()) for _, _, _, total, taxes in wanted)
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
        doc.update(line_items=[], shipping_lines=[], fee_lines=[])
        for kind, source, quantity, total, taxes in wanted:
            doc[kind].append(self._refund_line(shop, kind, source, quantity, total, taxes))
        doc["tax_lines"] = self._tax_lines(shop, order_doc, wanted)
        if data.get("api_restock", True):
            for kind, source, quantity, _, _ in wanted:
                if kind == "line_items" and quantity > 0:
                    self._restock(shop, order_doc, source, quantity)
        before = dict(order_doc)
        order_doc["refunds"] = [
            {
                "id": doc["id"],
                "reason": doc["reason"],
                "total": money(-amount),
                "_created": doc["date_created_gmt"],
            },
            *order_doc["refunds"],
        ]
        if abs(to_float(order_doc["total"]) - refunded - amount) < 0.005:
            order_doc["status"] = "refunded"
        if api_refund:
            OrderResource.note(
                shop,
                order_doc["id"],
                f"Refunded {money(amount)} {shop.currency}"
                + (f" - {doc['reason']}" if doc["reason"] else "")
                + ".",
            )
        shop.save(shop.resources["order"], before, order_doc, order_extra)

    @staticmethod
    def _refund_line(
        shop: Shop, kind: str, source: dict, quantity: int, total: float, taxes: dict[int, float]
    ) -> dict:
        """A refund's copy of an order line: negative quantity, totals and taxes, `_refunded_item_id`."""
        tax_total = money(-sum(taxes.values()))
        meta = [{"id": shop.store.next_id("meta"), "key": "_refunded_item_id", "value": str(source["id"])}]
        line_id = shop.store.next_id("item")
        if kind == "line_items":
            return {
                "id": line_id,
                "name": source["name"],
                "product_id": source["product_id"],
                "variation_id": source["variation_id"],
                "quantity": -quantity,
                "tax_class": source["tax_class"],
                "subtotal": money(-total),
                "subtotal_tax": tax_total,
                "total": money(-total),
                "total_tax": tax_total,
                "taxes": [{"id": r, "total": money(-t), "subtotal": money(-t)} for r, t in taxes.items()],
                "meta_data": meta,
                "sku": source["sku"],
                "price": as_number(total / quantity if quantity else 0),
                "image": source.get("image", {"id": "", "src": ""}),
                "parent_name": source.get("parent_name"),
            }
        copied = {k: v for k, v in source.items() if not k.startswith("_") and k not in ("id", "meta_data")}
        return {
            "id": line_id,
            **copied,
            "total": money(-total),
            "total_tax": tax_total,
            "taxes": [{"id": r, "total": money(-t), "subtotal": ""} for r, t in taxes.items()],
            "meta_data": meta,
        }

    @staticmethod
    def _tax_lines(
        shop: Shop, order_doc: dict, wanted: list[tuple[str, dict, int, float, dict[int, float]]]
    ) -> list:
        """The refund's tax lines: per rate, the refunded item/fee tax and the refunded shipping tax."""
        cart: dict[int, float] = {}
        shipping: dict[int, float] = {}
        for kind, _, _, _, taxes in wanted:
            target = shipping if kind == "shipping_lines" else cart
            for rate_id, tax in taxes.items():
                target[rate_id] = target.get(rate_id, 0.0) + tax
        known = {line["rate_id"]: line for line in order_doc["tax_lines"]}
        lines = []
        for rate_id in dict.fromkeys([*cart, *shipping]):
            base = known.get(rate_id, {"rate_code": "", "label": "", "compound": False, "rate_percent": 0})
            lines.append(
                {
                    "id": shop.store.next_id("item"),
                    "rate_code": base["rate_code"],
                    "rate_id": rate_id,
                    "label": base["label"],
                    "compound": base["compound"],
                    "tax_total": money(-cart.get(rate_id, 0.0)),
                    "shipping_tax_total": money(-shipping.get(rate_id, 0.0)),
                    "rate_percent": base["rate_percent"],
                    "meta_data": [],
                }
            )
        return lines

    @staticmethod
    def _restock(shop: Shop, order_doc: dict, source: dict, quantity: int) -> None:
        """`wc_restock_refunded_items`: stock back, `_reduced_stock` lowered, `_restock_refunded_items` up."""
        reduced = int(to_float(line_meta(source, "_reduced_stock"), 0))
        if not reduced:
            return
        kind, record_id = line_product(source)
        moved = adjust_stock(shop, kind, record_id, quantity)
        if not moved:
            return
        restocked = int(to_float(line_meta(source, "_restock_refunded_items"), 0))
        set_line_meta(shop, source, "_reduced_stock", str(reduced - quantity))
        set_line_meta(shop, source, "_restock_refunded_items", str(restocked + quantity))
        OrderResource.note(
            shop, order_doc["id"], f"Item #{record_id} stock increased from {moved[0]} to {moved[1]}."
        )

    def present(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """A refund with its lines as shown (display keys in meta)."""
        out = super().present(shop, doc, extra)
        for name in ("line_items", "shipping_lines", "fee_lines"):
            out[name] = [present_line(shop, line) for line in doc.get(name, [])]
        out.setdefault("tax_lines", [])
        return out

    def after_delete(self, shop: Shop, doc: dict, extra: dict) -> None:
        """Deleting a refund removes it from its order."""
        found = shop.store.get("order", extra["parent"])
        if found is not None:
            order_doc, order_extra = found
            before = dict(order_doc)
            order_doc["refunds"] = [r for r in order_doc["refunds"] if r["id"] != doc["id"]]
            shop.save(shop.resources["order"], before, order_doc, order_extra)
