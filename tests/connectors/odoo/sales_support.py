"""What the Odoo sales tests share: a connector on the sandbox (both APIs), a fee product, and shop orders."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from emporion.connectors.base import WriteItem
from emporion.connectors.odoo.connector import OdooConnector
from emporion.connectors.roles import SaleOptions
from emporion.model.orders import Address, Customer, Order, OrderLine, OrderStatus, PaymentState, ShippingLine
from tests.connectors.odoo.conftest import RunningSandbox

FEE_SKU = "FEE"
ADDRESS = Address(
    first_name="Ada",
    last_name="Lovelace",
    street="Main Street 1",
    city="Berlin",
    postcode="10115",
    country="DE",
)
OPTIONS = SaleOptions(carriers={"*": "Standard delivery"}, taxes={"": "19%", "reduced": "7%"})
_tags = itertools.count(1)


@pytest.fixture
async def connector(odoo_sandbox: RunningSandbox) -> AsyncIterator[OdooConnector]:
    """The Odoo connector on the sandbox, with a service product for fees and rounding cents."""
    odoo_sandbox.sandbox.create_product("Fees", FEE_SKU, 0.0, type="service", is_storable=False)
    connector = OdooConnector("odoo", odoo_sandbox.settings(fee_product=FEE_SKU))
    yield connector
    await connector.close()


def tag() -> str:
    """A tag unique within the test run."""
    return f"T{next(_tags)}"


def stocked(sandbox: RunningSandbox, label: str, price: float = 10.0, quantity: float = 10) -> str:
    """A storable product with stock in WH; its SKU."""
    sku = f"SKU-{label}"
    sandbox.sandbox.create_product(f"Product {label}", sku, price)
    sandbox.sandbox.receive_stock(sku, quantity)
    return sku


def customer(email: str, **values: Any) -> Customer:
    """A shop customer with a billing address."""
    return Customer(key="", email=email, first_name="Ada", last_name="Lovelace", billing=ADDRESS, **values)


async def partner(connector: OdooConnector, email: str) -> str:
    """The partner of a customer, made through the connector."""
    (outcome,) = await connector.write("customer", [WriteItem(email, customer(email))], [])
    assert outcome.ok and outcome.target_ref, outcome.error
    return str(outcome.target_ref["id"])


def order(label: str, party: str, sku: str, **values: Any) -> Order:
    """A paid shop order of two units of `sku` at 10.00 plus 19 % tax and 4.90 shipping (taxed 19 %)."""
    fields: dict[str, Any] = {
        "key": f"shop-{label}",
        "number": f"N{label}",
        "status": OrderStatus.PROCESSING,
        "payment_state": PaymentState.PAID,
        "currency": "EUR",
        "created_at": datetime.now(UTC),
        "customer": customer(f"{label.lower()}@example.com").model_copy(update={"key": party}),
        "billing": ADDRESS,
        "shipping": ADDRESS,
        "lines": [
            OrderLine(
                key="1",
                sku=sku,
                name=f"Item {sku}",
                quantity=Decimal(2),
                unit_price=Decimal(10),
                total=Decimal("20.00"),
                tax=Decimal("3.80"),
            )
        ],
        "shipping_lines": [
            ShippingLine(key="s", method="flat_rate", title="Flat rate", total=Decimal("4.90"))
        ],
        "shipping_total": Decimal("4.90"),
        "shipping_tax": Decimal("0.93"),
        "tax_total": Decimal("4.73"),
        "total": Decimal("29.63"),
        "reference": f"WC-{label}",
    }
    return Order(**{**fields, **values})
