"""Order-to-cash in a memory system: shop orders taking the ERP's progress, sales by reference, returns.

A shop's orders are only ever updated (never made by emporion); an ERP's sales are searched by their
reference before one is made, and a return is made once per shop refund.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.roles import SaleOptions
from emporion.model import Order, OrderStatus, Product, Record
from emporion.testing.records import label, natural_key
from emporion.testing.system import MemorySystem
from emporion.testing.writes import failed

# what an ERP's progress changes on a shop order (the rest is the shopper's and stays)
PROGRESS_FIELDS = frozenset(
    {
        "status",
        "raw_status",
        "hold",
        "payment_state",
        "reference",
        "notes",
        "shipments",
        "invoices",
        "refunds",
    }
)
KEYED_LISTS = frozenset({"notes", "shipments", "invoices", "refunds"})


def update_order(system: MemorySystem, item: WriteItem) -> Outcome:
    """A shop order brought in line with `item` (status, notes, fulfilments, refunds); never created."""
    injected = system.failure_for(item.key, natural_key(item.record))
    if injected is not None:
        return failed(item, injected)
    target = str(item.target_ref["id"]) if item.target_ref and "id" in item.target_ref else item.key
    existing = system.get("order", target)
    if existing is None:
        return failed(item, Permanent("no such order", record=f"order {label(item.record)}", field="key"))
    record = progressed(existing, item)
    if record == existing:
        return Outcome(item.key, OutcomeStatus.UNCHANGED, {"id": target})
    system.put("order", record)
    return Outcome(item.key, OutcomeStatus.UPDATED, {"id": target})


def progressed(existing: Record, item: WriteItem) -> Record:
    """A shop order with the progress `item` brings: its `only` fields, else the progress fields.

    Notes, fulfilments, invoices and refunds are added by key (a shop keeps what it has); other fields
    are replaced.
    """
    incoming = item.record.model_dump()
    data = existing.model_dump()
    for name in item.only if item.only is not None else PROGRESS_FIELDS:
        if name in KEYED_LISTS:
            by_key = {part["key"]: part for part in data[name]}
            by_key.update({part["key"]: part for part in incoming[name]})
            data[name] = list(by_key.values())
        elif name in incoming and name != "key":
            data[name] = incoming[name]
    return type(existing).model_validate(data)


def write_sale(system: MemorySystem, item: WriteItem, options: SaleOptions) -> Outcome:
    """Create, pay or cancel the sale of one shop order; searched by its reference before creating."""
    order = item.record
    assert isinstance(order, Order)
    injected = system.failure_for(item.key, order.reference or "", order.number)
    if injected is not None:
        return failed(item, injected)
    if not order.reference:
        return failed(
            item,
            Permanent("the order has no sale reference", record=f"order {order.number}", field="reference"),
        )
    existing = find_by_reference(system, "order", order.reference)
    if existing is not None:
        return _progress(system, item, existing, order)
    known = product_keys(system, [line.sku for line in order.lines])
    for index, line in enumerate(order.lines):
        if line.sku not in known:
            error = Permanent(
                f"SKU {line.sku} is not in the catalogue",
                record=f"order {order.number} line {line.key}",
                field=f"lines[{index}].sku",
            )
            return failed(item, error)
    key = system.new_key()
    status = OrderStatus.PROCESSING if options.confirm else OrderStatus.DRAFT
    if order.status is OrderStatus.CANCELLED:
        status = OrderStatus.CANCELLED
    sale = order.model_copy(update={"key": key, "number": f"S{key}", "status": status, "raw_status": ""})
    system.put("order", sale)
    return Outcome(item.key, OutcomeStatus.CREATED, {"id": key})


def _progress(system: MemorySystem, item: WriteItem, sale: Order, order: Order) -> Outcome:
    """An existing sale follows its shop order: paid, or cancelled while nothing has shipped."""
    update: dict[str, object] = {}
    if order.paid and not sale.paid:
        update["payment_state"] = order.payment_state
    if order.status is OrderStatus.CANCELLED and sale.status is not OrderStatus.CANCELLED:
        if sale.shipments:
            error = Permanent("the sale has shipped", record=f"order {order.number}", field="status")
            return failed(item, error)
        update["status"] = OrderStatus.CANCELLED
    changed = sale.model_copy(update=update)
    if changed == sale:
        return Outcome(item.key, OutcomeStatus.UNCHANGED, {"id": sale.key})
    system.put("order", changed)
    return Outcome(item.key, OutcomeStatus.UPDATED, {"id": sale.key})


def write_return(system: MemorySystem, item: WriteItem) -> Outcome:
    """A shop refund as a return of its sale, made once per refund (searched by the item's key)."""
    injected = system.failure_for(item.key)
    if injected is not None:
        return failed(item, injected)
    existing = find_by_reference(system, "return", item.key)
    if existing is not None:
        return Outcome(item.key, OutcomeStatus.UNCHANGED, {"id": existing.key})
    order = item.record
    assert isinstance(order, Order)
    record = order.model_copy(update={"key": "", "reference": item.key, "status": OrderStatus.REFUNDED})
    stored = system.put("return", record)
    return Outcome(item.key, OutcomeStatus.CREATED, {"id": stored.key})


def product_keys(system: MemorySystem, skus: Sequence[str]) -> dict[str, str]:
    """The product key behind each known SKU, simple or variant."""
    wanted = set(skus)
    found: dict[str, str] = {}
    for product in system.all("product"):
        if not isinstance(product, Product):
            continue
        for sku in [product.sku, *(variant.sku for variant in product.variants)]:
            if sku in wanted:
                found[sku] = product.key
    return found


def available(
    system: MemorySystem, skus: Sequence[str], warehouses: Sequence[str] | None
) -> dict[str, Decimal]:
    """Stock per known SKU, simple or variant, summed over `warehouses` (None: all)."""
    wanted = set(skus)
    found: dict[str, Decimal] = {}
    for product in system.all("product"):
        if not isinstance(product, Product):
            continue
        for sku, levels in [(product.sku, product.stock), *((v.sku, v.stock) for v in product.variants)]:
            if sku in wanted:
                chosen = [
                    level.quantity for level in levels if warehouses is None or level.warehouse in warehouses
                ]
                found[sku] = sum(chosen, Decimal(0))
    return found


def find_by_reference(system: MemorySystem, entity: str, reference: str | None) -> Order | None:
    """The order (sale or return) of `entity` whose reference is `reference`."""
    if not reference:
        return None
    found = (r for r in system.all(entity) if isinstance(r, Order) and r.reference == reference)
    return next(found, None)


def orders(system: MemorySystem) -> list[Order]:
    """Every order the system holds."""
    return [record for record in system.all("order") if isinstance(record, Order)]


def days_ago(days: int) -> datetime:
    """The moment `days` days before now, in UTC."""
    return datetime.now(UTC) - timedelta(days=days)
