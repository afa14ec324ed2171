"""A flow's sale options applied to a canonical order: payment methods, carriers, tax classes, warehouse."""

from __future__ import annotations

from decimal import Decimal

import pytest

from emporion.connectors.base import Permanent
from emporion.connectors.roles import SaleOptions
from emporion.connectors.rows.options import WAREHOUSE_KEY, mapped_name, with_sale_options
from emporion.connectors.rows.orders import RowWriter, header_row, line_rows, payment_rows
from emporion.connectors.rows.settings import RowTarget
from emporion.model import (
    Customer,
    FeeLine,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentKind,
    ShippingLine,
)


def _order(**changes: object) -> Order:
    """An order with a standard-rate and a reduced-rate line, a fee, two shipping lines and three payments."""
    values: dict[str, object] = {
        "key": "900",
        "number": "1001",
        "status": OrderStatus.PROCESSING,
        "currency": "EUR",
        "customer": Customer(key="7", email="ada@example.com"),
        "lines": [
            OrderLine(key="1", sku="A-1", quantity=Decimal(1), unit_price=Decimal(10), total=Decimal(10)),
            OrderLine(
                key="2",
                sku="B-2",
                quantity=Decimal(1),
                unit_price=Decimal(5),
                total=Decimal(5),
                tax_class="reduced-rate",
            ),
        ],
        "fees": [FeeLine(key="f", name="Gift wrap", total=Decimal(2), tax_class="")],
        "shipping_lines": [
            ShippingLine(key="s1", method="flat_rate", total=Decimal("4.90")),
            ShippingLine(key="s2", method="local_pickup"),
        ],
        "total": Decimal("21.90"),
        "payments": [
            Payment(method="bacs", amount=Decimal("11.90")),
            Payment(kind=PaymentKind.GIFT_CARD, method="", code="GC-1", amount=Decimal(5)),
            Payment(kind=PaymentKind.STORE_CREDIT, method="wallet", amount=Decimal(5)),
        ],
        "reference": "WEB-1001",
    }
    values.update(changes)
    return Order.model_validate(values)


OPTIONS = SaleOptions(
    warehouse="LAGER-2",
    carriers={"flat_rate": "DHL", "*": "Hermes"},
    taxes={"": "USt 19 %", "reduced-rate": "USt 7 %"},
    payment_methods={"bacs": "Vorkasse", "*": "Sonstige", "gift_card": "Gutschein"},
)


def test_payment_methods_map_exactly_then_by_default_and_vouchers_by_kind() -> None:
    """A payment method takes its entry; a gift card its kind's entry; store credit unmapped keeps its
    name (the "*" default is a payment method's, never a voucher's)."""
    methods = [payment.method for payment in with_sale_options(_order(), OPTIONS).payments]
    assert methods == ["Vorkasse", "Gutschein", "wallet"]
    other = _order(payments=[Payment(method="paypal", amount=Decimal("21.90"))])
    assert [p.method for p in with_sale_options(other, OPTIONS).payments] == ["Sonstige"]
    without_default = SaleOptions(payment_methods={"bacs": "Vorkasse"})
    assert [p.method for p in with_sale_options(other, without_default).payments] == ["paypal"]


def test_carriers_map_each_shipping_line_with_a_default() -> None:
    """Each shipping line's method becomes the ERP carrier: exact entry, else "*", else kept."""
    applied = with_sale_options(_order(), OPTIONS)
    assert [line.method for line in applied.shipping_lines] == ["DHL", "Hermes"]
    exact_only = SaleOptions(carriers={"flat_rate": "DHL"})
    kept = with_sale_options(_order(), exact_only)
    assert [line.method for line in kept.shipping_lines] == ["DHL", "local_pickup"]


def test_tax_classes_map_with_the_standard_class_and_keep_unknown_ones() -> None:
    """ "" is the standard class; a class the map lacks is kept ("*" is no default for taxes)."""
    applied = with_sale_options(_order(), OPTIONS)
    assert [line.tax_class for line in applied.lines] == ["USt 19 %", "USt 7 %"]
    assert [fee.tax_class for fee in applied.fees] == ["USt 19 %"]
    partial = SaleOptions(taxes={"reduced-rate": "USt 7 %", "*": "never"})
    kept = with_sale_options(_order(), partial)
    assert [line.tax_class for line in kept.lines] == ["", "USt 7 %"]
    assert [fee.tax_class for fee in kept.fees] == [""]


def test_warehouse_is_named_in_custom_and_the_path_always_exists() -> None:
    """The flow's warehouse wins; without one the order's own value stays, else None."""
    assert with_sale_options(_order(), OPTIONS).custom[WAREHOUSE_KEY] == "LAGER-2"
    own = _order(custom={WAREHOUSE_KEY: "SHOP-WH", "gift": True})
    assert with_sale_options(own, OPTIONS).custom == {WAREHOUSE_KEY: "LAGER-2", "gift": True}
    assert with_sale_options(own, SaleOptions()).custom[WAREHOUSE_KEY] == "SHOP-WH"
    assert with_sale_options(_order(), SaleOptions()).custom == {WAREHOUSE_KEY: None}


def test_the_input_order_is_left_unchanged_and_empty_options_change_no_name() -> None:
    """A copy comes back; the shop's order keeps its names (it is compared and stored as the shop has it)."""
    order = _order()
    before = order.model_dump()
    with_sale_options(order, OPTIONS)
    assert order.model_dump() == before
    unchanged = with_sale_options(order, SaleOptions())
    assert unchanged.model_dump(exclude={"custom"}) == order.model_dump(exclude={"custom"})


def test_rows_carry_the_erp_names() -> None:
    """Mapped through a RowWriter, header, line and payment rows carry the ERP's names."""
    applied = with_sale_options(_order(), OPTIONS)

    def writer(columns: dict[str, object], what: str) -> RowWriter:
        return RowWriter(RowTarget.model_validate({"columns": columns}), what)

    header = header_row(
        applied,
        writer({"lager": "order.custom.warehouse", "versand": "order.shipping_lines.0.method"}, "orders"),
    )
    assert header == {"lager": "LAGER-2", "versand": "DHL"}
    taxes = [row["steuer"] for row in line_rows(applied, writer({"steuer": "line.tax_class"}, "lines"))]
    assert taxes == ["USt 19 %", "USt 7 %"]
    paid = payment_rows(applied, writer({"art": "payment.method"}, "payments"))
    assert [row["art"] for row in paid] == ["Vorkasse", "Gutschein", "wallet"]


def test_mapped_name_without_default() -> None:
    """`default=False` ignores the "*" entry."""
    assert mapped_name({"*": "X"}, "a") == "X"
    assert mapped_name({"*": "X"}, "a", default=False) == "a"
    assert mapped_name({"a": "Y", "*": "X"}, "a", default=False) == "Y"


def test_an_index_past_the_end_is_an_empty_part() -> None:
    """An order without shipping lines gives None for `order.shipping_lines.0.method`, not an error."""
    writer = RowWriter(
        RowTarget.model_validate({"columns": {"versand": "order.shipping_lines.0.method"}}), "o"
    )
    applied = with_sale_options(_order(shipping_lines=[]), OPTIONS)
    assert header_row(applied, writer) == {"versand": None}


def test_a_custom_value_the_order_lacks_is_empty_but_other_missing_paths_fail() -> None:
    """`order.custom.<name>` without that value is None (custom values vary per order); a path the
    model does not have is still a Permanent error naming the column."""
    writer = RowWriter(RowTarget.model_validate({"columns": {"lager": "order.custom.warehouse"}}), "o")
    assert header_row(_order(), writer) == {"lager": None}
    wrong = RowWriter(RowTarget.model_validate({"columns": {"x": "order.no_such_field"}}), "o")
    with pytest.raises(Permanent) as raised:
        header_row(_order(), wrong)
    assert raised.value.field == "x"
