"""The Odoo sandbox's business methods over the wire: confirmation and reservation, cancellation per
version, delivery with tracking, invoices, payments, credit notes, returns and tax rounding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emporion_devkit.sandbox.odoo import OdooSandbox
from tests.devkit.test_odoo_sandbox_wire import KEY, execute_kw, json2


class Api:
    """The integration user's calls over the version's protocol (JSON-RPC on 18, JSON-2 on 19)."""

    def __init__(self, sandbox: OdooSandbox) -> None:
        self.sandbox = sandbox
        self.line_taxes = "tax_ids" if sandbox.version >= 19 else "tax_id"

    def __call__(self, model: str, method: str, ids: list[int] | None = None, **params: Any) -> Any:
        """One call; the result (a failure raises with the error's name)."""
        if self.sandbox.version >= 19:
            body = {**params, **({"ids": ids} if ids is not None else {})}
            answer = json2(self.sandbox.base_url, model, method, body)
            if answer.status_code != 200:
                raise RuntimeError(answer.json()["name"])
            return answer.json()
        args = [ids] if ids is not None else []
        context = params.pop("context", None)
        positional = {"search": "domain", "search_read": "domain", "create": "vals_list", "write": "vals"}
        if method in positional:
            args.append(params.pop(positional[method]))
        if context is not None:
            params["context"] = context
        reply = execute_kw(
            self.sandbox.base_url, self.sandbox.ids["integration"], model, method, args, params
        )
        if "error" in reply:
            raise RuntimeError(reply["error"]["data"]["name"])
        return reply["result"]


@pytest.fixture(params=[18, 19])
def odoo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OdooSandbox]:
    """A sandbox per version played over its default protocol."""
    with OdooSandbox(tmp_path / "o.sqlite", version=request.param, api_key=KEY) as sandbox:
        yield sandbox


def free(api: Api, product: int, warehouse: int) -> float:
    """free_qty of a variant in a warehouse."""
    key = "warehouse_id"
    rows = api("product.product", "read", [product], fields=["free_qty"], context={key: warehouse})
    return float(rows[0]["free_qty"])


def order(api: Api, sku: str, quantity: float, price: float = 10.0) -> tuple[int, int]:
    """A sale of `quantity` of `sku` at `price` with 19 % tax; (order id, variant id)."""
    odoo = api.sandbox
    (partner,) = api("res.partner", "create", vals_list=[{"name": "Ada", "email": "ada@example.com"}])
    (product,) = api("product.product", "search", domain=[["default_code", "=", sku]])
    line = {
        "product_id": product,
        "product_uom_qty": quantity,
        "price_unit": price,
        api.line_taxes: [[6, 0, [odoo.ids["taxes"]["19"]]]],
    }
    (order_id,) = api(
        "sale.order",
        "create",
        vals_list=[{"partner_id": partner, "client_order_ref": "WC-1", "order_line": [[0, 0, line]]}],
    )
    return order_id, product


def stocked_sku(odoo: OdooSandbox) -> str:
    """A simple product's SKU with stock in WH."""
    for row in odoo.search_read(
        "product.product",
        [("default_code", "like", "SKU-")],
        ["default_code", "free_qty"],
        context={"warehouse_id": odoo.warehouse("WH")},
    ):
        if row["free_qty"] >= 3:
            return str(row["default_code"])
    raise AssertionError("the sample catalogue has no stocked product")


def test_confirm_reserves_stock_then_shipping_with_tracking_completes_the_delivery(odoo: OdooSandbox) -> None:
    api, sku = Api(odoo), stocked_sku(odoo)
    order_id, product = order(api, sku, 2)
    before = free(api, product, odoo.warehouse("WH"))
    (draft,) = api(
        "sale.order",
        "read",
        [order_id],
        fields=["state", "amount_untaxed", "amount_tax", "amount_total", "name"],
    )
    assert draft["state"] == "draft" and draft["name"].startswith("S")
    assert (draft["amount_untaxed"], draft["amount_tax"], draft["amount_total"]) == (20.0, 3.8, 23.8)
    assert api("sale.order", "action_confirm", [order_id]) is True
    assert free(api, product, odoo.warehouse("WH")) == before - 2
    with pytest.raises(RuntimeError, match="UserError"):
        api("sale.order", "action_confirm", [order_id])
    (picking,) = api(
        "stock.picking",
        "search_read",
        domain=[["sale_id", "=", order_id]],
        fields=["name", "state", "picking_type_code"],
    )
    assert picking["name"] == "WH/OUT/00001" and picking["state"] == "assigned"
    assert picking["picking_type_code"] == "outgoing"
    api("stock.picking", "write", [picking["id"]], vals={"carrier_tracking_ref": "TRACK-1"})
    assert api("stock.picking", "button_validate", [picking["id"]]) is True
    (done,) = api(
        "stock.picking", "read", [picking["id"]], fields=["state", "date_done", "carrier_tracking_ref"]
    )
    assert done["state"] == "done" and done["date_done"] and done["carrier_tracking_ref"] == "TRACK-1"
    (line,) = api(
        "sale.order.line", "search_read", domain=[["order_id", "=", order_id]], fields=["qty_delivered"]
    )
    assert line["qty_delivered"] == 2.0


def test_cancel_opens_the_wizard_on_18_and_cancels_on_19(odoo: OdooSandbox) -> None:
    api, sku = Api(odoo), stocked_sku(odoo)
    order_id, product = order(api, sku, 1)
    before = free(api, product, odoo.warehouse("WH"))
    api("sale.order", "action_confirm", [order_id])
    answer = api("sale.order", "action_cancel", [order_id])
    (state,) = api("sale.order", "read", [order_id], fields=["state"])
    if odoo.version == 18:
        assert answer["res_model"] == "sale.order.cancel" and state["state"] == "sale"
        (wizard,) = api("sale.order.cancel", "create", vals_list=[{"order_id": order_id}])
        assert api("sale.order.cancel", "action_cancel", [wizard]) is True
    else:
        assert answer is True and state["state"] == "cancel"
    assert api("sale.order", "read", [order_id], fields=["state"])[0]["state"] == "cancel"
    assert free(api, product, odoo.warehouse("WH")) == before
    (picking,) = api("stock.picking", "search_read", domain=[["sale_id", "=", order_id]], fields=["state"])
    assert picking["state"] == "cancel"


def test_invoice_payment_credit_note_and_return(odoo: OdooSandbox) -> None:
    api, sku = Api(odoo), stocked_sku(odoo)
    order_id, product = order(api, sku, 2)
    api("sale.order", "action_confirm", [order_id])
    odoo.ship(order_id, "TRACK-2")
    context = {"active_model": "sale.order", "active_ids": [order_id]}
    (wizard,) = api(
        "sale.advance.payment.inv",
        "create",
        vals_list=[{"advance_payment_method": "delivered"}],
        context=context,
    )
    api("sale.advance.payment.inv", "create_invoices", [wizard], context=context)
    (invoice_id,) = api("sale.order", "read", [order_id], fields=["invoice_ids"])[0]["invoice_ids"]
    (draft,) = api("account.move", "read", [invoice_id], fields=["name", "state", "ref"])
    assert draft["name"] is False and draft["state"] == "draft" and draft["ref"] == "WC-1"
    assert api("account.move", "action_post", [invoice_id]) is False
    on_move = {"active_model": "account.move", "active_ids": [invoice_id]}
    (payment,) = api(
        "account.payment.register", "create", vals_list=[{"communication": "WC-1"}], context=on_move
    )
    assert api("account.payment.register", "action_create_payments", [payment], context=on_move)[
        "res_model"
    ] == ("account.payment")
    (paid,) = api(
        "account.move",
        "read",
        [invoice_id],
        fields=["name", "payment_state", "amount_total", "amount_residual"],
    )
    assert (
        paid["name"].startswith("INV/") and paid["payment_state"] == "paid" and paid["amount_residual"] == 0.0
    )
    (reversal,) = api(
        "account.move.reversal", "create", vals_list=[{"reason": "refund", "journal_id": 1}], context=on_move
    )
    action = api("account.move.reversal", "refund_moves", [reversal], context=on_move)
    api("account.move", "action_post", [action["res_id"]])
    (refund,) = api(
        "account.move",
        "read",
        [action["res_id"]],
        fields=["name", "move_type", "amount_total", "reversed_entry_id"],
    )
    assert refund["name"].startswith("RINV/") and refund["move_type"] == "out_refund"
    assert refund["amount_total"] == paid["amount_total"] and refund["reversed_entry_id"][0] == invoice_id
    (picking,) = api("stock.picking", "search", domain=[["sale_id", "=", order_id]])
    before = free(api, product, odoo.warehouse("WH"))
    (back,) = api(
        "stock.return.picking",
        "create",
        vals_list=[{"picking_id": picking}],
        context={"active_id": picking, "active_model": "stock.picking"},
    )
    lines = api(
        "stock.return.picking.line",
        "search_read",
        domain=[["wizard_id", "=", back]],
        fields=["quantity", "move_quantity"],
    )
    assert [(r["quantity"], r["move_quantity"]) for r in lines] == [(0.0, 2.0)]
    with pytest.raises(RuntimeError, match="UserError"):
        api("stock.return.picking", "action_create_returns", [back])
    api(
        "stock.return.picking",
        "write",
        [back],
        vals={"product_return_moves": [[1, lines[0]["id"], {"quantity": 1}]]},
    )
    returned = api("stock.return.picking", "action_create_returns", [back])
    api("stock.picking", "button_validate", [returned["res_id"]])
    assert free(api, product, odoo.warehouse("WH")) == before + 1
    (line,) = api(
        "sale.order.line", "search_read", domain=[["order_id", "=", order_id]], fields=["qty_delivered"]
    )
    assert line["qty_delivered"] == 1.0


def test_tax_rounding_per_line_on_18_and_globally_on_19(odoo: OdooSandbox) -> None:
    api = Api(odoo)
    (partner,) = api("res.partner", "create", vals_list=[{"name": "Bo", "email": "bo@example.com"}])
    products = api("product.product", "search", domain=[["default_code", "like", "SKU-"]], limit=3)
    lines = [
        [
            0,
            0,
            {
                "product_id": p,
                "product_uom_qty": 1,
                "price_unit": 0.99,
                api.line_taxes: [[6, 0, [odoo.ids["taxes"]["19"]]]],
            },
        ]
        for p in products
    ]
    (order_id,) = api("sale.order", "create", vals_list=[{"partner_id": partner, "order_line": lines}])
    (totals,) = api("sale.order", "read", [order_id], fields=["amount_tax", "amount_total"])
    expected = (0.57, 3.54) if odoo.version == 18 else (0.56, 3.53)
    assert (totals["amount_tax"], totals["amount_total"]) == expected


@pytest.mark.parametrize("version", [17, 18, 19])
def test_a_customer_payment_posts_with_the_versions_memo(version: int, tmp_path: Path) -> None:
    """account.payment: created in draft with 17's `ref` or 18+'s `memo` (the other name refused),
    posted by action_post (17: posted; 18, 19: in_process through a bank journal), found by its memo."""
    with OdooSandbox(tmp_path / "p.sqlite", version=version, api_key=KEY) as odoo:
        api = Api(odoo)
        memo, other = ("ref", "memo") if version == 17 else ("memo", "ref")
        (bank,) = api(
            "account.journal", "search", domain=[["name", "=", "Bank"], ["type", "in", ["bank", "cash"]]]
        )
        (partner,) = api("res.partner", "create", vals_list=[{"name": "Ada Lovelace"}])
        values = {"payment_type": "inbound", "partner_type": "customer", "amount": 29.63, "journal_id": bank}
        with pytest.raises(RuntimeError, match="ValueError"):
            api("account.payment", "create", vals_list=[{**values, other: "WC-1"}])
        (payment,) = api(
            "account.payment", "create", vals_list=[{**values, memo: "WC-1", "partner_id": partner}]
        )
        assert api("account.payment", "read", [payment], fields=["state"])[0]["state"] == "draft"
        api("account.payment", "action_post", [payment])
        found = api("account.payment", "search_read", domain=[[memo, "=", "WC-1"]], fields=["state", "name"])
        assert [(p["id"], p["state"]) for p in found] == [
            (payment, "posted" if version == 17 else "in_process")
        ]
        assert found[0]["name"]
