"""Canonical orders as the flat rows an ERP imports: paths, rules, contexts, and named failures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.rows.orders import (
    RowWriter,
    customer_row,
    header_row,
    line_rows,
    payment_rows,
    refund_row,
    required_column,
    reverse_paths,
    skus_of,
)
from emporion.connectors.rows.settings import RowTarget
from emporion.model import Address, Customer, Order, OrderLine, OrderStatus, Payment, Refund

BERLIN = Address(first_name="Ada", last_name="Lovelace", city="Berlin", postcode="10115", country="DE")


def _order(**changes: object) -> Order:
    lines = [
        OrderLine(
            key="11", sku="A-1", quantity=Decimal(2), unit_price=Decimal("9.99"), total=Decimal("19.98")
        ),
        OrderLine(key="12", sku="B-2", quantity=Decimal("0.5"), unit_price=Decimal(4), total=Decimal(2)),
    ]
    values: dict[str, object] = {
        "key": "900",
        "number": "1001",
        "status": OrderStatus.PROCESSING,
        "currency": "EUR",
        "created_at": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "customer": Customer(key="7", email="ada@example.com", billing=BERLIN),
        "billing": BERLIN,
        "lines": lines,
        "total": Decimal("21.98"),
        "payments": [Payment(method="paypal", amount=Decimal("21.98"))],
        "reference": "WEB-1001",
    }
    values.update(changes)
    return Order.model_validate(values)


def _writer(columns: dict[str, object], what: str = "orders") -> RowWriter:
    return RowWriter(RowTarget.model_validate({"columns": columns}), what)


def test_header_columns_copy_paths_and_evaluate_rules() -> None:
    """Paths copy typed values (Decimal, datetime, status text); templates, expressions and maps compute."""
    writer = _writer(
        {
            "ref": "order.reference",
            "summe": "order.total",
            "datum": "order.created_at",
            "status": "order.status",
            "ort": {"template": "{{ order.billing.postcode }} {{ order.billing.city }}"},
            "brutto": {"expression": "order.total * decimal('1.19')", "round": 2},
            "land": {"from": "order.billing.country", "map": {"DE": "Deutschland"}},
        }
    )
    row = header_row(_order(), writer)
    assert row == {
        "ref": "WEB-1001",
        "summe": Decimal("21.98"),
        "datum": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        "status": "processing",
        "ort": "10115 Berlin",
        "brutto": Decimal("26.16"),
        "land": "Deutschland",
    }
    assert type(row["status"]) is str


def test_lines_and_payments_see_their_own_item_the_position_and_the_order() -> None:
    """Each line row sees `line.*`, `position` and `order.*`; each payment row `payment.*`."""
    lines = line_rows(
        _order(),
        _writer({"ref": "order.reference", "pos": "position", "sku": "line.sku", "qty": "line.quantity"}),
    )
    assert lines == [
        {"ref": "WEB-1001", "pos": 1, "sku": "A-1", "qty": Decimal(2)},
        {"ref": "WEB-1001", "pos": 2, "sku": "B-2", "qty": Decimal("0.5")},
    ]
    payments = payment_rows(_order(), _writer({"art": "payment.method", "betrag": "payment.amount"}))
    assert payments == [{"art": "paypal", "betrag": Decimal("21.98")}]


def test_an_empty_part_on_the_way_gives_none_but_an_unknown_path_fails_naming_the_column() -> None:
    """No shipping company: None. A path the model lacks: Permanent naming the order and the column."""
    order = _order(customer=Customer(key="7", email="ada@example.com"))
    assert customer_row(order.customer, _writer({"ort": "customer.billing.city"})) == {"ort": None}
    with pytest.raises(Permanent) as caught:
        header_row(order, _writer({"kst": "order.cost_centre"}))
    assert caught.value.field == "kst" and caught.value.record == "order 1001"
    with pytest.raises(Permanent) as failed_line:
        line_rows(order, _writer({"x": "line.colour"}, "order lines"))
    assert failed_line.value.record == "order 1001 line 11" and failed_line.value.field == "x"


def test_a_failing_rule_is_named_by_its_column() -> None:
    """A rule that cannot be evaluated (strict map) names the target column, not an internal name."""
    writer = _writer({"zahlart": {"from": "payment.method", "map": {"invoice": "RE"}, "strict": True}})
    with pytest.raises(Permanent) as caught:
        payment_rows(_order(), writer)
    assert caught.value.field == "zahlart" and caught.value.record == "order 1001 payment 1"


def test_refund_rows_reverse_paths_and_required_columns() -> None:
    """Refund rows see `refund.*`; read-back knows which columns copy paths; a needed column is named."""
    writer = _writer({"ref": "order.reference", "erstattung": "refund.key", "betrag": "refund.amount"})
    row = refund_row(_order(), Refund(key="r1", amount=Decimal(5)), writer)
    assert row == {"ref": "WEB-1001", "erstattung": "r1", "betrag": Decimal(5)}
    assert reverse_paths(writer, "order.") == {"ref": "reference"}
    assert required_column(writer, "refund.key", "import_retoure") == "erstattung"
    with pytest.raises(Permanent) as caught:
        required_column(writer, "order.number", "import_retoure")
    assert caught.value.field == "order.number" and "import_retoure" in (caught.value.record or "")
    assert skus_of([_order(), _order()]) == ["A-1", "B-2"]
