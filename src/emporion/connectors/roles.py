"""The roles a connector plays: one small runtime-checkable protocol per capability.

The engine, the server and the console call a connector only through these roles. A connector
declares the roles it plays in its plugin (`connectors/registry.py`); a flow names the roles it
needs (`FLOW_ROLES`), and configuration checking refuses a flow whose connection lacks one.
Everything a role names is a plain value from `connectors/base.py` or `emporion.model`: no
system's keys, prefixes or status names cross this boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from emporion.connectors.base import (
    Capabilities,
    ChangeBatch,
    CheckResult,
    CredentialExpiry,
    Outcome,
    SharedRateBudget,
    WriteItem,
)
from emporion.connectors.circuit import CircuitBreaker
from emporion.model import Record


class Role(StrEnum):
    """What a connector can be asked to do; a plugin lists the roles its connector plays."""

    CATALOGUE_SOURCE = "catalogue source"
    CATALOGUE_TARGET = "catalogue target"
    CUSTOMER_SOURCE = "customer source"
    CUSTOMER_TARGET = "customer target"
    ORDER_SOURCE = "order source"
    SALES_TARGET = "sales target"
    WEBHOOK_SOURCE = "webhook source"
    BUDGETED = "budgeted connection"


@runtime_checkable
class Connection(Protocol):
    """What every connector is: a named connection that can check itself and be closed."""

    name: str

    def capabilities(self) -> Capabilities: ...

    async def check(self) -> list[CheckResult]:
        """Connect, authenticate and check permissions; never raises for a failed check."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class ExpiringCredentials(Connection, Protocol):
    """A connection whose credentials expire (an API key with a lifetime): the engine warns in time.

    Not a role a flow needs: any connector may offer it, and the engine asks every one that does.
    """

    async def credential_expiry(self) -> CredentialExpiry | None:
        """When the credentials in use expire (None: never), and how long before to warn."""
        ...


@runtime_checkable
class RecordReader(Connection, Protocol):
    """Reads canonical records by key and page by page (both sides of a comparison need it)."""

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """Current canonical records for `keys`; a key that no longer exists is left out."""
        ...

    def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record of `entity`, page by page, in flat memory."""
        ...


@runtime_checkable
class ChangeFeed(Protocol):
    """Keys that changed since a cursor; never passes a change that is still in flight."""

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys of `entity` changed since `cursor` (None: from now on), with an overlap window."""
        ...


@runtime_checkable
class CatalogueSource(RecordReader, ChangeFeed, Protocol):
    """Where categories and products come from: reads, a full scan and a change feed."""


@runtime_checkable
class CatalogueTarget(RecordReader, Protocol):
    """Where categories and products go: lookup by natural key, idempotent upsert, count."""

    async def lookup(self, entity: str, natural_keys: Sequence[str]) -> dict[str, dict[str, object]]:
        """Existing records by natural key (SKU, slug): `{natural key: target_ref}`; only reads."""
        ...

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """Create or update `upserts` and remove `deletes`; one outcome per item, in any order."""
        ...

    async def count(self, entity: str) -> int:
        """How many records of `entity` the system holds (one cheap request)."""
        ...


@runtime_checkable
class CustomerSource(CatalogueSource, Protocol):
    """Where customer accounts come from: `read`/`scan`/`changes` of "customer" give Customers.

    The same promises as a catalogue source, for the entity "customer" (registrations and address
    changes come through the change feed, not only with an order).
    """


@runtime_checkable
class CustomerTarget(CatalogueTarget, Protocol):
    """Where customer accounts go: `lookup("customer", emails)` finds them by e-mail (lower-cased),
    `write("customer", …)` creates or updates them, matched by customer number where the record
    carries one and the system keeps numbers, else by e-mail, so one customer is never two."""


@runtime_checkable
class OrderSource(RecordReader, ChangeFeed, Protocol):
    """A shop's orders: read, fed by changes, re-checked in a sliding window, updated with progress.

    `write("order", …)` takes canonical Orders built from the ERP's progress (status, notes,
    fulfilments, refunds) and writes what differs.
    """

    async def window(self, days: int) -> list[str]:
        """Order keys for the sliding reconcile: open orders and those modified in the last `days`."""
        ...

    async def orders_by_email(self, email: str, limit: int = 20) -> list[str]:
        """Keys of the orders placed with `email` (exact, case-insensitive match), newest first."""
        ...

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]: ...


@dataclass
class SaleOptions:
    """How an order flow wants its sales made: the flow's maps from shop names to ERP names."""

    warehouse: str | None = None
    carriers: dict[str, str] = field(default_factory=dict)  # shop shipping method ("*" default) -> carrier
    taxes: dict[str, str] = field(default_factory=dict)  # shop tax class ("" standard) -> ERP tax
    payment_methods: dict[str, str] = field(default_factory=dict)  # shop method ("*") -> ERP method
    confirm: bool = True


@runtime_checkable
class SalesTarget(RecordReader, ChangeFeed, Protocol):
    """An ERP taking shop orders as sales, customers as parties and refunds as returns.

    `read("order", …)`, `scan("order")` and `changes("order", …)` give its sales as canonical
    Orders (with `reference` naming the shop order); `write("customer" | "return", …)` makes
    parties and returns.
    """

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]: ...

    async def write_sales(self, upserts: Sequence[WriteItem], options: SaleOptions) -> list[Outcome]:
        """Create, pay or cancel the sales of shop orders (searched by reference before creating)."""
        ...

    async def availability(self, skus: Sequence[str], warehouses: Sequence[str] | None) -> dict[str, Decimal]:
        """Quantity available to promise per known SKU, summed over `warehouses` (None: all)."""
        ...

    async def product_keys(self, skus: Sequence[str]) -> dict[str, str]:
        """The product key behind each SKU, simple or variant; unknown SKUs are absent."""
        ...


@dataclass(frozen=True)
class WebhookHint:
    """What one delivery says changed: the entity and the keys to re-read."""

    entity: str
    keys: list[str]
    topic: str
    delivery_id: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What the ingress keeps of a signed delivery: its id, topic and the headers worth keeping.

    `delivery_id` is what the inbox de-duplicates by: it must differ for deliveries about different
    records or changes even when the system gives them one id of its own (add resource, stamp or a
    body hash), and stay equal when the same delivery is sent again.
    """

    delivery_id: str
    topic: str
    headers: dict[str, str]


@runtime_checkable
class WebhookSource(Connection, Protocol):
    """A system that pushes change notices: signature check, parsing, registration and health."""

    def webhook_topics(self, entities: Sequence[str]) -> list[str]:
        """The topics to register for flows reading `entities` from this connection."""
        ...

    def webhook_topic(self, headers: Mapping[str, str]) -> str:
        """The topic a request's headers name ("" if none), known before its body is read (for logs)."""
        ...

    def is_ping(self, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a request is the system's activation ping (answered 200, nothing kept)."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Whether the delivery carries the system's signature of its raw body (constant-time)."""
        ...

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        """The de-duplication id (see `Delivery`), topic and kept headers of a delivery."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookHint | None:
        """The entity and keys a delivery names (to re-read), or None for what nobody follows."""
        ...

    async def ensure_webhooks(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> list[str]:
        """Make sure an active webhook of this installation exists for each topic; their ids.

        `installation` is this installation's id: its webhooks carry it (in their name, say), and a
        webhook carrying another installation's id is never taken, moved or changed.
        """
        ...

    async def webhook_states(
        self, delivery_url: str, secret: str, topics: Sequence[str], *, installation: str
    ) -> dict[str, str]:
        """Per topic, this installation's webhook: active, disabled, paused, missing or outdated."""
        ...


class RequestObserver(Protocol):
    """Told of every request a connection sends: may add headers before, counts answers after."""

    async def before(self, headers: MutableMapping[str, str]) -> None: ...

    async def after(self, method: str, status: int) -> None: ...


@runtime_checkable
class BudgetedConnection(Connection, Protocol):
    """A connection whose requests pass a circuit breaker and can be observed (metrics, correlation)."""

    circuit: CircuitBreaker

    def observe_requests(self, observer: RequestObserver) -> None:
        """Tell `observer` of each request this connection sends from now on."""
        ...


@runtime_checkable
class RateLimitedConnection(BudgetedConnection, Protocol):
    """A budgeted connection with a request rate that several processes can share (on PostgreSQL)."""

    def requests_per_second(self) -> float | None:
        """The configured request rate (None: none fixed; 429 answers still pause every process)."""
        ...

    def share_budget(self, shared: SharedRateBudget) -> None:
        """Take request starts from a budget shared with other processes."""
        ...


ROLE_PROTOCOLS: dict[Role, type] = {
    Role.CATALOGUE_SOURCE: CatalogueSource,
    Role.CATALOGUE_TARGET: CatalogueTarget,
    Role.CUSTOMER_SOURCE: CustomerSource,
    Role.CUSTOMER_TARGET: CustomerTarget,
    Role.ORDER_SOURCE: OrderSource,
    Role.SALES_TARGET: SalesTarget,
    Role.WEBHOOK_SOURCE: WebhookSource,
    Role.BUDGETED: BudgetedConnection,
}


def flow_roles(entities: Sequence[str]) -> tuple[Role, Role]:
    """The roles a flow over `entities` needs of its source and of its target."""
    if "order" in entities:
        return Role.ORDER_SOURCE, Role.SALES_TARGET
    if "customer" in entities:
        return Role.CUSTOMER_SOURCE, Role.CUSTOMER_TARGET
    return Role.CATALOGUE_SOURCE, Role.CATALOGUE_TARGET


def missing_roles(connector: object, roles: frozenset[Role]) -> list[Role]:
    """The declared roles whose protocol `connector` does not satisfy (a plugin's promise broken)."""
    return [role for role in sorted(roles) if not isinstance(connector, ROLE_PROTOCOLS[role])]
