"""Customers into Tryton parties: match by number or e-mail, else create; update linked parties in place.

One writer serves the order flow (the party of a shop order) and the customer flow. An unlinked item
is matched by its number (the party's code), else its e-mail in any case, and the party found is
completed (missing contacts and addresses added, nothing overwritten); a linked item updates the
fields that changed, honouring `only` and `keep_on_update`. The engine guards against two workers
creating the same new customer at once (the state database serialises `write("customer")` per
e-mail); this module only looks before it creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.party_addresses import AddressMode, PartyAddresses, same_place
from emporion.connectors.tryton.party_read import PARTY_FIELDS, PartyReader
from emporion.model.orders import CUSTOMER_FIELDS, Customer

__all__ = ["AddressMode", "PartyWriter", "contact_name", "same_place"]


def contact_name(customer: Customer) -> str | None:
    """The name on a company customer's e-mail contact: the person's, else the company's (marks a company)."""
    return (customer.person_name or customer.company) if customer.company else None


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit() or ch == "+")


class PartyWriter:
    """Finds, creates and updates the Tryton party of a customer, with invoice and delivery addresses."""

    def __init__(
        self,
        client: TrytonClient,
        *,
        groups: Sequence[str] = (),
        category: str | None = None,
        addresses: AddressMode = "add",
    ) -> None:
        self.client = client
        self.groups = list(groups)
        self.category = category
        self.reader = PartyReader(client, groups=groups)
        self.places = PartyAddresses(client, addresses)
        self._categories: dict[str, int] = {}
        self._price_lists: dict[str, int] = {}

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem] = ()) -> list[Outcome]:
        """One outcome per item; Tryton refusals are per item, lock conflicts fail the whole call."""
        outcomes = []
        for item in upserts:
            try:
                outcomes.append(await self._write_one(item))
            except Retryable:
                raise
            except ConnectorError as exc:
                outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=self._named(exc, item)))
        for item in deletes:
            if item.target_ref and item.target_ref.get("id"):
                await self.client.model(
                    "party.party", "write", [int(item.target_ref["id"])], {"active": False}
                )
            outcomes.append(Outcome(item.key, OutcomeStatus.DELETED, target_ref=item.target_ref))
        return outcomes

    @staticmethod
    def _named(exc: ConnectorError, item: WriteItem) -> ConnectorError:
        """The error naming the customer by e-mail in its record field (never in a log line)."""
        if isinstance(exc, Permanent) and exc.record:
            return exc
        email = item.record.email if isinstance(item.record, Customer) else item.key
        field = exc.field if isinstance(exc, Permanent) else None
        return Permanent(exc.reason if isinstance(exc, Permanent) else str(exc), record=email, field=field)

    async def _write_one(self, item: WriteItem) -> Outcome:
        customer = item.record
        if not isinstance(customer, Customer):
            raise Permanent(f"expected a Customer, got {type(customer).__name__}", record=item.key)
        if "@" not in customer.email:
            raise Permanent(
                "the customer has no e-mail address", record=customer.email or item.key, field="email"
            )
        if item.target_ref and item.target_ref.get("id"):
            party = int(item.target_ref["id"])
            updated = await self._update(party, item)
            if updated is not None:  # else the linked party was deleted in Tryton: search, then create
                changed, ref = updated
                status = OutcomeStatus.UPDATED if changed else OutcomeStatus.UNCHANGED
                return Outcome(item.key, status, target_ref=ref)
        found = await self.find_by_number(customer.number) if customer.number else None
        if found is None:
            found = await self.find_by_email(customer.email)
        if found is not None:
            party, status = found, OutcomeStatus.MATCHED
            await self._fill(party, customer)
        else:
            party, status = await self._create(customer), OutcomeStatus.CREATED
        _, ref = await self._complete(party, customer)
        return Outcome(item.key, status, target_ref=ref)

    async def find_by_number(self, number: str) -> int | None:
        """The active party whose code is `number`, if any."""
        rows = await self.client.search_read("party.party", [("code", "=", number.strip())], ["id"], limit=1)
        return int(rows[0]["id"]) if rows else None

    async def find_by_email(self, email: str) -> int | None:
        """The oldest active party with this e-mail (case-insensitive), if any."""
        return (await self.find_by_emails([email])).get(email.strip().lower())

    async def find_by_emails(self, emails: Sequence[str]) -> dict[str, int]:
        """The oldest active party of each e-mail (any case): `{lower-cased e-mail: party}`; only reads."""
        wanted = sorted({email.strip().lower() for email in emails if email.strip()})
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 100):
            chunk = wanted[start : start + 100]
            rows = await self.client.search_read(
                "party.contact_mechanism",
                [
                    ("type", "=", "email"),
                    ["OR", *(("value", "ilike", email) for email in chunk)],
                    ("party.active", "=", True),
                ],
                ["party", "value"],
                order=[("party", "ASC")],
            )
            for row in rows:
                value = str(row["value"]).strip().lower()
                if value in chunk:
                    found.setdefault(value, int(row["party"]))
        return found

    async def _create(self, customer: Customer) -> int:
        contacts: list[dict[str, Any]] = [
            {"type": "email", "value": customer.email.strip(), "name": contact_name(customer)}
        ]
        if customer.phone:
            contacts.append({"type": "phone", "value": customer.phone})
        values: dict[str, Any] = {
            "name": customer.display_name,
            "contact_mechanisms": [["create", contacts]],
            "addresses": [["create", []]],  # no empty default address: ours come next
        }
        if customer.number:
            values["code"] = customer.number.strip()
        categories = [name for name in (self.category, customer.group) if name]
        if categories:
            values["categories"] = [["add", [await self._category(name) for name in categories]]]
        if customer.price_list:
            values["sale_price_list"] = await self._price_list(customer.price_list)
        (party,) = await self.client.model("party.party", "create", [values])
        return int(party)

    async def _fill(self, party: int, customer: Customer) -> None:
        """A matched party gets what it lacks (the customer category, a group, a price list), nothing more."""
        (row,) = await self.client.read("party.party", [party], ["categories", "sale_price_list"])
        have = set(row.get("categories") or [])
        named = await self.client.read("party.category", sorted(have), ["name"]) if have else []
        wanted = [self.category] if self.category else []
        if customer.group and not {category["name"] for category in named} & {*self.groups, customer.group}:
            wanted.append(customer.group)
        add = [ident for ident in [await self._category(name) for name in wanted] if ident not in have]
        values: dict[str, Any] = {"categories": [["add", add]]} if add else {}
        if customer.price_list and not row.get("sale_price_list"):
            values["sale_price_list"] = await self._price_list(customer.price_list)
        if values:
            await self.client.model("party.party", "write", [party], values)

    async def _category(self, name: str) -> int:
        """The party category named `name`, made (under no parent) when Tryton has none."""
        if name not in self._categories:
            rows = await self.client.search_read("party.category", [("name", "=", name)], ["id"], limit=1)
            if rows:
                self._categories[name] = int(rows[0]["id"])
            else:
                (made,) = await self.client.model("party.category", "create", [{"name": name}])
                self._categories[name] = int(made)
        return self._categories[name]

    async def _price_list(self, name: str) -> int:
        if name not in self._price_lists:
            rows = await self.client.search_read("product.price_list", [("name", "=", name)], ["id"], limit=1)
            if not rows:
                raise Permanent(f"Tryton has no price list named {name!r}", field="price_list")
            self._price_lists[name] = int(rows[0]["id"])
        return self._price_lists[name]

    async def _update(self, party: int, item: WriteItem) -> tuple[bool, dict[str, Any]] | None:
        """Write the fields of a linked party that changed (addresses per the address mode); None: gone."""
        rows = await self.client.search_read(
            "party.party", [("id", "=", party)], [*PARTY_FIELDS, "active"], context={"active_test": False}
        )
        if not rows:
            return None
        if not rows[0]["active"]:
            raise Permanent("the linked party is deactivated in Tryton", field="active")
        (current,) = await self.reader.customers(rows, require_email=False)
        fields = item.only if item.only is not None else CUSTOMER_FIELDS - item.keep_on_update
        incoming = item.record.model_dump()
        chosen = {name: incoming[name] for name in fields & CUSTOMER_FIELDS}
        wanted = Customer.model_validate({**current.model_dump(), **chosen})
        changed = False
        values: dict[str, Any] = {}
        if wanted.display_name != rows[0]["name"]:
            values["name"] = wanted.display_name
        if wanted.group != current.group:
            drop = [await self._category(current.group)] if current.group else []
            add = [await self._category(wanted.group)] if wanted.group else []
            values["categories"] = [*([["remove", drop]] if drop else []), *([["add", add]] if add else [])]
        if wanted.price_list != current.price_list:
            values["sale_price_list"] = (
                await self._price_list(wanted.price_list) if wanted.price_list else None
            )
        if values:
            await self.client.model("party.party", "write", [party], values)
            changed = True
        changed |= await self._contacts(party, current, wanted)
        moved, ref = await self.places.roles(party, wanted)
        return changed or moved, ref

    async def _contacts(self, party: int, current: Customer, wanted: Customer) -> bool:
        """Rewrite the e-mail contact (value, name) and the phone in place when they changed."""
        rows = await self.client.search_read(
            "party.contact_mechanism",
            [("party", "=", party)],
            ["type", "value", "name"],
            order=[("sequence", "ASC"), ("id", "ASC")],
        )
        email = next((row for row in rows if row["type"] == "email" and row.get("value")), None)
        changed = False
        name = contact_name(wanted)
        if email is None:
            made = {"party": party, "type": "email", "value": wanted.email.strip(), "name": name}
            await self.client.model("party.contact_mechanism", "create", [made])
            changed = True
        elif wanted.email.strip().lower() != current.email or (email.get("name") or None) != name:
            values: dict[str, Any] = {"name": name}
            if wanted.email.strip().lower() != current.email:
                values["value"] = wanted.email.strip()
            await self.client.model("party.contact_mechanism", "write", [email["id"]], values)
            changed = True
        if _digits(wanted.phone) != _digits(current.phone):
            phone = next(
                (row for row in rows if row["type"] in ("phone", "mobile") and row.get("value")), None
            )
            if phone is None:
                await self.client.model(
                    "party.contact_mechanism",
                    "create",
                    [{"party": party, "type": "phone", "value": wanted.phone}],
                )
            elif wanted.phone:
                await self.client.model(
                    "party.contact_mechanism", "write", [phone["id"]], {"value": wanted.phone}
                )
            else:
                await self.client.model("party.contact_mechanism", "delete", [phone["id"]])
            changed = True
        return changed

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
        placed, ref = await self.places.complete(party, customer)
        return changed or placed, ref
