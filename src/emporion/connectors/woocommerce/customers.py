"""WooCommerce customer accounts as canonical Customers: reads, a change feed that loses nothing, lookup.

Which users are customers is a matter of WordPress roles (`customer_roles`): the customers endpoint
lists one role per request (`role=customer` when none is named), so every listing and read asks
once per configured role and a user counts when one of those listings holds it.

WooCommerce 10.0.2's customers endpoint has no "modified after" filter (its collection arguments are
context, page, per_page, search, exclude, include, offset, order, orderby id/include/name/
registered_date, email and role; anything else is ignored), and `date_modified` moves only on a
profile save or a change of names and addresses, not when a plugin changes a customer's meta (the
group of a B2B plugin). So the feed lists every customer of the roles (`_fields` trims the answer to
what is mapped), hashes what the mapping makes of each (8 bytes) and compares with the hashes of the
last poll, which travel inside the cursor (`rows/fulldiff.py`): new, changed and vanished (deleted,
or moved out of the roles) accounts are reported. The engine stores the cursor with the keys it
queues, so a crash repeats a poll and never skips one. No cursor: from now on (nothing reported).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from emporion.connectors.base import (
    ChangeBatch,
    Permanent,
    Unmappable,
    map_or_unmappable,
    numeric_keys,
)
from emporion.connectors.rows.fulldiff import HASH_BYTES, Differ, Snapshot
from emporion.connectors.woocommerce import feed
from emporion.connectors.woocommerce.client import MAX_PER_PAGE, WooCommerceClient, json_body
from emporion.connectors.woocommerce.order_mapping import CUSTOMER_META, customer_from_wc
from emporion.connectors.woocommerce.writer import gather_all
from emporion.model import Customer, Record, fingerprint

ACCOUNTS = "customers"
BY_ID = {"orderby": "id", "order": "asc", "context": "edit"}
# what the mapping reads: the feed lists only these
MAPPED_FIELDS = "id,email,first_name,last_name,billing,shipping,meta_data"
Json = dict[str, Any]
HIDDEN_META = (
    "WooCommerce shows customers' meta data to administrators only: give the API key's user the "
    "administrator role"
)


class CustomerReader:
    """Reads, scans, counts and looks up the accounts of the configured roles; the change feed."""

    def __init__(
        self,
        client: WooCommerceClient,
        roles: Sequence[str] = ("customer",),
        meta_keys: Mapping[str, str] = CUSTOMER_META,
    ) -> None:
        self.client = client
        self.roles = tuple(dict.fromkeys(roles))
        self.meta_keys = dict(meta_keys)

    def customer(self, data: Json) -> Customer | Unmappable:
        """One account as a Customer, or its Unmappable stand-in (also when its meta is hidden)."""
        key = str(data.get("id", ""))
        if "meta_data" not in data:  # number, group and price list would read as empty
            return Unmappable.of(key, Permanent(HIDDEN_META, record=f"customer {key}", field="meta_data"))
        return map_or_unmappable(key, functools.partial(customer_from_wc, data, self.meta_keys))

    async def accounts(self, ids: Sequence[int]) -> dict[int, Json]:
        """The accounts of the roles among `ids` (edit context) by id; other users, missing ids left out."""
        found: dict[int, Json] = {}
        for start in range(0, len(ids), MAX_PER_PAGE):
            chunk = list(ids[start : start + MAX_PER_PAGE])
            for role in self.roles:
                for data in await self.client.get_all(ACCOUNTS, {"include": chunk, "role": role, **BY_ID}):
                    found.setdefault(int(data["id"]), data)
        return found

    async def read(self, keys: Sequence[str]) -> list[Record]:
        """Current customers by WooCommerce id; missing ids and users of other roles are left out."""
        ids, unusable = numeric_keys(keys, "customer")
        found = await self.accounts(ids)
        return [*unusable, *(self.customer(found[ident]) for ident in ids if ident in found)]

    async def listing(self, params: Mapping[str, Any] | None = None) -> AsyncIterator[list[Json]]:
        """Every account of the roles, a page at a time in id order, each once (a user may hold two roles)."""
        seen: set[int] = set()
        for role in self.roles:
            async for page in self.client.iter_pages(ACCOUNTS, {**BY_ID, **(params or {}), "role": role}):
                fresh = [data for data in page if int(data["id"]) not in seen]
                seen.update(int(data["id"]) for data in fresh)
                if fresh:
                    yield fresh

    async def scan(self) -> AsyncIterator[list[Record]]:
        """Every customer of the roles, one page at a time."""
        async for page in self.listing():
            yield [self.customer(data) for data in page]

    async def count(self) -> int:
        """How many accounts the roles hold (`X-WP-Total` per role; a user of two roles counts twice)."""
        total = 0
        for role in self.roles:
            params = {"per_page": 1, "_fields": "id", "role": role}
            response = await self.client.request("GET", ACCOUNTS, params=params)
            header = response.headers.get("X-WP-Total")
            total += int(header) if header is not None else len(json_body("GET", ACCOUNTS, response))
        return total

    async def changes(self, cursor: str | None) -> ChangeBatch:
        """Accounts created, changed, deleted or moved out of the roles since the cursor's snapshot."""
        previous: Snapshot | None = None
        if cursor is not None:
            state = feed.decode_cursor(cursor, "customer")
            try:
                previous = Snapshot.loads(str(state.get("snapshot", "")))
            except ValueError as exc:
                raise Permanent(f"damaged WooCommerce customer cursor ({exc})") from None
        differ = Differ(previous)
        async for page in self.listing({"_fields": MAPPED_FIELDS}):
            differ.add((str(data["id"]), self.digest(data)) for data in page)
        changed, deleted, snapshot = differ.finish()
        position = feed.encode_cursor(kind="customer", snapshot=snapshot.dumps())
        if previous is None:
            return ChangeBatch([], position)
        return ChangeBatch(sorted({*changed, *deleted}, key=_id_order), position)

    def digest(self, data: Json) -> bytes:
        """8 bytes that change when what the mapping makes of an account changes."""
        customer = self.customer(data)
        if isinstance(customer, Customer):
            return bytes.fromhex(fingerprint(customer))[:HASH_BYTES]
        raw = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.blake2b(raw, digest_size=HASH_BYTES).digest()

    async def by_email(self, emails: Sequence[str]) -> dict[str, Json]:
        """Accounts of any role by e-mail (one request each): {lower-cased e-mail: account}.

        `role=all`: a user of another role holds its e-mail just the same (WordPress keeps e-mails
        unique over all users). An address WordPress does not take for one is found nowhere.
        """
        wanted = sorted({email.strip().lower() for email in emails if email and email.strip()})

        async def one(email: str) -> Json | None:
            try:
                found = await self.client.get(ACCOUNTS, {"email": email, "role": "all", "context": "edit"})
            except Permanent:  # refused as no e-mail address (`rest_invalid_param`): no account has it
                return None
            for data in found or []:
                if str(data.get("email", "")).strip().lower() == email:
                    return dict(data)
            return None

        answers = await gather_all([one(email) for email in wanted])
        return {email: data for email, data in zip(wanted, answers, strict=True) if data is not None}

    async def lookup(self, emails: Sequence[str]) -> dict[str, dict[str, object]]:
        """Existing accounts by e-mail: `{lower-cased e-mail: {"id": …}}`; only reads."""
        return {email: {"id": int(data["id"])} for email, data in (await self.by_email(emails)).items()}

    async def by_number(self, numbers: Sequence[str]) -> dict[str, int]:
        """Accounts of the roles by customer number meta (the API cannot filter meta: one full listing)."""
        wanted, key = set(numbers), self.meta_keys["number"]
        found: dict[str, int] = {}
        async for page in self.listing({"_fields": "id,meta_data"}):
            for data in page:
                for entry in data.get("meta_data") or []:
                    if isinstance(entry, dict) and entry.get("key") == key:
                        value = str(entry.get("value") or "").strip()
                        if value in wanted:
                            found.setdefault(value, int(data["id"]))
        return found


def _id_order(key: str) -> tuple[int, str]:
    return (int(key), key) if key.isdigit() else (0, key)
