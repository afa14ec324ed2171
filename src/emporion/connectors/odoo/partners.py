"""Customers into Odoo partners: matched by reference or e-mail, never made twice, updated field by field.

One writer serves the order flow (the partner of a shop order) and the customer flow. An unlinked
customer is the commercial partner found by its number (`ref`), else its e-mail (case-insensitive;
Odoo's `=ilike` treats `_` and `%` as wildcards, so every candidate is compared exactly before it
counts), else a new one: a company partner when the customer names a company, a person otherwise.
A match is completed (it becomes a customer, gets the customer tag and what it lacks), never
overwritten. Billing and shipping addresses are child contacts of type `invoice` and `delivery`,
matched by their address fields, so the same address on every order is one contact. A linked
customer is updated where it differs, honouring `only` and `keep_on_update`; a changed address adds a
contact of its type, or (`customer_addresses: update`) rewrites the newest in place. The engine
serialises customer writes per e-mail; this module only looks before it creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.odoo.partner_read import PartnerReader, has_place, newest, same_address, text
from emporion.model.orders import CUSTOMER_FIELDS, Address, Customer

if TYPE_CHECKING:
    from emporion.connectors.odoo.client import OdooClient
    from emporion.connectors.odoo.settings import OdooConnection

CONTACT_FIELDS = ["type", "street", "street2", "zip", "city", "country_id", "parent_id"]


def is_empty(address: Address | None) -> bool:
    """Whether an address names no place (no street, city or postcode)."""
    return address is None or not (address.street or address.city or address.postcode)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit() or ch == "+")


def _named(exc: ConnectorError, item: WriteItem) -> ConnectorError:
    """The error naming the customer by its key (never its e-mail) and the field, if it does not yet."""
    if isinstance(exc, Permanent) and exc.record:
        return exc
    field = exc.field if isinstance(exc, Permanent) else None
    reason = exc.reason if isinstance(exc, Permanent) else str(exc)
    return Permanent(reason, record=f"customer {item.key}", field=field)


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
    """Finds, creates and updates the Odoo partner of a customer and its invoice and delivery contacts."""

    def __init__(self, client: OdooClient, settings: OdooConnection | None = None) -> None:
        self.client = client
        self.groups = list(settings.customer_groups) if settings else []
        self.category = settings.customer_category if settings else None
        self.mode = settings.customer_addresses if settings else "add"
        self.reader = PartnerReader(client, groups=self.groups)
        self._countries: dict[str, int | None] = {}
        self._states: dict[tuple[int, str], int | None] = {}
        self._tags: dict[str, int] = {}
        self._pricelists: dict[str, int] = {}

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem] = ()) -> list[Outcome]:
        """One outcome per customer; Odoo's refusals are per item, time-outs fail the call (Retryable)."""
        outcomes = []
        for item in upserts:
            try:
                outcomes.append(await self._write_one(item))
            except Retryable:
                raise
            except ConnectorError as exc:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=_named(exc, item)))
        for item in deletes:
            ident = str((item.target_ref or {}).get("id") or "")
            try:
                if ident.isdigit():  # archived, as Odoo removes a contact: past sales keep pointing at it
                    await self.client.write("res.partner", [int(ident)], {"active": False})
                outcomes.append(Outcome(item.key, OutcomeStatus.DELETED, target_ref=item.target_ref))
            except Retryable:
                raise
            except ConnectorError as exc:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=_named(exc, item)))
        return outcomes

    async def _write_one(self, item: WriteItem) -> Outcome:
        customer = item.record
        if not isinstance(customer, Customer):
            raise Permanent(f"expected a Customer, got {type(customer).__name__}", record=item.key)
        if "@" not in customer.email:
            raise Permanent("the customer has no e-mail address", record=item.key, field="email")
        ident = str((item.target_ref or {}).get("id") or "")
        if ident.isdigit():
            rows = await self.reader.rows([("id", "=", int(ident))], archived=True)
            if rows and rows[0].get("active"):
                changed, linked = await self._update(rows[0], item)
                status = OutcomeStatus.UPDATED if changed else OutcomeStatus.UNCHANGED
                return Outcome(item.key, status, target_ref=linked)
            # archived or deleted in Odoo: found again by number or e-mail, else made anew
        found = await self.find_by_number(customer.number) if customer.number.strip() else None
        if found is None:
            found = await self.find_by_email(customer.email)
        if found is not None:
            partner, status = found, OutcomeStatus.MATCHED
            await self._fill(partner, customer)
        else:
            partner, status = await self._create(customer), OutcomeStatus.CREATED
        ref: dict[str, Any] = {"id": partner, "invoice_address": None, "delivery_address": None}
        billing = customer.billing if not is_empty(customer.billing) else None
        shipping = customer.shipping if not is_empty(customer.shipping) else billing
        for kind, address in (("invoice", billing), ("delivery", shipping)):
            if address is not None:
                contact, _ = await self.contact(partner, address, kind, record=f"customer {item.key}")
                ref[f"{kind}_address"] = contact
        return Outcome(item.key, status, target_ref=ref)

    async def find_by_number(self, number: str) -> int | None:
        """The oldest active commercial partner whose reference is `number`, if any."""
        found = await self.client.search(
            "res.partner", [("ref", "=", number.strip()), ("parent_id", "=", False)], limit=1, order="id asc"
        )
        return found[0] if found else None

    async def find_by_email(self, email: str) -> int | None:
        """The oldest active commercial partner with exactly this e-mail (any case), if any."""
        return (await self.find_by_emails([email])).get(email.strip().lower())

    async def find_by_emails(self, emails: Sequence[str]) -> dict[str, int]:
        """The oldest active commercial partner of each e-mail (any case): `{lower-cased e-mail: id}`."""
        wanted = sorted({email.strip().lower() for email in emails if email.strip()})
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 100):
            chunk = wanted[start : start + 100]
            terms: list[Any] = ["|"] * (len(chunk) - 1) + [["email", "=ilike", email] for email in chunk]
            rows = await self.client.search_read(
                "res.partner", [*terms, ["parent_id", "=", False]], ["email"], order="id asc"
            )
            for row in rows:
                value = text(row.get("email")).lower()
                if value in chunk:
                    found.setdefault(value, int(row["id"]))
        return found

    async def _create(self, customer: Customer) -> int:
        values: dict[str, Any] = {
            "name": customer.display_name,
            "email": customer.email.strip(),
            "is_company": bool(customer.company),
            "customer_rank": 1,
        }
        if customer.phone:
            values["phone"] = customer.phone
        if customer.number.strip():
            values["ref"] = customer.number.strip()
        tags = [name for name in (self.category, customer.group) if name]
        if tags:
            values["category_id"] = [[4, await self._tag(name)] for name in tags]
        if customer.price_list:
            values["property_product_pricelist"] = await self._pricelist(customer.price_list)
        address = customer.billing if not is_empty(customer.billing) else None
        if address is not None:  # the partner's own address: the billing one
            values.update(await self._address_values(address))
        (partner,) = await self.client.create("res.partner", [values], context=await self.reader.context())
        return int(partner)

    async def _fill(self, partner: int, customer: Customer) -> None:
        """A matched partner becomes a customer and gets what it lacks (tag, group, number, pricelist)."""
        (row,) = await self.reader.rows([("id", "=", partner)])
        raw = await self.client.read("res.partner", [partner], ["customer_rank"])
        values: dict[str, Any] = {}
        if raw and not raw[0].get("customer_rank"):
            values["customer_rank"] = 1
        (current,) = await self.reader.customers([row], require_email=False)
        have = set(row.get("category_id") or [])
        wanted = [self.category] if self.category else []
        if customer.group and not current.group:
            wanted.append(customer.group)
        add = [tag for tag in [await self._tag(name) for name in wanted] if tag not in have]
        if add:
            values["category_id"] = [[4, tag] for tag in add]
        if customer.number.strip() and not current.number:
            values["ref"] = customer.number.strip()
        if customer.price_list and not current.price_list:
            values["property_product_pricelist"] = await self._pricelist(customer.price_list)
        if values:
            await self.client.write("res.partner", [partner], values, context=await self.reader.context())

    async def _update(self, row: dict[str, Any], item: WriteItem) -> tuple[bool, dict[str, Any]]:
        """Write what differs on a linked partner (fields, then addresses); whether anything did, its ref."""
        partner = int(row["id"])
        (current,) = await self.reader.customers([row], require_email=False)
        fields = item.only if item.only is not None else CUSTOMER_FIELDS - item.keep_on_update
        incoming = item.record.model_dump()
        chosen = {name: incoming[name] for name in fields & CUSTOMER_FIELDS}
        wanted = Customer.model_validate({**current.model_dump(), **chosen})
        values: dict[str, Any] = {}
        if wanted.display_name != text(row.get("name")):
            values["name"] = wanted.display_name
        if bool(wanted.company) != bool(row.get("is_company")):
            values["is_company"] = bool(wanted.company)
        if wanted.email.strip().lower() != current.email:
            values["email"] = wanted.email.strip()
        if _digits(wanted.phone) != _digits(current.phone):
            values["phone"] = wanted.phone or False
        if wanted.number.strip() != current.number:
            values["ref"] = wanted.number.strip() or False
        if wanted.group != current.group:
            drop = [await self._tag(current.group)] if current.group else []
            add = [await self._tag(wanted.group)] if wanted.group else []
            values["category_id"] = [*([3, tag] for tag in drop), *([4, tag] for tag in add)]
        if wanted.price_list != current.price_list:
            # none: the fallback (writing False leaves 18's own pricelist in place, its inverse skips it)
            values["property_product_pricelist"] = (
                await self._pricelist(wanted.price_list)
                if wanted.price_list
                else (await self.reader.fallback() or False)
            )
        if values:
            await self.client.write("res.partner", [partner], values, context=await self.reader.context())
        moved, ref = await self._places(row, wanted, record=f"customer {item.key}")
        return bool(values) or moved, ref

    async def _places(
        self, row: dict[str, Any], wanted: Customer, *, record: str
    ) -> tuple[bool, dict[str, Any]]:
        """Bring the billing and shipping address to the wanted ones (see the module's description)."""
        partner = int(row["id"])
        children = await self.client.search_read(
            "res.partner",
            [("parent_id", "=", partner), ("type", "in", ["invoice", "delivery"])],
            ["id", "name", "parent_id", *CONTACT_FIELDS, "state_id"],
            order="id asc",
        )
        changed = False
        ref: dict[str, Any] = {"id": partner, "invoice_address": None, "delivery_address": None}
        # billing: the newest invoice contact, else the partner's own address
        holder = newest(children, "invoice")
        own = holder is None
        current = await self._address_of(holder or row)
        billing = await self._resolved(wanted.billing) if not is_empty(wanted.billing) else None
        if billing is not None and not same_address(current, billing):
            if own and (self.mode == "update" or not has_place(row)):
                await self.client.write("res.partner", [partner], await self._place_values(billing))
            elif holder is not None and self.mode == "update":
                await self._rewrite(int(holder["id"]), billing, record=record, kind="invoice")
            else:
                holder = {"id": await self._new_contact(partner, billing, "invoice", record=record)}
            changed = True
        final = billing or current
        ref["invoice_address"] = int(holder["id"]) if holder else partner
        # shipping: the newest delivery contact; one at the billing place means none of its own
        delivery = newest(children, "delivery")
        shipping = await self._resolved(wanted.shipping) if not is_empty(wanted.shipping) else None
        if shipping is not None and same_address(shipping, final):
            shipping = None
        place = await self._address_of(delivery) if delivery else None
        target = shipping or (final if place is not None and not is_empty(final) else None)
        if target is not None and (place is None or not same_address(place, target)):
            if delivery is not None and self.mode == "update":
                await self._rewrite(int(delivery["id"]), target, record=record, kind="delivery")
            else:
                delivery = {"id": await self._new_contact(partner, target, "delivery", record=record)}
            changed = True
        ref["delivery_address"] = int(delivery["id"]) if delivery else ref["invoice_address"]
        return changed, ref

    async def _address_of(self, row: dict[str, Any]) -> Address:
        """The canonical place of a partner row (codes looked up)."""
        await self.reader.codes([row])
        return self.reader.address(row, "", "", "")

    async def _resolved(self, address: Address | None) -> Address:
        """`address` as Odoo can hold it: a country or state Odoo does not know left out."""
        assert address is not None
        country = await self.country(address.country) if address.country else None
        state = await self._state(country, address.state) if country is not None else None
        return address.model_copy(
            update={
                "country": address.country.strip().upper() if country is not None else "",
                "state": await self._state_code(state) if state is not None else "",
            }
        )

    async def _state_code(self, state: int) -> str:
        rows = await self.client.read("res.country.state", [state], ["code"])
        return text(rows[0].get("code")).upper() if rows else ""

    async def _place_values(self, address: Address) -> dict[str, Any]:
        """The address fields of `address`, clearing what it leaves out (country, state)."""
        return {"country_id": False, "state_id": False, **await self._address_values(address)}

    async def _rewrite(self, contact: int, address: Address, *, record: str, kind: str) -> None:
        values = await self._place_values(address)
        name = address.person_name or address.company
        if name:
            values["name"] = name
        try:
            await self.client.write("res.partner", [contact], values)
        except Permanent as error:
            raise Permanent(
                f"Odoo refused the {kind} address: {error.reason}", record=record, field=kind
            ) from error

    async def _tag(self, name: str) -> int:
        """The partner tag named `name`, made when Odoo has none."""
        if name not in self._tags:
            found = await self.client.search("res.partner.category", [("name", "=", name)], limit=1)
            if found:
                self._tags[name] = found[0]
            else:
                (made,) = await self.client.create("res.partner.category", [{"name": name}])
                self._tags[name] = int(made)
        return self._tags[name]

    async def _pricelist(self, name: str) -> int:
        if name not in self._pricelists:
            found = await self.client.search("product.pricelist", [("name", "=", name)], limit=1)
            if not found:
                raise Permanent(f"Odoo has no pricelist named {name!r}", field="price_list")
            self._pricelists[name] = found[0]
        return self._pricelists[name]

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
        return await self._new_contact(partner, address, kind, record=record), True

    async def _new_contact(self, partner: int, address: Address, kind: str, *, record: str) -> int:
        """A new child contact of `partner` of type `kind` at `address`."""
        values = await self._address_values(address)
        name = address.person_name or address.company
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
        return int(created)

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
