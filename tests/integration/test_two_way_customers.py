"""Customers both ways on real Tryton and the sandbox shop: registrations, B2B accounts, owned fields.

The shop owns what a customer edits (names, addresses), Tryton owns the group, the price list and the
customer number (the configuration guide's worked example). A consumer who registers becomes one party
before any order; a business customer entered in Tryton becomes a shop account with its group.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emporion.engine.sync import sync_flow
from emporion.engine.worker import Engine
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import RunningTryton
from tests.integration.engine_support import place_order, running_engine, shop_api
from tests.integration.two_way_support import (
    CUSTOMER_FLOWS,
    CUSTOMERS,
    CUSTOMERS_BACK,
    ORDER_FLOW,
    ORDERS,
    WHOLESALE,
    b2b_party,
    initial_syncs,
    nested,
    ok,
    parties_with_email,
    party,
    settle,
    shop_customers,
    shop_meta,
    two_way_config,
    two_way_settings,
    writes_per_record,
)

pytestmark = pytest.mark.tryton

PAIR = (CUSTOMERS, CUSTOMERS_BACK)
ERP_SETTINGS = f"    customer_groups: [{WHOLESALE}]\n"
CATALOGUE_ONE_WAY = """
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
"""


@pytest.fixture
def config(tmp_path: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop, sqlite_url: str) -> Path:
    flows = CUSTOMER_FLOWS + CATALOGUE_ONE_WAY + ORDER_FLOW
    return two_way_config(tmp_path, tryton_server, sandbox_shop, sqlite_url, flows, erp=ERP_SETTINGS)


async def started(engine: Engine) -> None:
    """Both customer flows' first full sync, settled."""
    await initial_syncs(engine, PAIR)
    await settle(engine, PAIR)


async def test_a_consumer_registering_in_the_shop_becomes_one_party_before_any_order(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    email = "anna.berg@example.com"
    async with running_engine(two_way_settings(config)) as engine:
        await started(engine)
        account = ok(
            api.post(
                "/customers",
                json={
                    "email": email,
                    "first_name": "Anna",
                    "last_name": "Berg",
                    "billing": {  # no country: the test database has none
                        "first_name": "Anna",
                        "last_name": "Berg",
                        "address_1": "Lindenweg 4",
                        "city": "Kassel",
                        "postcode": "34117",
                        "email": email,
                    },
                },
            )
        )
        lines = await settle(engine, PAIR)
        (party_id,) = await parties_with_email(tryton_server, email)
        # a registration is no conflict: the party holds what the shop sent, nothing is written back
        conflicts = await engine.store.list_conflicts(entities=["customer"], state=None)
        assert [line.flow for line in lines].count(CUSTOMERS) == 1, [
            (e.flow, e.action, e.reason) for e in lines
        ]
        assert [(c.flow, c.field, c.state) for c in conflicts] == []
        registered = await party(tryton_server, party_id)
        assert registered["name"] == "Anna Berg"
        assert [row["city"] for row in registered["address_rows"]] == ["Kassel"]
        # the party's number (Tryton owns it) comes back to the account; no second account
        (again,) = shop_customers(api, email)
        assert again["id"] == account["id"]
        assert registered["code"] and shop_meta(again).get("customer_number") == registered["code"]

        # a full sync again, then an order by the same person with the e-mail in other case
        await initial_syncs(engine, PAIR)
        await settle(engine, PAIR)
        assert await parties_with_email(tryton_server, email) == {party_id}
        await sync_flow(engine.runners["catalogue"])
        await engine.ensure_initial_sync()
        product = ok(api.get("/products", params={"per_page": 1}))[0]
        order = place_order(
            api,
            email.upper(),
            product["id"],
            1,
            customer_id=account["id"],
            set_paid=True,
            payment_method="bacs",
        )
        await engine.drain(engine.order_flows[ORDERS].flow)
        dead = await engine.store.list_dead()
        assert dead == [], [(d.flow, d.entity, d.reason) for d in dead]
        sales = await tryton_server.rpc(
            "sale.sale",
            "search_read",
            [("reference", "=", f"WEB-{order['number']}")],
            0,
            None,
            None,
            ["party"],
        )
        assert [sale["party"] for sale in sales] == [party_id]
        assert await parties_with_email(tryton_server, email) == {party_id}
        await settle(engine, PAIR)
        assert await parties_with_email(tryton_server, email) == {party_id}
        assert len(shop_customers(api, email)) == 1


async def test_a_b2b_customer_made_in_tryton_becomes_a_shop_account_with_its_group(
    config: Path, tryton_server: RunningTryton, sandbox_shop: SandboxShop
) -> None:
    api = shop_api(sandbox_shop)
    email = "einkauf@gartenbau-kern.example"
    async with running_engine(two_way_settings(config)) as engine:
        await started(engine)
        party_id = await b2b_party(
            tryton_server, "Gartenbau Kern", email, "Am Hafen 2", "Bremen", "28217", code="K-1001"
        )
        await settle(engine, PAIR)
        (account,) = shop_customers(api, email)
        meta = shop_meta(account)
        assert meta.get("customer_group") == WHOLESALE and meta.get("price_list") == WHOLESALE
        assert meta.get("customer_number") == "K-1001"
        assert account["billing"]["city"] == "Bremen"
        assert account["billing"]["address_1"] == "Am Hafen 2"
        assert await parties_with_email(tryton_server, email) == {party_id}  # its echo made no second party

        # the shop owns addresses: a move typed into the account reaches the party, once
        billing = {**account["billing"], "address_1": "Speicherhof 9", "city": "Hamburg", "postcode": "20457"}
        ok(api.put(f"/customers/{account['id']}", json={"billing": billing}))
        lines = await settle(engine, PAIR)
        moved = await party(tryton_server, party_id)
        assert {row["city"] for row in moved["address_rows"]} >= {"Hamburg"}
        assert any(row["street_unstructured"] == "Speicherhof 9" for row in moved["address_rows"])
        assert [line.flow for line in lines if line.entity == "customer"] == [CUSTOMERS], lines
        assert len(writes_per_record(lines, "customer")) == 1

        # Tryton owns the group: a group typed into the shop is reverted, Tryton's category stays
        ok(
            api.put(
                f"/customers/{account['id']}",
                json={"meta_data": [{"key": "customer_group", "value": "Retail"}]},
            )
        )
        lines = await settle(engine, PAIR)
        assert shop_meta(shop_customers(api, email)[0]).get("customer_group") == WHOLESALE
        kept = await party(tryton_server, party_id)
        assert WHOLESALE in kept["category_names"] and nested(kept, "sale_price_list", "name") == WHOLESALE
        assert [line.flow for line in lines] == [CUSTOMERS_BACK], lines
        assert await settle(engine, PAIR) == []
        assert len(shop_customers(api, email)) == 1
        assert await parties_with_email(tryton_server, email) == {party_id}
