"""An order flow: intake (shop -> ERP) and feedback (ERP -> shop) behind the engine's flow interface."""

from __future__ import annotations

from collections.abc import Sequence

from emporion.config import FlowSettings
from emporion.connectors.roles import OrderSource, SalesTarget
from emporion.engine.feedback import SALE, OrderFeedback
from emporion.engine.flows import Feed, Flow
from emporion.engine.orders import OrderIntake
from emporion.engine.outcomes import BatchResult
from emporion.logs import get_logger
from emporion.state import StateStore

__all__ = ["SALE", "OrderFlow"]

log = get_logger("emporion.engine")


class OrderFlow(Flow):
    """Both directions of one shop's orders; the engine polls its feeds and works its queue."""

    source: OrderSource
    target: SalesTarget

    def __init__(
        self, flow: FlowSettings, shop: OrderSource, erp: SalesTarget, store: StateStore, worker: str
    ) -> None:
        self.flow = flow
        self.source = shop
        self.target = erp
        self.store = store
        self.intake = OrderIntake(flow, shop, erp, store, worker)
        self.feedback = OrderFeedback(flow, shop, erp, store)

    def feeds(self) -> list[Feed]:
        """Shop orders, and the ERP's sales (whose progress goes back to the shop)."""
        return [Feed("order", self.source, "order"), Feed(SALE, self.target, "order")]

    async def sync_keys(self, entity: str, keys: Sequence[str], *, reason: str) -> BatchResult:
        """Shop orders into the ERP, or the ERP's progress on sales back to the shop."""
        if entity == SALE:
            return await self.feedback.sync_keys(keys, reason=reason)
        return await self.intake.sync_keys(keys, reason=reason)

    async def start(self) -> None:
        """Orders are never bulk-imported: feeds start now, and the sliding window catches recent ones."""
        for entity, connector, connector_entity in self.feeds():
            if await self.store.get_cursor(self.flow.name, entity) is None:
                start = await connector.changes(connector_entity, None)
                if entity == "order":  # queued before the cursor exists: a crash in between repeats both
                    queued = await self.reconcile_window()
                    log.info("order flow started", flow=self.flow.name, recent_orders=queued)
                await self.store.enqueue(self.flow.name, entity, [], cursor=start.cursor)

    async def catch_up(self) -> int:
        """Re-check the sliding window: orders placed while the shop's webhooks were broken."""
        return await self.reconcile_window()

    async def reconcile_window(self) -> int:
        """Queue the shop's open orders and those of the last N days again (they may have changed)."""
        keys = await self.source.window(self.flow.orders.window_days)
        if keys:
            await self.store.enqueue(self.flow.name, "order", keys, reason="reconcile")
        return len(keys)
