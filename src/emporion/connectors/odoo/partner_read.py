"""Odoo partners read as canonical Customers: name, e-mail, phone, reference, addresses, tag group, pricelist.

A company partner (`is_company`) is the customer's company; its person is the first child contact of
type `contact`, if any. A person's name is split on the last space. The billing address is the newest
active child of type `invoice`, else the partner's own address; the shipping address is the newest
active child of type `delivery`, none when that is the same place as the billing address (the order
flow makes one at the billing address for every order that ships there). The price list is the
partner's `property_product_pricelist` read in the company's context, none when it is the fallback
every partner without one of its own gets (the company's first pricelist by sequence).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from emporion.connectors.odoo.client import OdooClient
from emporion.model.orders import Address, Customer, split_name

ADDRESS_FIELDS = ["street", "street2", "zip", "city", "country_id", "state_id"]
PARTNER_FIELDS = [
    "name",
    "email",
    "phone",
    "ref",
    "is_company",
    *ADDRESS_FIELDS,
    "category_id",
    "property_product_pricelist",
]
CHILD_FIELDS = ["parent_id", "type", "name", *ADDRESS_FIELDS]
CHILD_TYPES = ["contact", "invoice", "delivery"]


def m2o(value: Any) -> int | None:
    """The id of a many2one value (`[id, name]` or False)."""
    return int(value[0]) if isinstance(value, list | tuple) and value else None


def text(value: Any) -> str:
    """A char value with Odoo's False as empty, spaces collapsed."""
    return " ".join(str(value).split()) if value not in (False, None) else ""


def has_place(row: dict[str, Any]) -> bool:
    """Whether a partner row names a place (street, city or postcode)."""
    return bool(text(row.get("street")) or text(row.get("city")) or text(row.get("zip")))


def same_address(one: Address, other: Address) -> bool:
    """Whether two canonical addresses are the same place (street lines, postcode, city, country, state)."""

    def norm(value: str) -> str:
        return " ".join(value.lower().split())

    return all(
        norm(getattr(one, name)) == norm(getattr(other, name))
        for name in ("street", "street2", "postcode", "city", "country", "state")
    )


def newest(rows: Sequence[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """The newest row of type `kind` that names a place (the highest id)."""
    typed = [row for row in rows if row.get("type") == kind and has_place(row)]
    return max(typed, key=lambda row: int(row["id"])) if typed else None


class PartnerReader:
    """Reads partners with their child contacts, tags, countries and pricelist."""

    def __init__(self, client: OdooClient, *, groups: Sequence[str] = ()) -> None:
        self.client = client
        self.groups = list(groups)
        self._countries: dict[int, str] = {}
        self._states: dict[int, str] = {}
        self._company: int | None = None
        self._fallback: int | None = None
        self._fallback_known = False

    async def company(self) -> int:
        """The integration user's company, whose context prices and pricelists are read and written in."""
        if self._company is None:
            await self.client.connect()  # the user id is known once logged in
            (user,) = await self.client.read("res.users", [self.client.uid], ["company_id"])
            self._company = m2o(user.get("company_id")) or 1
        return self._company

    async def context(self) -> dict[str, Any]:
        """The company context `property_product_pricelist` is company-dependent in."""
        return {"allowed_company_ids": [await self.company()]}

    async def fallback(self) -> int | None:
        """The pricelist a partner without one of its own gets: the company's first by sequence."""
        if not self._fallback_known:
            company = await self.company()
            found = await self.client.search(
                "product.pricelist",
                [("company_id", "in", [company, False])],
                limit=1,
                order="sequence asc, id asc",
            )
            self._fallback, self._fallback_known = (found[0] if found else None), True
        return self._fallback

    async def rows(self, domain: list[Any], *, archived: bool = False) -> list[dict[str, Any]]:
        """Partner rows matching `domain` with PARTNER_FIELDS, by id, read in the company's context."""
        context = {**await self.context(), **({"active_test": False} if archived else {})}
        fields = [*PARTNER_FIELDS, "active"] if archived else PARTNER_FIELDS
        return await self.client.search_read("res.partner", domain, fields, order="id asc", context=context)

    async def customers(
        self, partners: Sequence[dict[str, Any]], *, require_email: bool = True
    ) -> list[Customer]:
        """Canonical Customers of partner rows read with PARTNER_FIELDS (those without e-mail left out)."""
        ids = [int(row["id"]) for row in partners]
        if not ids:
            return []
        children: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in await self.client.search_read(
            "res.partner",
            [("parent_id", "in", ids), ("type", "in", CHILD_TYPES)],
            CHILD_FIELDS,
            order="id asc",
        ):
            parent = m2o(row.get("parent_id"))
            if parent is not None:
                children[parent].append(row)
        every = [*partners, *(row for rows in children.values() for row in rows)]
        await self.codes(every)
        tags = await self._tags({tag for row in partners for tag in row.get("category_id") or []})
        fallback = await self.fallback()
        lists = await self._names(
            "product.pricelist",
            {ident for row in partners if (ident := m2o(row.get("property_product_pricelist"))) != fallback},
        )
        found = []
        for row in partners:
            customer = self._customer(row, children[int(row["id"])], tags, lists, require_email)
            if customer is not None:
                found.append(customer)
        return found

    def _customer(
        self,
        row: dict[str, Any],
        children: list[dict[str, Any]],
        tags: dict[int, str],
        lists: dict[int, str],
        require_email: bool,
    ) -> Customer | None:
        email = text(row.get("email")).lower()
        if not email and require_email:
            return None
        name = text(row.get("name"))
        company = name if row.get("is_company") else ""
        if company:
            contact = next((c for c in children if c.get("type") == "contact" and text(c.get("name"))), None)
            first, last = split_name(text(contact.get("name"))) if contact else ("", "")
        elif name.lower() == email:
            first, last = "", ""
        else:
            first, last = split_name(name)
        billing_row = newest(children, "invoice") or (row if has_place(row) else None)
        billing = self.address(billing_row, first, last, company) if billing_row else Address()
        shipping_row = newest(children, "delivery")
        shipping = self.address(shipping_row, first, last, company) if shipping_row else Address()
        if same_address(shipping, billing):
            shipping = Address()
        mine = {tags.get(tag) for tag in row.get("category_id") or []}
        return Customer(
            key=str(row["id"]),
            email=email,
            first_name=first,
            last_name=last,
            company=company,
            phone=text(row.get("phone")),
            billing=billing,
            shipping=shipping,
            number=text(row.get("ref")),
            group=next((group for group in self.groups if group in mine), ""),
            price_list=lists.get(m2o(row.get("property_product_pricelist")) or 0, ""),
        )

    def address(self, row: dict[str, Any], first: str, last: str, company: str) -> Address:
        """A partner row's address; a child contact's own name is the person's at that address."""
        if row.get("parent_id"):
            named = text(row.get("name"))
            if named and named != company:
                first, last = split_name(named)
        return Address(
            first_name=first,
            last_name=last,
            company=company,
            street=text(row.get("street")),
            street2=text(row.get("street2")),
            postcode=text(row.get("zip")),
            city=text(row.get("city")),
            country=self._countries.get(m2o(row.get("country_id")) or 0, ""),
            state=self._states.get(m2o(row.get("state_id")) or 0, ""),
        )

    async def codes(self, rows: Sequence[dict[str, Any]]) -> None:
        """Learn the ISO codes of the countries and states the rows point at (each read once)."""
        for model, column, known in (
            ("res.country", "country_id", self._countries),
            ("res.country.state", "state_id", self._states),
        ):
            wanted = {ident for row in rows if (ident := m2o(row.get(column))) and ident not in known}
            if wanted:
                for found in await self.client.read(model, sorted(wanted), ["code"]):
                    known[int(found["id"])] = text(found.get("code")).upper()

    async def _tags(self, ids: set[int]) -> dict[int, str]:
        return await self._names("res.partner.category", ids) if self.groups else {}

    async def _names(self, model: str, ids: set[Any]) -> dict[int, str]:
        """The plain `name` of records (display names add a pricelist's currency, a tag's parent)."""
        wanted = sorted(ident for ident in ids if ident)
        if not wanted:
            return {}
        rows = await self.client.read(model, wanted, ["name"])
        return {int(row["id"]): text(row.get("name")) for row in rows}
