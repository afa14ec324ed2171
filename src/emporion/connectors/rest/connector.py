"""The declarative shop connector: the roles of a shop (catalogue target and source, customers,
orders, webhooks, a rate budget) played by following the connection's description.

Reads are here; the change feed is in `feed.py`, writes in `writes.py` (orders in `progress.py`),
webhooks in `webhooks.py`. Every page of shop records read passes the preset's `enrich` hook, each
record its `shape_read` hook, then the field mapping; a record the mapping cannot read becomes an
`Unmappable` stand-in, never a failed page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from emporion.connectors.base import (
    Capabilities,
    ChangeBatch,
    CheckResult,
    ConnectorError,
    FeedKind,
    Outcome,
    Permanent,
    SharedRateBudget,
    WriteItem,
    map_or_unmappable,
)
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.rest import feed, mapping, progress, writes
from emporion.connectors.rest.client import Missing, RestClient
from emporion.connectors.rest.fields import unkept
from emporion.connectors.rest.hooks import Hooks, hooks_of
from emporion.connectors.rest.items import plural
from emporion.connectors.rest.settings import Call, EntitySettings, OrderEntity, RestConnection
from emporion.connectors.rest.webhooks import WebhookMixin
from emporion.connectors.roles import RequestObserver
from emporion.model import Order, Record

Json = Any


class DeclarativeConnector(WebhookMixin):
    """One described shop connection."""

    def __init__(self, name: str, settings: RestConnection, circuit: CircuitBreaker) -> None:
        self.name = name
        self.settings = settings
        self.circuit = circuit
        self.client = RestClient(name, settings, circuit)
        self.hooks: Hooks = hooks_of(settings.preset)
        self._started = False

    # -- what it is -----------------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """The configured entities, read and written; polled, or pushed when webhooks are taken."""
        entities = self.settings.entities.configured()
        writable = {
            name
            for name, entity in entities.items()
            if entity.create or entity.update or entity.upsert or entity.batch or name == "order"
        }
        return Capabilities(
            reads=frozenset(name for name, entity in entities.items() if entity.list or entity.get),
            writes=frozenset(writable),
            batch_size=min((entity.batch_size for entity in entities.values()), default=50),
            feed=FeedKind.WEBHOOK if self.settings.takes_webhooks() else FeedKind.POLL,
            natural_keys={name: entity.lookup.field for name, entity in entities.items() if entity.lookup},
            unkept={name: unkept(entity) for name, entity in entities.items()},
        )

    def entity(self, name: str) -> EntitySettings:
        """The settings of entity `name`; Permanent when the description leaves it out."""
        found = self.settings.entities.configured().get(name)
        if found is None:
            raise Permanent(f"the connection {self.name} does not describe {plural(name)}", field="entity")
        return found

    async def ready(self) -> None:
        """Run the preset's start hook once, before the first call."""
        if not self._started:
            self._started = True
            await self.hooks.start(self)

    # -- the budget (RateLimitedConnection) ---------------------------------------------------------

    def observe_requests(self, observer: RequestObserver) -> None:
        """Tell `observer` of each request this connection sends."""
        self.client.observe_requests(observer)

    def requests_per_second(self) -> float | None:
        """The configured request rate (None: none fixed)."""
        return self.client.requests_per_second()

    def share_budget(self, shared: SharedRateBudget) -> None:
        """Take request starts from a budget shared with other processes."""
        self.client.share_budget(shared)

    async def check(self) -> list[CheckResult]:
        """Reach and authenticate: one listed record per configured entity; never raises."""
        results: list[CheckResult] = []
        for name, entity in self.settings.entities.configured().items():
            title = f"read {plural(name)}"
            if entity.list is None:
                results.append(CheckResult(title, True, "no list call described"))
                continue
            try:
                await self.ready()
                paging = entity.paging.model_copy(update={"size": 1}) if entity.paging else None
                async for page in self.client.pages(entity.list, paging, self.values()):
                    shown = f"{page.total} in all" if page.total is not None else "answered"
                    results.append(CheckResult(title, True, shown))
                    break
                else:
                    results.append(CheckResult(title, True, "answered"))
            except ConnectorError as error:
                results.append(CheckResult(title, False, str(error)))
            except Exception as error:  # a check reports, never raises
                results.append(CheckResult(title, False, f"{type(error).__name__}: {error}"))
        return results

    # -- reads --------------------------------------------------------------------------------------

    def values(self, **more: Any) -> dict[str, Any]:
        """Placeholder values every call may name (`{option.<name>}`) plus `more`."""
        return {"option": dict(self.settings.options), **more}

    def key_of(self, entity: EntitySettings, data: Json) -> str:
        """The shop's id of a record, as text."""
        value = mapping.value_at(data, entity.id)
        return "" if value is None else str(value)

    def record(self, name: str, data: Json) -> Record:
        """One shop record as a canonical record, or its Unmappable stand-in."""
        entity = self.entity(name)
        key = self.key_of(entity, data)
        shaped = self.hooks.shape_read(name, data)
        return map_or_unmappable(key, lambda: mapping.record_from(name, shaped, entity, key=key))

    async def listing(
        self, name: str, call: Call | None = None, values: Mapping[str, Any] | None = None
    ) -> AsyncIterator[list[Json]]:
        """The shop records of a list call (the entity's own by default), a page at a time."""
        entity = self.entity(name)
        call = call or entity.list
        if call is None:
            raise Permanent(f"{plural(name)} have no list call in the connection {self.name}", field="list")
        await self.ready()
        async for page in self.client.pages(call, entity.paging, self.values(**(values or {}))):
            yield await self.hooks.enrich(self, name, page.items)

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current records for `keys` (by `get`, else the list filtered by `ids_param`); missing left out."""
        settings = self.entity(entity)
        wanted = [str(key) for key in dict.fromkeys(keys) if str(key)]
        if settings.get is not None:
            found: list[Record] = []
            for key in wanted:
                data = await self.raw(entity, key)
                if data is not None:
                    found.append(self.record(entity, data))
            return found
        return [record for record in await self._listed(entity, settings, wanted) if record.key in wanted]

    async def raw(self, entity: str, key: str) -> Json | None:
        """The shop's own record `key` (as the API gives it), or None when there is none."""
        settings = self.entity(entity)
        await self.ready()
        if settings.get is not None:
            try:
                answer = await self.client.call(
                    settings.get, self.values(id=key, key=key), record=f"{entity} {key}", read=True
                )
            except Missing:
                return None
            data = mapping.value_at(answer.body, settings.get.result) if settings.get.result else answer.body
            enriched = await self.hooks.enrich(self, entity, [data]) if data is not None else []
            return enriched[0] if enriched else None
        call = with_filter(settings.list, settings.ids_param, "ids") if settings.ids_param else None
        async for items in self.listing(entity, call, {"ids": key, "id_list": [key]}):
            for data in items:
                if self.key_of(settings, data) == key:
                    return data
        return None

    async def _listed(self, entity: str, settings: EntitySettings, keys: list[str]) -> list[Record]:
        """Records by key through the list call filtered by `ids_param` (else the whole listing)."""
        if settings.list is None:
            raise Permanent(
                f"{plural(entity)} have no list or get call in the connection {self.name}", field="list"
            )
        found: list[Record] = []
        if settings.ids_param is None:
            async for page in self.scan(entity):
                found += page
            return found
        size = settings.paging.size if settings.paging else 100
        for start in range(0, len(keys), size):
            chunk = keys[start : start + size]
            call = with_filter(settings.list, settings.ids_param, "ids")
            async for items in self.listing(entity, call, {"ids": ",".join(chunk), "id_list": chunk}):
                found += [self.record(entity, data) for data in items]
        return found

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record of `entity`, a page at a time."""
        async for items in self.listing(entity):
            yield [self.record(entity, data) for data in items]

    async def count(self, entity: str) -> int:
        """How many records the shop holds: the paging's total, else counted page by page."""
        settings = self.entity(entity)
        counted = 0
        async for page in self._pages(entity, settings):
            if page.total is not None:
                return page.total
            counted += len(page.items)
        return counted

    async def _pages(self, entity: str, settings: EntitySettings) -> AsyncIterator[Any]:
        if settings.list is None:
            raise Permanent(f"{plural(entity)} have no list call in the connection {self.name}", field="list")
        await self.ready()
        async for page in self.client.pages(settings.list, settings.paging, self.values()):
            yield page

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Existing records by natural key: `{natural key: {"id": id}}` (e-mails lower-cased); only reads."""
        settings = self.entity(entity)
        if settings.lookup is None or not natural_keys:
            return {}
        lookup = settings.lookup
        fold = fold_for(lookup.field)
        wanted = {fold(str(key)): str(key) for key in natural_keys}
        keys = list(wanted.values())
        found: dict[str, dict[str, object]] = {}
        for start in range(0, len(keys), lookup.batch):
            chunk = keys[start : start + lookup.batch]
            values = {"natural_key": chunk[0], "natural_keys": ",".join(chunk), "natural_key_list": chunk}
            async for items in self.listing(entity, lookup.call, values):
                for data in items:
                    value = mapping.value_at(data, lookup.path)
                    asked = wanted.get(fold(str(value))) if value is not None else None
                    if asked is not None and fold(asked) not in found:
                        found[fold(asked)] = {"id": self.key_of(settings, data)}
        return found

    # -- the change feed and the orders' windows ----------------------------------------------------

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys of `entity` changed since `cursor` (None: from now on); see `feed.py`."""
        return await feed.changes(self, entity, cursor)

    async def window(self, days: int) -> list[str]:
        """Orders for the sliding reconcile: open ones and those changed in the last `days` days."""
        return await progress.window(self, days)

    async def orders_by_email(self, email: str, limit: int = 20) -> list[str]:
        """Keys of the orders placed with `email` (any case), newest first."""
        settings = self.entity("order")
        assert isinstance(settings, OrderEntity)
        wanted = email.strip().lower()
        found: list[Order] = []
        call = with_filter(settings.list, settings.email_param, "email") if settings.email_param else None
        async for items in self.listing("order", call, {"email": email.strip()}):
            for data in items:
                order = self.record("order", data)
                if isinstance(order, Order) and wanted in {
                    order.customer.email.lower(),
                    order.billing.email.lower() if order.billing else "",
                }:
                    found.append(order)
        found.sort(key=lambda order: (order.created_at.timestamp() if order.created_at else 0, order.key))
        return [order.key for order in reversed(found)][:limit]

    # -- writes -------------------------------------------------------------------------------------

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Create, update or delete records; orders take the ERP's progress. One outcome per item."""
        await self.ready()
        if entity == "order":
            if deletes:
                raise Permanent("shop orders are never deleted", field="entity")
            return await progress.write_orders(self, upserts)
        return await writes.write(self, entity, upserts, deletes)

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self.client.close()


def with_filter(call: Call | None, param: str | None, value: str) -> Call | None:
    """`call` with one more filter: a query parameter (REST) or a variable (GraphQL) set to `{value}`."""
    if call is None or param is None:
        return call
    if call.query is not None:
        whole = "{id_list}" if value == "ids" else f"{{{value}}}"  # GraphQL takes the ids as a list
        return call.model_copy(update={"variables": {**call.variables, param: whole}})
    return call.model_copy(update={"params": {**call.params, param: f"{{{value}}}"}})


def fold_for(field: str) -> Any:
    """How natural keys compare: e-mails in any case, other keys exactly."""
    return str.lower if field.split(".")[-1] == "email" else str
