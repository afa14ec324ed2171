"""Shop orders as files the ERP imports, written once per reference; its progress read back from files.

Writing an order, so that the ERP never reads half a file and never gets one order twice:

1. the document is written under a temporary name (`.tmp-<name>`) in the orders folder;
2. the marker `<orders>/.sent/<reference>.json` (the order as written, with the file's name) is
   written, atomically;
3. the temporary file is renamed to its final name; only now can the ERP see it.

A write is searched by its marker first: a marker means the order was handed over (a temporary file
still there is renamed: step 3 of a write cut short), so writing it again only matches it, even after
the ERP took the file away. A crash before step 2 leaves no marker and only a temporary file, which
the next attempt overwrites. A sale's key (its `target_ref` id) is the shop order reference.

A cancellation is a file of its own (`cancel-<reference>.csv`: reference, number, cancelled_at),
written once (marker `<reference>.cancelled.json`). The ERP's progress (status, shipments, invoices)
comes from the status files it writes (`progress`), read through `rows.progress`.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.files.catalogue import Catalogue, parsing_of
from emporion.connectors.files.documents import DEFAULT_LINES, csv_document, safe_name
from emporion.connectors.files.drop import Drop
from emporion.connectors.files.opentrans import order_document
from emporion.connectors.files.settings import FilesConnection, OrderFileFormat, OrderFiles
from emporion.connectors.files.store import Store
from emporion.connectors.roles import SaleOptions
from emporion.connectors.rows.options import with_sale_options
from emporion.connectors.rows.orders import RowWriter, line_rows
from emporion.connectors.rows.progress import Progress, invoice_from, shipment_from, with_progress
from emporion.model import Customer, Order, OrderStatus, Record

SENT = ".sent"
WAITING = "waiting"  # under SENT: one small marker per order file still in the orders folder


class FilesSales:
    """The sales-target side of a file drop: order files out, progress files in."""

    def __init__(self, store: Store, settings: FilesConnection, catalogue: Catalogue, drop: Drop) -> None:
        self.store = store
        self.settings = settings
        self.catalogue = catalogue
        self.drop = drop
        self.orders: OrderFiles = settings.orders or OrderFiles()
        self.sent = posixpath.join(self.orders.folder, SENT)

    def _marker(self, reference: str, suffix: str = "") -> str:
        return posixpath.join(self.sent, f"{safe_name(reference)}{suffix}.json")

    def _waiting(self, path: str) -> str:
        """The marker of an order file the ERP has not taken yet: its lines' SKUs and quantities."""
        return posixpath.join(self.sent, WAITING, posixpath.basename(path) + ".json")

    def file_path(self, order: Order, reference: str) -> str:
        """Where an order's file goes: the configured name with its reference, in the orders folder."""
        extension = ".xml" if self.orders.format is OrderFileFormat.OPENTRANS else ".csv"
        name = self.orders.name.format(reference=safe_name(reference), number=safe_name(order.number))
        return posixpath.join(self.orders.folder, name + extension)

    def document(self, order: Order) -> bytes:
        """The order's file content in the configured format (the order already in the ERP's names)."""
        if self.orders.format is OrderFileFormat.OPENTRANS:
            return order_document(order, buyer_id=self.orders.buyer_id, supplier_id=self.orders.supplier_id)
        target = self.orders.lines or DEFAULT_LINES
        rows = line_rows(order, RowWriter(target, "order lines"))
        return csv_document(rows, list(target.columns), self.orders.csv)

    async def _json(self, path: str) -> dict[str, Any] | None:
        """A marker's content, None when it does not exist."""
        if not await self.store.exists(path):
            return None
        data: dict[str, Any] = json.loads(await self.store.read(path))
        return data

    async def write_customers(self, upserts: Sequence[WriteItem]) -> list[Outcome]:
        """Customers travel inside each order file; a customer's key is `email:<lower e-mail>`.

        A marker per customer (named by a hash of the e-mail, never the address itself) tells a
        customer met before (matched) from a new one (created).
        """
        outcomes = []
        for item in upserts:
            customer = item.record
            if not isinstance(customer, Customer) or not customer.email.strip():
                error = Permanent("a customer needs an e-mail", record=f"customer {item.key}", field="email")
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=error))
                continue
            email = customer.email.strip().lower()
            ref = {"id": f"email:{email}"}
            digest = hashlib.sha256(email.encode()).hexdigest()[:32]
            marker = posixpath.join(self.sent, "customers", digest)
            if await self.store.exists(marker):
                outcomes.append(Outcome(item.key, OutcomeStatus.MATCHED, ref))
                continue
            await self.store.write_atomic(marker, b"{}\n")
            outcomes.append(Outcome(item.key, OutcomeStatus.CREATED, ref))
        return outcomes

    async def write_sales(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """Hand each order to the ERP once (by reference), or its cancellation; one outcome each.

        The file carries the flow's names (`options`: payment methods, carriers, tax classes, the
        warehouse); the marker keeps the order as the shop sent it (what a read gives back).
        """
        outcomes = []
        owners = await self.catalogue.sku_owners() if "products" in self.catalogue.sources else None
        for item in upserts:
            try:
                outcomes.append(await self._write_sale(item, owners, options))
            except Permanent as error:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=error))
        return outcomes

    async def _write_sale(
        self, item: WriteItem, owners: dict[str, str] | None, options: SaleOptions
    ) -> Outcome:
        order = item.record
        if not isinstance(order, Order):
            raise Permanent("not an order", record=f"order {item.key}")
        if not order.reference:
            raise Permanent(
                "the order has no sale reference", record=f"order {order.number}", field="reference"
            )
        reference = order.reference
        ref = {"id": reference}
        marker = await self._json(self._marker(reference))
        if order.status is OrderStatus.CANCELLED:
            return await self._cancel(item, order, marker is not None)
        if marker is not None:
            temporary = posixpath.join(
                posixpath.dirname(marker["file"]), ".tmp-" + posixpath.basename(marker["file"])
            )
            if await self.store.exists(temporary):
                await self.store.move(temporary, marker["file"])  # a write cut short after its marker
            return Outcome(item.key, OutcomeStatus.MATCHED, ref)
        if owners is not None:
            for index, line in enumerate(order.lines):
                if line.sku not in owners:
                    raise Permanent(
                        "the ERP's files know no article with this SKU",
                        record=f"order {order.number}",
                        field=f"lines[{index}].sku",
                    )
        path = self.file_path(order, reference)
        temporary = await self.store.write_temporary(path, self.document(with_sale_options(order, options)))
        lines = [[line.sku, str(line.quantity)] for line in order.lines]
        waiting = {"reference": reference, "lines": lines}
        await self.store.write_atomic(self._waiting(path), json.dumps(waiting).encode())
        content = {
            "reference": reference,
            "file": path,
            "sent_at": datetime.now(UTC).isoformat(),
            "order": order.model_dump(mode="json"),
        }
        await self.store.write_atomic(self._marker(reference), json.dumps(content).encode())
        await self.store.move(temporary, path)
        return Outcome(item.key, OutcomeStatus.CREATED, ref)

    async def _cancel(self, item: WriteItem, order: Order, sent: bool) -> Outcome:
        """Write the cancellation file once; an order never handed over is only marked cancelled."""
        reference = order.reference or ""
        ref = {"id": reference}
        marker = self._marker(reference, ".cancelled")
        if await self.store.exists(marker):
            return Outcome(item.key, OutcomeStatus.UNCHANGED, ref)
        path = None
        if sent:
            path = posixpath.join(self.orders.folder, f"cancel-{safe_name(reference)}.csv")
            stamp = datetime.now(UTC)
            rows = [{"reference": reference, "number": order.number, "cancelled_at": stamp}]
            temporary = await self.store.write_temporary(
                path, csv_document(rows, ["reference", "number", "cancelled_at"], self.orders.csv)
            )
        content = {"reference": reference, "file": path, "order": order.model_dump(mode="json")}
        await self.store.write_atomic(marker, json.dumps(content).encode())
        if path is not None:
            await self.store.move(temporary, path)
        return Outcome(item.key, OutcomeStatus.UPDATED if sent else OutcomeStatus.CREATED, ref)

    async def progress(self) -> dict[str, Progress]:
        """The ERP's progress per reference, from its status files."""
        found: dict[str, Progress] = {}
        for name in ("progress_orders", "progress_shipments", "progress_invoices"):
            if name not in self.catalogue.sources:
                continue
            parsing = parsing_of(self.catalogue.sources[name])
            for key, fields in (await self.catalogue.rows(name)).fields.items():
                reference = str(fields.get("reference") or "")
                if not reference:
                    continue
                progress = found.setdefault(reference, Progress())
                if name == "progress_orders":
                    progress.add_order_fields(fields)
                elif name == "progress_shipments":
                    progress.shipments.append(shipment_from(key, fields, parsing))
                else:
                    progress.invoices.append(invoice_from(key, fields, parsing))
        return found

    async def read(self, keys: Sequence[str]) -> list[Record]:
        """The sales of `keys` (references) as canonical Orders, with the ERP's progress."""
        statuses = self.settings.progress.statuses if self.settings.progress else {}
        progress = await self.progress() if self.settings.progress else {}
        records: list[Record] = []
        for reference in dict.fromkeys(keys):
            marker = await self._json(self._marker(reference))
            cancelled = await self._json(self._marker(reference, ".cancelled"))
            content = marker or cancelled
            if content is None:
                continue
            order = Order.model_validate(content["order"]).model_copy(update={"key": reference})
            state = progress.get(reference, Progress())
            if cancelled is not None:
                state.cancellation = True
            records.append(with_progress(order, state, statuses))
        return records

    async def references(self) -> list[str]:
        """Every reference handed over, oldest first."""
        markers = await self.store.list(self.sent, "*.json")
        found = []
        for info in markers:
            data = await self._json(info.path)
            if data is not None and data.get("reference"):
                found.append(str(data["reference"]))
        return list(dict.fromkeys(found))

    async def scan(self, page_size: int) -> AsyncIterator[list[Record]]:
        """Every sale, page by page."""
        references = await self.references()
        for start in range(0, len(references), page_size):
            yield await self.read(references[start : start + page_size])

    async def pending_quantities(self, skus: Sequence[str]) -> dict[str, Decimal]:
        """Quantities on order files still waiting for the ERP (not taken, not cancelled): reserved.

        Only the markers of files still in the orders folder are read; the marker of a file the ERP
        took is removed here, so the work follows the open orders, not every order ever sent.
        """
        wanted = set(skus)
        present = {info.name for info in await self.store.list(self.orders.folder)}
        pending: dict[str, Decimal] = {}
        for info in await self.store.list(posixpath.join(self.sent, WAITING), "*.json"):
            if info.name.removesuffix(".json") not in present:
                await self.store.remove(info.path)  # the ERP took the file: its stock counts the order
                continue
            data = await self._json(info.path)
            if not data or await self.store.exists(self._marker(str(data["reference"]), ".cancelled")):
                continue
            for sku, quantity in data["lines"]:
                if sku in wanted:
                    pending[sku] = pending.get(sku, Decimal(0)) + Decimal(quantity)
        return pending
