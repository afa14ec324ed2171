"""What a merchant does in Odoo's screens, as a Python API for tests and the demo (as the superuser)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion_devkit.sandbox.odoo import sample
from emporion_devkit.sandbox.odoo.accounting import invoice_order
from emporion_devkit.sandbox.odoo.methods import dispatch

if TYPE_CHECKING:
    from emporion_devkit.sandbox.odoo.orm import Env
    from emporion_devkit.sandbox.odoo.server import OdooServer


class MerchantActions:
    """Merchant actions; each runs in its own transaction, as a click in Odoo would."""

    server: OdooServer
    ids: dict[str, Any]

    def env(self, context: dict[str, Any] | None = None) -> Env:  # pragma: no cover - overridden
        """A superuser environment."""
        raise NotImplementedError

    def call(
        self,
        model: str,
        method: str,
        ids: list[int] | None = None,
        *args: Any,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call any public method as the superuser (what the admin does over the API)."""
        with self.server.store.transaction():
            return dispatch(self.env(context), model, method, ids, list(args), kwargs)

    def warehouse(self, code: str) -> int:
        """A warehouse's id by its code (WH, WH2)."""
        return int(self.ids["warehouses"][code])

    def variant(self, sku: str) -> int:
        """A product.product id by its default_code."""
        with self.server.store.transaction():
            return self.env().search("product.product", [("default_code", "=", sku)], limit=1)[0]

    def create_product(self, name: str, sku: str, price: float, **values: Any) -> int:
        """A storable product template (one variant carrying `sku`); its id."""
        with self.server.store.transaction():
            return self.env().create(
                "product.template",
                [
                    {
                        "name": name,
                        "default_code": sku,
                        "list_price": price,
                        "type": "consu",
                        "is_storable": True,
                        "uom_id": 1,
                        **values,
                    }
                ],
            )[0]

    def receive_stock(self, sku: str, quantity: float, warehouse: str = "WH") -> None:
        """A receipt: the quant grows and a done move is written (the product's write_date stays)."""
        product = self.variant(sku)
        with self.server.store.transaction():
            sample.receive(self.env(), product, self.warehouse(warehouse), quantity)

    def set_price(self, template_id: int, price: float) -> None:
        """Change a template's list price."""
        with self.server.store.transaction():
            self.env().write("product.template", [template_id], {"list_price": price})

    def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None:
        """Write values as the merchant."""
        with self.server.store.transaction():
            self.env().write(model, ids, values)

    def create(self, model: str, values: list[dict[str, Any]]) -> list[int]:
        """Create records as the merchant."""
        with self.server.store.transaction():
            return self.env().create(model, values)

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str] | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Read what the merchant sees."""
        with self.server.store.transaction():
            env = self.env(context)
            return env.read(model, env.search(model, domain), fields)

    def add_promotion(
        self, sku: str, percent: float, start: str, end: str, pricelist: str = "Promotions"
    ) -> int:
        """A dated percentage item for a variant on a pricelist ("YYYY-MM-DD HH:MM:SS" bounds); its id."""
        product = self.variant(sku)
        with self.server.store.transaction():
            env = self.env()
            (pricelist_id,) = env.search("product.pricelist", [("name", "=", pricelist)], limit=1)
            values = {
                "pricelist_id": pricelist_id,
                "applied_on": "0_product_variant",
                "product_id": product,
                "compute_price": "percentage",
                "percent_price": percent,
                "date_start": start,
                "date_end": end,
            }
            return env.create("product.pricelist.item", [values])[0]

    def ship(self, order_id: int, tracking: str | None = None) -> int:
        """Validate the order's open delivery with a tracking reference; the picking's id."""
        with self.server.store.transaction():
            env = self.env()
            picking = env.search(
                "stock.picking",
                [
                    ("sale_id", "=", order_id),
                    ("state", "not in", ["done", "cancel"]),
                    ("picking_type_code", "=", "outgoing"),
                ],
                limit=1,
            )[0]
            if tracking:
                env.write("stock.picking", [picking], {"carrier_tracking_ref": tracking})
            dispatch(env, "stock.picking", "button_validate", [picking], [], {})
            return picking

    def invoice(self, order_id: int, *, post: bool = True, pay: bool = False) -> int:
        """Invoice a confirmed order (posted, and paid in full if asked); the invoice's id."""
        with self.server.store.transaction():
            env = self.env()
            move = invoice_order(env, order_id)
            if post:
                dispatch(env, "account.move", "action_post", [move], [], {})
        if pay:
            self.pay(move)
        return move

    def pay(self, move_id: int) -> None:
        """Register the full payment of a posted invoice through account.payment.register."""
        context = {"active_model": "account.move", "active_ids": [move_id]}
        with self.server.store.transaction():
            env = self.env(context)
            (wizard,) = env.create("account.payment.register", [{}])
            dispatch(env, "account.payment.register", "action_create_payments", [wizard], [], {})

    def cancel_sale(self, order_id: int) -> None:
        """Cancel a sale the way the cancel wizard does."""
        with self.server.store.transaction():
            env = self.env()
            (wizard,) = env.create("sale.order.cancel", [{"order_id": order_id}])
            dispatch(env, "sale.order.cancel", "action_cancel", [wizard], [], {})

    def credit_note(self, invoice_id: int, *, post: bool = True, reason: str = "Refund") -> int:
        """Reverse an invoice with account.move.reversal (a full credit note); the credit note's id."""
        context = {"active_model": "account.move", "active_ids": [invoice_id]}
        with self.server.store.transaction():
            env = self.env(context)
            (wizard,) = env.create("account.move.reversal", [{"reason": reason}])
            action = dispatch(env, "account.move.reversal", "refund_moves", [wizard], [], {})
            if post:
                dispatch(env, "account.move", "action_post", [action["res_id"]], [], {})
            return int(action["res_id"])

    def restamp(self, model: str, ids: list[int], write_date: str) -> None:
        """Set write_date directly in the database (tests of change feeds move records into the past)."""
        with self.server.store.transaction():
            for record_id in ids:
                self.server.store.table(model)[record_id]["write_date"] = write_date
                self.server.store.touch(model, record_id)
