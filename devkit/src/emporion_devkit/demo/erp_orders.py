"""Merchant actions on Tryton sales by reference (ship, invoice, cancel, return), for the demo and the tests.

They go through Tryton's JSON-RPC API like a user in the Tryton client would, so the order change
feed sees real changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emporion.connectors.tryton.client import TrytonClient, TrytonWarning
from emporion.connectors.tryton.returns import ReturnWriter
from emporion.model.orders import Refund, RefundLine

OPEN_SHIPMENT = ("draft", "waiting", "assigned", "picked", "packed", "shipped")


async def sale_by_reference(client: TrytonClient, reference: str) -> dict[str, Any]:
    """The sale.sale row with this reference (shipments, invoices, state)."""
    rows = await client.search_read(
        "sale.sale",
        [("reference", "=", reference)],
        ["id", "state", "shipments", "invoices", "currency.code"],
        limit=1,
    )
    if not rows:
        raise LookupError(f"no sale with reference {reference!r} in Tryton")
    return rows[0]


async def _carrier_id(client: TrytonClient, name: str) -> int:
    rows = await client.search_read("carrier", [("rec_name", "=", name)], ["id"], limit=1)
    if not rows:
        rows = await client.search_read("carrier", [("party.name", "=", name)], ["id"], limit=1)
    if not rows:
        raise LookupError(f"no carrier named {name!r} in Tryton")
    return int(rows[0]["id"])


async def ship_sale(
    client: TrytonClient, reference: str, tracking_number: str, carrier: str | None = None
) -> list[int]:
    """Ship every open customer shipment of a sale with a tracking number: assign, pick, pack, done.

    The tracking number goes to the shipment's `shipping_reference`, where `stock_package_shipping`
    keeps the carrier's reference.
    """
    sale = await sale_by_reference(client, reference)
    shipments = await client.read("stock.shipment.out", sale["shipments"], ["state"])
    open_ids = [row["id"] for row in shipments if row["state"] in OPEN_SHIPMENT]
    if not open_ids:
        return []
    values: dict[str, Any] = {"shipping_reference": tracking_number}
    if carrier:
        values["carrier"] = await _carrier_id(client, carrier)
    await client.model("stock.shipment.out", "write", open_ids, values)
    for button in ("wait", "assign_force", "pick", "pack", "do"):
        rows = await client.read("stock.shipment.out", open_ids, ["state"])
        ready = [row["id"] for row in rows if row["state"] not in ("done", "cancelled")]
        if ready:
            await client.model("stock.shipment.out", button, ready)
    return open_ids


async def post_invoices(client: TrytonClient, reference: str) -> list[int]:
    """Post the draft invoices of a sale; the ids of the invoices posted."""
    sale = await sale_by_reference(client, reference)
    rows = await client.read("account.invoice", sale["invoices"], ["state"])
    drafts = [row["id"] for row in rows if row["state"] in ("draft", "validated")]
    if drafts:
        for _invoice in range(len(drafts)):
            try:
                await client.model("account.invoice", "post", drafts)
                break
            except TrytonWarning as warning:  # the shop's taxes are not the products' own: "yes", as a person
                await client.model("res.user.warning", "skip", warning.key, False)
        else:
            await client.model("account.invoice", "post", drafts)
    return drafts


async def cancel_sale(client: TrytonClient, reference: str) -> None:
    """Cancel a sale the way Tryton allows: a draft, quotation or confirmed sale is cancelled; a
    processing one has its open shipments and draft invoices cancelled (nothing may have shipped)."""
    sale = await sale_by_reference(client, reference)
    if sale["state"] in ("draft", "quotation"):
        await client.model("sale.sale", "cancel", [sale["id"]])
        return
    if sale["state"] == "confirmed":
        await client.model("sale.sale", "draft", [sale["id"]])
        await client.model("sale.sale", "cancel", [sale["id"]])
        return
    shipments = await client.read("stock.shipment.out", sale["shipments"], ["state"])
    if any(row["state"] == "done" for row in shipments):
        raise ValueError(f"sale {reference!r} has shipped goods: return them instead")
    live = [row["id"] for row in shipments if row["state"] != "cancelled"]
    if live:
        await client.model("stock.shipment.out", "cancel", live)
    invoices = await client.read("account.invoice", sale["invoices"], ["state"])
    drafts = [row["id"] for row in invoices if row["state"] in ("draft", "validated")]
    if drafts:
        await client.model("account.invoice", "cancel", drafts)
    await client.model("sale.sale", "process", [sale["id"]])


async def return_sale(
    client: TrytonClient,
    reference: str,
    lines: dict[str, Decimal] | None = None,
    amount: Decimal | None = None,
) -> int:
    """A return processed in Tryton: return sale, received return shipment, posted credit note.

    `lines` maps SKUs to quantities returned; without lines, `amount` is credited on its own. The
    return sale gets no shop refund key, so it reads back as the refund `tryton:<return sale id>`.
    """
    sale = await sale_by_reference(client, reference)
    refund = Refund(
        key=f"tryton-return-{len(lines or {})}",
        amount=amount or Decimal(0),
        lines=[RefundLine(line_key=sku, sku=sku, quantity=qty) for sku, qty in (lines or {}).items()],
        restock=bool(lines),
    )
    return_id, _, _ = await ReturnWriter(client).apply(sale["id"], refund, reference, shop_refund=False)
    return return_id
