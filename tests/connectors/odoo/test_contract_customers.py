"""The customer source and target contracts for the Odoo connector on the sandbox (18 JSON-RPC, 19 JSON-2)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from emporion.connectors.odoo.connector import OdooConnector
from emporion.connectors.odoo.plugin import PLUGIN
from emporion.connectors.roles import CustomerSource, CustomerTarget
from emporion.model import Address, Customer
from emporion.testing.contract import CustomerSourceContract, CustomerTargetContract
from tests.connectors.odoo.conftest import RunningSandbox

PAGE_SIZE = 3


def make_partner(running: RunningSandbox, email: str, name: str, city: str = "Berlin") -> int:
    """A customer partner made in Odoo by hand (Sales > Customers: a customer rank), with an address."""
    (partner,) = running.sandbox.create(
        "res.partner",
        [
            {
                "name": name,
                "email": email,
                "customer_rank": 1,
                "street": "Hauptstr. 1",
                "zip": "10115",
                "city": city,
            }
        ],
    )
    return int(partner)


class OdooCustomerFixture:
    """The connector on the sandbox of each API mode, paging by three."""

    plugin = PLUGIN
    page_size = PAGE_SIZE
    running: RunningSandbox

    @pytest.fixture
    async def connector(self, odoo_sandbox: RunningSandbox) -> AsyncIterator[OdooConnector]:
        """The connector under test, paging by three, on the sandbox of this API mode."""
        self.running = odoo_sandbox
        connector = OdooConnector("odoo", odoo_sandbox.settings(page_size=PAGE_SIZE))
        yield connector
        await connector.close()


class TestOdooCustomerSource(OdooCustomerFixture, CustomerSourceContract):
    """Partners registered and moved by the merchant's hand in the sandbox."""

    async def seed(self, connector: CustomerSource, count: int, tag: str) -> list[str]:
        return [str(make_partner(self.running, self.email(tag, n), f"Ada Contract{n}")) for n in range(count)]

    async def move(self, connector: CustomerSource, key: str, to: Address) -> None:
        values = {"street": to.street, "zip": to.postcode, "city": to.city}
        self.running.sandbox.write("res.partner", [int(key)], values)


class TestOdooCustomerTarget(OdooCustomerFixture, CustomerTargetContract):
    """Customer partners written by emporion; the merchant's own made through the sandbox."""

    async def seed(self, connector: CustomerTarget, customer: Customer) -> str:
        name = f"{customer.first_name} {customer.last_name}".strip()
        city = customer.billing.city if customer.billing else "Berlin"
        return str(make_partner(self.running, customer.email, name, city))
