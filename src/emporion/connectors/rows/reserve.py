"""Stock as available to promise: quantities of orders handed to the ERP but not taken yet held back.

An order waiting in an import table or an order file is stock the ERP still counts as on hand. Until
it takes the order (and books the goods out), its quantities are taken from the stock a product shows:
first from the warehouses the ERP ships orders from (`orders.reserve_warehouses`, in that order), then
from the others in name order, never below zero in any warehouse. Nothing is promised twice: a unit
held back from a warehouse the shop is not sold from is a unit the shop never showed. The catalogue
(products read and scanned) and `availability()` apply the same rule, so the shop and the order flow
agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from emporion.model import Product, Record, StockLevel


def warehouse_order(levels: Sequence[StockLevel], first: Sequence[str] | None) -> list[StockLevel]:
    """Stock levels in the order reservations take from: `first` in its order, then the rest by name."""
    rank = {name: place for place, name in enumerate(first or ())}
    return sorted(levels, key=lambda level: (rank.get(level.warehouse, len(rank)), level.warehouse))


def reserve_levels(
    levels: Sequence[StockLevel], pending: Decimal, first: Sequence[str] | None
) -> list[StockLevel]:
    """`levels` less `pending`, warehouse by warehouse (`first` first), never below zero; same order."""
    if pending <= 0:
        return list(levels)
    taken: dict[str, Decimal] = {}
    left = pending
    for level in warehouse_order(levels, first):
        amount = min(max(level.quantity, Decimal(0)), left)
        taken[level.warehouse] = amount
        left -= amount
    return [
        level.model_copy(update={"quantity": level.quantity - taken.get(level.warehouse, Decimal(0))})
        for level in levels
    ]


def skus_of(record: Record) -> list[str]:
    """The SKUs whose stock a record shows: a product's own and its variants'."""
    if not isinstance(record, Product):
        return []
    return [record.sku, *(variant.sku for variant in record.variants)]


def reserve_record(record: Record, pending: Mapping[str, Decimal], first: Sequence[str] | None) -> Record:
    """A product (and its variants) with pending quantities held back; any other record as it is."""
    if not isinstance(record, Product) or not any(pending.get(sku) for sku in skus_of(record)):
        return record
    variants = [
        variant.model_copy(
            update={"stock": reserve_levels(variant.stock, pending.get(variant.sku, Decimal(0)), first)}
        )
        if pending.get(variant.sku)
        else variant
        for variant in record.variants
    ]
    stock = reserve_levels(record.stock, pending.get(record.sku, Decimal(0)), first)
    return record.model_copy(update={"stock": stock, "variants": variants})


def available(
    levels: Mapping[str, Mapping[str, Decimal]],
    pending: Mapping[str, Decimal],
    first: Sequence[str] | None,
    warehouses: Sequence[str] | None,
) -> dict[str, Decimal]:
    """Per SKU: its stock per warehouse less `pending` (as products show it), summed over `warehouses`
    (None: all). This is `availability()` of a connector, so the order flow counts what the shop shows."""
    totals: dict[str, Decimal] = {}
    for sku, per_warehouse in levels.items():
        stock = [StockLevel(warehouse=name, quantity=amount) for name, amount in per_warehouse.items()]
        reserved = reserve_levels(stock, pending.get(sku, Decimal(0)), first)
        totals[sku] = sum(
            (level.quantity for level in reserved if warehouses is None or level.warehouse in warehouses),
            Decimal(0),
        )
    return totals
