"""The order resource: lines, totals, payment, statuses, and the stock that orders move."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any, ClassVar

from emporion_devkit.sandbox.woocommerce.accounts import merge_address
from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.order_lines import (
    adjust_stock,
    as_number,
    line_meta,
    line_product,
    money,
    present_line,
    sellable,
    set_line_meta,
    to_float,
)
from emporion_devkit.sandbox.woocommerce.resource import Filter, Resource, id_list, slugify
from emporion_devkit.sandbox.woocommerce.schema import FieldSpec, coerce
from emporion_devkit.sandbox.woocommerce.settings import prices_include_tax
from emporion_devkit.sandbox.woocommerce.shop import WC_VERSION
from emporion_devkit.sandbox.woocommerce.taxes import (
    base_location,
    calc_tax,
    find_rates,
    round6,
)
from emporion_devkit.sandbox.woocommerce.totals import recalculate

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop

STATUS_LABELS = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
}
STOCK_REDUCING = ("processing", "completed", "on-hold")
STOCK_RESTORING = ("cancelled", "pending")
SYMBOLS = {"EUR": "\u20ac", "USD": "$", "GBP": "\u00a3", "CHF": "CHF", "JPY": "\u00a5", "INR": "\u20b9"}
REFUNDING_GATEWAYS = ("stripe", "paypal", "ppcp-gateway", "woocommerce_payments", "sandbox")


class OrderResource(Resource):
    """`/orders`: orders with line, shipping, fee and coupon lines; payment reduces managed stock."""

    kind = "order"
    route = "orders"
    topic = "order"
    label = "shop_order"
    id_code = "woocommerce_rest_shop_order_invalid_id"
    supports_trash = True
    fields: ClassVar[dict[str, FieldSpec]] = {
        "parent_id": "integer",
        "status": "string",
        "currency": "string",
        "customer_id": "integer",
        "customer_note": "string",
        "billing": "object",
        "shipping": "object",
        "payment_method": "string",
        "payment_method_title": "string",
        "transaction_id": "string",
        "meta_data": "array",
        "line_items": "array",
        "shipping_lines": "array",
        "fee_lines": "array",
        "coupon_lines": "array",
        "set_paid": "boolean",
        "created_via": "string",
        "customer_ip_address": "string",
        "customer_user_agent": "string",
        "prices_include_tax": "boolean",
    }

    def new(self, shop: Shop, record_id: int, parent_id: int) -> dict[str, Any]:
        """A new pending order with its number and key."""
        doc = super().new(shop, record_id, parent_id)
        doc.update(
            number=str(record_id), order_key="wc_order_" + secrets.token_hex(7)[:13], version=WC_VERSION
        )
        doc["currency"] = shop.currency
        return doc

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write an order request: addresses, lines, totals, payment and status."""
        if creating:
            doc["prices_include_tax"] = prices_include_tax(shop)
        for name in ("parent_id", "currency", "customer_note", "payment_method", "payment_method_title",
                     "transaction_id", "created_via", "customer_ip_address", "customer_user_agent",
                     "prices_include_tax"):  # fmt: skip
            if name in data:
                doc[name] = data[name]
        if "customer_id" in data:
            if data["customer_id"] and shop.store.get("customer", data["customer_id"]) is None:
                raise ApiError(400, "woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
            doc["customer_id"] = data["customer_id"]
        for name in ("billing", "shipping"):
            if name in data:
                doc[name] = merge_address(doc[name], data[name])
        if "meta_data" in data:
            doc["meta_data"] = shop.merge_meta(doc["meta_data"], data["meta_data"])
        changed = [
            name for name in ("line_items", "shipping_lines", "fee_lines", "coupon_lines") if name in data
        ]
        if "line_items" in data:
            doc["line_items"] = self._line_items(shop, doc, data["line_items"])
        if "shipping_lines" in data:
            doc["shipping_lines"] = self._simple_lines(
                shop, doc["shipping_lines"], data["shipping_lines"], "shipping"
            )
        if "fee_lines" in data:
            doc["fee_lines"] = self._simple_lines(shop, doc["fee_lines"], data["fee_lines"], "fee")
        if "coupon_lines" in data:
            doc["coupon_lines"] = self._coupons(shop, data["coupon_lines"])
        if changed or creating or "billing" in data or "shipping" in data:
            recalculate(shop, doc, apply_coupons="coupon_lines" in data or "line_items" in data)
        if "status" in data:
            doc["status"] = data["status"]
        if data.get("set_paid"):  # payment_complete(): the only way besides completion to a paid date
            if doc["status"] in ("pending", "failed", "on-hold", "checkout-draft"):
                virtual = (
                    all(self._is_virtual(shop, item) for item in doc["line_items"]) and doc["line_items"]
                )
                doc["status"] = "completed" if virtual else "processing"
            if doc["date_paid"] is None:
                shop.clock.stamp(doc, "date_paid")
        if doc["status"] == "completed" and doc["date_completed"] is None:
            shop.clock.stamp(doc, "date_completed")
            if doc["date_paid"] is None:
                doc["date_paid"], doc["date_paid_gmt"] = doc["date_completed"], doc["date_completed_gmt"]

    @staticmethod
    def _is_virtual(shop: Shop, item: dict) -> bool:
        found = shop.store.get(
            "variation" if item["variation_id"] else "product", item["variation_id"] or item["product_id"]
        )
        return bool(found and found[0].get("virtual") and found[0].get("downloadable"))

    def _line_items(self, shop: Shop, doc: dict, given: list[Any]) -> list[dict]:
        current = doc["line_items"]
        items = {item["id"]: item for item in current}
        order = [item["id"] for item in current]
        for raw in given:
            if not isinstance(raw, dict):
                continue
            item_id = int(raw.get("id") or 0)
            if item_id and item_id not in items:
                raise ApiError(
                    400,
                    "woocommerce_rest_invalid_item_id",
                    "Order item ID provided is not associated with order.",
                )
            if item_id and (raw.get("quantity") == 0 or ("product_id" in raw and raw["product_id"] is None)):
                del items[item_id]
                order.remove(item_id)
                continue
            item = self._line_item(shop, doc, items.get(item_id), raw)
            if item["id"] not in items:
                order.append(item["id"])
            items[item["id"]] = item
        return [items[item_id] for item_id in order]

    def _line_item(self, shop: Shop, order: dict, current: dict | None, raw: dict) -> dict[str, Any]:
        product_id = int(
            coerce(
                "product_id", "integer", raw.get("product_id", current["product_id"] if current else 0), False
            )
            or 0
        )
        variation_id = int(
            coerce(
                "variation_id",
                "integer",
                raw.get("variation_id", current["variation_id"] if current else 0),
                False,
            )
            or 0
        )
        if raw.get("sku") and not product_id and not variation_id:
            for kind in ("variation", "product"):
                ids = shop.store.ids(kind, "sku = ?", [raw["sku"]])
                if ids:
                    if kind == "variation":
                        variation_id = ids[0]
                        product_id = shop.store.get("variation", ids[0])[1]["parent"]  # type: ignore[index]
                    else:
                        product_id = ids[0]
                    break
        if not product_id and not variation_id and current is None:
            raise ApiError(
                400, "woocommerce_rest_required_product_reference", "Product ID or SKU is required."
            )
        quantity = int(
            coerce("quantity", "integer", raw.get("quantity", current["quantity"] if current else 1), False)
        )
        kind, product, extra = sellable(shop, product_id, variation_id)
        if kind == "variation":
            product_id = extra["parent"]
        parent = shop.store.get("product", product_id) if kind == "variation" else (product, extra)
        name = parent[0]["name"] if parent else ""
        meta: list[dict[str, Any]] = []
        if kind == "variation":
            options = [a["option"] for a in product["attributes"]]
            name = f"{name} - {', '.join(options)}" if options else name
            meta = [
                {
                    "id": shop.store.next_id("meta"),
                    "key": ("pa_" if a["id"] else "") + slugify(a["name"]),
                    "value": a["option"],
                }
                for a in product["attributes"]
            ]
        tax_class = str(raw.get("tax_class", product.get("tax_class", "")))
        tax_status = product.get("tax_status", "taxable")
        if current is not None and "quantity" not in raw and "subtotal" not in raw:
            subtotal = to_float(current.get("_subtotal", current["subtotal"]))
        else:
            subtotal = to_float(product.get("price")) * quantity
            if prices_include_tax(shop) and tax_status == "taxable":  # wc_get_price_excluding_tax
                rates = find_rates(shop, base_location(shop), tax_class)
                subtotal -= sum(calc_tax(subtotal, rates, inclusive=True).values())
        subtotal = round6(to_float(raw["subtotal"]) if "subtotal" in raw else subtotal)
        total = round6(to_float(raw["total"]) if "total" in raw else subtotal)
        return {
            "id": current["id"] if current else shop.store.next_id("item"),
            "name": str(raw.get("name") or name),
            "product_id": product_id,
            "variation_id": variation_id,
            "quantity": quantity,
            "tax_class": tax_class,
            "subtotal": money(subtotal),
            "subtotal_tax": "0.00",
            "total": money(total),
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": shop.merge_meta(
                current["meta_data"] if current else meta, raw.get("meta_data") or []
            ),
            "sku": product.get("sku", ""),
            "price": as_number(total / quantity if quantity else 0),
            "image": {"id": "", "src": ""},
            "parent_name": parent[0]["name"] if kind == "variation" and parent else None,
            "_subtotal": subtotal,
            "_total": total,
            "_tax_status": tax_status,
        }

    @staticmethod
    def _simple_lines(shop: Shop, current: list[dict], given: list[Any], what: str) -> list[dict]:
        by_id = {line["id"]: line for line in current}
        lines = list(current)
        for raw in given:
            if not isinstance(raw, dict):
                continue
            line_id = int(raw.get("id") or 0)
            if line_id in by_id and raw.get("method_id" if what == "shipping" else "name", "x") is None:
                lines.remove(by_id[line_id])
                continue
            line = by_id.get(line_id) or (
                {
                    "id": shop.store.next_id("item"),
                    "method_title": "",
                    "method_id": "",
                    "instance_id": "",
                    "total": "0.00",
                    "total_tax": "0.00",
                    "taxes": [],
                    "tax_status": "taxable",
                    "meta_data": [],
                }
                if what == "shipping"
                else {
                    "id": shop.store.next_id("item"),
                    "name": "",
                    "tax_class": "",
                    "tax_status": "taxable",
                    "amount": "",
                    "total": "0.00",
                    "total_tax": "0.00",
                    "taxes": [],
                    "meta_data": [],
                }
            )
            for key in ("method_title", "method_id", "instance_id", "name", "tax_class", "tax_status"):
                if key in raw and key in line:
                    line[key] = str(raw[key] if raw[key] is not None else "")
            if "total" in raw:
                line["_total"] = round6(to_float(raw["total"]))
                line["total"] = money(line["_total"])
            if "meta_data" in raw and isinstance(raw["meta_data"], list):
                line["meta_data"] = shop.merge_meta(line["meta_data"], raw["meta_data"])
            if line not in lines:
                lines.append(line)
        return lines

    @staticmethod
    def _coupons(shop: Shop, given: list[Any]) -> list[dict]:
        lines = []
        for raw in given:
            if not isinstance(raw, dict) or not raw.get("code"):
                continue
            code = str(raw["code"]).strip().lower()
            ids = shop.store.ids("coupon", "code = ?", [code])
            if not ids:
                raise ApiError(400, "woocommerce_rest_invalid_coupon", f'Coupon "{code}" does not exist!')
            coupon = shop.store.get("coupon", ids[0])
            assert coupon is not None
            kind, nominal = coupon[0]["discount_type"], to_float(coupon[0]["amount"])
            nominal_number = int(nominal) if nominal.is_integer() else nominal
            info = [ids[0], code, None if kind == "fixed_cart" else kind, nominal_number]
            lines.append(
                {
                    "id": shop.store.next_id("item"),
                    "code": code,
                    "discount": "0",
                    "discount_tax": "0",
                    "meta_data": [
                        {
                            "id": shop.store.next_id("meta"),
                            "key": "coupon_info",
                            "value": json.dumps(info, separators=(",", ":")),
                        }
                    ],
                    "discount_type": kind,
                    "nominal_amount": nominal_number,
                    "free_shipping": bool(coupon[0].get("free_shipping")),
                    "coupon_id": ids[0],
                    "_amount": nominal,
                    "_type": kind,
                    "_products": [int(i) for i in coupon[0].get("product_ids") or []],
                    "_excluded": [int(i) for i in coupon[0].get("excluded_product_ids") or []],
                }
            )
        return lines

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of an order (search text: number, names, email)."""
        columns = super().columns(doc, extra)
        billing = doc["billing"]
        columns.update(
            name=" ".join(
                [
                    doc["number"],
                    billing["first_name"],
                    billing["last_name"],
                    billing["email"],
                    billing["company"],
                ]
            ),
            email=billing["email"] or None,
            code=doc["order_key"],
        )
        return columns

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """Orders' own list arguments: customer, product, parent, parent_exclude."""
        out: list[Filter] = []
        if params.get("customer"):
            out.append(("json_extract(doc, '$.customer_id') = ?", [int(params["customer"][0])]))
        if params.get("product"):
            out.append(
                (
                    "EXISTS (SELECT 1 FROM json_each(doc, '$.line_items') "
                    "WHERE json_extract(value, '$.product_id') = ?)",
                    [int(params["product"][0])],
                )
            )
        parents = id_list("parent", params.get("parent", []))
        if parents:
            out.append((f"parent_id IN ({', '.join('?' * len(parents))})", parents))
        excluded = id_list("parent_exclude", params.get("parent_exclude", []))
        if excluded:
            out.append((f"parent_id NOT IN ({', '.join('?' * len(excluded))})", excluded))
        return out

    def present(self, shop: Shop, doc: dict, extra: dict) -> dict[str, Any]:
        """An order as the REST API shows it: no internal line fields, deleted products as id 0."""
        out = super().present(shop, doc, extra)
        self_href = out["_links"]["self"][0]["href"]
        out["_links"]["email_templates"] = [
            {"embeddable": True, "href": f"{self_href}/actions/email_templates"}
        ]
        for name in ("line_items", "shipping_lines", "fee_lines", "coupon_lines"):
            out[name] = [present_line(shop, line) for line in doc[name]]
        out.update(
            payment_url=f"{shop.base_url}/checkout/order-pay/{doc['id']}/?pay_for_order=true&key={doc['order_key']}",
            is_editable=doc["status"] in ("pending", "on-hold", "auto-draft", "checkout-draft"),
            needs_payment=doc["status"] in ("pending", "failed") and to_float(doc["total"]) > 0,
            needs_processing=True,
            currency_symbol=SYMBOLS.get(doc["currency"], doc["currency"]),
        )
        out["refunds"] = [
            {"id": r["id"], "reason": r["reason"], "total": r["total"]}
            for r in sorted(doc["refunds"], key=lambda r: (r.get("_created", ""), -r["id"]), reverse=True)
        ]
        return out

    def after_save(self, shop: Shop, before: dict | None, doc: dict, extra: dict) -> None:
        """Status changes: a note, stock reduced on payment and restored on cancellation, coupon usage."""
        old = before["status"] if before else "pending"
        new = doc["status"]
        changed = False
        if old != new:
            self.note(
                shop,
                doc["id"],
                f"Order status changed from {STATUS_LABELS.get(old, old)} to {STATUS_LABELS.get(new, new)}.",
            )
        if before is None:
            for line in doc["coupon_lines"]:
                coupon = shop.store.get("coupon", line["coupon_id"])
                if coupon:
                    coupon[0]["usage_count"] += 1
                    if doc["billing"]["email"]:
                        coupon[0]["used_by"].append(doc["billing"]["email"])
                    shop.save(shop.resources["coupon"], dict(coupon[0]), coupon[0], coupon[1])
        if new in STOCK_REDUCING and not extra.get("stock_reduced"):
            changes = []
            for item in doc["line_items"]:
                kind, record_id = line_product(item)
                moved = adjust_stock(shop, kind, record_id, -item["quantity"], sold=item["quantity"])
                if moved:  # wc_reduce_stock_levels: only managed stock, remembered on the line
                    changes.append(f"{item['name']} ({item['sku'] or record_id}) {moved[0]}&rarr;{moved[1]}")
                    set_line_meta(shop, item, "_reduced_stock", str(item["quantity"]))
            extra["stock_reduced"] = True
            if changes:
                self.note(shop, doc["id"], "Stock levels reduced: " + ", ".join(changes))
            if doc["customer_id"]:
                customer = shop.store.get("customer", doc["customer_id"])
                if customer and not customer[0]["is_paying_customer"]:
                    customer[0]["is_paying_customer"] = True
                    shop.save(shop.resources["customer"], dict(customer[0]), customer[0], customer[1])
            changed = True
        elif new in STOCK_RESTORING and extra.get("stock_reduced"):
            changes = []
            for item in doc["line_items"]:
                quantity = int(to_float(line_meta(item, "_reduced_stock"), 0))
                kind, record_id = line_product(item)
                moved = adjust_stock(shop, kind, record_id, quantity, sold=-quantity) if quantity else None
                if moved:
                    changes.append(f"{item['name']} ({item['sku'] or record_id}) {moved[0]}&rarr;{moved[1]}")
                item["meta_data"] = [m for m in item["meta_data"] if m["key"] != "_reduced_stock"]
            extra["stock_reduced"] = False
            if changes:
                self.note(shop, doc["id"], "Stock levels increased: " + ", ".join(changes))
            changed = True
        if changed:
            shop.store.put(self.kind, doc["id"], doc, extra, self.columns(doc, extra))

    @staticmethod
    def note(
        shop: Shop, order_id: int, text: str, customer_note: bool = False, author: str = "WooCommerce"
    ) -> None:
        """Add a note to an order (as WooCommerce does on status and stock changes)."""
        resource = shop.resources["note"]
        note_id = shop.store.next_id("note")
        doc = resource.new(shop, note_id, order_id)
        shop.clock.stamp(doc, "date_created")
        doc.update(note=text, customer_note=customer_note, author=author)
        shop.store.put(
            "note", note_id, doc, {"parent": order_id}, resource.columns(doc, {"parent": order_id})
        )

    def after_delete(self, shop: Shop, doc: dict, extra: dict) -> None:
        """Deleting an order for good deletes its notes and refunds."""
        for kind in ("note", "refund"):
            for record_id in shop.store.ids(kind, "parent_id = ?", [doc["id"]]):
                shop.store.remove(kind, record_id)
