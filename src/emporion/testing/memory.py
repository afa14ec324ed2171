"""The memory connector: a connector that plays every role against an in-memory system, for tests.

Configured as `type: memory`; every connection naming the same `system` (by default its own name)
shares one `MemorySystem` in the process, so a test seeds records there and runs the engine from a
configuration. Each call counts as one request: it goes through the circuit breaker, the shared
rate budget and the request observers, and fails with `Retryable` while the system is down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Literal

import anyio
from pydantic import Field

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
)
from emporion.connectors.registry import ConnectorPlugin
from emporion.connectors.roles import (
    Connection,
    Delivery,
    RequestObserver,
    Role,
    SaleOptions,
    WebhookHint,
)
from emporion.connectors.settings import ConnectionSettings, Secret
from emporion.model import OrderStatus, Record
from emporion.testing import sales, webhooks, writes
from emporion.testing.feed import FeedCursor, poll, safe_position
from emporion.testing.records import NATURAL_KEYS, find
from emporion.testing.system import ENTITIES, MemorySystem, system

# order statuses the sliding window always covers
OPEN = frozenset({OrderStatus.PENDING, OrderStatus.ON_HOLD, OrderStatus.PROCESSING})


class MemoryConnection(ConnectionSettings):
    """A connection to an in-memory system (tests and examples); `system` names the shared store."""

    type: Literal["memory"]
    system: str | None = Field(None, description="the in-memory system to use; none = the connection name")
    page_size: int = Field(100, ge=1, le=1000, description="records per scan page and per feed batch")
    requests_per_second: float | None = Field(None, gt=0, description="request rate shared across processes")
    webhooks: bool = Field(False, description="take webhook deliveries for this connection")
    webhook_secret: Secret | None = Field(None, description="none: generated and kept beside the state")

    def takes_webhooks(self) -> bool:
        """Whether webhook deliveries are registered and taken."""
        return self.webhooks

    def configured_webhook_secret(self) -> str | None:
        """The configured webhook secret, or None when one is generated."""
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None


class MemoryConnector:
    """Every role over one `MemorySystem`: catalogue, orders, sales, webhooks and a request budget."""

    def __init__(self, name: str, settings: MemoryConnection | None = None) -> None:
        self.settings = settings or MemoryConnection(type="memory")
        self.name = name
        self.system: MemorySystem = system(self.settings.system or name)
        self.circuit = self.settings.circuit.breaker(name)
        self.page_size = self.settings.page_size
        self.closed = False
        self._shared: SharedRateBudget | None = None
        self._observers: list[RequestObserver] = []

    def capabilities(self) -> Capabilities:
        """Every entity both ways, polled, with the natural keys lookups and upserts match on."""
        return Capabilities(
            reads=frozenset(ENTITIES),
            writes=frozenset(ENTITIES),
            batch_size=self.page_size,
            feed=FeedKind.POLL,
            natural_keys=dict(NATURAL_KEYS),
        )

    # -- requests -----------------------------------------------------------------------------------

    @asynccontextmanager
    async def _request(self, method: str) -> AsyncIterator[None]:
        """One request: breaker, shared budget, observers, and the system's outage if it is down."""
        async with self.circuit.guard():
            await self._take_budget()
            headers: dict[str, str] = {}
            for observer in self._observers:
                await observer.before(headers)
            self.system.requests.append((method, headers))
            outage = self.system.outage
            for observer in self._observers:
                await observer.after(method, 503 if outage else 200)
            if outage is not None:
                raise outage
            yield

    async def _take_budget(self) -> None:
        while self._shared is not None:
            granted, wait = await self._shared.take(1)
            if granted:
                return
            await anyio.sleep(wait)

    def requests_per_second(self) -> float | None:
        """The configured request rate, shared with other processes (None: no fixed rate)."""
        return self.settings.requests_per_second

    def share_budget(self, shared: SharedRateBudget) -> None:
        """Take each request's start from a budget shared with other processes."""
        self._shared = shared

    def observe_requests(self, observer: RequestObserver) -> None:
        """Tell `observer` of each request from now on: before it is sent, and its status after."""
        self._observers.append(observer)

    # -- reads --------------------------------------------------------------------------------------

    async def check(self) -> list[CheckResult]:
        """Whether the system answers (it does unless a test took it down)."""
        try:
            async with self._request("GET"):
                count = sum(len(records) for records in self.system.records.values())
        except ConnectorError as error:
            return [CheckResult("reach", False, str(error))]
        return [CheckResult("reach", True, f"memory system {self.system.name!r} holds {count} records")]

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current records for `keys`; keys that do not exist are left out."""
        async with self._request("GET"):
            return writes.records_of(self.system, _entity(entity), keys)

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record of `entity` by id, `page_size` at a time (each page one request)."""
        keys = [record.key for record in self.system.all(_entity(entity))]
        for start in range(0, len(keys), self.page_size):
            page = await self.read(entity, keys[start : start + self.page_size])
            if page:
                yield page

    async def count(self, entity: str) -> int:
        """How many records of `entity` the system holds."""
        async with self._request("GET"):
            return len(self.system.records[_entity(entity)])

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Existing records by natural key: `{natural key: {"id": key}}`; only reads."""
        async with self._request("GET"):
            found = find(self.system, _entity(entity), natural_keys)
        return {name: {"id": record.key} for name, record in found.items()}

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys changed since `cursor` (None: from now on); see `testing/feed.py` for why none is lost."""
        entity = _entity(entity)
        async with self._request("GET"):
            system = self.system
            if cursor is None:  # from now on: what is committed now counts as reported
                at = safe_position(system.committed, system.in_flight)
                seen = {c.sequence for c in system.log if c.sequence > at}
                return ChangeBatch([], FeedCursor(at, seen).dumps())
            changes = [change for change in system.log if change.entity == entity]
            found = poll(
                changes,
                FeedCursor.loads(cursor),
                committed=system.committed,
                in_flight=system.in_flight,
                limit=self.page_size,
            )
        return ChangeBatch(found.keys, found.cursor.dumps(), found.more)

    async def window(self, days: int) -> list[str]:
        """Orders for the sliding reconcile: open ones and those changed in the last `days` days."""
        async with self._request("GET"):
            orders = sales.orders(self.system)
        since = sales.days_ago(days)
        return [o.key for o in orders if o.status in OPEN or (o.modified_at or o.created_at or since) > since]

    async def orders_by_email(self, email: str, limit: int = 20) -> list[str]:
        """Keys of the orders placed with `email` (any case), newest first."""
        wanted = email.strip().lower()
        async with self._request("GET"):
            orders = sales.orders(self.system)
        mine = [o for o in orders if wanted in {o.customer.email.lower(), o.billing.email.lower()}]
        mine.sort(key=lambda o: (len(o.key), o.key), reverse=True)
        return [order.key for order in mine[:limit]]

    async def availability(self, skus: Sequence[str], warehouses: Sequence[str] | None) -> dict[str, Decimal]:
        """Quantity per known SKU summed over `warehouses` (None: all); unknown SKUs are absent."""
        async with self._request("GET"):
            return sales.available(self.system, skus, warehouses)

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product key behind each SKU, simple or variant; unknown SKUs are absent."""
        async with self._request("GET"):
            return sales.product_keys(self.system, skus)

    # -- writes -------------------------------------------------------------------------------------

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Upsert and delete records; orders are updated (never made), returns made once per refund."""
        entity = _entity(entity)
        if entity == "order" and deletes:
            raise Permanent("orders are never deleted", field="entity")
        async with self._request("POST"):
            if entity == "order":
                return [sales.update_order(self.system, item) for item in upserts]
            if entity == "return":
                return [sales.write_return(self.system, item) for item in upserts]
            made = [writes.upsert(self.system, entity, item) for item in upserts]
            return made + [writes.delete(self.system, entity, item) for item in deletes]

    async def write_sales(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """Create, pay or cancel the sales of shop orders, each searched by its reference first."""
        async with self._request("POST"):
            return [sales.write_sale(self.system, item, options) for item in upserts]

    # -- webhooks -----------------------------------------------------------------------------------

    def webhook_topics(self, entities: Sequence[str]) -> list[str]:
        """`<entity>.created|updated|deleted` for each followed entity."""
        return webhooks.topics(entities)

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        """The topic a delivery's headers name ("" if none)."""
        return webhooks.header(headers, webhooks.TOPIC_HEADER) or ""

    def is_ping(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a delivery is the activation ping."""
        return webhooks.is_ping(headers)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Whether the delivery carries the HMAC-SHA256 of its raw body under `secret` (constant-time)."""
        return webhooks.verify(headers, body, secret)

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        """Id, topic and kept headers of a verified delivery."""
        return webhooks.delivery(headers, body)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookHint | None:
        """The entity and key a delivery names, or None for pings and unfollowed topics."""
        return webhooks.parse(headers, body)

    async def ensure_webhooks(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> list[str]:
        """An active webhook of `installation` per topic towards `delivery_url`; their ids."""
        async with self._request("POST"):
            return webhooks.ensure(self.system, delivery_url, secret, topics, installation)

    async def webhook_states(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> dict[str, str]:
        """Per topic, the webhook of `installation`: active, disabled, paused, missing or outdated."""
        async with self._request("GET"):
            return webhooks.states(self.system, delivery_url, secret, topics, installation)

    async def close(self) -> None:
        """Nothing to release; the system outlives its connectors."""
        self.closed = True


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        raise Permanent(f"the memory connector does not handle {entity!r}", field="entity")
    return entity


def build(name: str, settings: ConnectionSettings) -> Connection:
    """The memory connector of one configured connection."""
    assert isinstance(settings, MemoryConnection)
    return MemoryConnector(name, settings)


PLUGIN = ConnectorPlugin(
    type="memory",
    title="In-memory system (tests)",
    settings=MemoryConnection,
    factory=build,
    roles=frozenset(Role),
    docs="docs/connectors.md",
)
