"""Customers into Tryton parties: match by e-mail, else create with addresses and contact mechanisms.

The engine guards against two workers creating the same new customer at once (the state database
serialises `write("customer")` per e-mail); this module only looks before it creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.tryton.client import TrytonClient
from emporion.model.orders import Address, Customer

ADDRESS_FIELDS = ["street_unstructured", "postal_code", "city", "invoice", "delivery"]


def party_name(customer: Customer) -> str:
    """The party's name: the company if there is one, else first and last name, else the e-mail."""
    person = " ".join(part for part in (customer.first_name, customer.last_name) if part).strip()
    return customer.company or person or customer.email


def _street(address: Address) -> str:
    return "\n".join(part for part in (address.street, address.street2) if part)


def same_place(row: dict[str, Any], address: Address) -> bool:
    """Whether a Tryton address row is the same place as a shop address (street, postcode, city)."""

    def norm(value: Any) -> str:
        return " ".join(str(value or "").lower().split())

    return (
        norm(row.get("street_unstructured")) == norm(_street(address))
        and norm(row.get("postal_code")) == norm(address.postcode)
        and norm(row.get("city")) == norm(address.city)
    )


def _is_empty(address: Address | None) -> bool:
    return address is None or not (address.street or address.city or address.postcode)


class PartyWriter:
    """Finds or creates the Tryton party of a shop customer, with invoice and delivery addresses."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client
        self._countries: dict[str, int | None] = {}

    async def write(self, upserts: Sequence[WriteItem]) -> list[Outcome]:
        """One outcome per item; Tryton refusals are per item, lock conflicts fail the whole call."""
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
        if not customer.email:
            raise Permanent("the customer has no e-mail address", record=item.key, field="email")
        if item.target_ref and item.target_ref.get("id"):
            party = int(item.target_ref["id"])
            status = OutcomeStatus.UPDATED
        else:
            found = await self.find_by_email(customer.email)
            if found is not None:
                party, status = found, OutcomeStatus.MATCHED
            else:
                party, status = await self._create(customer), OutcomeStatus.CREATED
        changed, ref = await self._complete(party, customer)
        if status is OutcomeStatus.UPDATED and not changed:
            status = OutcomeStatus.UNCHANGED
        return Outcome(item.key, status, target_ref=ref)

    async def find_by_email(self, email: str) -> int | None:
        """The oldest active party with this e-mail (case-insensitive), if any."""
        rows = await self.client.search_read(
            "party.contact_mechanism",
            [("type", "=", "email"), ("value", "ilike", email.strip()), ("party.active", "=", True)],
            ["party", "value"],
            order=[("party", "ASC")],
        )
        wanted = email.strip().lower()
        parties = [row["party"] for row in rows if str(row["value"]).strip().lower() == wanted]
        return parties[0] if parties else None

    async def _create(self, customer: Customer) -> int:
        contacts = [{"type": "email", "value": customer.email.strip()}]
        if customer.phone:
            contacts.append({"type": "phone", "value": customer.phone})
        values = {
            "name": party_name(customer),
            "contact_mechanisms": [["create", contacts]],
            "addresses": [["create", []]],  # no empty default address: ours come next
        }
        (party,) = await self.client.model("party.party", "create", [values])
        return int(party)

    async def _address_values(self, party: int, address: Address, **flags: bool) -> dict[str, Any]:
        name = " ".join(p for p in (address.first_name, address.last_name) if p)
        values: dict[str, Any] = {
            "party": party,
            "party_name": address.company or name or None,
            "street_unstructured": _street(address),
            "postal_code": address.postcode,
            "city": address.city,
            **flags,
        }
        if address.country:
            country = await self._country(address.country)
            if country is not None:
                values["country"] = country
                subdivision = await self._subdivision(country, address.country, address.state)
                if subdivision is not None:
                    values["subdivision"] = subdivision
        return values

    async def _country(self, code: str) -> int | None:
        code = code.upper()
        if code not in self._countries:
            rows = await self.client.search_read("country.country", [("code", "=", code)], ["id"], limit=1)
            self._countries[code] = rows[0]["id"] if rows else None
        return self._countries[code]

    async def _subdivision(self, country: int, country_code: str, state: str) -> int | None:
        if not state:
            return None
        codes = [state.upper(), f"{country_code.upper()}-{state.upper()}"]
        rows = await self.client.search_read(
            "country.subdivision",
            [("country", "=", country), ["OR", ("code", "in", codes), ("name", "ilike", state)]],
            ["id"],
            limit=1,
        )
        return rows[0]["id"] if rows else None

    async def _complete(self, party: int, customer: Customer) -> tuple[bool, dict[str, Any]]:
        """Add the missing contact mechanisms and addresses (never delete); return the party's ref."""
        client = self.client
        changed = False
        contacts = await client.search_read(
            "party.contact_mechanism", [("party", "=", party)], ["type", "value"]
        )
        have = {(row["type"], str(row["value"]).strip().lower()) for row in contacts}
        missing = []
        if ("email", customer.email.strip().lower()) not in have:
            missing.append({"party": party, "type": "email", "value": customer.email.strip()})
        if customer.phone and ("phone", customer.phone.strip().lower()) not in have:
            missing.append({"party": party, "type": "phone", "value": customer.phone})
        if missing:
            await client.model("party.contact_mechanism", "create", missing)
            changed = True
        addresses = await client.search_read(
            "party.address", [("party", "=", party)], ["id", *ADDRESS_FIELDS], order=[("id", "ASC")]
        )
        billing = customer.billing if not _is_empty(customer.billing) else None
        shipping = customer.shipping if not _is_empty(customer.shipping) else billing
        ref: dict[str, Any] = {"id": party, "invoice_address": None, "delivery_address": None}
        for role, address in (("invoice", billing), ("delivery", shipping)):
            if address is None:
                continue
            match = next((row for row in addresses if same_place(row, address)), None)
            if match is None:
                values = await self._address_values(party, address, **{role: True})
                (created,) = await client.model("party.address", "create", [values])
                match = {"id": created, **values}
                addresses.append(match)
                changed = True
            elif not match.get(role):
                await client.model("party.address", "write", [match["id"]], {role: True})
                match[role] = True
                changed = True
            ref[f"{role}_address"] = match["id"]
        if ref["invoice_address"] is None and addresses:
            ref["invoice_address"] = addresses[0]["id"]
        if ref["delivery_address"] is None and addresses:
            ref["delivery_address"] = ref["invoice_address"]
        return changed, ref
