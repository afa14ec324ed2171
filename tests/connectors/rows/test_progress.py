"""An ERP's progress as canonical parts: tracking numbers, shipments, invoices, status, read-back."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.rows.progress import (
    Progress,
    bare_order,
    invoice_from,
    shipment_from,
    staged_order,
    status_from,
    tracking_numbers,
    with_progress,
)
from emporion.connectors.rows.values import Parsing
from emporion.model import OrderStatus

STATUSES = {
    "offen": OrderStatus.PROCESSING,
    "versendet": OrderStatus.SHIPPED,
    "storniert": OrderStatus.CANCELLED,
}


def test_tracking_numbers_are_split_trimmed_and_kept_once() -> None:
    """One or several numbers, separated by commas, semicolons, bars or lines; empty parts dropped."""
    assert tracking_numbers("00340434, 00340435;00340434 |\n 1Z999") == ["00340434", "00340435", "1Z999"]
    assert (
        tracking_numbers(None) == []
        and tracking_numbers("") == []
        and tracking_numbers(["a", " b "]) == ["a", "b"]
    )


def test_shipments_and_invoices_from_text_as_files_give_them() -> None:
    """German text (day-first date, decimal comma, J/N) parses with the file's options."""
    german = Parsing(decimal_comma=True, date_format="%d.%m.%Y", datetime_format="%d.%m.%Y %H:%M")
    shipment = shipment_from(
        "L1", {"carrier": "DHL", "tracking": "1;2", "shipped_at": "03.12.2026 14:05"}, german
    )
    assert shipment.carrier == "DHL" and shipment.tracking_numbers == ["1", "2"]
    assert shipment.shipped_at == datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    credit = invoice_from("R9", {"number": "GS-9", "total": "1.234,50", "credit_note": "J"}, german)
    assert (credit.number, credit.total, credit.credit_note) == ("GS-9", Decimal("1234.50"), True)
    plain = invoice_from("R1", {"total": 12})
    assert plain.number == "R1" and plain.total == Decimal(12) and plain.credit_note is False


def test_an_unreadable_value_is_named_without_quoting_it() -> None:
    """A total that is no number fails naming the row and the field; the value stays out of the message."""
    with pytest.raises(Permanent) as caught:
        invoice_from("R1", {"_where": "file status.csv row 4", "total": "zwölf Euro"})
    assert caught.value.record == "file status.csv row 4" and caught.value.field == "total"
    assert "zwölf" not in str(caught.value)


def test_status_through_the_map_then_emporions_names() -> None:
    """The ERP's word through the map; an emporion status name as it is; anything else unknown."""
    assert status_from("versendet", STATUSES) is OrderStatus.SHIPPED
    assert status_from("completed", STATUSES) is OrderStatus.COMPLETED
    assert status_from("gesperrt", STATUSES) is None and status_from(None, STATUSES) is None


def test_progress_on_an_order() -> None:
    """Mapped status and number win; a shipment without status means shipped; cancellations until handled."""
    base = bare_order("WEB-1", "EUR")
    shipment = shipment_from("L1", {"carrier": "DHL", "tracking": "1"})
    assert with_progress(base, Progress(shipments=[shipment]), STATUSES).status is OrderStatus.SHIPPED
    taken = with_progress(base, Progress(raw_status="offen", number="AU-1"), STATUSES)
    assert taken.status is OrderStatus.PROCESSING and taken.number == "AU-1" and taken.raw_status == "offen"
    unknown = with_progress(base, Progress(raw_status="gesperrt"), STATUSES)
    assert unknown.status is OrderStatus.PROCESSING and unknown.raw_status == "gesperrt"
    asked = Progress(raw_status="versendet", cancellation=True)
    assert with_progress(base, asked, STATUSES).status is OrderStatus.CANCELLED
    refused = Progress(raw_status="versendet", cancellation=True, cancellation_handled=True)
    assert with_progress(base, refused, STATUSES).status is OrderStatus.SHIPPED


def test_a_staged_order_reads_back_from_its_paths() -> None:
    """Header paths and line paths rebuild the order as written; numbers typed, texts kept."""
    order = staged_order(
        "WEB-2",
        {
            "number": 1002,
            "total": Decimal("30.00"),
            "currency": "EUR",
            "customer.email": "a@example.com",
            "billing.city": "Berlin",
            "created_at": datetime(2026, 12, 1, 9, 0),
        },
        [{"sku": "A-1", "quantity": Decimal("3.000"), "unit_price": Decimal("10.00")}],
        currency=None,
    )
    assert order.key == order.reference == "WEB-2" and order.number == "1002"
    assert order.total == Decimal("30.00") and order.customer.email == "a@example.com"
    assert order.billing.city == "Berlin" and order.created_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    (line,) = order.lines
    assert (line.sku, line.quantity, line.total) == ("A-1", Decimal(3), Decimal("30.00"))
    assert order.status is OrderStatus.PROCESSING
