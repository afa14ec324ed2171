"""A party's invoice and delivery addresses in Tryton: found by place, added, or updated in place.

Tryton takes the first address flagged for a role (invoice, delivery), else the first address; the
writes here keep one row flagged per role, so that what is read back is what was written. A customer
without a shipping address of its own has no row flagged for delivery (it ships to the billing one).
"""

from __future__ import annotations

from typing import Any, Literal

from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.party_read import ADDRESS_ORDER, ADDRESS_READ, role_row
from emporion.model.orders import Address, Customer

ADDRESS_FIELDS = ["street_unstructured", "postal_code", "city", "invoice", "delivery"]
# a linked write's changed address: "update" rewrites the row holding the role, "add" makes a new row
# (past sales and invoices keep showing the old one) and moves the role to it
AddressMode = Literal["update", "add"]
ROLES = (("invoice", "billing"), ("delivery", "shipping"))


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


def is_empty(address: Address | None) -> bool:
    return address is None or not (address.street or address.city or address.postcode)


class PartyAddresses:
    """Writes parties' addresses: completes them (order flow, matches) or brings them to a customer's."""

    def __init__(self, client: TrytonClient, mode: AddressMode = "add") -> None:
        self.client = client
        self.mode = mode
        self._countries: dict[str, int | None] = {}

    async def roles(self, party: int, wanted: Customer) -> tuple[bool, dict[str, Any]]:
        """Bring the invoice and delivery addresses to the wanted ones; one row holds each role."""
        client = self.client
        rows = await client.search_read(
            "party.address", [("party", "=", party)], ["id", *ADDRESS_READ], order=ADDRESS_ORDER
        )
        billing = wanted.billing if not is_empty(wanted.billing) else None
        shipping = wanted.shipping if not is_empty(wanted.shipping) else None  # none: ship to the billing
        places = {"invoice": billing, "delivery": shipping}
        changed = False
        ref: dict[str, Any] = {"id": party, "invoice_address": None, "delivery_address": None}
        for role, _ in ROLES:
            address = places[role]
            holder = role_row(rows, role)
            if address is None and role == "delivery":  # no shipping of its own: no row has the role
                flagged = [row["id"] for row in rows if row.get(role)]
                if flagged:
                    await client.model("party.address", "write", flagged, {role: False})
                    for row in rows:
                        row[role] = False
                    changed = True
                ref["delivery_address"] = ref["invoice_address"]
                continue
            if address is None:
                ref[f"{role}_address"] = holder["id"] if holder else None
                continue
            values = await self.values(party, address)
            target = next((row for row in rows if same_place(row, address)), None)
            if target is None and holder is not None and self.mode == "update":
                other = "delivery" if role == "invoice" else "invoice"
                kept = places[other]
                shared = bool(holder.get(other)) and kept is not None and same_place(holder, kept)
                if not shared:
                    target = holder
            if target is None:
                (made,) = await client.model("party.address", "create", [{**values, role: True}])
                target = {"id": made, **values, role: True}
                rows.append(target)
                changed = True
            elif self._differs(target, values) or not target.get(role):
                update = {k: v for k, v in values.items() if k != "party"}
                await client.model("party.address", "write", [target["id"]], {**update, role: True})
                target.update({**update, role: True})
                changed = True
            others = [row["id"] for row in rows if row.get(role) and row["id"] != target["id"]]
            if others:
                await client.model("party.address", "write", others, {role: False})
                for row in rows:
                    if row["id"] in others:
                        row[role] = False
                changed = True
            ref[f"{role}_address"] = target["id"]
        return changed, ref

    @staticmethod
    def _differs(row: dict[str, Any], values: dict[str, Any]) -> bool:
        """Whether an address row differs from the values it should hold (names, street, codes)."""
        return (
            (row.get("party_name") or None) != (values.get("party_name") or None)
            or (row.get("street_unstructured") or "") != (values.get("street_unstructured") or "")
            or (row.get("postal_code") or "") != (values.get("postal_code") or "")
            or (row.get("city") or "") != (values.get("city") or "")
            or row.get("country") != values.get("country")
            or row.get("subdivision") != values.get("subdivision")
        )

    async def values(self, party: int, address: Address, **flags: bool) -> dict[str, Any]:
        """The values of a party.address row for `address` (country and subdivision by code)."""
        name = " ".join(p for p in (address.first_name, address.last_name) if p)
        values: dict[str, Any] = {
            "party": party,
            "party_name": address.company or name or None,
            "street_unstructured": _street(address),
            "postal_code": address.postcode,
            "city": address.city,
            "country": None,
            "subdivision": None,
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

    async def complete(self, party: int, customer: Customer) -> tuple[bool, dict[str, Any]]:
        """Add the customer's addresses the party lacks (never change or delete one); the party's ref."""
        client = self.client
        changed = False
        addresses = await client.search_read(
            "party.address", [("party", "=", party)], ["id", *ADDRESS_FIELDS], order=[("id", "ASC")]
        )
        billing = customer.billing if not is_empty(customer.billing) else None
        shipping = customer.shipping if not is_empty(customer.shipping) else None  # ship to the billing
        ref: dict[str, Any] = {"id": party, "invoice_address": None, "delivery_address": None}
        for role, address in (("invoice", billing), ("delivery", shipping)):
            if address is None:
                continue
            match = next((row for row in addresses if same_place(row, address)), None)
            if match is None:
                values = await self.values(party, address, **{role: True})
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
