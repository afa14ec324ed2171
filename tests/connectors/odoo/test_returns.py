"""Shop refunds into Odoo on the sandbox: a posted credit note of the refunded amounts, on restock the goods
back; exactly once; read back as the shop's refund; credit notes made in Odoo as ERP refunds."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.odoo.connector import OdooConnector
from emporion.model.orders import Order, Refund, RefundLine, RefundOrigin
from tests.connectors.odoo.conftest import RunningSandbox
from tests.connectors.odoo.sales_support import OPTIONS, connector, order, partner, stocked, tag

__all__ = ["connector"]


async def shipped_sale(
    connector: OdooConnector, sandbox: RunningSandbox, label: str
) -> tuple[Order, int, str]:
    """A shop order made a sale, shipped and invoiced in Odoo: the order, the sale id and the SKU."""
    sku = stocked(sandbox, label)
    shop = order(label, await partner(connector, f"{label}@example.com"), sku)
    (outcome,) = await connector.write_sales([WriteItem(shop.key, shop)], OPTIONS)
    assert outcome.target_ref, outcome.error
    sale_id = int(outcome.target_ref["id"])
    sandbox.sandbox.ship(sale_id, tracking=f"TRK-{label}")
    sandbox.sandbox.invoice(sale_id)
    return shop, sale_id, sku


def free_qty(sandbox: RunningSandbox, sku: str) -> Decimal:
    """What the warehouse WH has free of `sku`."""
    (row,) = sandbox.sandbox.search_read(
        "product.product",
        [("default_code", "=", sku)],
        ["free_qty"],
        context={"warehouse_id": sandbox.sandbox.warehouse("WH")},
    )
    return Decimal(str(row["free_qty"]))


async def test_a_refund_with_restock_is_one_credit_note_and_the_goods_back(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """One of two units refunded (10.00 + 1.90 tax) and restocked: a posted credit note of 11.90 pointing at
    the invoice, a done return picking, stock up by one; written again: matched, nothing new."""
    label = tag()
    shop, sale_id, sku = await shipped_sale(connector, odoo_sandbox, label)
    before = free_qty(odoo_sandbox, sku)
    refund = Refund(
        key="77",
        amount=Decimal("11.90"),
        lines=[
            RefundLine(line_key="1", sku=sku, quantity=Decimal(1), amount=Decimal(10), tax=Decimal("1.90"))
        ],
        restock=True,
    )
    item = WriteItem(shop.key, shop.model_copy(update={"refunds": [refund]}), {"id": sale_id})
    (first,) = await connector.write("return", [item], [])
    assert first.status is OutcomeStatus.CREATED and first.target_ref, first.error
    (again,) = await connector.write("return", [item], [])
    assert again.status is OutcomeStatus.MATCHED and again.target_ref == first.target_ref
    notes = odoo_sandbox.sandbox.search_read(
        "account.move",
        [("move_type", "=", "out_refund"), ("ref", "=", f"{shop.reference}/R77")],
        ["state", "amount_total", "reversed_entry_id"],
    )
    assert len(notes) == 1 and notes[0]["state"] == "posted" and notes[0]["reversed_entry_id"]
    assert Decimal(str(notes[0]["amount_total"])) == Decimal("11.90")
    returns = odoo_sandbox.sandbox.search_read(
        "stock.picking", [("origin", "=", f"{shop.reference}/R77")], ["state", "picking_type_code"]
    )
    assert [(r["state"], r["picking_type_code"]) for r in returns] == [("done", "incoming")]
    assert free_qty(odoo_sandbox, sku) == before + 1
    (back,) = await connector.read("order", [str(sale_id)])
    assert isinstance(back, Order)
    (read_refund,) = back.refunds
    assert read_refund.key == "77" and read_refund.origin is RefundOrigin.SHOP and read_refund.restock
    assert read_refund.amount == Decimal("11.90") and [line.sku for line in read_refund.lines] == [sku]
    assert any(invoice.credit_note and invoice.total == Decimal("-11.90") for invoice in back.invoices)


async def test_a_refund_of_money_only_needs_no_goods_and_no_shipment(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Shipping refunded (4.90 + 0.93): a credit note of the delivery product, nothing received back."""
    label = tag()
    shop, sale_id, _sku = await shipped_sale(connector, odoo_sandbox, label)
    refund = Refund(key="5", amount=Decimal("5.83"), shipping=Decimal("4.90"), shipping_tax=Decimal("0.93"))
    item = WriteItem(shop.key, shop.model_copy(update={"refunds": [refund]}), {"id": sale_id})
    (outcome,) = await connector.write("return", [item], [])
    assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref, outcome.error
    assert outcome.target_ref["return_picking"] is None
    (note,) = odoo_sandbox.sandbox.search_read(
        "account.move", [("id", "=", outcome.target_ref["credit_note"])], ["amount_total", "state"]
    )
    assert note["state"] == "posted" and Decimal(str(note["amount_total"])) == Decimal("5.83")


async def test_a_credit_note_made_in_odoo_is_an_erp_refund_and_is_matched_not_made_again(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """The merchant reverses the invoice in Odoo: the order reads an ERP refund keyed odoo:<id>; the shop's
    copy of it written back is matched to that credit note."""
    label = tag()
    shop, sale_id, _sku = await shipped_sale(connector, odoo_sandbox, label)
    (invoice,) = (
        odoo_sandbox.sandbox.search_read(
            "account.move",
            [("invoice_origin", "=", f"S{sale_id:05d}"), ("move_type", "=", "out_invoice")],
            ["id"],
        )
        or odoo_sandbox.sandbox.search_read("account.move", [("move_type", "=", "out_invoice")], ["id"])[-1:]
    )
    note = odoo_sandbox.sandbox.credit_note(invoice["id"])
    (back,) = await connector.read("order", [str(sale_id)])
    assert isinstance(back, Order)
    (refund,) = back.refunds
    assert (
        refund.key == f"odoo:{note}"
        and refund.origin is RefundOrigin.ERP
        and refund.amount == Decimal("29.63")
    )
    item = WriteItem(shop.key, shop.model_copy(update={"refunds": [refund]}), {"id": sale_id})
    (outcome,) = await connector.write("return", [item], [])
    assert outcome.status is OutcomeStatus.MATCHED and outcome.target_ref and outcome.target_ref["id"] == note


async def test_a_refund_of_a_quotation_fails_naming_the_status(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Nothing was sold yet: Permanent naming `status`."""
    label = tag()
    sku = stocked(odoo_sandbox, label)
    shop = order(label, await partner(connector, f"{label}@example.com"), sku)
    (outcome,) = await connector.write_sales(
        [WriteItem(shop.key, shop)], dataclasses.replace(OPTIONS, confirm=False)
    )
    assert outcome.target_ref, outcome.error
    refund = Refund(key="1", amount=Decimal("1.00"))
    item = WriteItem(shop.key, shop.model_copy(update={"refunds": [refund]}), outcome.target_ref)
    (failed,) = await connector.write("return", [item], [])
    assert isinstance(failed.error, Permanent) and failed.error.field == "status"
