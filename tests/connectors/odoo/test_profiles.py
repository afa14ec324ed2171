"""The version profile chosen by the server's version, and its names checked against the sandbox's
personality of each version (17, 18 and 19): groups, storable products, sale line fields, stock context."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.odoo.client import OdooClient
from emporion.connectors.odoo.profiles import PROFILES, profile_for, supported
from tests.connectors.odoo.conftest import RunningSandbox, running_sandbox

CASES = [(17, "jsonrpc"), (18, "jsonrpc"), (19, "json2"), (19, "jsonrpc")]


def test_profile_for_a_version_between_or_after_the_known_ones() -> None:
    assert profile_for(18) is PROFILES[18]
    assert profile_for(20) is PROFILES[19]  # a newer server keeps the newest names until told otherwise
    assert not supported(16) and supported(17) and supported(20)
    assert [PROFILES[v].api for v in (17, 18, 19)] == ["jsonrpc", "jsonrpc", "json2"]
    assert PROFILES[17].storable() == [("detailed_type", "=", "product")]
    assert PROFILES[18].warehouse_context(4) == {"warehouse_id": 4}
    assert PROFILES[17].warehouse_context(4) == {"warehouse": 4}


@pytest.fixture(params=CASES, ids=[f"{v}-{a}" for v, a in CASES])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningSandbox]:
    """The sandbox of each version, over each API it speaks."""
    version, api = request.param
    with running_sandbox(tmp_path, version, api) as running:
        yield running


@pytest.fixture
async def client(sandbox: RunningSandbox) -> AsyncIterator[OdooClient]:
    """A connected client with `version: auto`."""
    client = OdooClient(sandbox.settings(), CircuitBreaker("odoo-test"))
    await client.connect()
    yield client
    await client.close()


async def test_the_profile_follows_the_servers_version(client: OdooClient, sandbox: RunningSandbox) -> None:
    assert client.version.major == sandbox.version
    assert client.profile is PROFILES[sandbox.version]
    assert client.api == sandbox.api


async def test_field_names_exist_on_that_version(client: OdooClient) -> None:
    profile = client.profile
    lines = await client.call("sale.order.line", "fields_get", None, attributes=["type"])
    assert profile.sale_line_taxes in lines and profile.sale_line_uom in lines
    other_taxes = {"tax_id", "tax_ids"} - {profile.sale_line_taxes}
    assert not other_taxes & set(lines)
    (user,) = await client.read("res.users", [client.uid], [profile.user_groups])
    assert user[profile.user_groups], "the integration user has groups under the profile's field name"


async def test_storable_domain_and_warehouse_context(client: OdooClient, sandbox: RunningSandbox) -> None:
    profile = client.profile
    storable = await client.search("product.product", profile.storable(), limit=1)
    assert storable, "the sample catalogue has storable products"
    (sku_row,) = await client.read("product.product", storable, ["default_code"])
    sandbox.sandbox.receive_stock(sku_row["default_code"], 7, warehouse="WH2")
    wh, wh2 = sandbox.sandbox.warehouse("WH"), sandbox.sandbox.warehouse("WH2")
    (in_wh,) = await client.read(
        "product.product", storable, ["free_qty"], context=profile.warehouse_context(wh)
    )
    (in_wh2,) = await client.read(
        "product.product", storable, ["free_qty"], context=profile.warehouse_context(wh2)
    )
    (overall,) = await client.read("product.product", storable, ["free_qty"])
    assert Decimal(str(in_wh2["free_qty"])) >= 7
    assert Decimal(str(overall["free_qty"])) == Decimal(str(in_wh["free_qty"])) + Decimal(
        str(in_wh2["free_qty"])
    )


async def test_a_fixed_version_overrides_what_the_server_says(sandbox: RunningSandbox) -> None:
    pinned = 17 if sandbox.version != 17 else 18
    client = OdooClient(sandbox.settings(version=str(pinned), api="auto"), CircuitBreaker("odoo-test"))
    try:
        await client.connect()
        assert client.version.major == sandbox.version
        assert client.profile is PROFILES[pinned]
        # `api: auto` follows the server's version, not the pinned profile
        assert client.api == ("json2" if sandbox.version >= 19 else "jsonrpc")
    finally:
        await client.close()
