"""The HTTP side of a declarative connection: authentication, calls, errors, paging and rate budget.

One `RestClient` per connection. `call` sends one described `Call` (REST, or a GraphQL document when
the connection is `type: graphql`) with its placeholders filled and turns the answer into JSON or a
typed error (`connectors/base.py`) naming the record; `pages` follows a list call's paging.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.rest.settings import Call, RestConnection

Json = Any


class Missing(Permanent):
    """The shop answered 404 (or a GraphQL null) for a record: it does not exist (any more)."""


@dataclass(frozen=True)
class Answer:
    """A decoded answer: its JSON body and its headers (lower-case names)."""

    body: Json
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Page:
    """One page of a list call: the records (JSON), the whole answer, and the total if the shop says."""

    items: list[Json]
    answer: Answer
    total: int | None = None


class RestClient:
    """Sends a connection's described calls; owns its httpx client, authentication and rate budget."""

    def __init__(self, name: str, settings: RestConnection, circuit: CircuitBreaker) -> None:
        self.name = name
        self.settings = settings
        self.circuit = circuit
        raise NotImplementedError

    async def call(
        self,
        call: Call,
        values: Mapping[str, Any] | None = None,
        *,
        record: str | None = None,
        idempotency_key: str | None = None,
        read: bool = False,
    ) -> Answer:
        """Send `call` with `values` filled in; `read` calls are retried on transient failures.

        Errors: 401/403 AuthError, 404 Missing, 429 RateLimited (Retry-After), 5xx and timeouts
        Retryable, other 4xx (and GraphQL `errors`, or the call's `error` path matching) Permanent
        naming `record` and the shop's message.
        """
        raise NotImplementedError

    def pages(
        self, call: Call, paging: Any | None, values: Mapping[str, Any] | None = None
    ) -> AsyncIterator[Page]:
        """Every page of a list call, following `paging` (page, offset, cursor, next link; None: one)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        raise NotImplementedError
