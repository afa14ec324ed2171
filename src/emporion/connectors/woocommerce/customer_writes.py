"""Customer accounts into WooCommerce: matched before made, made once, changed only where they differ.

An unlinked customer is looked up by e-mail first (WordPress keeps e-mails unique over all users),
then, when it carries a customer number and no account has its e-mail, by the number meta (one
listing: the API cannot filter on meta). A found account is MATCHED and updated; only what differs
from the account as read is sent (partial billing and shipping blocks, single meta entries), so an
unchanged customer costs no write, no `date_modified` move and no webhook echo. A new account is
created without username and password: WooCommerce 10.0.2 derives the username from the e-mail
(see the README) and generates a password; its "new account" e-mail (when enabled) tells the
customer how to set one. A create refused with `registration-error-email-exists` (someone
registered in between) is matched, never made twice. Accounts are never deleted.

WooCommerce's error messages quote the e-mail address: outcomes carry the code and emporion's own
words only, and name the record by its source key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emporion.connectors.base import ConnectorError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.woocommerce.client import BatchItemResult
from emporion.connectors.woocommerce.customer_bodies import (
    EMAIL_EXISTS,
    create_body,
    customer_body,
    difference,
    failure,
    update_fields,
)
from emporion.connectors.woocommerce.customers import ACCOUNTS, HIDDEN_META, CustomerReader
from emporion.connectors.woocommerce.writer import linked_id
from emporion.model import Customer

Json = dict[str, Any]
Target = tuple[Json, OutcomeStatus]


class CustomerWriter:
    """Writes canonical Customers as WooCommerce accounts through `customers/batch`."""

    def __init__(self, reader: CustomerReader) -> None:
        self.reader = reader
        self.client = reader.client

    async def write(self, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]) -> list[Outcome]:
        """One outcome per item, upserts first; deletes are refused (accounts are never deleted)."""
        outcomes: dict[str, Outcome] = {}
        for item in deletes:
            reason = "customer accounts are not deleted by emporion (set the flow's on_remove to ignore)"
            error = Permanent(reason, record=f"customer {item.key}", field="on_remove")
            outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, error)
        items: list[WriteItem] = []
        for item in upserts:
            record = item.record
            if not isinstance(record, Customer) or not record.email.strip():
                error = Permanent(
                    "a customer account needs an e-mail", record=f"customer {item.key}", field="email"
                )
                outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, error)
            else:
                items.append(item)
        targets = await self._targets(items, outcomes)
        creates = [item for item in items if item.key not in outcomes and item.key not in targets]
        await self._update([item for item in items if item.key in targets], targets, outcomes)
        await self._create(creates, targets, outcomes)
        return [outcomes[item.key] for item in [*upserts, *deletes]]

    async def _targets(self, items: Sequence[WriteItem], outcomes: dict[str, Outcome]) -> dict[str, Target]:
        """The account each item updates: its link's, else the one with its e-mail, else its number's."""
        linked = {item.key: ident for item in items if (ident := linked_id(item)) is not None}
        held = await self.reader.accounts(sorted(set(linked.values())))
        targets = {
            key: (held[ident], OutcomeStatus.UPDATED) for key, ident in linked.items() if ident in held
        }
        unlinked = [item for item in items if item.key not in targets]  # a stale link is resolved again
        found = await self.reader.by_email([_customer(item).email for item in unlinked]) if unlinked else {}
        numbered = [_customer(i).number for i in unlinked if _email(i) not in found and _customer(i).number]
        numbers = await self.reader.by_number(numbered) if numbered else {}
        by_number = await self.reader.accounts(sorted(set(numbers.values()))) if numbers else {}
        for item in unlinked:
            account = found.get(_email(item)) or by_number.get(numbers.get(_customer(item).number, 0))
            if account is None:
                continue
            refusal = self._refusal(item, account)
            if refusal is not None:
                outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, None, refusal)
            else:
                targets[item.key] = (account, OutcomeStatus.MATCHED)
        taken: dict[int, str] = {}
        for item in items:
            if item.key in targets:
                ident = int(targets[item.key][0]["id"])
                if ident in taken:
                    why = f"shop customer {ident} is the account of customer {taken[ident]} of this batch too"
                    error = Permanent(why, record=f"customer {item.key}", field="email")
                    outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, {"id": ident}, error)
                    del targets[item.key]
                else:
                    taken[ident] = item.key
        return targets

    def _refusal(self, item: WriteItem, account: Json) -> Permanent | None:
        """Why an account found by e-mail or number must not be taken for the item's customer, if so."""
        role, ident = str(account.get("role") or ""), account.get("id")
        if role not in self.reader.roles:
            why = f"the e-mail belongs to shop user {ident} of role {role!r}, not of a customer role"
            return Permanent(why, record=f"customer {item.key}", field="email")
        number = str(_customer(item).number or "")
        key = self.reader.meta_keys["number"]
        held = next(
            (
                str(e.get("value") or "")
                for e in account.get("meta_data") or []
                if isinstance(e, dict) and e.get("key") == key
            ),
            "",
        )
        if number and held and held != number:
            why = f"the e-mail belongs to shop customer {ident}, who carries another customer number"
            return Permanent(why, record=f"customer {item.key}", field="number")
        return None

    async def _update(
        self, items: Sequence[WriteItem], targets: dict[str, Target], outcomes: dict[str, Outcome]
    ) -> None:
        """Send what differs; an item whose account already holds it is UNCHANGED (or MATCHED) unwritten."""
        sent: list[tuple[WriteItem, int, OutcomeStatus]] = []
        bodies: list[Json] = []
        for item in items:
            account, status = targets[item.key]
            ident = int(account["id"])
            if "meta_data" not in account:  # every write would look needed, and echo
                error = Permanent(HIDDEN_META, record=f"customer {item.key}", field="meta_data")
                outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, {"id": ident}, error)
                continue
            changes = difference(
                customer_body(_customer(item), update_fields(item), self.reader.meta_keys), account
            )
            if not changes:
                quiet = OutcomeStatus.UNCHANGED if status is OutcomeStatus.UPDATED else status
                outcomes[item.key] = Outcome(item.key, quiet, {"id": ident})
            else:
                sent.append((item, ident, status))
                bodies.append({"id": ident, **changes})
        if not bodies:
            return
        answer = await self.client.batch(ACCOUNTS, update=bodies)
        for (item, ident, status), result in zip(sent, answer.update, strict=True):
            outcomes[item.key] = _outcome(item, result, status, ident)

    async def _create(
        self, items: Sequence[WriteItem], targets: dict[str, Target], outcomes: dict[str, Outcome]
    ) -> None:
        """Create new accounts; one refused for its e-mail (registered in between) is matched instead."""
        if not items:
            return
        bodies = [create_body(item, _customer(item), self.reader.meta_keys) for item in items]
        answer = await self.client.batch(ACCOUNTS, create=bodies, find=self._find)
        made: set[int] = set()
        clashed: list[WriteItem] = []
        for item, result in zip(items, answer.create, strict=True):
            if result.error is not None and result.error.code == EMAIL_EXISTS:
                clashed.append(item)
                continue
            outcomes[item.key] = _outcome(item, result, OutcomeStatus.CREATED)
            if result.data:
                made.add(int(result.data["id"]))
        if not clashed:
            return
        found = await self.reader.by_email([_customer(item).email for item in clashed])
        matched: list[WriteItem] = []
        for item in clashed:
            account = found.get(_email(item))
            refusal = self._refusal(item, account) if account is not None else None
            if account is None:
                error: ConnectorError = Retryable(f"the account of customer {item.key} is not visible yet")
            elif int(account["id"]) in made:
                error = Permanent(
                    "another customer of this batch has the same e-mail",
                    record=f"customer {item.key}",
                    field="email",
                )
            elif refusal is not None:
                error = refusal
            else:
                targets[item.key] = (account, OutcomeStatus.MATCHED)
                matched.append(item)
                continue
            outcomes[item.key] = Outcome(item.key, OutcomeStatus.FAILED, None, error)
        await self._update(matched, targets, outcomes)

    async def _find(self, bodies: Sequence[Json]) -> dict[int, Json]:
        """The accounts a create batch whose answer was lost made: by e-mail."""
        found = await self.reader.by_email([str(body.get("email", "")) for body in bodies])
        return {
            at: found[email]
            for at, body in enumerate(bodies)
            if (email := str(body.get("email", "")).strip().lower()) in found
        }


def _outcome(
    item: WriteItem, result: BatchItemResult, status: OutcomeStatus, ident: int | None = None
) -> Outcome:
    """The outcome of one batch item."""
    if result.error is not None:
        ref = {"id": ident} if ident is not None else None
        return Outcome(item.key, OutcomeStatus.FAILED, ref, failure(result.error, item.key))
    made = int((result.data or {}).get("id") or ident or 0)
    return Outcome(item.key, status, {"id": made})


def _customer(item: WriteItem) -> Customer:
    """The customer an item writes (checked in `write`)."""
    assert isinstance(item.record, Customer)
    return item.record


def _email(item: WriteItem) -> str:
    return _customer(item).email.strip().lower()
