"""Monitors: conditions a person should hear about, checked every few seconds inside `Engine.run`.

- dead letters: a flow has new open dead letters (one alert per flow, with the count and the newest
  record names; resolved when none are open any more);
- sync lag: a flow is behind by more than its threshold, measured as the longer of (a) how long its
  longest-waiting due work item has waited for a worker and (b) how long ago its change feed was
  last read successfully, beyond its poll interval; resolved when back under;
- low stock: a product's available-to-promise in a flow is below its threshold (per SKU, per
  product custom field, or the flow's default); checked as the catalogue flow computes stock.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import anyio

from emporion.alerts import Alert, AlertKind, AlertSink, Severity
from emporion.config import FlowSettings, LowStockSettings, Settings
from emporion.logs import get_logger
from emporion.model import Product
from emporion.state import AlertRecord, StateStore, utc_now

log = get_logger("emporion.alerts")
SAMPLE = 5  # record names an alert lists


def threshold_for(settings: LowStockSettings, sku: str, *customs: Mapping[str, Any]) -> Decimal | None:
    """The low-stock threshold of one SKU: the `skus` entry, else its custom field, else the default."""
    if sku in settings.skus:
        return settings.skus[sku]
    if settings.field:
        for custom in customs:
            value = custom.get(settings.field)
            if value not in (None, ""):
                try:
                    return Decimal(str(value))
                except InvalidOperation:
                    log.warning("low-stock threshold is not a number", sku=sku, field=settings.field)
    return settings.default


def stock_levels(flow: FlowSettings, source: Product, mapped: Product) -> dict[str, tuple[Decimal, Decimal]]:
    """(available, threshold) per SKU of a mapped product that has a threshold in this flow."""
    if flow.low_stock is None:
        return {}
    levels: dict[str, tuple[Decimal, Decimal]] = {}
    items: list[tuple[str, Decimal | None, list[Mapping[str, Any]]]] = []
    if not mapped.variants:
        items.append((mapped.sku, mapped.available, [source.custom]))
    variants = {variant.sku: variant for variant in source.variants}
    for variant in mapped.variants:
        original = variants.get(variant.sku)
        items.append((variant.sku, variant.available, [original.custom if original else {}, source.custom]))
    for sku, available, customs in items:
        threshold = threshold_for(flow.low_stock, sku, *customs)
        if sku and available is not None and threshold is not None:
            levels[sku] = (available, threshold)
    return levels


class Monitors:
    """Checks the state database (and what the engine reports) and raises or resolves alerts."""

    def __init__(self, settings: Settings, store: StateStore) -> None:
        self.settings = settings
        self.store = store
        self.flows = {flow.name: flow for flow in settings.flows if flow.enabled}

    async def run(self, alerts: AlertSink, stop: anyio.Event) -> None:
        """Check every `alerts.check_interval` seconds until `stop`; a failed check is logged and retried."""
        while not stop.is_set():
            with anyio.move_on_after(self.settings.alerts.check_interval):
                await stop.wait()
            if stop.is_set():
                return
            try:
                await self.check(alerts)
            except Exception as error:  # the state database is unreachable: the next check tries again
                log.warning("alert checks failed", error=f"{type(error).__name__}: {error}")

    async def check(self, alerts: AlertSink) -> None:
        """One round: dead letters and lag of every flow; channels that failed before are tried again."""
        open_alerts = {a.key: a for a in await self.store.list_alerts(status="open", limit=10_000)}
        await self.check_dead_letters(alerts, open_alerts)
        await self.check_lag(alerts, open_alerts)
        retry = getattr(alerts, "retry_failed", None)
        if retry is not None:
            await retry()

    async def check_dead_letters(self, alerts: AlertSink, open_alerts: Mapping[str, AlertRecord]) -> None:
        """One alert per flow with new open dead letters; resolved when a flow has none open."""
        summary = await self.store.dead_summary(SAMPLE)
        for flow, (count, newest, names) in sorted(summary.items()):
            alert = Alert(
                AlertKind.DEAD_LETTER,
                flow,
                f"{count} open dead letter{'s' * (count != 1)} in flow {flow}, newest: {', '.join(names)}"
                + (" …" if count > len(names) else "")
                + ". See `emporion status`; fix the cause and replay them.",
                Severity.CRITICAL
                if flow in self.flows and "order" in self.flows[flow].entities
                else Severity.WARNING,
                flow=flow,
                details={"open": count, "records": names, "newest_id": newest},
            )
            told = open_alerts.get(alert.key)
            if told is None or newest > int((told.details or {}).get("newest_id", 0)):
                await alerts.notify(alert)
        for record in open_alerts.values():
            if record.kind == AlertKind.DEAD_LETTER and record.subject not in summary:
                await alerts.notify(
                    Alert(
                        AlertKind.DEAD_LETTER,
                        record.subject,
                        f"no open dead letters left in flow {record.subject}",
                        flow=record.flow,
                        resolved=True,
                    )
                )

    async def check_lag(self, alerts: AlertSink, open_alerts: Mapping[str, AlertRecord]) -> None:
        """Raise SYNC_LAG for each flow behind by more than its threshold; resolve when back under."""
        waiting, polled = await self.store.waiting_since(), await self.store.polled_at()
        now = utc_now()
        for name, flow in self.flows.items():
            threshold = flow.lag_threshold or self.settings.alerts.lag_threshold
            work_lag = max(0.0, (now - waiting[name]).total_seconds()) if name in waiting else 0.0
            # a feed read every poll_interval is that much behind by design; a flow still in its
            # initial sync has no cursor yet and no feed lag
            since_poll = (now - polled[name]).total_seconds() if name in polled else 0.0
            feed_lag = max(0.0, since_poll - flow.poll_interval)
            lag = max(work_lag, feed_lag)
            if lag > threshold:
                cause = (
                    f"the oldest change has waited {work_lag:.0f} s for a worker"
                    if work_lag >= feed_lag
                    else f"its change feed has not been read successfully for {feed_lag:.0f} s "
                    "beyond its poll interval"
                )
                await alerts.notify(
                    Alert(
                        AlertKind.SYNC_LAG,
                        name,
                        f"flow {name} is {lag:.0f} s behind (threshold {threshold:.0f} s): {cause}",
                        flow=name,
                        details={
                            "lag_seconds": round(lag),
                            "waiting_work_seconds": round(work_lag),
                            "since_last_poll_seconds": round(feed_lag),
                            "threshold_seconds": threshold,
                        },
                    )
                )
            else:
                back = Alert(
                    AlertKind.SYNC_LAG,
                    name,
                    f"flow {name} is back under {threshold:.0f} s behind",
                    flow=name,
                    resolved=True,
                )
                if back.key in open_alerts:
                    await alerts.notify(back)

    async def check_stock(
        self, alerts: AlertSink, flow: str, levels: Mapping[str, tuple[Decimal, Decimal]]
    ) -> None:
        """Raise LOW_STOCK for SKUs below their threshold, resolve open ones that are back above.

        Never raises: the batch these levels come from is already committed.
        """
        if not levels:
            return
        try:
            await self._check_stock(alerts, flow, levels)
        except Exception as error:
            log.warning("low-stock check failed", flow=flow, error=f"{type(error).__name__}: {error}")

    async def _check_stock(
        self, alerts: AlertSink, flow: str, levels: Mapping[str, tuple[Decimal, Decimal]]
    ) -> None:
        low = {sku: level for sku, level in levels.items() if level[0] < level[1]}
        for sku, (available, threshold) in sorted(low.items()):
            await alerts.notify(
                Alert(
                    AlertKind.LOW_STOCK,
                    sku,
                    f"{sku}: {_units(available)} available to promise in flow {flow}, "
                    f"below the threshold of {_units(threshold)}",
                    flow=flow,
                    details={"available": _units(available), "threshold": _units(threshold)},
                )
            )
        recovered = set(levels) - set(low)
        if not recovered:
            return
        open_low = await self.store.list_alerts(
            status="open", kind=str(AlertKind.LOW_STOCK), flow=flow, limit=10_000
        )
        for record in open_low:
            if record.subject in recovered:
                available, threshold = levels[record.subject]
                await alerts.notify(
                    Alert(
                        AlertKind.LOW_STOCK,
                        record.subject,
                        f"{record.subject}: {_units(available)} available in flow {flow}, "
                        f"back at or above {_units(threshold)}",
                        flow=flow,
                        resolved=True,
                    )
                )


def _units(value: Decimal) -> str:
    """A quantity without trailing zeros (5, 2.5)."""
    text = format(value.normalize(), "f")
    return text
