"""The connector contract against a real Tryton, for the roles it plays: catalogue source, sales target."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from emporion.connectors.roles import (
    CatalogueSource,
    CatalogueTarget,
    CustomerSource,
    CustomerTarget,
    SaleOptions,
    SalesTarget,
)
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.connectors.tryton.plugin import PLUGIN
from emporion.model import Address, Customer, Product, Record
from emporion.testing.contract import (
    BudgetedConnectionContract,
    CatalogueSourceContract,
    CatalogueTargetContract,
    ConnectorContract,
    CustomerSourceContract,
    CustomerTargetContract,
    SalesTargetContract,
)
from emporion.testing.contract.catalogue import Commit
from emporion_devkit.erp.catalogue import plan
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton
PAGE_SIZE = 3


class TrytonConnectorFixture:
    """A connector paging by three on one Tryton server per module (tests make their own records)."""

    plugin = PLUGIN
    server: RunningTryton

    @pytest.fixture
    async def connector(self, tryton_server_module: RunningTryton) -> AsyncIterator[TrytonConnector]:
        self.server = tryton_server_module
        connector = tryton_server_module.connector(page_size=PAGE_SIZE)
        yield connector
        await connector.close()


class TestTrytonConnector(TrytonConnectorFixture, ConnectorContract):
    pass


class TestTrytonCatalogueSource(TrytonConnectorFixture, CatalogueSourceContract):
    page_size = PAGE_SIZE

    async def seed(self, connector: CatalogueSource, count: int, tag: str) -> list[str]:
        """New salable goods templates, made as the merchant would (admin over JSON-RPC)."""
        (unit,) = await self.server.rpc("product.uom", "search", [("symbol", "=", "u")], 0, 1, None)
        values = [
            {
                "name": f"Contract {tag} {n}",
                "code": f"CT-{tag}-{n}",
                "type": "goods",
                "default_uom": unit,
                "salable": True,
                "sale_uom": unit,
                "list_price": Decimal("12.00"),
                "products": [["create", [{"suffix_code": ""}]]],
            }
            for n in range(count)
        ]
        return [str(ident) for ident in await self.server.rpc("product.template", "create", values)]

    async def touch(self, connector: CatalogueSource, key: str) -> None:
        (row,) = await self.server.rpc("product.template", "read", [int(key)], ["list_price"])
        price = Decimal(row["list_price"]) + Decimal("0.01")
        await self.server.rpc("product.template", "write", [int(key)], {"list_price": price})

    async def begin_change(self, connector: CatalogueSource, key: str) -> Commit:
        """A late commit, as Tryton makes one: the row is stamped with its transaction's start.

        A transaction cannot be held open over JSON-RPC, so the write lands at commit time and is then
        given back the stamp it would have carried: the database clock when the change began.
        """
        begun = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")

        async def commit() -> None:
            await self.touch(connector, key)
            database = self.server.db.sqlite_file
            assert database is not None, "the test Tryton runs on SQLite"
            with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection, connection:
                restamp = "UPDATE product_template SET write_date = ? WHERE id = ?"
                connection.execute(restamp, (begun, int(key)))

        return commit


class TestTrytonSalesTarget(TrytonConnectorFixture, SalesTargetContract):
    def sale_options(self) -> SaleOptions:
        return SaleOptions(carriers={"*": "DHL"})  # Tryton quotes a sale only with a carrier

    async def stocked_sku(self, connector: SalesTarget, tag: str) -> str:
        """A simple salable product of the sample catalogue that has stock."""
        spec = self.server.catalogue
        items = plan(spec.products, spec.variant_share, spec.seed)
        skus = [item.code for item in items if item.salable and len(item.variants) == 1]
        available = await connector.availability(skus, None)
        return next(sku for sku in skus if available.get(sku, Decimal(0)) > 0)


class TestTrytonBudget(TrytonConnectorFixture, BudgetedConnectionContract):
    pass


async def make_party(server: RunningTryton, email: str, name: str, city: str = "Berlin") -> int:
    """A customer party made in Tryton by hand (admin over JSON-RPC): e-mail and an invoice address."""
    address = {"street_unstructured": "Hauptstr. 1", "postal_code": "10115", "city": city, "invoice": True}
    (party,) = await server.rpc(
        "party.party",
        "create",
        [
            {
                "name": name,
                "contact_mechanisms": [["create", [{"type": "email", "value": email}]]],
                "addresses": [["create", [address]]],
            }
        ],
    )
    return int(party)


class TestTrytonCustomerSource(TrytonConnectorFixture, CustomerSourceContract):
    page_size = PAGE_SIZE

    async def seed(self, connector: CustomerSource, count: int, tag: str) -> list[str]:
        return [
            str(await make_party(self.server, self.email(tag, n), f"Ada Contract{n}")) for n in range(count)
        ]

    async def move(self, connector: CustomerSource, key: str, to: Address) -> None:
        rows = await self.server.rpc("party.address", "search", [("party", "=", int(key))])
        await self.server.rpc(
            "party.address",
            "write",
            rows[:1],
            {"street_unstructured": to.street, "postal_code": to.postcode, "city": to.city},
        )


class TestTrytonCustomerTarget(TrytonConnectorFixture, CustomerTargetContract):
    async def seed(self, connector: CustomerTarget, customer: Customer) -> str:
        name = f"{customer.first_name} {customer.last_name}".strip()
        city = customer.billing.city if customer.billing else "Berlin"
        return str(await make_party(self.server, customer.email, name, city))


class TestTrytonCatalogueTarget(TrytonConnectorFixture, CatalogueTargetContract):
    """Tryton as the target of a shop's catalogue; a briefly unwell Tryton is one that is down."""

    @pytest.fixture
    async def connector(self, tryton_server_module: RunningTryton) -> AsyncIterator[TrytonConnector]:
        self.server = tryton_server_module
        connector = tryton_server_module.connector(page_size=PAGE_SIZE)
        yield connector
        await connector.close()
        if not tryton_server_module.server.running:  # back after `fail_transiently`, for the next tests
            tryton_server_module.server.restart()

    async def seed(self, connector: CatalogueTarget, record: Record) -> str:
        """A salable template made by the merchant in Tryton (admin over JSON-RPC)."""
        assert isinstance(record, Product)
        (unit,) = await self.server.rpc("product.uom", "search", [("symbol", "=", "u")], 0, 1, None)
        values = {
            "name": record.name,
            "code": record.sku,
            "type": "goods",
            "default_uom": unit,
            "salable": True,
            "sale_uom": unit,
            "list_price": Decimal("10.00"),
            "products": [["create", [{"suffix_code": ""}]]],
        }
        (made,) = await self.server.rpc("product.template", "create", [values])
        return str(made)

    async def fail_transiently(self, connector: CatalogueTarget) -> None:
        self.server.server.stop()

    async def read_unpublished(self, connector: CatalogueTarget, key: str) -> Record:
        """Tryton's catalogue reads leave deactivated templates out: the template row as it stands."""
        assert await connector.read(self.entity, [key]) == []
        (row,) = await self.server.rpc(
            "product.template",
            "read",
            [int(key)],
            ["name", "code", "active", "salable"],
            context={"active_test": False},
        )
        return Product(
            key=key, sku=row["code"] or "", name=row["name"], active=row["active"], salable=row["salable"]
        )
