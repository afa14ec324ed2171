"""Tryton sales read back as canonical Orders, and the order change feed (sales, shipments, returns).

A return sale points at the sale it returns through `origin = "sale.sale,<id>"` (Tryton's own
return wizard does the same), so returns become `Refund` records of the original sale. A return
created by emporion for a shop refund carries the shop's refund key in its reference
(`<sale reference>/R<refund key>`) and the origin `shop`; a return made in Tryton gets the key
`tryton:<return sale id>` and the origin `erp`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from emporion.connectors.base import ChangeBatch, Unmappable, map_or_unmappable
from emporion.connectors.guard import typed_mapping
from emporion.connectors.tryton import feed
from emporion.connectors.tryton.client import TrytonClient
from emporion.model.orders import (
    Address,
    Customer,
    FeeLine,
    Invoice,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
    RefundOrigin,
    Shipment,
    ShippingLine,
)

RETURN_MARK = "/R"  # <sale reference>/R<refund key>
TRYTON_KEY = "tryton:"  # refund key of a return made in Tryton: tryton:<return sale id>
SALE_ORIGIN = "sale.sale,"
PROCESSED = ("confirmed", "processing", "done")
POSTED = ("posted", "paid")
ADDRESS_FIELDS = ("street", "postal_code", "city", "country.code", "subdivision.code")
SALE_FIELDS = [
    "number",
    "reference",
    "state",
    "currency.code",
    "party.name",
    "party.email",
    "party.phone",
    *(f"invoice_address.{name}" for name in ADDRESS_FIELDS),
    *(f"shipment_address.{name}" for name in ADDRESS_FIELDS),
    "lines",
    "shipments",
    "shipment_returns",
    "invoices",
    "untaxed_amount",
    "tax_amount",
    "total_amount",
    "origin",
    "create_date",
    "write_date",
    "description",
    "carrier.carrier_product",
]
LINE_FIELDS = [
    "sale",
    "type",
    "product",
    "product.code",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "shipment_cost",
]
SHIPMENT_FIELDS = [
    "state",
    "effective_date",
    "carrier.rec_name",
    "carrier.party.name",
    "shipping_reference",
    "packages",
]


def refund_key(return_sale: dict[str, Any], original_reference: str | None) -> str:
    """The refund key of a return sale: the shop's key it was made for, else `tryton:<id>`."""
    reference = return_sale.get("reference") or ""
    prefix = f"{original_reference}{RETURN_MARK}" if original_reference else None
    if prefix and reference.startswith(prefix) and len(reference) > len(prefix):
        return reference[len(prefix) :]
    return f"{TRYTON_KEY}{return_sale['id']}"


def order_status(sale_state: str, shipment_states: Sequence[str]) -> OrderStatus:
    """The canonical status of a sale from its state and its outgoing shipments' states."""
    if sale_state in ("draft", "quotation"):
        return OrderStatus.PENDING
    if sale_state == "cancelled":
        return OrderStatus.CANCELLED
    live = [state for state in shipment_states if state != "cancelled"]
    if shipment_states and not live:  # every shipment cancelled: the way a processing sale is cancelled
        return OrderStatus.CANCELLED
    done = sum(1 for state in live if state == "done")
    if sale_state == "done" or (live and done == len(live)):
        return OrderStatus.COMPLETED
    if done:
        return OrderStatus.SHIPPED
    return OrderStatus.PROCESSING


def origin_sale(origin: Any) -> int | None:
    """The sale id of a `sale.sale,<id>` origin, else None."""
    if isinstance(origin, str) and origin.startswith(SALE_ORIGIN):
        tail = origin[len(SALE_ORIGIN) :]
        return int(tail) if tail.isdigit() else None
    return None


def _address(row: dict[str, Any], name: str, email: str, phone: str) -> Address:
    data = row.get(f"{name}.") or {}
    return Address(
        street=(data.get("street") or "").strip(),
        postcode=data.get("postal_code") or "",
        city=data.get("city") or "",
        country=(data.get("country.") or {}).get("code") or "",
        state=((data.get("subdivision.") or {}).get("code") or "").rpartition("-")[2],
        email=email,
        phone=phone,
    )


def _customer(row: dict[str, Any]) -> Customer:
    party = row.get("party.") or {}
    name = (party.get("name") or "").strip()
    first, _, last = name.rpartition(" ")
    return Customer(
        key=str(row["party"]) if "party" in row else str(party.get("id", "")),
        email=party.get("email") or "",
        first_name=first,
        last_name=last,
        phone=party.get("phone") or "",
    )


class SalesReader:
    """Reads Tryton sales with their lines, shipments, invoices and returns in a few batched calls."""

    def __init__(self, client: TrytonClient, page_size: int = 500) -> None:
        self.client = client
        self.page_size = page_size

    async def orders(self, sale_ids: Sequence[int]) -> list[Order | Unmappable]:
        """Canonical Orders for the sales that exist among `sale_ids`, in id order (Unmappable if broken)."""
        client = self.client
        wanted = sorted(set(sale_ids))
        sales: list[dict[str, Any]] = []
        for start in range(0, len(wanted), self.page_size):  # search, not read: gone sales are left out
            chunk = wanted[start : start + self.page_size]
            sales += await client.search_read(
                "sale.sale", [("id", "in", chunk)], [*SALE_FIELDS, "party"], order=[("id", "ASC")]
            )
        if not sales:
            return []
        line_ids = [line for sale in sales for line in sale["lines"]]
        shipment_ids = sorted({ship for sale in sales for ship in sale["shipments"]})
        invoice_ids = sorted({inv for sale in sales for inv in sale["invoices"]})
        returns = await client.search_read(
            "sale.sale",
            [("origin", "in", [f"{SALE_ORIGIN}{sale['id']}" for sale in sales]), ("state", "in", PROCESSED)],
            ["reference", "origin", "lines", "shipment_returns", "invoices", "total_amount", "create_date"],
            order=[("id", "ASC")],
        )
        line_ids += [line for sale in returns for line in sale["lines"]]
        return_shipment_ids = sorted({ship for sale in returns for ship in sale["shipment_returns"]})
        invoice_ids = sorted({*invoice_ids, *(inv for sale in returns for inv in sale["invoices"])})
        lines = {row["id"]: row for row in await client.read("sale.line", line_ids, LINE_FIELDS)}
        shipments = {
            row["id"]: row for row in await client.read("stock.shipment.out", shipment_ids, SHIPMENT_FIELDS)
        }
        package_ids = sorted({pkg for row in shipments.values() for pkg in row["packages"]})
        packages = {
            row["id"]: row for row in await client.read("stock.package", package_ids, ["shipping_reference"])
        }
        return_states = {
            row["id"]: row["state"]
            for row in await client.read("stock.shipment.out.return", return_shipment_ids, ["state"])
        }
        invoices = {
            row["id"]: row
            for row in await client.read("account.invoice", invoice_ids, ["number", "state", "total_amount"])
        }
        returns_of: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in returns:
            if (original := origin_sale(row["origin"])) is not None:
                returns_of[original].append(row)
        context = SaleFacts(lines, shipments, packages, invoices, return_states)
        return [
            map_or_unmappable(str(sale["id"]), partial(sale_order, sale, returns_of[sale["id"]], context))
            for sale in sales
        ]


@typed_mapping("sale")
def sale_order(sale: dict[str, Any], returns: list[dict[str, Any]], facts: SaleFacts) -> Order:
    """One Tryton sale, with its returns, as a canonical Order (Permanent naming sale and field if not)."""
    party = sale.get("party.") or {}
    email, phone = party.get("email") or "", party.get("phone") or ""
    order_lines: list[OrderLine] = []
    shipping_lines: list[ShippingLine] = []
    fees: list[FeeLine] = []
    for line_id in sale["lines"]:
        line = facts.lines[line_id]
        if line["type"] != "line":
            continue
        amount = line["amount"] or Decimal(0)
        carrier_product = (sale.get("carrier.") or {}).get("carrier_product")
        if line.get("shipment_cost") is not None or (
            carrier_product and line.get("product") == carrier_product
        ):
            shipping_lines.append(ShippingLine(title=line.get("description") or "", total=amount))
            continue
        if not line.get("product"):  # a fee or allowance, as emporion writes them
            fees.append(FeeLine(key=str(line_id), name=line.get("description") or "", total=amount))
            continue
        order_lines.append(
            OrderLine(
                key=str(line_id),
                sku=(line.get("product.") or {}).get("code") or "",
                name=line.get("description") or "",
                quantity=Decimal(str(line["quantity"] or 0)),
                unit_price=line["unit_price"] or Decimal(0),
                total=amount,
                product_key=str(line["product"]) if line.get("product") else None,
            )
        )
    shipments = [facts.shipment(ship_id) for ship_id in sale["shipments"]]
    invoices = [facts.invoice(inv) for inv in sale["invoices"] if facts.invoices[inv]["state"] in POSTED]
    refunds: list[Refund] = []
    for ret in returns:
        refund, credit_notes = facts.refund(ret, sale.get("reference"))
        refunds.append(refund)
        invoices.extend(credit_notes)
    return Order(
        key=str(sale["id"]),
        number=sale.get("number") or "",
        status=order_status(sale["state"], [ship.state for ship in shipments]),
        raw_status=sale["state"],
        currency=(sale.get("currency.") or {}).get("code") or "",
        created_at=sale.get("create_date"),
        modified_at=sale.get("write_date") or sale.get("create_date"),
        customer=_customer(sale),
        billing=_address(sale, "invoice_address", email, phone),
        shipping=_address(sale, "shipment_address", "", phone),
        lines=order_lines,
        shipping_lines=shipping_lines,
        fees=fees,
        shipping_total=sum((line.total for line in shipping_lines), Decimal(0)),
        tax_total=sale.get("tax_amount") or Decimal(0),
        total=sale.get("total_amount") or Decimal(0),
        customer_note=sale.get("description") or "",
        shipments=shipments,
        invoices=invoices,
        refunds=refunds,
        reference=sale.get("reference"),
    )


def carrier_name(carrier: dict[str, Any] | None) -> str:
    """The carrier as customers know it (its party's name, e.g. "DHL"), else Tryton's record name."""
    if not carrier:
        return ""
    return ((carrier.get("party.") or {}).get("name") or carrier.get("rec_name") or "").strip()


class SaleFacts:
    """The rows read for a batch of sales, with the small mappings from rows to parts."""

    def __init__(
        self,
        lines: dict[int, dict[str, Any]],
        shipments: dict[int, dict[str, Any]],
        packages: dict[int, dict[str, Any]],
        invoices: dict[int, dict[str, Any]],
        return_states: dict[int, str],
    ) -> None:
        self.lines = lines
        self.shipments = shipments
        self.packages = packages
        self.invoices = invoices
        self.return_states = return_states

    def shipment(self, shipment_id: int) -> Shipment:
        row = self.shipments[shipment_id]
        references = [row.get("shipping_reference")] + [
            self.packages[pkg].get("shipping_reference") for pkg in row["packages"] if pkg in self.packages
        ]
        tracking = list(dict.fromkeys(ref for ref in references if ref))
        effective = row.get("effective_date")
        shipped_at = (
            dt.datetime.combine(effective, dt.time(), tzinfo=dt.UTC)
            if isinstance(effective, dt.date) and row["state"] == "done"
            else None
        )
        return Shipment(
            key=str(shipment_id),
            state=row["state"],
            carrier=carrier_name(row.get("carrier.")),
            tracking_numbers=tracking,
            shipped_at=shipped_at,
        )

    def invoice(self, invoice_id: int) -> Invoice:
        row = self.invoices[invoice_id]
        total = row.get("total_amount") or Decimal(0)
        return Invoice(
            key=str(invoice_id),
            number=row.get("number") or "",
            state=row["state"],
            total=total,
            credit_note=total < 0,
        )

    def refund(self, ret: dict[str, Any], original_reference: str | None) -> tuple[Refund, list[Invoice]]:
        """A processed return sale as a Refund of its original sale, with its posted credit notes."""
        restock = any(self.return_states.get(ship) == "done" for ship in ret["shipment_returns"])
        lines = []
        for line_id in ret["lines"]:
            line = self.lines[line_id]
            if line["type"] != "line" or line.get("product") is None:
                continue
            lines.append(
                RefundLine(
                    line_key=str(line_id),
                    sku=(line.get("product.") or {}).get("code") or "",
                    quantity=abs(Decimal(str(line["quantity"] or 0))),
                    amount=abs(line["amount"] or Decimal(0)),
                    restock=restock,
                )
            )
        created = ret.get("create_date")
        key = refund_key(ret, original_reference)
        refund = Refund(
            key=key,
            origin=RefundOrigin.ERP if key.startswith(TRYTON_KEY) else RefundOrigin.SHOP,
            amount=abs(ret.get("total_amount") or Decimal(0)),
            lines=lines,
            restock=restock,
            created_at=created.replace(tzinfo=dt.UTC) if isinstance(created, dt.datetime) else None,
        )
        notes = [self.invoice(inv) for inv in ret["invoices"] if self.invoices[inv]["state"] in POSTED]
        return refund, notes


ORDER_SOURCES = (
    feed.FeedSource("sale.sale", ("reference", "origin")),
    feed.FeedSource("stock.shipment.out"),
    feed.FeedSource("stock.package", ("shipment",)),
    feed.FeedSource("stock.shipment.out.return"),
    feed.FeedSource("account.invoice"),
)


class OrderFeed:
    """Sale ids whose sale, outgoing shipments, packages, invoices or returns changed since a cursor."""

    def __init__(
        self,
        client: TrytonClient,
        *,
        overlap: dt.timedelta,
        page_size: int = 500,
        reference_prefixes: Sequence[str] | None = None,
    ) -> None:
        self.client = client
        self.overlap = overlap
        self.page_size = page_size
        self.reference_prefixes = tuple(reference_prefixes or ())

    async def changes(self, cursor: str | None) -> ChangeBatch:
        """Changed shop sales since `cursor` (None: from now on) and the next cursor."""
        position = feed.FeedCursor.loads(cursor) if cursor else None
        rows, next_cursor = await feed.poll(
            self.client, ORDER_SOURCES, position, overlap=self.overlap, page_size=self.page_size
        )
        sale_ids = {row["id"] for row in rows["sale.sale"]}
        shipment_ids = {row["id"] for row in rows["stock.shipment.out"]}
        for package in rows["stock.package"]:
            model, _, ident = (package.get("shipment") or "").partition(",")
            if model == "stock.shipment.out" and ident.isdigit():
                shipment_ids.add(int(ident))
        searches = [
            ("shipments", sorted(shipment_ids)),
            ("shipment_returns", sorted(row["id"] for row in rows["stock.shipment.out.return"])),
            ("invoices", sorted(row["id"] for row in rows["account.invoice"])),
        ]
        for field_name, ids in searches:
            if ids:
                found = await self.client.search_read(
                    "sale.sale", [(field_name, "in", ids)], ["id"], context=feed.ALL_ROWS
                )
                sale_ids |= {row["id"] for row in found}
        keys = await self._shop_sales(sale_ids)
        return ChangeBatch(keys=[str(key) for key in sorted(keys)], cursor=next_cursor.dumps())

    async def _shop_sales(self, sale_ids: set[int]) -> set[int]:
        """Originals of returns in place of the returns; only sales with a (matching) reference."""
        if not sale_ids:
            return set()
        rows = await self.client.read("sale.sale", sorted(sale_ids), ["reference", "origin"])
        targets = {origin_sale(row["origin"]) or row["id"] for row in rows}
        originals = await self.client.read("sale.sale", sorted(targets), ["reference"])
        return {row["id"] for row in originals if self._wanted(row.get("reference"))}

    def _wanted(self, reference: str | None) -> bool:
        if not reference:
            return False
        return not self.reference_prefixes or reference.startswith(self.reference_prefixes)
