"""Tryton parties read as canonical Customers: name, e-mail, phone, addresses, code, group, price list.

A party is a customer when it has an e-mail contact mechanism, is not a company's own party and, when
the connection names a `customer_category`, is in that category. A party is a company when its
e-mail contact mechanism carries a name (the person's, written for a shop's company customer) or
the party has a tax identifier; otherwise its name is the person's, split on the last space.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from emporion.connectors.tryton.client import TrytonClient
from emporion.model.orders import Address, Customer, split_name

PARTY_FIELDS = ["name", "code", "identifiers", "categories", "sale_price_list"]
ADDRESS_READ = [
    "party",
    "party_name",
    "street_unstructured",
    "postal_code",
    "city",
    "country",
    "country.code",
    "subdivision",
    "subdivision.code",
    "invoice",
    "delivery",
]
ADDRESS_ORDER = [("party", "ASC"), ("sequence", "ASC"), ("id", "ASC")]
MECHANISM_ORDER = [("party", "ASC"), ("sequence", "ASC"), ("id", "ASC")]
PHONES = ("phone", "mobile")


def address_of(row: dict[str, Any], company: str) -> Address:
    """A Tryton address row as a canonical Address (street lines, postcode, city, codes)."""
    street, _, street2 = (row.get("street_unstructured") or "").partition("\n")
    named = (row.get("party_name") or "").strip()
    first, last = split_name(named) if named and named != company else ("", "")
    return Address(
        first_name=first,
        last_name=last,
        company=company if named and named == company else "",
        street=street.strip(),
        street2=street2.strip(),
        postcode=row.get("postal_code") or "",
        city=row.get("city") or "",
        country=(row.get("country.") or {}).get("code") or "",
        state=((row.get("subdivision.") or {}).get("code") or "").rpartition("-")[2],
    )


def role_row(rows: Sequence[dict[str, Any]], role: str) -> dict[str, Any] | None:
    """The address Tryton itself takes for a role: the first flagged one, else the first one."""
    flagged = [row for row in rows if row.get(role)] or list(rows)
    return flagged[0] if flagged else None


class PartyReader:
    """Reads parties with their contact mechanisms, addresses, categories and price list."""

    def __init__(self, client: TrytonClient, *, groups: Sequence[str] = ()) -> None:
        self.client = client
        self.groups = list(groups)

    async def customers(
        self, parties: Sequence[dict[str, Any]], *, require_email: bool = True
    ) -> list[Customer]:
        """Canonical Customers of party rows read with PARTY_FIELDS (those without e-mail left out)."""
        ids = [row["id"] for row in parties]
        if not ids:
            return []
        mechanisms: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await self.client.search_read(
            "party.contact_mechanism",
            [("party", "in", ids)],
            ["party", "type", "value", "name"],
            order=MECHANISM_ORDER,
        ):
            mechanisms[row["party"]].append(row)
        addresses: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await self.client.search_read(
            "party.address", [("party", "in", ids)], ADDRESS_READ, order=ADDRESS_ORDER
        ):
            addresses[row["party"]].append(row)
        categories = {c for row in parties for c in row.get("categories") or []}
        names = await self._names("party.category", categories)
        lists = await self._names(
            "product.price_list", {row["sale_price_list"] for row in parties if row.get("sale_price_list")}
        )
        found = []
        for row in parties:
            customer = self._customer(
                row, mechanisms[row["id"]], addresses[row["id"]], names, lists, require_email
            )
            if customer is not None:
                found.append(customer)
        return found

    def _customer(
        self,
        row: dict[str, Any],
        mechanisms: list[dict[str, Any]],
        addresses: list[dict[str, Any]],
        categories: dict[int, str],
        lists: dict[int, str],
        require_email: bool,
    ) -> Customer | None:
        emails = [m for m in mechanisms if m["type"] == "email" and m.get("value")]
        if not emails and require_email:
            return None
        email = str(emails[0]["value"]).strip().lower() if emails else ""
        phones = [m for m in mechanisms if m["type"] in PHONES and m.get("value")]
        name = " ".join(str(row.get("name") or "").split())
        contact = " ".join(str(emails[0].get("name") or "").split()) if emails else ""
        company = ""
        if contact or row.get("identifiers"):
            company = name
            first, last = split_name(contact) if contact and contact != name else ("", "")
        elif email and name.lower() == email:
            first, last = "", ""
        else:
            first, last = split_name(name)
        mine = {categories.get(c) for c in row.get("categories") or []}
        group = next((g for g in self.groups if g in mine), "")
        billing = role_row(addresses, "invoice")
        shipping = next((row for row in addresses if row.get("delivery")), None)
        return Customer(
            key=str(row["id"]),
            email=email,
            first_name=first,
            last_name=last,
            company=company,
            phone=str(phones[0]["value"]) if phones else "",
            billing=address_of(billing, company) if billing else Address(),
            shipping=address_of(shipping, company) if shipping else Address(),
            number=row.get("code") or "",
            group=group,
            price_list=lists.get(row.get("sale_price_list") or 0, ""),
        )

    async def _names(self, model: str, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.client.read(model, sorted(ids), ["name"])
        return {row["id"]: row["name"] for row in rows}
