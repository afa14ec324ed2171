"""Odoo partners as customers both ways on the sandbox of Odoo 17, 18 and 19: which partners are customers,
companies with their contact person, addresses from child contacts, number, tag group, pricelist, the
feed (a child reports its parent), matching by number before e-mail, address modes, archiving."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.odoo.connector import OdooConnector
from emporion.model import Address, Customer
from emporion.testing.contract.base import drain
from tests.connectors.odoo.conftest import RunningSandbox, running_sandbox

API_OF_VERSION = {17: "jsonrpc", 18: "jsonrpc", 19: "json2"}
GROUPS = ["retail", "wholesale"]
HAMBURG = Address(street="Dock 7", postcode="20457", city="Hamburg", country="DE")


@pytest.fixture(params=[17, 18, 19])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningSandbox]:
    """The sandbox with each version's personality, over the API that version defaults to."""
    version = int(request.param)
    with running_sandbox(tmp_path, version, API_OF_VERSION[version]) as running:
        yield running


@pytest.fixture
async def connector(sandbox: RunningSandbox) -> AsyncIterator[OdooConnector]:
    """The connector with two customer groups (partner tags), paging by two."""
    connector = OdooConnector("odoo", sandbox.settings(page_size=2, customer_groups=GROUPS))
    yield connector
    await connector.close()


def partner(sandbox: RunningSandbox, **values: Any) -> int:
    """A partner made by the merchant in Odoo."""
    (made,) = sandbox.sandbox.create("res.partner", [values])
    return int(made)


def tag_id(sandbox: RunningSandbox, name: str) -> int:
    """The partner tag `name` (made if missing)."""
    rows = sandbox.sandbox.search_read("res.partner.category", [("name", "=", name)], ["id"])
    return int(rows[0]["id"]) if rows else partner_tag(sandbox, name)


def partner_tag(sandbox: RunningSandbox, name: str) -> int:
    (made,) = sandbox.sandbox.create("res.partner.category", [{"name": name}])
    return int(made)


def customer(email: str, **values: Any) -> Customer:
    """A shop customer in Berlin."""
    billing = Address(street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE")
    return Customer(
        key=f"shop-{email}", email=email, first_name="Ada", last_name="Lovelace", billing=billing, **values
    )


def read_one(records: list[Any]) -> Customer:
    (record,) = records
    assert isinstance(record, Customer)
    return record


async def test_customers_are_ranked_commercial_partners_with_an_email_not_the_company(
    connector: OdooConnector, sandbox: RunningSandbox
) -> None:
    """A vendor, a contact under a customer, a partner without e-mail, the company's own: no customers."""
    ada = partner(sandbox, name="Ada Lovelace", email="Ada@Example.com", customer_rank=1)
    vendor = partner(sandbox, name="Vendor AG", email="vendor@example.com", is_company=True)
    child = partner(
        sandbox, name="Ada's colleague", email="colleague@example.com", parent_id=ada, customer_rank=1
    )
    mute = partner(sandbox, name="No Mail", customer_rank=1)
    (company,) = sandbox.sandbox.search_read("res.company", [], ["partner_id"])
    own = int(company["partner_id"][0])
    sandbox.sandbox.write("res.partner", [own], {"email": "office@sandbox.example.com", "customer_rank": 1})
    scanned = [record.key async for page in connector.scan("customer") for record in page]
    assert scanned == [str(ada)]
    assert await connector.count("customer") == 1
    read = await connector.read("customer", [str(key) for key in (ada, vendor, child, mute, own)])
    assert [record.key for record in read] == [str(ada)]
    assert read_one(read).email == "ada@example.com"
    assert (read_one(read).first_name, read_one(read).last_name) == ("Ada", "Lovelace")


async def test_a_b2b_company_reads_with_its_person_addresses_number_group_and_pricelist(
    connector: OdooConnector, sandbox: RunningSandbox
) -> None:
    """The contact person is its first contact child, billing its invoice child, shipping its delivery child,
    the number its reference, the group the first configured tag it has, the pricelist its own."""
    pricelist = partner_pricelist(sandbox, "B2B Contract")
    tags = [tag_id(sandbox, "wholesale"), tag_id(sandbox, "newsletter")]
    firm = partner(
        sandbox,
        name="Firm GmbH",
        is_company=True,
        email="orders@firm.example.com",
        customer_rank=1,
        ref="K-1001",
        street="Hauptstr. 1",
        zip="10115",
        city="Berlin",
        category_id=[[6, 0, tags]],
    )
    sandbox.sandbox.write("res.partner", [firm], {"property_product_pricelist": pricelist})
    partner(sandbox, name="Bob Builder", type="contact", parent_id=firm)
    partner(
        sandbox, name="Accounts", type="invoice", parent_id=firm, street="Kai 1", zip="20457", city="Hamburg"
    )
    partner(
        sandbox, name="Goods In", type="delivery", parent_id=firm, street="Hof 2", zip="80331", city="München"
    )
    person = partner(
        sandbox, name="Ada Lovelace", email="ada@example.com", customer_rank=1, city="Bonn", zip="53111"
    )
    firm_read, person_read = [
        read_one([r]) for r in await connector.read("customer", [str(firm), str(person)])
    ]
    assert (firm_read.company, firm_read.first_name, firm_read.last_name) == ("Firm GmbH", "Bob", "Builder")
    assert firm_read.number == "K-1001" and firm_read.group == "wholesale"
    assert firm_read.price_list == "B2B Contract"
    assert firm_read.billing is not None and firm_read.billing.city == "Hamburg"
    assert firm_read.shipping is not None and firm_read.shipping.city == "München"
    assert person_read.price_list == "" and person_read.group == "" and person_read.company == ""
    assert person_read.billing is not None and person_read.billing.city == "Bonn"
    assert person_read.shipping == Address()


def partner_pricelist(sandbox: RunningSandbox, name: str) -> int:
    (made,) = sandbox.sandbox.create("product.pricelist", [{"name": name, "currency_id": 1, "sequence": 50}])
    return int(made)


async def test_a_change_of_a_child_contact_reports_its_parent_once(
    connector: OdooConnector, sandbox: RunningSandbox
) -> None:
    """Moving the delivery contact is a change of the customer; writing the same values again is none."""
    ada = partner(sandbox, name="Ada Lovelace", email="ada@example.com", customer_rank=1, city="Bonn")
    delivery = partner(sandbox, name="Ada", type="delivery", parent_id=ada, street="Hof 2", city="Köln")
    start = await connector.changes("customer", None)
    assert start.keys == []
    sandbox.sandbox.write("res.partner", [delivery], {"street": "Hof 3"})
    moved = await drain(connector, "customer", start.cursor)
    assert moved.keys == [str(ada)]
    sandbox.sandbox.write("res.partner", [delivery], {"street": "Hof 3"})  # stamped again, nothing changed
    assert (await drain(connector, "customer", moved.cursor)).keys == []
    shipping = read_one(await connector.read("customer", [str(ada)])).shipping
    assert shipping is not None and shipping.street == "Hof 3"


async def test_the_customer_tag_limits_customers_and_is_set_on_create(sandbox: RunningSandbox) -> None:
    """With `customer_category`, only tagged partners are customers; a written customer gets the tag."""
    connector = OdooConnector("odoo", sandbox.settings(customer_category="Webshop"))
    try:
        untagged = partner(sandbox, name="Ada Lovelace", email="ada@example.com", customer_rank=1)
        assert await connector.read("customer", [str(untagged)]) == []
        assert await connector.count("customer") == 0
        (made,) = await connector.write("customer", [WriteItem("k1", customer("grace@example.com"))], [])
        assert made.status is OutcomeStatus.CREATED and made.target_ref
        assert (
            read_one(await connector.read("customer", [str(made.target_ref["id"])])).email
            == "grace@example.com"
        )
        assert await connector.count("customer") == 1
    finally:
        await connector.close()


async def test_unlinked_writes_match_the_number_before_the_email_and_linked_ones_move_group_and_pricelist(
    connector: OdooConnector, sandbox: RunningSandbox
) -> None:
    """The number (`ref`) finds the partner whatever its e-mail; a linked write swaps the group tag (other
    tags stay) and sets the pricelist; an unknown pricelist fails alone, naming the field, not the e-mail."""
    partner_pricelist(sandbox, "B2B Contract")
    newsletter = tag_id(sandbox, "newsletter")
    firm = partner(
        sandbox,
        name="Firm GmbH",
        is_company=True,
        email="old@firm.example.com",
        customer_rank=1,
        ref="K-7",
        category_id=[[6, 0, [tag_id(sandbox, "retail"), newsletter]]],
    )
    record = customer("new@firm.example.com", company="Firm GmbH", number="K-7", group="retail")
    (matched,) = await connector.write("customer", [WriteItem("k7", record)], [])
    assert matched.status is OutcomeStatus.MATCHED and matched.target_ref and matched.target_ref["id"] == firm
    moved = record.model_copy(update={"group": "wholesale", "price_list": "B2B Contract"})
    (update,) = await connector.write("customer", [WriteItem("k7", moved, matched.target_ref)], [])
    assert update.status is OutcomeStatus.UPDATED
    back = read_one(await connector.read("customer", [str(firm)]))
    assert (back.group, back.price_list, back.email) == ("wholesale", "B2B Contract", "new@firm.example.com")
    (row,) = sandbox.sandbox.search_read("res.partner", [("id", "=", firm)], ["category_id"])
    assert newsletter in row["category_id"] and tag_id(sandbox, "retail") not in row["category_id"]
    cleared = moved.model_copy(update={"price_list": ""})
    (none,) = await connector.write("customer", [WriteItem("k7", cleared, matched.target_ref)], [])
    assert none.status is OutcomeStatus.UPDATED
    assert read_one(await connector.read("customer", [str(firm)])).price_list == ""
    wrong = moved.model_copy(update={"price_list": "No Such List"})
    (failed,) = await connector.write("customer", [WriteItem("k7", wrong, matched.target_ref)], [])
    assert failed.status is OutcomeStatus.FAILED and isinstance(failed.error, Permanent)
    assert failed.error.field == "price_list" and "firm.example.com" not in str(failed.error.record)


@pytest.mark.parametrize("mode", ["add", "update"])
async def test_a_moved_address_adds_a_contact_or_updates_the_newest_in_place(
    mode: str, sandbox: RunningSandbox
) -> None:
    """`add` keeps the old invoice contact (past sales show it) and reads the new one; `update` rewrites."""
    connector = OdooConnector("odoo", sandbox.settings(customer_addresses=mode))
    try:
        record = customer("ada@example.com", shipping=HAMBURG)
        (first,) = await connector.write("customer", [WriteItem("k1", record)], [])
        assert first.target_ref
        ident = int(first.target_ref["id"])
        potsdam = Address(street="Am Kanal 4", postcode="14467", city="Potsdam", country="DE")
        moved = record.model_copy(update={"billing": potsdam})
        (update,) = await connector.write("customer", [WriteItem("k1", moved, first.target_ref)], [])
        assert update.status is OutcomeStatus.UPDATED
        (again,) = await connector.write("customer", [WriteItem("k1", moved, first.target_ref)], [])
        assert again.status is OutcomeStatus.UNCHANGED
        back = read_one(await connector.read("customer", [str(ident)]))
        assert back.billing is not None and back.billing.city == "Potsdam"
        assert back.shipping is not None and back.shipping.city == "Hamburg"
        invoices = sandbox.sandbox.search_read(
            "res.partner", [("parent_id", "=", ident), ("type", "=", "invoice")], ["city"]
        )
        expected = ["Berlin", "Potsdam"] if mode == "add" else ["Potsdam"]
        assert sorted(row["city"] for row in invoices) == expected
    finally:
        await connector.close()


async def test_a_matched_vendor_becomes_a_customer_and_a_delete_archives_it(
    connector: OdooConnector, sandbox: RunningSandbox
) -> None:
    """A partner without a customer rank found by e-mail is made a customer; a delete archives it."""
    vendor = partner(sandbox, name="Ada Lovelace", email="ADA@example.com")
    (matched,) = await connector.write("customer", [WriteItem("k1", customer("ada@example.com"))], [])
    assert (
        matched.status is OutcomeStatus.MATCHED and matched.target_ref and matched.target_ref["id"] == vendor
    )
    assert [record.key for record in await connector.read("customer", [str(vendor)])] == [str(vendor)]
    (gone,) = await connector.write(
        "customer", [], [WriteItem("k1", customer("ada@example.com"), matched.target_ref)]
    )
    assert gone.status is OutcomeStatus.DELETED
    (row,) = sandbox.sandbox.search_read(
        "res.partner", [("id", "=", vendor)], ["active"], {"active_test": False}
    )
    assert row["active"] is False
    assert await connector.read("customer", [str(vendor)]) == []


async def test_no_personal_data_in_the_log(
    connector: OdooConnector, sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Reads, writes and a refusal log neither e-mail nor name nor street."""
    caplog.set_level(logging.DEBUG)
    record = customer("secret.person@example.com", price_list="No Such List")
    await connector.write("customer", [WriteItem("k1", record)], [])
    ok = customer("secret.other@example.com")
    (made,) = await connector.write("customer", [WriteItem("k2", ok)], [])
    assert made.target_ref
    await connector.read("customer", [str(made.target_ref["id"])])
    for secret in ("secret.person", "secret.other", "Lovelace", "Hauptstr"):
        assert secret not in caplog.text


async def test_a_customer_with_only_a_shipping_address_reads_back_as_odoo_keeps_it(
    connector: OdooConnector, sandbox: RunningSandbox
) -> None:
    """Odoo gives a partner without an address its first contact's: the shipping place reads as the billing
    one (and no shipping of its own), and writing the customer again changes nothing."""
    record = Customer(
        key="k1", email="ada@example.com", first_name="Ada", last_name="Lovelace", shipping=HAMBURG
    )
    (made,) = await connector.write("customer", [WriteItem("k1", record)], [])
    assert made.status is OutcomeStatus.CREATED and made.target_ref
    back = read_one(await connector.read("customer", [str(made.target_ref["id"])]))
    assert back.billing is not None and back.billing.city == "Hamburg"
    assert back.shipping == Address()
    (again,) = await connector.write("customer", [WriteItem("k1", record, made.target_ref)], [])
    assert again.status is OutcomeStatus.UNCHANGED
