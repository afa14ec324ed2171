"""What the engine knows of a flow, whatever it moves: catalogue records or orders.

A catalogue flow (`flow.FlowRunner`) and an order flow (`order_flow.OrderFlow`) both implement
`Flow`: the worker polls its feeds, works its queue through `sync_keys`, starts it once with `start`
and, after a source's webhooks were broken, lets it look again with `catch_up`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from emporion.config import FlowSettings
from emporion.connectors.roles import ChangeFeed, Connection, Role
from emporion.engine.outcomes import BatchResult
from emporion.state import StateStore


class Feed(NamedTuple):
    """One change feed a flow follows: its work-queue entity, the connection asked, and its entity there."""

    entity: str
    connector: ChangeFeed
    connector_entity: str


class MissingRole(TypeError):
    """A flow's connection does not play the role the flow needs of it."""

    def __init__(self, flow: str, connection: str, role: Role) -> None:
        super().__init__(f"flow {flow} needs connection {connection} to be a {role}, which it is not")
        self.flow = flow
        self.connection = connection
        self.role = role


class Flow(Protocol):
    """One configured flow at work: its feeds, its batches, its start and its catch-up."""

    flow: FlowSettings
    store: StateStore
    source: Connection
    target: Connection

    def feeds(self) -> list[Feed]:
        """The change feeds this flow follows, in the order their queues are worked."""
        ...

    async def sync_keys(self, entity: str, keys: Sequence[str], *, reason: str) -> BatchResult:
        """Bring the target in line with the source for `keys` of one queue entity."""
        ...

    async def start(self) -> None:
        """What a flow that has never run does first (a full sync, or feeds that start now)."""
        ...

    async def catch_up(self) -> int:
        """Queue what a feed may have missed beyond polling it (e.g. recent orders); how many were queued."""
        ...
