"""Arbitrary and mutated payloads into every mapper and the webhook parser: only typed errors come out.

Each mapper either gives a canonical record or raises `Permanent` naming the record (and, where it can
tell, the field); never KeyError, TypeError, ValueError and the like. The mutations start from the
real WooCommerce payloads, so they reach deep into the mappers, not just their first line.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emporion.connectors.base import Permanent, Unmappable, map_or_unmappable
from emporion.connectors.tryton.mapping import VariantFacts, category_from_row, product_from_rows
from emporion.connectors.tryton.sales_read import SaleFacts, sale_order
from emporion.connectors.woocommerce.mapping import category_from_wc, product_from_wc
from emporion.connectors.woocommerce.order_mapping import customer_from_wc, order_from_wc
from emporion.connectors.woocommerce.refund_mapping import refund_from_wc
from emporion.connectors.woocommerce.webhooks import is_ping, parse_webhook, sign, verify_webhook
from emporion.model import Record

PAYLOADS = Path("/work/shared/payloads/woocommerce")
MODEST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DELETE = object()


def payload(name: str) -> dict[str, Any]:
    """A real WooCommerce REST v3 payload."""
    data = json.loads((PAYLOADS / name).read_text())
    return data[0] if isinstance(data, list) else data


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["", "0", "-1", "1e999999", "NaN", "12.5", "abc", "2026-13-45T99:00:00", "\ud800x"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def mutate(data: Any, path: tuple[Any, ...], value: Any) -> None:
    """Replace (or delete, for DELETE) the value at `path`."""
    holder = data
    for part in path[:-1]:
        holder = holder[part]
    if value is DELETE and isinstance(holder, dict):
        del holder[path[-1]]
    elif value is DELETE:
        holder.pop(path[-1])
    else:
        holder[path[-1]] = value


def mutations(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`base` with one to three values replaced by arbitrary JSON (or removed)."""
    spots = paths(base)

    @st.composite
    def mutated(draw: st.DrawFn) -> dict[str, Any]:
        data = copy.deepcopy(base)
        for _ in range(draw(st.integers(1, 3))):
            live = [p for p in spots if _reachable(data, p)]
            if not live:
                break
            mutate(data, draw(st.sampled_from(live)), draw(json_values | st.just(DELETE)))
        return data

    return mutated()


def _reachable(data: Any, path: tuple[Any, ...]) -> bool:
    holder = data
    for part in path:
        if isinstance(holder, dict) and part in holder:
            holder = holder[part]
        elif isinstance(holder, list) and isinstance(part, int) and part < len(holder):
            holder = holder[part]
        else:
            return False
    return True


def only_typed(mapper: Callable[[], Record], kind: type[Record]) -> None:
    """The mapper gives a record of `kind`, or Permanent naming the record; nothing else escapes."""
    try:
        record = mapper()
    except Permanent as error:
        assert error.record, f"no record named: {error!r}"
        assert str(error)
        return
    assert isinstance(record, kind)


# -- WooCommerce -------------------------------------------------------------------------------------


@MODEST
@given(st.one_of(mutations(payload("order.json")), st.dictionaries(st.text(max_size=12), json_values)))
def test_woocommerce_orders(data: dict[str, Any]) -> None:
    from emporion.model import Order

    only_typed(lambda: order_from_wc(data), Order)


@MODEST
@given(mutations(payload("order.json")), mutations(payload("order-refund.json")))
def test_woocommerce_orders_with_refunds(data: dict[str, Any], refund: dict[str, Any]) -> None:
    from emporion.model import Order, Refund

    only_typed(lambda: order_from_wc(data, [refund]), Order)
    only_typed(lambda: refund_from_wc(refund), Refund)  # type: ignore[arg-type, return-value]


@MODEST
@given(
    st.one_of(mutations(payload("product-simple.json")), st.dictionaries(st.text(max_size=12), json_values))
)
def test_woocommerce_simple_products(data: dict[str, Any]) -> None:
    from emporion.model import Product

    only_typed(lambda: product_from_wc(data), Product)


@MODEST
@given(mutations(payload("product-variable.json")), mutations(payload("product-variation.json")))
def test_woocommerce_variable_products(data: dict[str, Any], variation: dict[str, Any]) -> None:
    from emporion.model import Product

    only_typed(lambda: product_from_wc(data, [variation]), Product)


@MODEST
@given(st.one_of(mutations(payload("customer.json")), mutations(payload("product-category.json"))))
def test_woocommerce_customers_and_categories(data: dict[str, Any]) -> None:
    from emporion.model import Category, Customer

    only_typed(lambda: customer_from_wc(data), Customer)
    only_typed(lambda: category_from_wc(data), Category)


@MODEST
@given(st.dictionaries(st.text(max_size=12), json_values))
def test_a_failed_read_becomes_an_unmappable_stand_in(data: dict[str, Any]) -> None:
    """What the connectors hand the engine: the record, or a stand-in carrying the typed error."""
    from emporion.model import Order

    record = map_or_unmappable("7", lambda: order_from_wc(data))
    assert isinstance(record, Order | Unmappable)
    if isinstance(record, Unmappable):
        assert record.key == "7" and record.error().record


def test_an_invalid_price_names_the_field_and_the_record() -> None:
    order = payload("order.json")
    order["line_items"][0]["total"] = "12,50 EUR"
    try:
        order_from_wc(order)
    except Permanent as error:
        assert (error.record, error.field) == (f"order {order['id']}", "line_items[0].total")
    else:
        raise AssertionError("an invalid line total was read")


# -- Tryton ------------------------------------------------------------------------------------------

TEMPLATE = {
    "id": 12,
    "name": "Oak chair",
    "code": "CHAIR",
    "list_price": Decimal("49.90"),
    "categories": [3],
    "salable": True,
    "active": True,
    "weight": 4.5,
    "weight_uom.": {"symbol": "kg"},
}
PRODUCTS = [
    {"id": 40, "code": "CHAIR-OAK", "template": 12, "attributes": {"wood": "oak"}, "active": True},
    {"id": 41, "code": "CHAIR-ASH", "template": 12, "attributes": {"wood": "ash"}, "active": True},
]


@MODEST
@given(mutations({"template": TEMPLATE, "products": PRODUCTS}), st.booleans())
def test_tryton_products(rows: dict[str, Any], with_facts: bool) -> None:
    from emporion.model import Product

    template, products = rows.get("template"), rows.get("products")
    facts = {40: VariantFacts(list_price=Decimal("5"))} if with_facts else {}
    only_typed(lambda: product_from_rows(template, products, facts, currency="EUR"), Product)  # type: ignore[arg-type]


@MODEST
@given(
    st.one_of(mutations({"id": 3, "name": "Chairs", "parent": 1}), st.dictionaries(st.text(), json_values))
)
def test_tryton_categories(row: dict[str, Any]) -> None:
    from emporion.model import Category

    only_typed(lambda: category_from_row(row), Category)


SALE_ROWS: dict[str, Any] = {
    "sale": {
        "id": 31,
        "number": "SO31",
        "reference": "WEB-1001",
        "state": "processing",
        "currency.": {"code": "EUR"},
        "party": 8,
        "party.": {"name": "Mia Muster", "email": "mia@example.org", "phone": "+49 30 1"},
        "invoice_address.": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin"}
        | {"country.": {"code": "DE"}, "subdivision.": {"code": "DE-BE"}},
        "shipment_address.": {"street": "Hauptstr. 1", "city": "Berlin", "country.": {"code": "DE"}},
        "lines": [1, 2],
        "shipments": [4],
        "invoices": [6],
        "tax_amount": Decimal("3.80"),
        "total_amount": Decimal("23.80"),
        "create_date": dt.datetime(2026, 11, 20, 9, 30),
        "description": "",
    },
    "return": {"id": 32, "reference": "WEB-1001/R1", "origin": "sale.sale,31", "lines": [3]}
    | {"shipment_returns": [], "invoices": [], "total_amount": Decimal("-10")},
    "lines": {
        1: {"type": "line", "product": 3, "product.": {"code": "CHAIR-OAK"}, "description": "Oak chair"}
        | {"quantity": 2.0, "unit_price": Decimal("10"), "amount": Decimal("20")},
        2: {"type": "line", "shipment_cost": Decimal("0"), "description": "DHL", "amount": Decimal("0")}
        | {"quantity": 1.0, "unit_price": Decimal("0"), "product": None},
        3: {"type": "line", "product": 3, "product.": {"code": "CHAIR-OAK"}, "quantity": -1.0}
        | {"amount": Decimal("-10")},
    },
    "shipments": {
        4: {"state": "done", "effective_date": dt.date(2026, 11, 21), "carrier.": {"rec_name": "DHL"}}
        | {"shipping_reference": "TRACK-1", "packages": [5]}
    },
    "packages": {5: {"shipping_reference": "PKG-5"}},
    "invoices": {6: {"number": "INV-6", "state": "posted", "total_amount": Decimal("23.80")}},
}


@MODEST
@given(mutations(SALE_ROWS))
def test_tryton_sales(rows: dict[str, Any]) -> None:
    from emporion.model import Order

    def mapped() -> Order:
        facts = SaleFacts(
            rows.get("lines"),  # type: ignore[arg-type]
            rows.get("shipments"),  # type: ignore[arg-type]
            rows.get("packages"),  # type: ignore[arg-type]
            rows.get("invoices"),  # type: ignore[arg-type]
            {},
        )
        return sale_order(rows.get("sale"), [rows.get("return")], facts)  # type: ignore[arg-type]

    only_typed(mapped, Order)


def test_an_unreadable_sale_names_the_sale_and_is_a_stand_in() -> None:
    rows = copy.deepcopy(SALE_ROWS)
    facts = SaleFacts(rows["lines"], rows["shipments"], rows["packages"], rows["invoices"], {})
    order = sale_order(rows["sale"], [rows["return"]], facts)
    assert order.number == "SO31" and order.refunds[0].amount == Decimal("10")
    assert order.shipments[0].tracking_numbers == ["TRACK-1", "PKG-5"]
    del rows["sale"]["lines"]
    found = map_or_unmappable("31", lambda: sale_order(rows["sale"], [], facts))
    assert isinstance(found, Unmappable) and found.key == "31"
    assert (found.record, found.field) == ("sale 31", "lines")


# -- webhooks ----------------------------------------------------------------------------------------

topics = st.sampled_from(
    ["order.created", "product.updated", "customer.deleted", "coupon.updated", ""]
) | st.text(max_size=30)
header_maps = st.builds(
    lambda topic, extra: {"X-WC-Webhook-Topic": topic, **extra},
    topics,
    st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=3),
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    mutations(payload("order.json")).map(lambda value: json.dumps(value).encode()),
    st.sampled_from([b"webhook_id=12", b"{", b"[]", b"\xff\xfe", b'{"id": true}', b"[" * 5000]),
)


@MODEST
@given(header_maps, bodies)
def test_the_webhook_parser_gives_a_hint_none_or_permanent(headers: dict[str, str], body: bytes) -> None:
    try:
        hint = parse_webhook(headers, body)
    except Permanent as error:
        assert error.record and error.field
        return
    assert is_ping(headers, body) in (True, False)
    if hint is not None:
        assert hint.keys and all(key.isdigit() and int(key) > 0 for key in hint.keys)


@MODEST
@given(bodies, st.one_of(st.none(), st.text(max_size=60)), st.text(max_size=30))
def test_the_verifier_only_answers_yes_or_no(body: bytes, signature: str | None, secret: str) -> None:
    assert verify_webhook(body, signature, secret) is False or signature.strip() == sign(body, secret)  # type: ignore[union-attr]
    if secret:
        assert verify_webhook(body, sign(body, secret), secret) is True
