"""The minishop connector: a catalogue target and an order source over minishop's REST API.

It plays `CatalogueTarget`, `OrderSource` and `BudgetedConnection` (connectors/roles.py). Writes
search by natural key before they create, answer one outcome per item, and say with a typed error
why an item failed; the change feed re-reads an overlap window and never reports a change twice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from emporion.connectors.base import (
    AuthError,
    Capabilities,
    ChangeBatch,
    CheckResult,
    ConnectorError,
    FeedKind,
    Outcome,
    OutcomeStatus,
    Permanent,
    WriteItem,
    map_or_unmappable,
)
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.http import observe_httpx
from emporion.connectors.roles import RequestObserver
from emporion.model import Category, Order, Product, Record

from . import mapping
from .client import Json, MinishopClient, Missing

KINDS = {"category": "categories", "product": "products", "order": "orders"}
NATURAL_KEYS = {"product": "sku", "category": "slug", "order": "number"}
FROM_WIRE = {
    "category": mapping.category_from_wire,
    "product": mapping.product_from_wire,
    "order": mapping.order_from_wire,
}
OPEN = "new,held,paid"  # order statuses the sliding window always covers


def stamp(moment: datetime) -> str:
    """A moment as minishop writes its `modified` stamps (they compare as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def natural_key(record: Record) -> str:
    """What minishop knows a record by: SKU, slug (else name) or order number."""
    if isinstance(record, Product):
        return record.sku
    if isinstance(record, Category):
        return record.slug or record.name
    return record.number if isinstance(record, Order) else record.key


def written_fields(item: WriteItem, creating: bool) -> frozenset[str] | None:
    """The canonical fields a write sends: `only`, else all but what the shop owns once it exists."""
    if item.only is not None:
        return item.only
    if creating or not item.keep_on_update:
        return None
    return frozenset(type(item.record).model_fields) - item.keep_on_update


def to_wire(item: WriteItem, creating: bool) -> Json:
    """The minishop body of a category or product write."""
    record, fields = item.record, written_fields(item, creating)
    if isinstance(record, Product):
        return mapping.product_to_wire(record, fields)
    if isinstance(record, Category):
        return mapping.category_to_wire(record, fields)
    raise Permanent(f"minishop cannot write a {type(record).__name__}", record=item.key, field="entity")


class MinishopConnector:
    """One minishop connection."""

    def __init__(self, name: str, client: MinishopClient, overlap: timedelta) -> None:
        self.name = name
        self.client = client
        self.circuit: CircuitBreaker = client.circuit
        self.overlap = overlap

    def capabilities(self) -> Capabilities:
        """Categories, products and orders, read and written in pages, fed by polling."""
        return Capabilities(
            reads=frozenset(KINDS), writes=frozenset(KINDS), batch_size=self.client.page_size,
            feed=FeedKind.POLL, natural_keys=dict(NATURAL_KEYS),
        )  # fmt: skip

    def observe_requests(self, observer: RequestObserver) -> None:
        """Tell `observer` of each request this connection sends."""
        observe_httpx(self.client.http, observer)

    async def check(self) -> list[CheckResult]:
        """Whether the shop answers and takes the API key."""
        try:
            status = await self.client.request("GET", "/status")
        except ConnectorError as error:
            return [CheckResult("reach and authenticate", False, str(error))]
        return [CheckResult("reach and authenticate", True, f"{status['products']} products")]

    # -- reads --------------------------------------------------------------------------------------

    def _records(self, entity: str, items: list[Json]) -> list[Record]:
        convert = FROM_WIRE[entity]
        return [map_or_unmappable(str(data["id"]), lambda data=data: convert(data)) for data in items]

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current records for `keys`; keys the shop does not know are left out."""
        found: list[Record] = []
        for start in range(0, len(keys), self.client.page_size):
            ids = ",".join(keys[start : start + self.client.page_size])
            async for page in self.client.pages(f"/{KINDS[entity]}", {"ids": ids}):
                found += self._records(entity, page["items"])
        return found

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record of `entity`, a page at a time."""
        async for page in self.client.pages(f"/{KINDS[entity]}"):
            yield self._records(entity, page["items"])

    async def count(self, entity: str) -> int:
        """How many records of `entity` the shop holds."""
        page = await self.client.request("GET", f"/{KINDS[entity]}", params={"per_page": 1})
        return int(page["total"])

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Existing records by SKU, slug or order number: `{natural key: {"id": id}}`; only reads."""
        field = NATURAL_KEYS[entity]
        found: dict[str, dict[str, object]] = {}
        for start in range(0, len(natural_keys), self.client.page_size):
            wanted = ",".join(natural_keys[start : start + self.client.page_size])
            async for page in self.client.pages(f"/{KINDS[entity]}", {field: wanted}):
                found |= {str(data[field]): {"id": data["id"]} for data in page["items"]}
        return found

    # -- the change feed ----------------------------------------------------------------------------

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys changed since `cursor`, re-reading `overlap` before it; each change reported once.

        The cursor is the shop's clock at the first page (everything stamped before it is in the
        answer) and the stamps already reported inside the overlap window. Pages follow the
        `modified` stamps (keyset), so a record changed while paging moves on and is not skipped.
        """
        path = f"/{KINDS[entity]}"
        if cursor is None:  # from now on
            page = await self.client.request("GET", path, params={"per_page": 1})
            return ChangeBatch([], json.dumps({"at": page["server_time"], "seen": {}}))
        state = json.loads(cursor)
        since = stamp(datetime.fromisoformat(state["at"]) - self.overlap)
        seen: dict[str, str] = state["seen"]
        stamps: dict[str, str] = {}
        at = None
        while True:
            params = {"modified_since": since, "per_page": str(self.client.page_size)}
            page = await self.client.request("GET", path, params=params)
            at = at or page["server_time"]
            fresh = {
                str(r["id"]): r["modified"]
                for r in page["items"]
                if stamps.get(str(r["id"])) != r["modified"]
            }
            stamps |= fresh
            if page["pages"] <= 1 or not fresh:
                break
            since = page["items"][-1]["modified"]
        keys = [key for key, stamp in stamps.items() if seen.get(key) != stamp]
        window = stamp(datetime.fromisoformat(at) - self.overlap)
        kept = {key: stamp for key, stamp in {**seen, **stamps}.items() if stamp >= window}
        return ChangeBatch(keys, json.dumps({"at": at, "seen": kept}))

    async def window(self, days: int) -> list[str]:
        """Orders for the sliding reconcile: open ones and those changed in the last `days` days."""
        since = stamp(datetime.now(UTC) - timedelta(days=days))
        keys: list[str] = []
        for params in ({"status": OPEN}, {"modified_since": since}):
            async for page in self.client.pages("/orders", params):
                keys += [str(data["id"]) for data in page["items"]]
        return list(dict.fromkeys(keys))

    async def orders_by_email(self, email: str, limit: int = 20) -> list[str]:
        """Keys of the orders placed with `email` (any case), newest first."""
        keys: list[str] = []
        async for page in self.client.pages("/orders", {"email": email.strip()}):
            keys += [str(data["id"]) for data in page["items"]]
        return sorted(keys, key=int, reverse=True)[:limit]

    # -- writes -------------------------------------------------------------------------------------

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Upsert and delete categories and products, or bring orders up to date; one outcome per item."""
        if entity == "order":
            if deletes:
                raise Permanent("minishop orders are never deleted", field="entity")
            return [await self._guarded(item, self._update_order(item)) for item in upserts]
        unlinked = [natural_key(item.record) for item in upserts if not item.target_ref]
        found = await self.lookup(entity, unlinked) if unlinked else {}  # search before create
        outcomes = [await self._guarded(item, self._upsert(entity, item, found)) for item in upserts]
        return outcomes + [await self._guarded(item, self._delete(entity, item)) for item in deletes]

    async def _guarded(self, item: WriteItem, write: Awaitable[Outcome]) -> Outcome:
        """The outcome of one item's write: a failure is that item's, unless the API key was refused."""
        try:
            return await write
        except AuthError:
            raise
        except ConnectorError as error:
            return Outcome(item.key, OutcomeStatus.FAILED, item.target_ref, error)

    async def _upsert(self, entity: str, item: WriteItem, found: dict[str, dict[str, object]]) -> Outcome:
        path, label = f"/{KINDS[entity]}", natural_key(item.record)
        ref = item.target_ref or found.get(label)
        if ref is not None:
            status = OutcomeStatus.UPDATED if item.target_ref else OutcomeStatus.MATCHED
            try:
                body = to_wire(item, creating=False)
                data = await self.client.request("PUT", f"{path}/{ref['id']}", json=body, record=label)
                return Outcome(item.key, status, {"id": data["id"]})
            except Missing:  # deleted in the shop since it was linked: search again, then make it
                again = await self.lookup(entity, [label])
                if again:
                    return await self._upsert(entity, replace(item, target_ref=again[label]), {})
        data = await self.client.request("POST", path, json=to_wire(item, creating=True), record=label)
        return Outcome(item.key, OutcomeStatus.CREATED, {"id": data["id"]})

    async def _delete(self, entity: str, item: WriteItem) -> Outcome:
        if item.target_ref:
            try:
                await self.client.request("DELETE", f"/{KINDS[entity]}/{item.target_ref['id']}")
            except Missing:
                pass  # already gone: deleting is idempotent
        return Outcome(item.key, OutcomeStatus.DELETED)

    async def _update_order(self, item: WriteItem) -> Outcome:
        """Add the notes the order lacks, then move its status if it differs; never creates an order."""
        order = item.record
        assert isinstance(order, Order)
        ident = item.target_ref["id"] if item.target_ref else item.key
        label = f"order {order.number}"
        current = await self.client.request("GET", f"/orders/{ident}", record=label)
        changed = False
        if item.only is None or "notes" in item.only:
            for note in mapping.notes_to_add(order, current):
                await self.client.request("POST", f"/orders/{ident}/notes", json=note, record=label)
                changed = True
        wanted = mapping.status_to_wire(order)
        if (item.only is None or "status" in item.only) and wanted != current["status"]:
            await self.client.request("PUT", f"/orders/{ident}/status", json={"status": wanted}, record=label)
            changed = True
        return Outcome(item.key, OutcomeStatus.UPDATED if changed else OutcomeStatus.UNCHANGED, {"id": ident})

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self.client.close()
