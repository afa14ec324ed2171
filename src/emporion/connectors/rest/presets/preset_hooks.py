"""What the presets' hooks share: products written by the preset's writer, order progress by its module."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from emporion.connectors.base import Outcome, Permanent, WriteItem
from emporion.connectors.rest.hooks import Hooks
from emporion.model import Order, Product

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector
    from emporion.connectors.rest.settings import Call

Json = Any


class ProductWriter(Protocol):
    """A preset's writer of one product: create, or update what differs."""

    async def write(self, ref: dict[str, object] | None) -> Outcome:
        """The product written; its outcome."""
        ...


class OrderProgress(Protocol):
    """A preset's order progress (a module): values every progress call may name, calls of its own."""

    def progress_values(self, current: Json) -> dict[str, Any]:
        """Values computed from the shop's order as read."""
        ...

    async def send_progress(
        self,
        connector: DeclarativeConnector,
        part: str,
        call: Call | None,
        values: dict[str, Any],
        record: str,
    ) -> bool:
        """One progress call made the preset's way; False: as described."""
        ...


class PresetHooks(Hooks):
    """Hooks whose products go through `product_writer` and whose order progress is `progress`'s."""

    progress: OrderProgress

    def product_writer(self, connector: DeclarativeConnector, item: WriteItem) -> ProductWriter:
        """The preset's writer of this item's product."""
        raise NotImplementedError

    async def write(
        self, connector: DeclarativeConnector, entity: str, item: WriteItem, ref: dict[str, object] | None
    ) -> Outcome | None:
        """A product written by the preset's writer; None for other entities (as described)."""
        if entity != "product" or not isinstance(item.record, Product):
            return None
        return await self.product_writer(connector, item).write(ref)

    async def progress_values(
        self, connector: DeclarativeConnector, order: Order, current: Json
    ) -> dict[str, Any]:
        """What `progress` computes from the shop's order."""
        return self.progress.progress_values(current)

    async def send_progress(
        self,
        connector: DeclarativeConnector,
        part: str,
        call: Call | None,
        values: dict[str, Any],
        record: str,
    ) -> bool:
        """The progress calls `progress` makes its own way."""
        return await self.progress.send_progress(connector, part, call, values, record)


async def current_order(connector: DeclarativeConnector, values: dict[str, Any], record: str) -> Json:
    """The order a progress call is about (`values["id"]`), as the shop holds it now."""
    found = await connector.raw("order", str(values["id"]))
    if found is None:
        raise Permanent("the shop has no such order", record=record, field="id")
    return found
