"""Parties as customers on a real Tryton: reads, the feed, and writes matched by number or e-mail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from emporion.connectors.base import OutcomeStatus, Permanent, WriteItem
from emporion.connectors.tryton.connector import TrytonConnector
from emporion.model import Address, Customer
from emporion.testing.contract import drain
from emporion_devkit.erp.catalogue import WHOLESALE
from tests.fixtures.tryton import RunningTryton

pytestmark = pytest.mark.tryton
GROUPS = ["Wholesale", "Retail"]


@pytest.fixture
async def connector(tryton_server_module: RunningTryton) -> AsyncIterator[TrytonConnector]:
    connector = tryton_server_module.connector(customer_groups=GROUPS)
    yield connector
    await connector.close()


def tag() -> str:
    return uuid.uuid4().hex[:8]


def customer(email: str, **changes: object) -> Customer:
    values: dict[str, object] = {
        "key": "src",
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "billing": Address(street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE"),
    }
    return Customer.model_validate({**values, **changes})


async def only(connector: TrytonConnector, key: str) -> Customer:
    (record,) = await connector.read("customer", [key])
    assert isinstance(record, Customer)
    return record


async def test_read_maps_party_contacts_addresses_code_group_and_price_list(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    server, t = tryton_server_module, tag()
    (category,) = await server.rpc("party.category", "create", [{"name": "Wholesale"}])
    (price_list,) = await server.rpc("product.price_list", "search", [("name", "=", WHOLESALE)])
    (party,) = await server.rpc(
        "party.party",
        "create",
        [
            {
                "name": "Grace Brewster Hopper",
                "code": f"C-{t}",
                "categories": [["add", [category]]],
                "sale_price_list": price_list,
                "contact_mechanisms": [
                    [
                        "create",
                        [
                            {"type": "email", "value": f"Grace.{t}@Example.com"},
                            {"type": "phone", "value": "+49 30 555"},
                        ],
                    ]
                ],
                "addresses": [
                    [
                        "create",
                        [
                            {
                                "street_unstructured": "Hauptstr. 1\nHof",
                                "postal_code": "10115",
                                "city": "Berlin",
                                "invoice": True,
                            },
                            {
                                "street_unstructured": "Lagerweg 7",
                                "postal_code": "20095",
                                "city": "Hamburg",
                                "delivery": True,
                            },
                        ],
                    ]
                ],
            }
        ],
    )
    record = await only(connector, str(party))
    assert record.email == f"grace.{t}@example.com"
    assert (record.first_name, record.last_name, record.company) == ("Grace Brewster", "Hopper", "")
    assert record.phone == "+49 30 555" and record.number == f"C-{t}"
    assert record.group == "Wholesale" and record.price_list == WHOLESALE
    assert record.billing and (record.billing.street, record.billing.street2) == ("Hauptstr. 1", "Hof")
    assert record.shipping and record.shipping.city == "Hamburg"


async def test_feed_reports_an_address_change_and_an_email_change(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    server, t = tryton_server_module, tag()
    (made,) = await connector.write("customer", [WriteItem("a", customer(f"feed.{t}@example.com"))], [])
    (other,) = await connector.write("customer", [WriteItem("b", customer(f"feed2.{t}@example.com"))], [])
    assert made.target_ref and other.target_ref
    start = await connector.changes("customer", None)
    await server.rpc("party.address", "write", [made.target_ref["invoice_address"]], {"city": "Potsdam"})
    mechanisms = await server.rpc(
        "party.contact_mechanism", "search", [("party", "=", other.target_ref["id"])]
    )
    await server.rpc("party.contact_mechanism", "write", mechanisms, {"value": f"new.{t}@example.com"})
    polled = await drain(connector, "customer", start.cursor)
    assert {str(made.target_ref["id"]), str(other.target_ref["id"])} <= set(polled.keys)
    assert (await only(connector, str(other.target_ref["id"]))).email == f"new.{t}@example.com"


async def test_write_creates_with_code_group_category_and_price_list(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    t = tag()
    wanted = customer(
        f"b2b.{t}@example.com", number=f"K-{t}", group="Retail", price_list=WHOLESALE, company="ACME"
    )
    (made,) = await connector.write("customer", [WriteItem("k", wanted)], [])
    assert made.status is OutcomeStatus.CREATED and made.target_ref
    back = await only(connector, str(made.target_ref["id"]))
    assert back.number == f"K-{t}" and back.group == "Retail" and back.price_list == WHOLESALE
    assert (back.company, back.first_name, back.last_name) == ("ACME", "Ada", "Lovelace")
    categories = await tryton_server_module.rpc(
        "party.category", "search_read", [("name", "=", "Retail")], 0, None, None, ["parent"]
    )
    assert len(categories) == 1 and categories[0]["parent"] is None


async def test_unknown_price_list_is_permanent_naming_the_field(connector: TrytonConnector) -> None:
    t = tag()
    count = await connector.count("customer")
    (outcome,) = await connector.write(
        "customer", [WriteItem("p", customer(f"pl.{t}@example.com", price_list="Nope"))], []
    )
    assert outcome.status is OutcomeStatus.FAILED and isinstance(outcome.error, Permanent)
    assert outcome.error.field == "price_list" and "Nope" in outcome.error.reason
    assert await connector.count("customer") == count


async def test_unlinked_write_matches_by_number_before_email(connector: TrytonConnector) -> None:
    t = tag()
    (made,) = await connector.write(
        "customer", [WriteItem("n", customer(f"num.{t}@example.com", number=f"N-{t}"))], []
    )
    count = await connector.count("customer")
    moved = customer(f"other.{t}@example.com", number=f"N-{t}")
    (again,) = await connector.write("customer", [WriteItem("n", moved)], [])
    assert again.status is OutcomeStatus.MATCHED and made.target_ref and again.target_ref
    assert again.target_ref["id"] == made.target_ref["id"]
    assert await connector.count("customer") == count


async def test_unlinked_write_matches_by_email_in_another_case(connector: TrytonConnector) -> None:
    t = tag()
    (made,) = await connector.write("customer", [WriteItem("e", customer(f"Case.{t}@Example.com"))], [])
    (again,) = await connector.write("customer", [WriteItem("e", customer(f"CASE.{t}@EXAMPLE.COM"))], [])
    assert again.status is OutcomeStatus.MATCHED and made.target_ref and again.target_ref
    assert again.target_ref["id"] == made.target_ref["id"]
    assert set(await connector.lookup("customer", [f"case.{t}@example.com"])) == {f"case.{t}@example.com"}


async def test_linked_address_change_updates_the_row_and_group_moves(
    tryton_server_module: RunningTryton,
) -> None:
    """With `customer_addresses: update` the address row is changed in place (the default adds one)."""
    connector = tryton_server_module.connector(customer_groups=GROUPS, customer_addresses="update")
    t = tag()
    (made,) = await connector.write(
        "customer", [WriteItem("u", customer(f"move.{t}@example.com", group="Retail"))], []
    )
    assert made.target_ref
    party = made.target_ref["id"]
    moved = customer(
        f"move.{t}@example.com",
        group="Wholesale",
        billing=Address(street="Neue Str. 3", postcode="53111", city="Bonn", country="DE"),
    )
    (update,) = await connector.write("customer", [WriteItem("u", moved, made.target_ref)], [])
    assert update.status is OutcomeStatus.UPDATED and update.target_ref
    assert update.target_ref["invoice_address"] == made.target_ref["invoice_address"]
    assert len(await tryton_server_module.rpc("party.address", "search", [("party", "=", party)])) == 1
    back = await only(connector, str(party))
    assert back.billing and back.billing.city == "Bonn" and back.group == "Wholesale"
    (again,) = await connector.write("customer", [WriteItem("u", moved, update.target_ref)], [])
    assert again.status is OutcomeStatus.UNCHANGED


async def test_delete_deactivates_the_party(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    t = tag()
    (made,) = await connector.write("customer", [WriteItem("d", customer(f"gone.{t}@example.com"))], [])
    assert made.target_ref
    (gone,) = await connector.write(
        "customer", [], [WriteItem("d", customer(f"gone.{t}@example.com"), made.target_ref)]
    )
    assert gone.status is OutcomeStatus.DELETED
    rows = await tryton_server_module.rpc(
        "party.party", "read", [made.target_ref["id"]], ["active"], context={"active_test": False}
    )
    assert not rows[0]["active"]  # SQLite answers 0
    assert await connector.read("customer", [str(made.target_ref["id"])]) == []


async def test_customer_category_limits_customers_and_is_given_to_new_parties(
    tryton_server_module: RunningTryton,
) -> None:
    t = tag()
    connector = tryton_server_module.connector(customer_category=f"Shop {t}")
    try:
        before = await connector.count("customer")
        (made,) = await connector.write("customer", [WriteItem("c", customer(f"cat.{t}@example.com"))], [])
        assert made.status is OutcomeStatus.CREATED and made.target_ref
        assert await connector.count("customer") == before + 1
        assert (await only(connector, str(made.target_ref["id"]))).email == f"cat.{t}@example.com"
        outside = await tryton_server_module.rpc(
            "party.party",
            "create",
            [
                {
                    "name": "Not a shop customer",
                    "contact_mechanisms": [["create", [{"type": "email", "value": f"no.{t}@example.com"}]]],
                }
            ],
        )
        assert await connector.read("customer", [str(outside[0])]) == []
        assert await connector.count("customer") == before + 1
    finally:
        await connector.close()


async def test_the_company_party_is_no_customer(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    (company,) = await tryton_server_module.rpc("company.company", "search_read", [], 0, 1, None, ["party"])
    mechanism = {"party": company["party"], "type": "email", "value": "office@emporion-demo.example"}
    await tryton_server_module.rpc("party.contact_mechanism", "create", [mechanism])
    assert await connector.read("customer", [str(company["party"])]) == []


async def test_a_match_gets_the_group_and_price_list_it_lacks_and_keeps_its_name(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    t = tag()
    email = f"fill.{t}@example.com"
    (party,) = await tryton_server_module.rpc(
        "party.party",
        "create",
        [{"name": "Grace Hopper", "contact_mechanisms": [["create", [{"type": "email", "value": email}]]]}],
    )
    wanted = customer(email.upper(), group="Wholesale", price_list=WHOLESALE)
    (matched,) = await connector.write("customer", [WriteItem("f", wanted)], [])
    assert (
        matched.status is OutcomeStatus.MATCHED and matched.target_ref and matched.target_ref["id"] == party
    )
    back = await only(connector, str(party))
    assert (back.first_name, back.last_name) == ("Grace", "Hopper")
    assert back.group == "Wholesale" and back.price_list == WHOLESALE
    assert back.billing and back.billing.city == "Berlin"


async def test_a_linked_write_to_a_deleted_party_searches_then_creates(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    t = tag()
    (made,) = await connector.write("customer", [WriteItem("x", customer(f"del.{t}@example.com"))], [])
    assert made.target_ref
    await tryton_server_module.rpc("party.party", "delete", [made.target_ref["id"]])
    (again,) = await connector.write(
        "customer", [WriteItem("x", customer(f"del.{t}@example.com"), made.target_ref)], []
    )
    assert again.status is OutcomeStatus.CREATED and again.target_ref
    assert again.target_ref["id"] != made.target_ref["id"]


async def test_a_company_customer_keeps_company_and_person_apart(connector: TrytonConnector) -> None:
    t = tag()
    wanted = customer(f"acme.{t}@example.com", company="ACME GmbH")
    (made,) = await connector.write("customer", [WriteItem("a", wanted)], [])
    assert made.target_ref
    back = await only(connector, str(made.target_ref["id"]))
    assert (back.company, back.first_name, back.last_name) == ("ACME GmbH", "Ada", "Lovelace")
    (again,) = await connector.write("customer", [WriteItem("a", wanted, made.target_ref)], [])
    assert again.status is OutcomeStatus.UNCHANGED


async def test_feed_reports_a_group_change_and_the_state_reads_without_its_country(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    server, t = tryton_server_module, tag()
    country = await server.rpc("country.country", "search", [("code", "=", "DE")])
    if not country:  # the test database loads no countries: make the one this test needs
        country = await server.rpc("country.country", "create", [{"name": "Germany", "code": "DE"}])
        subdivision = {"name": "Berlin", "code": "DE-BE", "type": "state", "country": country[0]}
        await server.rpc("country.subdivision", "create", [subdivision])
    state = "BE"
    billing = Address(street="Hauptstr. 1", postcode="10115", city="Berlin", country="DE", state=state)
    (made,) = await connector.write(
        "customer", [WriteItem("g", customer(f"grp.{t}@example.com", billing=billing))], []
    )
    assert made.target_ref
    party = made.target_ref["id"]
    back = await only(connector, str(party))
    assert back.billing and back.billing.country == "DE" and back.billing.state == state
    same = customer(f"grp.{t}@example.com", billing=billing)
    assert (await connector.write("customer", [WriteItem("g", same, made.target_ref)], []))[0].status is (
        OutcomeStatus.UNCHANGED
    )
    start = await connector.changes("customer", None)
    (retail,) = await server.rpc("party.category", "search", [("name", "=", "Retail")]) or await server.rpc(
        "party.category", "create", [{"name": "Retail"}]
    )
    await server.rpc("party.party", "write", [party], {"categories": [["add", [retail]]]})
    polled = await drain(connector, "customer", start.cursor)
    assert str(party) in polled.keys
    assert (await only(connector, str(party))).group == "Retail"


async def test_a_customer_without_shipping_reads_back_without_one(
    connector: TrytonConnector, tryton_server_module: RunningTryton
) -> None:
    t = tag()
    lager = Address(street="Lagerweg 7", postcode="20095", city="Hamburg")
    (made,) = await connector.write(
        "customer", [WriteItem("s", customer(f"ship.{t}@example.com", shipping=lager))], []
    )
    assert made.target_ref
    party = str(made.target_ref["id"])
    assert (await only(connector, party)).shipping == lager
    (cleared,) = await connector.write(
        "customer", [WriteItem("s", customer(f"ship.{t}@example.com"), made.target_ref)], []
    )
    assert cleared.status is OutcomeStatus.UPDATED
    back = await only(connector, party)
    assert back.shipping == Address() and back.billing and back.billing.city == "Berlin"
    rows = await tryton_server_module.rpc(
        "party.address", "search", [("party", "=", int(party)), ("delivery", "=", True)]
    )
    assert rows == []
