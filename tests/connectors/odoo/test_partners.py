"""Shop customers into Odoo partners on the sandbox: by e-mail once, exact e-mail match, company or person,
invoice and delivery contacts matched by their address rather than made again."""

from __future__ import annotations

from emporion.connectors.base import OutcomeStatus, WriteItem
from emporion.connectors.odoo.connector import OdooConnector
from emporion.model.orders import Address
from tests.connectors.odoo.conftest import RunningSandbox
from tests.connectors.odoo.sales_support import ADDRESS, connector, customer, tag

__all__ = ["connector"]


async def test_a_customer_is_made_once_and_matched_by_email_in_any_case(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """Written twice unlinked (once in capitals): one partner, a person, found again by e-mail."""
    email = f"{tag().lower()}.ada@example.com"
    (first,) = await connector.write("customer", [WriteItem(email, customer(email))], [])
    loud = customer(email.upper())
    (again,) = await connector.write("customer", [WriteItem(email, loud)], [])
    assert first.status is OutcomeStatus.CREATED and again.status is OutcomeStatus.MATCHED
    assert first.target_ref and again.target_ref and first.target_ref["id"] == again.target_ref["id"]
    rows = odoo_sandbox.sandbox.search_read(
        "res.partner", [("email", "=ilike", email), ("parent_id", "=", False)], ["name", "is_company"]
    )
    assert [(row["name"], row["is_company"]) for row in rows] == [("Ada Lovelace", False)]


async def test_an_email_with_a_wildcard_character_matches_only_itself(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """`=ilike` takes `_` for any character: a_b@ never finds axb@, it gets its own partner."""
    label = tag().lower()
    other = f"{label}axb@example.com"
    (existing,) = await connector.write("customer", [WriteItem(other, customer(other))], [])
    mine = f"{label}a_b@example.com"
    (outcome,) = await connector.write("customer", [WriteItem(mine, customer(mine))], [])
    assert outcome.status is OutcomeStatus.CREATED
    assert (
        existing.target_ref and outcome.target_ref and existing.target_ref["id"] != outcome.target_ref["id"]
    )


async def test_a_company_customer_is_a_company_with_invoice_and_delivery_contacts_made_once(
    connector: OdooConnector, odoo_sandbox: RunningSandbox
) -> None:
    """A company partner; the billing and the shipping address are child contacts of their types, and the
    same addresses written again reuse them (a new shipping address adds one delivery contact)."""
    email = f"{tag().lower()}@firm.example.com"
    shipping = Address(first_name="Bob", street="Dock 7", city="Hamburg", postcode="20457", country="DE")
    shop = customer(email, company="Firm GmbH", shipping=shipping)
    (first,) = await connector.write("customer", [WriteItem(email, shop)], [])
    assert first.status is OutcomeStatus.CREATED and first.target_ref
    partner = int(first.target_ref["id"])
    (again,) = await connector.write("customer", [WriteItem(email, shop, first.target_ref)], [])
    assert again.status is OutcomeStatus.UNCHANGED and again.target_ref == first.target_ref
    moved = shop.model_copy(update={"shipping": shipping.model_copy(update={"street": "Dock 8"})})
    (third,) = await connector.write("customer", [WriteItem(email, moved, first.target_ref)], [])
    assert third.status is OutcomeStatus.UPDATED
    (row,) = odoo_sandbox.sandbox.search_read("res.partner", [("id", "=", partner)], ["is_company", "name"])
    assert row["is_company"] and row["name"] == "Firm GmbH"
    children = odoo_sandbox.sandbox.search_read(
        "res.partner", [("parent_id", "=", partner)], ["type", "street", "city", "country_id"]
    )
    assert sorted((c["type"], c["street"]) for c in children) == [
        ("delivery", "Dock 7"),
        ("delivery", "Dock 8"),
        ("invoice", ADDRESS.street),
    ]
    assert all(c["country_id"] for c in children)
    assert first.target_ref["invoice_address"] in {c["id"] for c in children if c["type"] == "invoice"}
