"""Shop customers into Odoo partners: matched by e-mail, never made twice, with invoice and delivery contacts.

A customer is the commercial partner found by e-mail (case-insensitive; Odoo's `=ilike` treats `_`
and `%` as wildcards, so every candidate is compared exactly before it counts), else a new one: a
company partner when the customer names a company, a person otherwise. Billing and shipping
addresses are child contacts of type `invoice` and `delivery`, matched by their address fields
(street, postcode, city, country), so the same address on every order is one contact. The engine
serialises customer writes per e-mail; this module only looks before it creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.model.orders import Address, Customer

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient

CONTACT_FIELDS = ["type", "street", "street2", "zip", "city", "country_id", "parent_id"]


def person_name(first: str, last: str) -> str:
    """First and last name joined ("" when both are empty)."""
    return " ".join(part for part in (first, last) if part).strip()


def partner_name(customer: Customer) -> str:
    """The partner's name: the company if there is one, else the person, else the e-mail."""
    return customer.company or person_name(customer.first_name, customer.last_name) or customer.email


def is_empty(address: Address | None) -> bool:
    """Whether an address names no place (no street, city or postcode)."""
    return address is None or not (address.street or address.city or address.postcode)


def _norm(value: Any) -> str:
    return " ".join(str(value or "").lower().split()) if value is not False else ""


def same_place(row: dict[str, Any], address: Address, country: int | None) -> bool:
    """Whether an Odoo contact row is the same place as a shop address (street, postcode, city, country)."""
    row_country = row.get("country_id")
    row_country_id = row_country[0] if isinstance(row_country, list) and row_country else None
    return (
        _norm(row.get("street")) == _norm(address.street)
        and _norm(row.get("street2")) == _norm(address.street2)
        and _norm(row.get("zip")) == _norm(address.postcode)
        and _norm(row.get("city")) == _norm(address.city)
        and (country is None or row_country_id in (None, country))
    )


class PartnerWriter:
    """Finds or creates the Odoo partner of a shop customer and its invoice and delivery contacts."""

    def __init__(self, client: OdooClient) -> None:
        self.client = client
        self._countries: dict[str, int | None] = {}
        self._states: dict[tuple[int, str], int | None] = {}

    async def write(self, upserts: Sequence[WriteItem]) -> list[Outcome]:
        """One outcome per customer; Odoo's refusals are per item, time-outs fail the call (Retryable)."""
        outcomes = []
        for item in upserts:
            try:
                outcomes.append(await self._write_one(item))
            except Retryable:
                raise
            except ConnectorError as exc:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=exc))
        return outcomes

    async def _write_one(self, item: WriteItem) -> Outcome:
        customer = item.record
        if not isinstance(customer, Customer):
            raise Permanent(f"expected a Customer, got {type(customer).__name__}", record=item.key)
        if not customer.email.strip():
            raise Permanent("the customer has no e-mail address", record=item.key, field="email")
        status = OutcomeStatus.UPDATED
        partner: int | None = None
        if item.target_ref and str(item.target_ref.get("id") or "").isdigit():
            partner = int(item.target_ref["id"])
            if not await self.client.search("res.partner", [["id", "=", partner]], limit=1):
                partner = None  # archived or deleted in Odoo: found again by e-mail
        if partner is None:
            found = await self.find_by_email(customer.email)
            if found is not None:
                partner, status = found, OutcomeStatus.MATCHED
            else:
                partner, status = await self._create(customer), OutcomeStatus.CREATED
        changed = False
        ref: dict[str, Any] = {"id": partner, "invoice_address": None, "delivery_address": None}
        billing = customer.billing if not is_empty(customer.billing) else None
        shipping = customer.shipping if not is_empty(customer.shipping) else billing
        for kind, address in (("invoice", billing), ("delivery", shipping)):
            if address is not None:
                contact, made = await self.contact(partner, address, kind, record=f"customer {item.key}")
                ref[f"{kind}_address"] = contact
                changed = changed or made
        if status is OutcomeStatus.UPDATED and not changed:
            status = OutcomeStatus.UNCHANGED
        return Outcome(item.key, status, target_ref=ref)

    async def find_by_email(self, email: str) -> int | None:
        """The oldest active commercial partner with exactly this e-mail (any case), if any."""
        wanted = email.strip().lower()
        rows = await self.client.search_read(
            "res.partner",
            [["email", "=ilike", email.strip()], ["parent_id", "=", False]],
            ["email"],
            order="id asc",
        )
        matches = [row["id"] for row in rows if str(row.get("email") or "").strip().lower() == wanted]
        return int(matches[0]) if matches else None

    async def _create(self, customer: Customer) -> int:
        values: dict[str, Any] = {
            "name": partner_name(customer),
            "email": customer.email.strip(),
            "is_company": bool(customer.company),
            "customer_rank": 1,
        }
        if customer.phone:
            values["phone"] = customer.phone
        address = customer.billing if not is_empty(customer.billing) else None
        if address is not None:  # the partner's own address: the billing one
            values.update(await self._address_values(address))
        (partner,) = await self.client.create("res.partner", [values])
        return int(partner)

    async def contact(self, partner: int, address: Address, kind: str, *, record: str) -> tuple[int, bool]:
        """The child contact of `partner` of type `kind` at `address` (made if missing), and if it was made.

        Only a contact of that type counts: an invoice address is not taken for a delivery address.
        """
        country = await self.country(address.country) if address.country else None
        children = await self.client.search_read(
            "res.partner", [["parent_id", "=", partner], ["type", "=", kind]], CONTACT_FIELDS, order="id asc"
        )
        for row in children:
            if same_place(row, address, country):
                return int(row["id"]), False
        values = await self._address_values(address)
        name = person_name(address.first_name, address.last_name) or address.company
        values.update({"parent_id": partner, "type": kind})
        if name:
            values["name"] = name
        if address.email:
            values["email"] = address.email
        if address.phone:
            values["phone"] = address.phone
        try:
            (created,) = await self.client.create("res.partner", [values])
        except Permanent as error:
            raise Permanent(
                f"Odoo refused the {kind} address: {error.reason}", record=record, field=kind
            ) from error
        return int(created), True

    async def _address_values(self, address: Address) -> dict[str, Any]:
        values: dict[str, Any] = {
            "street": address.street or False,
            "street2": address.street2 or False,
            "zip": address.postcode or False,
            "city": address.city or False,
        }
        if address.country:
            country = await self.country(address.country)
            if country is not None:
                values["country_id"] = country
                state = await self._state(country, address.state)
                if state is not None:
                    values["state_id"] = state
        return values

    async def country(self, code: str) -> int | None:
        """The res.country id of an ISO code (read once), None if Odoo has no such country."""
        code = code.strip().upper()
        if code not in self._countries:
            rows = await self.client.search_read("res.country", [["code", "=", code]], ["id"], limit=1)
            self._countries[code] = int(rows[0]["id"]) if rows else None
        return self._countries[code]

    async def _state(self, country: int, state: str) -> int | None:
        state = state.strip()
        if not state:
            return None
        key = (country, state.upper())
        if key not in self._states:
            code = state.upper().rpartition("-")[2]
            rows = await self.client.search_read(
                "res.country.state",
                [["country_id", "=", country], "|", ["code", "=", code], ["name", "=ilike", state]],
                ["id"],
                limit=1,
            )
            self._states[key] = int(rows[0]["id"]) if rows else None
        return self._states[key]
