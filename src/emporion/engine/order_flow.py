"""An order flow: intake (shop -> ERP) and feedback (ERP -> shop) behind the engine's flow interface."""

from __future__ import annotations

from collections.abc import Sequence

from emporion.config import FlowSettings
from emporion.connectors.base import Connector
from emporion.engine.feedback import SALE, OrderFeedback
from emporion.engine.flow import BatchResult
from emporion.engine.orders import OrderIntake
from emporion.state import StateStore


class OrderFlow:
    """Both directions of one shop's orders; the engine polls its feeds and works its queue."""

    def __init__(
        self, flow: FlowSettings, shop: Connector, erp: Connector, store: StateStore, worker: str
    ) -> None:
        self.flow = flow
        self.source = shop
        self.target = erp
        self.store = store
        self.intake = OrderIntake(flow, shop, erp, store, worker)
        self.feedback = OrderFeedback(flow, shop, erp, store)

    def feeds(self) -> list[tuple[str, Connector, str]]:
        """(queue entity, connector, connector entity): shop orders, and the ERP's sales."""
        return [("order", self.source, "order"), (SALE, self.target, "order")]

    async def sync_keys(self, entity: str, keys: Sequence[str], *, reason: str) -> BatchResult:
        if entity == SALE:
            return await self.feedback.sync_keys(keys, reason=reason)
        return await self.intake.sync_keys(keys, reason=reason)

    async def reconcile_window(self) -> int:
        """Queue the shop's open orders and those of the last N days again (they may have changed)."""
        keys = await self.source.window(self.flow.orders.window_days)  # type: ignore[attr-defined]
        if keys:
            await self.store.enqueue(self.flow.name, "order", keys, reason="reconcile")
        return len(keys)
