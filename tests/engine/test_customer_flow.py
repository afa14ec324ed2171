"""Customers both ways on memory systems: shop registrations become ERP parties, B2B customers of the
ERP become shop accounts, matched by e-mail in any case, each field travelling from its owner."""

from __future__ import annotations

from emporion.engine.worker import Engine
from emporion.model import Address, Customer
from emporion.testing import MemorySystem
from tests.engine.conftest import Harness

FLOWS = """
  - name: shop-customers
    source: shop
    target: erp
    entities: [customer]
    ownership:
      default: shop
      fields: {number: erp, group: erp, price_list: erp, company: either}
  - name: erp-customers
    source: erp
    target: shop
    entities: [customer]
"""


def customers(system: MemorySystem) -> dict[str, Customer]:
    """A system's customers by lower-cased e-mail."""
    return {c.email.lower(): c for c in system.all("customer") if isinstance(c, Customer)}


def address(street: str) -> Address:
    return Address(
        first_name="Ann", last_name="Lee", street=street, city="Graz", postcode="8010", country="AT"
    )


async def settle(engine: Engine) -> None:
    """Poll both flows and work their queues until neither finds anything more to do."""
    for _ in range(10):
        busy = 0
        for flow in engine.settings.flows:
            busy += await engine.poll(flow)
            while handled := await engine.work(flow):
                busy += handled
        if not busy:
            return
    raise AssertionError("the two flows kept finding work: a ping-pong")


async def written(engine: Engine) -> list[tuple[str, str]]:
    """(flow, action) of every journal line that wrote a customer."""
    lines = [entry for _, entry in await engine.store.journal_after(0, 1000)]
    return [(e.flow, e.action) for e in lines if e.entity == "customer" and e.action != "unchanged"]


async def test_a_shop_registration_becomes_one_erp_party_before_any_order(harness: Harness) -> None:
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        harness.shop.put(
            "customer", Customer(key="", email="Ann@Example.com", first_name="Ann", billing=address("Main 1"))
        )
        await settle(engine)
        lines = await written(engine)
    (party,) = customers(harness.erp).values()
    assert party.first_name == "Ann" and party.billing == address("Main 1")
    assert lines == [("shop-customers", "created"), ("erp-customers", "matched")]
    assert list(customers(harness.shop)) == ["ann@example.com"]  # no second account came back


async def test_a_b2b_customer_of_the_erp_becomes_a_shop_account_with_its_group(harness: Harness) -> None:
    harness.erp.put(
        "customer",
        Customer(
            key="c7",
            email="buyer@Wholesale.example",
            company="Wholesale Ltd",
            number="K-7",
            group="wholesale",
            price_list="B2B",
        ),
    )
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        await settle(engine)
        edit = customers(harness.erp)["buyer@wholesale.example"].model_copy(update={"group": "retail"})
        harness.erp.put("customer", edit)  # the ERP moves the customer to another group
        await settle(engine)
    account = customers(harness.shop)["buyer@wholesale.example"]
    assert (account.company, account.number, account.group, account.price_list) == (
        "Wholesale Ltd",
        "K-7",
        "retail",
        "B2B",
    )
    assert len(customers(harness.erp)) == 1


async def test_an_address_changed_in_the_shop_reaches_the_erp_and_does_not_bounce(harness: Harness) -> None:
    harness.shop.put(
        "customer", Customer(key="", email="ann@example.com", first_name="Ann", billing=address("Main 1"))
    )
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        await settle(engine)
        before = len(await written(engine))
        shop = customers(harness.shop)["ann@example.com"]
        harness.shop.put("customer", shop.model_copy(update={"billing": address("Side 2")}))
        await settle(engine)
        lines = (await written(engine))[before:]
        (line,) = lines
        assert await engine.store.list_conflicts(state=None) == []
    assert customers(harness.erp)["ann@example.com"].billing == address("Side 2")
    assert line == ("shop-customers", "updated")


async def test_the_same_customer_on_both_sides_is_matched_by_e_mail_in_any_case(harness: Harness) -> None:
    harness.erp.put(
        "customer", Customer(key="c1", email="ANN@example.com", first_name="Ann", number="K-1", group="vip")
    )
    harness.shop.put("customer", Customer(key="", email="ann@EXAMPLE.com", first_name="Ann", phone="+43 1"))
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        await settle(engine)
    erp, shop = customers(harness.erp), customers(harness.shop)
    assert list(erp) == ["ann@example.com"] and list(shop) == ["ann@example.com"]
    # each side's fields reached the other: the phone is the shop's, number and group the ERP's
    assert (erp["ann@example.com"].phone, shop["ann@example.com"].phone) == ("+43 1", "+43 1")
    assert (shop["ann@example.com"].number, shop["ann@example.com"].group) == ("K-1", "vip")


async def test_a_group_edited_in_the_shop_is_reverted_and_guests_are_never_sent(harness: Harness) -> None:
    harness.erp.put("customer", Customer(key="c1", email="ann@example.com", first_name="Ann", group="vip"))
    harness.shop.put("customer", Customer(key="guest:bob@example.com", email="bob@example.com", guest=True))
    async with harness.engine(FLOWS) as engine:
        await engine.ensure_initial_sync()
        await settle(engine)
        account = customers(harness.shop)["ann@example.com"]
        harness.shop.put("customer", account.model_copy(update={"group": "staff"}))
        await settle(engine)
        (conflict,) = await engine.store.list_conflicts(state=None)
    assert customers(harness.shop)["ann@example.com"].group == "vip"
    assert (conflict.field, conflict.owner, conflict.policy) == ("group", "erp", "revert")
    assert "bob@example.com" not in customers(harness.erp)


async def test_the_filter_expression_picks_the_customers_a_flow_sends(harness: Harness) -> None:
    flows = """
  - name: erp-customers
    source: erp
    target: shop
    entities: [customer]
    filter: {expression: "group == 'wholesale'"}
"""
    harness.erp.put("customer", Customer(key="c1", email="b2b@example.com", group="wholesale"))
    harness.erp.put("customer", Customer(key="c2", email="walk-in@example.com"))  # a party of a shop order
    async with harness.engine(flows) as engine:
        await engine.ensure_initial_sync()
        await settle(engine)
    assert list(customers(harness.shop)) == ["b2b@example.com"]
