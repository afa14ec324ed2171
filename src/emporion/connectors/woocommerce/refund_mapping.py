"""WooCommerce refunds <-> canonical Refund records.

A refund emporion created carries `_emporion_refund` (its canonical key), `_emporion_restock` and
`_emporion_origin` in its meta_data; reading it back gives the same key, so a write is idempotent.
emporion only ever creates refunds that were made in the ERP, so a refund with an emporion key and
no origin (written before the origin was kept) is an ERP refund too.

WooCommerce's refund itself does not say whether its goods went back to stock: the order line does,
in `_restock_refunded_items` (units restocked so far, over all refunds). Those units are given to the
refunds that name the line, oldest (lowest id) first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from emporion.connectors.guard import typed_mapping
from emporion.connectors.woocommerce.mapping import MappingError, format_money, parse_decimal, parse_gmt
from emporion.connectors.woocommerce.order_values import items, meta_value, money, truthy, whole
from emporion.model import Refund, RefundLine, RefundOrigin

Json = dict[str, Any]

REFUND_KEY_META = "_emporion_refund"
REFUND_RESTOCK_META = "_emporion_restock"
REFUND_ORIGIN_META = "_emporion_origin"
REFUNDED_ITEM_META = "_refunded_item_id"
RESTOCKED_META = "_restock_refunded_items"  # on the order line: units restocked over all its refunds


def restocked_units(line_items: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """Units restocked per order line id, from the lines' `_restock_refunded_items` meta."""
    found: dict[str, Decimal] = {}
    for index, item in enumerate(line_items):
        units = parse_decimal(meta_value(item.get("meta_data"), RESTOCKED_META), f"line_items[{index}]")
        if units and "id" in item:
            found[str(item["id"])] = units
    return found


def _part_totals(data: Json, name: str) -> tuple[Decimal, Decimal]:
    """The refunded amount and tax of a refund's shipping or fee lines (positive)."""
    amount = tax = Decimal(0)
    for index, item in enumerate(items(data, name)):
        amount += abs(money(item.get("total"), f"{name}[{index}].total"))
        tax += abs(money(item.get("total_tax"), f"{name}[{index}].total_tax"))
    return amount, tax


def _origin(meta: Any) -> RefundOrigin:
    """Where the refund was made: as emporion wrote it, else an emporion refund came from the ERP."""
    written = meta_value(meta, REFUND_ORIGIN_META)
    if written in (RefundOrigin.SHOP.value, RefundOrigin.ERP.value):
        return RefundOrigin(written)
    return RefundOrigin.ERP if meta_value(meta, REFUND_KEY_META) not in (None, "") else RefundOrigin.SHOP


@typed_mapping("refund")
def refund_from_wc(data: Json, restocked: dict[str, Decimal] | None = None) -> Refund:
    """A refund: positive amounts and quantities; lines name the order line they refund.

    `restocked` (units per order line not yet given to an older refund) is taken from as lines
    are found restocked; without it only emporion's own restock meta says anything.
    """
    meta = data.get("meta_data") or []
    lines = []
    for index, item in enumerate(items(data, "line_items")):
        field = f"line_items[{index}]"
        line_key = str(meta_value(item.get("meta_data"), REFUNDED_ITEM_META) or item["id"])
        quantity = abs(parse_decimal(item.get("quantity"), f"{field}.quantity") or Decimal(0))
        units = min(quantity, restocked.get(line_key, Decimal(0))) if restocked is not None else Decimal(0)
        if restocked is not None and units:
            restocked[line_key] -= units
        lines.append(
            RefundLine(
                line_key=line_key,
                sku=str(item.get("sku") or ""),
                quantity=quantity,
                amount=abs(money(item.get("total"), f"{field}.total")),
                tax=abs(money(item.get("total_tax"), f"{field}.total_tax")),
                restock=units > 0,
            )
        )
    key = meta_value(meta, REFUND_KEY_META)
    asked = meta_value(meta, REFUND_RESTOCK_META)
    shipping, shipping_tax = _part_totals(data, "shipping_lines")
    fees, fees_tax = _part_totals(data, "fee_lines")
    return Refund(
        key=str(key) if key not in (None, "") else str(data["id"]),
        origin=_origin(meta),
        amount=abs(money(data.get("amount"), "amount")),
        reason=str(data.get("reason") or ""),
        lines=lines,
        shipping=shipping,
        shipping_tax=shipping_tax,
        fees=fees,
        fees_tax=fees_tax,
        restock=truthy(asked) if asked is not None else any(line.restock for line in lines),
        payout=truthy(data.get("refunded_payment")),
        created_at=parse_gmt(data.get("date_created_gmt"), "date_created_gmt"),
    )


def refunds_from_wc(refunds: Iterable[Json], line_items: Iterable[Mapping[str, Any]] = ()) -> list[Refund]:
    """An order's refunds in the given order; restocked units go to the oldest (lowest id) first."""
    restocked = restocked_units(line_items)
    ordered = sorted(refunds, key=lambda data: whole(data.get("id"), "refunds.id"))
    read = {id(data): refund_from_wc(data, restocked) for data in ordered}
    return [read[id(data)] for data in refunds]


def refund_keys(refunds: Iterable[Json]) -> set[str]:
    """Every key a shop refund answers to: its id and the emporion key it was created with."""
    keys: set[str] = set()
    for data in refunds:
        keys.add(str(data["id"]))
        keys.add(refund_from_wc(data).key)
    return keys


def refund_to_wc(refund: Refund) -> Json:
    """The POST body of a refund; `api_refund` (the refund's payout) false records it without paying out."""
    for line in refund.lines:
        if not line.line_key.isdigit():
            raise MappingError(
                f"refund {refund.key} names line {line.line_key!r}, not a WooCommerce line item id", "refunds"
            )
    return {
        "amount": format_money(refund.amount),
        "reason": refund.reason,
        "api_refund": refund.payout,
        "api_restock": refund.restock,
        "line_items": [
            {
                "id": int(line.line_key),
                "quantity": int(line.quantity),
                "refund_total": format_money(line.amount),
            }
            for line in refund.lines
        ],
        "meta_data": [
            {"key": REFUND_KEY_META, "value": refund.key},
            {"key": REFUND_RESTOCK_META, "value": "yes" if refund.restock else "no"},
            {"key": REFUND_ORIGIN_META, "value": refund.origin.value},
        ],
    }
