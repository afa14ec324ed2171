"""Order intake on a real Tryton server: parties by e-mail, sales by reference, payments, cancel, stock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.roles import SaleOptions
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.connectors.tryton.parties import PartyWriter
from emporion.model.orders import (
    Address,
    Customer,
    DiscountLine,
    FeeLine,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentState,
    ShippingLine,
    TaxLine,
)
from emporion_devkit.erp.catalogue import plan
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton

BILLING = Address(
    first_name="Ada",
    last_name="Lovelace",
    street="Hauptstr. 1",
    city="Berlin",
    postcode="10115",
    country="DE",
)
SHIPPING = Address(
    first_name="Ada",
    last_name="Lovelace",
    street="Lagerweg 7",
    street2="Hof",
    city="Hamburg",
    postcode="20095",
)
OPTIONS = SaleOptions(
    warehouse="WH2",
    carriers={"flat_rate": "DHL", "*": "UPS"},
    taxes={"reduced-rate": "VAT 7%"},
    payment_methods={"stripe": "Card", "bacs": "Bank transfer"},
)


def simple_skus(server: RunningTryton, count: int) -> list[str]:
    """SKUs of salable simple products of the sample catalogue."""
    spec = server.catalogue
    items = plan(spec.products, spec.variant_share, spec.seed)
    return [item.code for item in items if item.salable and len(item.variants) == 1][:count]


def customer(email: str, **changes: Any) -> Customer:
    values: dict[str, Any] = {
        "key": "",
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+49 30 1234",
        "billing": BILLING,
        "shipping": SHIPPING,
    }
    return Customer(**{**values, **changes})


def order(number: str, party: int, skus: list[str], **changes: Any) -> Order:
    lines = [
        OrderLine(
            key=str(100 + index),
            sku=sku,
            name=f"Item {sku}",
            quantity=Decimal(2),
            unit_price=Decimal("10.00"),
            total=Decimal("18.00"),  # a 10 % coupon, already inside the line total
            subtotal=Decimal("20.00"),
            tax_class="reduced-rate" if index else "",
        )
        for index, sku in enumerate(skus)
    ]
    values: dict[str, Any] = {
        "key": number,
        "number": number,
        "status": OrderStatus.PROCESSING,
        "currency": "EUR",
        "created_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        "customer": customer("ada@example.com", key=str(party)),
        "billing": BILLING,
        "shipping": SHIPPING,
        "lines": lines,
        "shipping_lines": [ShippingLine(method="flat_rate", title="DHL Paket", total=Decimal("5.50"))],
        "discounts": [DiscountLine(code="WELCOME10", amount=Decimal("4.00"))],
        "shipping_total": Decimal("5.50"),
        "total": Decimal(0),
        "customer_note": "Please ring twice",
        "reference": f"SHOP-{number}",
    }
    return with_tax(Order(**{**values, **changes}))


RATES = {"": Decimal(19), "reduced-rate": Decimal(7)}


def with_tax(order: Order) -> Order:
    """The order with the tax a shop charges (19 % standard and on shipping, 7 % reduced) and its total."""
    bases = {rate: Decimal(0) for rate in RATES.values()}
    for line in order.lines:
        bases[RATES[line.tax_class]] += line.total
    for fee in order.fees:
        if fee.tax:
            bases[RATES.get(fee.tax_class, Decimal(7))] += fee.total
    cent = Decimal("0.01")
    taxes = {rate: (base * rate / 100).quantize(cent, ROUND_HALF_EVEN) for rate, base in bases.items()}
    shipping_tax = (order.shipping_total * RATES[""] / 100).quantize(cent, ROUND_HALF_EVEN)
    tax_lines = [
        TaxLine(rate_percent=rate, tax_total=amount, shipping_tax_total=shipping_tax if rate == 19 else 0)
        for rate, amount in taxes.items()
    ]
    tax = sum(taxes.values(), shipping_tax)
    untaxed = sum((line.total for line in order.lines), order.shipping_total)
    untaxed += sum((fee.total for fee in order.fees), Decimal(0))
    values = {"tax_lines": tax_lines, "tax_total": tax, "shipping_tax": shipping_tax, "total": untaxed + tax}
    return order.model_copy(update=values)


async def create_party(connector: TrytonConnector, email: str) -> dict[str, Any]:
    (outcome,) = await connector.write("customer", [WriteItem(key=email, record=customer(email))], [])
    assert outcome.target_ref is not None
    return outcome.target_ref


async def test_customer_created_with_addresses_then_matched_by_email(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        (created,) = await connector.write("customer", [WriteItem("c1", customer("Ada@Example.com"))], [])
        assert created.status is OutcomeStatus.CREATED
        ref = created.target_ref
        assert ref is not None and ref["invoice_address"] != ref["delivery_address"]
        (party,) = await tryton_server.rpc(
            "party.party", "read", [ref["id"]], ["name", "contact_mechanisms", "addresses"]
        )
        assert party["name"] == "Ada Lovelace"
        addresses = await tryton_server.rpc(
            "party.address",
            "read",
            party["addresses"],
            ["street_unstructured", "city", "postal_code", "invoice", "delivery", "country.code"],
        )
        by_id = {row["id"]: row for row in addresses}
        assert len(addresses) == 2
        assert by_id[ref["invoice_address"]]["invoice"] and by_id[ref["invoice_address"]]["city"] == "Berlin"
        assert by_id[ref["delivery_address"]]["delivery"]
        assert by_id[ref["delivery_address"]]["street_unstructured"] == "Lagerweg 7\nHof"
        contacts = await tryton_server.rpc(
            "party.contact_mechanism", "read", party["contact_mechanisms"], ["type", "value"]
        )
        assert {(c["type"], c["value"]) for c in contacts} == {
            ("email", "Ada@Example.com"),
            ("phone", "+49 30 1234"),
        }

        # A guest order with the same e-mail in another case finds the same party.
        guest = customer("ada@EXAMPLE.com", guest=True, first_name="A.")
        (matched,) = await connector.write("customer", [WriteItem("g1", guest)], [])
        assert matched.status is OutcomeStatus.MATCHED
        assert matched.target_ref == ref
        assert len(await tryton_server.rpc("party.party", "search", [("name", "=", "Ada Lovelace")])) == 1
    finally:
        await connector.close()


async def test_update_adds_a_new_address_and_never_deletes(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector(customer_addresses="add")
    try:
        ref = await create_party(connector, "grace@example.com")
        moved = customer(
            "grace@example.com", shipping=Address(street="Neue Str. 3", city="Bonn", postcode="53111")
        )
        (outcome,) = await connector.write("customer", [WriteItem("c", moved, target_ref=ref)], [])
        assert outcome.status is OutcomeStatus.UPDATED
        assert outcome.target_ref is not None
        assert outcome.target_ref["invoice_address"] == ref["invoice_address"]
        assert outcome.target_ref["delivery_address"] not in (ref["invoice_address"], ref["delivery_address"])
        assert len(await tryton_server.rpc("party.address", "search", [("party", "=", ref["id"])])) == 3
    finally:
        await connector.close()


async def test_two_writers_racing_on_a_new_email_duplicate_the_party(tryton_server: RunningTryton) -> None:
    """Search-then-create is not atomic: the engine must serialise customer writes per e-mail."""
    first, second = tryton_server.client(), tryton_server.client()
    try:
        writer_a, writer_b = PartyWriter(first), PartyWriter(second)
        # Both look before either creates, as two workers on two orders of a new customer would.
        looked = await asyncio.gather(
            writer_a.find_by_email("new@example.com"), writer_b.find_by_email("new@example.com")
        )
        assert looked == [None, None]
        (a,) = await writer_a.write([WriteItem("1", customer("new@example.com"))])
        party_b = await writer_b._create(customer("new@example.com"))  # B acts on its stale look-up
        assert a.status is OutcomeStatus.CREATED and party_b != a.target_ref["id"]  # type: ignore[index]
        duplicates = await tryton_server.rpc(
            "party.contact_mechanism", "search", [("type", "=", "email"), ("value", "=", "new@example.com")]
        )
        assert len(duplicates) == 2

        # With the engine's guard the second order reuses the first one's target_ref: no duplicate.
        (again,) = await writer_b.write(
            [WriteItem("2", customer("new@example.com"), target_ref=a.target_ref)]
        )
        assert again.status is OutcomeStatus.UNCHANGED and again.target_ref == a.target_ref
        assert (
            len(await tryton_server.rpc("party.address", "search", [("party", "=", a.target_ref["id"])])) == 2
        )  # type: ignore[index]
    finally:
        await first.close()
        await second.close()


async def sale_of(server: RunningTryton, sale: int) -> dict[str, Any]:
    fields = [
        "id",
        "state",
        "reference",
        "description",
        "comment",
        "warehouse.code",
        "carrier.party.name",
        "party",
        "invoice_address",
        "shipment_address",
        "untaxed_amount",
        "tax_amount",
        "total_amount",
        "lines",
        "invoices",
        "shipments",
        "currency.code",
    ]
    (row,) = await server.rpc("sale.sale", "read", [sale], fields)
    return row


async def test_sale_created_confirmed_then_matched_by_reference(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    skus = simple_skus(tryton_server, 2)
    try:
        ref = await create_party(connector, "ada@example.com")
        shop_order = order("1001", ref["id"], skus)
        (outcome,) = await connector.write_sales([WriteItem("501", shop_order)], OPTIONS)
        assert outcome.status is OutcomeStatus.CREATED, outcome.error
        sale = await sale_of(tryton_server, outcome.target_ref["id"])  # type: ignore[index]
        assert sale["state"] in ("confirmed", "processing")
        assert sale["reference"] == "SHOP-1001"
        assert "WELCOME10" in sale["description"]
        assert sale["comment"] == "Please ring twice"
        assert sale["warehouse."]["code"] == "WH2"
        assert sale["carrier."]["party."]["name"] == "DHL"
        assert sale["currency."]["code"] == "EUR"
        assert (sale["invoice_address"], sale["shipment_address"]) == (
            ref["invoice_address"],
            ref["delivery_address"],
        )
        lines = await tryton_server.rpc(
            "sale.line",
            "read",
            sale["lines"],
            ["product.code", "quantity", "unit_price", "taxes.name", "description"],
        )
        by_code = {line["product."]["code"]: line for line in lines}
        assert set(by_code) == {*skus, "SHIP-DHL"}
        assert by_code[skus[0]]["unit_price"] == Decimal("9.0000") and by_code[skus[0]]["quantity"] == 2
        assert [t["name"] for t in by_code[skus[0]]["taxes."]] == ["VAT 19%"]  # the product's own
        assert [t["name"] for t in by_code[skus[1]]["taxes."]] == ["VAT 7%"]  # mapped by tax class
        assert by_code["SHIP-DHL"]["unit_price"] == Decimal("5.5000")  # the shop's, not the carrier's
        assert sale["untaxed_amount"] == Decimal("41.50")
        assert sale["tax_amount"] == Decimal("5.72")  # 3.42 + 1.26 + 1.045, rounded per document
        assert sale["invoices"] == []  # invoiced on fulfillment (shipment)
        assert len(sale["shipments"]) == 1

        # A redelivered webhook without the link: found by its reference, never a second sale.
        (again,) = await connector.write_sales([WriteItem("501", shop_order)], OPTIONS)
        assert again.status is OutcomeStatus.MATCHED
        assert again.target_ref == outcome.target_ref
        assert await tryton_server.rpc("sale.sale", "search_count", [("reference", "=", "SHOP-1001")]) == 1
    finally:
        await connector.close()


async def test_fees_and_allowances_become_lines_without_product(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        ref = await create_party(connector, "ada@example.com")
        fees = [
            FeeLine(
                key="30",
                name="Gift wrap",
                total=Decimal("2.50"),
                tax=Decimal("0.18"),
                tax_class="reduced-rate",
            ),
            FeeLine(key="31", name="Loyalty", total=Decimal("-5.00"), taxable=False),
        ]
        shop_order = order("1011", ref["id"], simple_skus(tryton_server, 1), fees=fees)
        (outcome,) = await connector.write_sales([WriteItem("511", shop_order)], OPTIONS)
        assert outcome.status is OutcomeStatus.CREATED, outcome.error
        sale = await sale_of(tryton_server, outcome.target_ref["id"])  # type: ignore[index]
        lines = await tryton_server.rpc(
            "sale.line",
            "read",
            sale["lines"],
            ["product", "unit_price", "quantity", "taxes.name", "description"],
        )
        unpriced = {line["description"]: line for line in lines if line["product"] is None}
        assert set(unpriced) == {"Gift wrap", "Loyalty"}
        assert unpriced["Gift wrap"]["unit_price"] == Decimal("2.5000")
        assert [t["name"] for t in unpriced["Gift wrap"]["taxes."]] == ["VAT 7%"]  # mapped by its class
        assert unpriced["Loyalty"]["unit_price"] == Decimal("-5.0000") and unpriced["Loyalty"]["taxes."] == []
        assert sale["untaxed_amount"] == Decimal("18.00") + Decimal("5.50") + Decimal("2.50") - Decimal(
            "5.00"
        )
        read_back = (await connector.read("order", [str(outcome.target_ref["id"])]))[0]  # type: ignore[index]
        assert isinstance(read_back, Order)
        assert [(fee.name, fee.total) for fee in read_back.fees] == [
            ("Gift wrap", Decimal("2.50")),
            ("Loyalty", Decimal("-5.00")),
        ]
        unmapped = order(
            "1012",
            ref["id"],
            simple_skus(tryton_server, 1),
            fees=[fees[0].model_copy(update={"tax_class": "zero"})],
        )
        (failed,) = await connector.write_sales([WriteItem("512", unmapped)], OPTIONS)
        assert failed.error is not None and failed.error.field == "fees[0].tax_class"  # type: ignore[attr-defined]
    finally:
        await connector.close()


async def test_payment_recorded_once(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        ref = await create_party(connector, "ada@example.com")
        unpaid = order("1002", ref["id"], simple_skus(tryton_server, 1))
        (created,) = await connector.write_sales([WriteItem("502", unpaid)], OPTIONS)
        sale = created.target_ref["id"]  # type: ignore[index]
        origin = f"sale.sale,{sale}"
        assert await tryton_server.rpc("account.payment", "search", [("origin", "=", origin)]) == []
        payment = Payment(method="stripe", transaction_id="ch_1", amount=unpaid.total)
        paid = unpaid.model_copy(update={"payment_state": PaymentState.PAID, "payments": [payment]})
        item = WriteItem("502", paid, target_ref=created.target_ref)
        (first,) = await connector.write_sales([item], OPTIONS)
        assert first.status is OutcomeStatus.UPDATED
        (repeat,) = await connector.write_sales([item], OPTIONS)
        assert repeat.status is OutcomeStatus.UNCHANGED
        ids = await tryton_server.rpc("account.payment", "search", [("origin", "=", origin)])
        (row,) = await tryton_server.rpc(
            "account.payment", "read", ids, ["state", "amount", "journal.name", "kind"]
        )
        assert (row["state"], row["amount"], row["journal."]["name"], row["kind"]) == (
            "succeeded",
            unpaid.total,
            "Card",
            "receivable",
        )
    finally:
        await connector.close()


async def test_paid_order_created_with_its_payment(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        ref = await create_party(connector, "ada@example.com")
        paid = order(
            "1003",
            ref["id"],
            simple_skus(tryton_server, 1),
            payment_state=PaymentState.PAID,
            payments=[Payment(method="bacs")],
        )
        (created,) = await connector.write_sales([WriteItem("503", paid)], OPTIONS)
        (again,) = await connector.write_sales([WriteItem("503", paid)], OPTIONS)
        assert (created.status, again.status) == (OutcomeStatus.CREATED, OutcomeStatus.MATCHED)
        origin = f"sale.sale,{created.target_ref['id']}"  # type: ignore[index]
        ids = await tryton_server.rpc("account.payment", "search", [("origin", "=", origin)])
        (row,) = await tryton_server.rpc("account.payment", "read", ids, ["journal.name", "amount"])
        assert row["journal."]["name"] == "Bank transfer" and row["amount"] == paid.total
    finally:
        await connector.close()


@pytest.mark.parametrize("confirm", [False, True])
async def test_cancellation_before_shipping_cancels_the_sale(
    tryton_server: RunningTryton, confirm: bool
) -> None:
    connector = tryton_server.connector()
    options = SaleOptions(**{**OPTIONS.__dict__, "confirm": confirm})
    try:
        ref = await create_party(connector, "ada@example.com")
        # A paid quotation is confirmed by Tryton itself (sale_payment): only unpaid ones stay quoted.
        paid = {"payment_state": PaymentState.PAID, "payments": [Payment(method="stripe")]} if confirm else {}
        shop_order = order("1004", ref["id"], simple_skus(tryton_server, 1), **paid)
        (created,) = await connector.write_sales([WriteItem("504", shop_order)], options)
        assert created.status is OutcomeStatus.CREATED, created.error
        cancelled = shop_order.model_copy(update={"status": OrderStatus.CANCELLED})
        (outcome,) = await connector.write_sales([WriteItem("504", cancelled, created.target_ref)], options)
        assert outcome.status is OutcomeStatus.UPDATED, outcome.error
        sale = await sale_of(tryton_server, created.target_ref["id"])  # type: ignore[index]
        if confirm:  # processing: shipment cancelled, its moves ignored, the sale closed with nothing done
            shipments = await tryton_server.rpc("stock.shipment.out", "read", sale["shipments"], ["state"])
            assert {s["state"] for s in shipments} == {"cancelled"}
            (states,) = await tryton_server.rpc(
                "sale.sale", "read", [sale["id"]], ["state", "shipment_state", "invoice_state"]
            )
            assert (states["state"], states["shipment_state"]) == ("done", "none")  # no exception left
            assert sale["invoices"] == []
            (read_back,) = await connector.read("order", [str(sale["id"])])
            assert isinstance(read_back, Order) and read_back.status is OrderStatus.CANCELLED
            payments = await tryton_server.rpc(
                "account.payment",
                "search_read",
                [("origin", "=", f"sale.sale,{sale['id']}")],
                0,
                None,
                None,
                ["state"],
            )
            assert [p["state"] for p in payments] == ["failed"]  # given back with the cancellation
        else:
            assert sale["state"] == "cancelled"
        (repeat,) = await connector.write_sales([WriteItem("504", cancelled, created.target_ref)], options)
        assert repeat.error is None
    finally:
        await connector.close()


async def test_cancellation_of_a_sale_already_invoiced_in_part_closes_it(
    tryton_server: RunningTryton,
) -> None:
    # The shop charged no tax, so its shipping is a plain line of the carrier's service product, which
    # Tryton invoices as soon as the sale is processed: cancelling leaves a cancelled draft invoice, an
    # invoice exception that must be handled too, or the sale stays processing for ever (seen on a
    # real shop with taxes off)
    connector = tryton_server.connector()
    try:
        ref = await create_party(connector, "ada@example.com")
        paid = {"payment_state": PaymentState.PAID, "payments": [Payment(method="stripe")]}
        taxed = order("1006", ref["id"], simple_skus(tryton_server, 1), **paid)
        untaxed = sum((line.total for line in taxed.lines), taxed.shipping_total)
        shop_order = taxed.model_copy(
            update={"tax_lines": [], "tax_total": Decimal(0), "shipping_tax": Decimal(0), "total": untaxed}
        )
        (created,) = await connector.write_sales([WriteItem("506", shop_order)], OPTIONS)
        assert created.status is OutcomeStatus.CREATED, created.error
        before = await sale_of(tryton_server, created.target_ref["id"])  # type: ignore[index]
        assert before["state"] == "processing" and before["invoices"], "the shipping line is invoiced at once"
        cancelled = shop_order.model_copy(update={"status": OrderStatus.CANCELLED})
        (outcome,) = await connector.write_sales([WriteItem("506", cancelled, created.target_ref)], OPTIONS)
        assert outcome.status is OutcomeStatus.UPDATED, outcome.error
        (states,) = await tryton_server.rpc(
            "sale.sale", "read", [before["id"]], ["state", "shipment_state", "invoice_state"]
        )
        assert states["state"] == "done" and "exception" not in (
            states["shipment_state"],
            states["invoice_state"],
        )
        (read_back,) = await connector.read("order", [str(before["id"])])
        assert isinstance(read_back, Order) and read_back.status is OrderStatus.CANCELLED
    finally:
        await connector.close()


async def test_cancellation_after_shipping_is_refused(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        ref = await create_party(connector, "ada@example.com")
        shop_order = order("1005", ref["id"], simple_skus(tryton_server, 1))
        (created,) = await connector.write_sales([WriteItem("505", shop_order)], OPTIONS)
        sale = await sale_of(tryton_server, created.target_ref["id"])  # type: ignore[index]
        await ship(tryton_server, sale["shipments"])
        cancelled = shop_order.model_copy(update={"status": OrderStatus.CANCELLED})
        (outcome,) = await connector.write_sales([WriteItem("505", cancelled, created.target_ref)], OPTIONS)
        assert outcome.status is OutcomeStatus.FAILED
        assert isinstance(outcome.error, Permanent)
        assert "has shipped goods" in str(outcome.error) and "SHOP-1005" in str(outcome.error)
        assert "back with a return sale" in str(outcome.error)  # what is left to do, in Tryton
        assert (outcome.error.record, outcome.error.field) == ("1005", "status")
    finally:
        await connector.close()


async def ship(server: RunningTryton, shipments: list[int]) -> None:
    """Pick, pack and ship customer shipments the way a warehouse clerk would (as admin)."""
    for method in ("wait", "assign_force", "pick", "pack", "do"):
        await server.rpc("stock.shipment.out", method, shipments)


async def test_unknown_sku_and_unmapped_carrier_fail_per_item(tryton_server: RunningTryton) -> None:
    connector = tryton_server.connector()
    try:
        ref = await create_party(connector, "ada@example.com")
        good = order("1006", ref["id"], simple_skus(tryton_server, 1))
        unknown = order("1007", ref["id"], [*simple_skus(tryton_server, 1), "NO-SUCH-SKU"])
        no_carrier = order("1008", ref["id"], simple_skus(tryton_server, 1))
        outcomes = await connector.write_sales(
            [WriteItem("1", unknown), WriteItem("2", good), WriteItem("3", no_carrier)],
            SaleOptions(carriers={"flat_rate": "DHL", "express": "FedEx"}),  # no warehouse: the first
        )
        assert [o.status for o in outcomes] == [
            OutcomeStatus.FAILED,
            OutcomeStatus.CREATED,
            OutcomeStatus.CREATED,
        ], [o.error for o in outcomes]
        error = outcomes[0].error
        assert isinstance(error, Permanent)
        assert (error.record, error.field) == ("order 1007 line 101", "lines[1].sku")
        assert await tryton_server.rpc("sale.sale", "search_count", [("reference", "=", "SHOP-1007")]) == 0
        (default_warehouse,) = await tryton_server.rpc(
            "sale.sale",
            "read",
            [outcomes[1].target_ref["id"]],
            ["warehouse.code"],  # type: ignore[index]
        )
        assert default_warehouse["warehouse."]["code"] == "WH"
        express = order("1009", ref["id"], simple_skus(tryton_server, 1))
        express.shipping_lines[0].method = "express"
        options = SaleOptions(warehouse="WH", carriers={"express": "FedEx"})
        (failed,) = await connector.write_sales([WriteItem("4", express)], options)
        assert isinstance(failed.error, Permanent) and failed.error.field == "shipping_lines[0].method"
        assert "FedEx" in str(failed.error)
    finally:
        await connector.close()


async def test_availability_for_known_and_unknown_skus(tryton_server: RunningTryton) -> None:
    spec = tryton_server.catalogue
    items = [i for i in plan(spec.products, spec.variant_share, spec.seed) if len(i.variants) == 1][:5]
    connector = tryton_server.connector()
    try:
        skus = [item.code for item in items]
        both = await connector.availability([*skus, "NO-SUCH-SKU"], None)
        assert both == {item.code: Decimal(sum(item.variants[0].stock.values())) for item in items}
        only_wh2 = await connector.availability(skus, ["WH2"])
        assert only_wh2 == {item.code: Decimal(item.variants[0].stock.get("WH2", 0)) for item in items}

        # A confirmed sale lowers what is available to promise at once (its moves are forecast).
        ref = await create_party(connector, "ada@example.com")
        await connector.write_sales([WriteItem("9", order("1010", ref["id"], skus[:1]))], OPTIONS)
        after = await connector.availability(skus[:1], ["WH2"])
        assert after[skus[0]] == only_wh2[skus[0]] - 2
    finally:
        await connector.close()
