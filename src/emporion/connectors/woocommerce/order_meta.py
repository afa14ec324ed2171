"""What the ERP reports back, as WooCommerce keeps it: order notes and order meta_data.

Notes (`Order.notes`) are added once. The keys of the notes emporion added are kept in the hidden
order meta `_emporion_notes`; a private note also ends with a marker naming its key
(`[emporion:invoice-9]`), a note the customer sees never does (WooCommerce mails it to them). A note
counts as added when its key is in that meta, in a marker, or when the order already has a note with
exactly its text (added just before a crash that lost the meta write). The last shipment
with tracking numbers becomes the meta `tracking_number` / `tracking_carrier`, the last invoice the
meta `invoice_number`, and `Order.reference` (the ERP's sale number) the meta `erp_reference`;
reading an order gives those meta back as the same fields, so a read order written back changes
nothing. Other `custom` entries are meta_data as they are.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from emporion.connectors.woocommerce.mapping import meta_from_wc
from emporion.connectors.woocommerce.order_values import meta_value
from emporion.model import CustomValue, Invoice, Order, OrderNote, Shipment

Json = dict[str, Any]

TRACKING_NUMBER_META = "tracking_number"
TRACKING_CARRIER_META = "tracking_carrier"
INVOICE_NUMBER_META = "invoice_number"
ERP_REFERENCE_META = "erp_reference"
FIELD_META = frozenset({TRACKING_NUMBER_META, TRACKING_CARRIER_META, INVOICE_NUMBER_META, ERP_REFERENCE_META})
SHOP_SHIPMENT = "shop"  # key of the shipment read back from the tracking meta
NOTE_MARK = " [emporion:"
NOTES_META = "_emporion_notes"  # hidden: the keys of the notes added, comma-separated


def note_marker(note_id: str) -> str:
    """The marker appended to a note emporion adds, so that it is added once."""
    return f"{NOTE_MARK}{note_id}]"


def note_ids(notes: Iterable[Json]) -> set[str]:
    """The ids of the emporion notes among an order's notes (by the marker at their end)."""
    found = set()
    for note in notes:
        text = str(note.get("note") or "")
        if text.endswith("]") and NOTE_MARK in text:
            found.add(text.rsplit(NOTE_MARK, 1)[1][:-1])
    return found


def note_to_wc(note: OrderNote) -> Json:
    """The POST body of one order note: a private note marked with its key, a customer's never."""
    text = note.text if note.customer_visible else note.text + note_marker(note.key)
    return {"note": text, "customer_note": note.customer_visible}


def noted_keys(meta_data: Any) -> set[str]:
    """The keys of the notes emporion added, as the order's hidden meta keeps them."""
    value = meta_value(meta_data, NOTES_META)
    return {key.strip() for key in str(value or "").split(",") if key.strip()}


def added_notes(existing: Iterable[Json], meta_data: Any, wanted: Iterable[OrderNote]) -> set[str]:
    """The keys of `wanted` notes the order has: by its meta, the markers, or a note of the same text."""
    existing = list(existing)
    found = note_ids(existing) | noted_keys(meta_data)
    texts = {html.unescape(str(note.get("note") or "")).strip() for note in existing}
    found.update(note.key for note in wanted if note.text.strip() in texts)
    return found


def notes_meta(meta_data: Any, keys: Iterable[str]) -> Json | None:
    """The meta entry recording the added notes `keys` too, or None when it already does."""
    have = noted_keys(meta_data)
    union = have | {key for key in keys if key and "," not in key}
    return None if union == have else {"key": NOTES_META, "value": ",".join(sorted(union))}


def wanted_meta(order: Order) -> dict[str, CustomValue]:
    """The meta_data the order should carry: its custom entries, tracking, invoice and ERP reference."""
    meta: dict[str, CustomValue] = {k: v for k, v in order.custom.items() if k not in FIELD_META}
    if order.reference:
        meta[ERP_REFERENCE_META] = order.reference
    tracked = [shipment for shipment in order.shipments if shipment.tracking_numbers]
    if tracked:
        meta[TRACKING_NUMBER_META] = tracked[-1].tracking
        meta[TRACKING_CARRIER_META] = tracked[-1].carrier
    invoiced = [invoice for invoice in order.invoices if invoice.number and not invoice.credit_note]
    if invoiced:
        meta[INVOICE_NUMBER_META] = invoiced[-1].number
    return meta


def _text(value: CustomValue) -> str:
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def meta_changes(order: Order, meta_data: Iterable[Json] | None) -> list[Json]:
    """The meta_data entries to send: wanted values that the shop's meta does not hold yet."""
    current = meta_from_wc(meta_data)
    changes = []
    for key, value in wanted_meta(order).items():
        if key not in current or _text(value) != _text(current[key]):
            changes.append({"key": key, "value": _text(value)})
    return changes


def fields_from_meta(meta: Mapping[str, CustomValue]) -> dict[str, Any]:
    """The Order fields that the meta emporion writes stand for, and the custom entries left over."""
    fields: dict[str, Any] = {"custom": {k: v for k, v in meta.items() if k not in FIELD_META}}
    tracking = _text(meta.get(TRACKING_NUMBER_META))
    if tracking:
        numbers = [number.strip() for number in tracking.split(",") if number.strip()]
        carrier = _text(meta.get(TRACKING_CARRIER_META))
        fields["shipments"] = [Shipment(key=SHOP_SHIPMENT, carrier=carrier, tracking_numbers=numbers)]
    invoice = _text(meta.get(INVOICE_NUMBER_META))
    if invoice:
        fields["invoices"] = [Invoice(key=invoice, number=invoice)]
    reference = _text(meta.get(ERP_REFERENCE_META))
    if reference:
        fields["reference"] = reference
    return fields
