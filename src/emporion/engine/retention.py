"""The engine's pruning of old history (see `state.retention` and state/retention.py).

One process of the fleet prunes, under the lease `retention`; it prunes once at start and then every
`interval_minutes` (expired console sessions too, even when all history is kept). A failure (the
database away) is logged and tried again at the next turn.
"""

from __future__ import annotations

import anyio

from emporion.config import RetentionSettings
from emporion.logs import get_logger
from emporion.state import StateStore
from emporion.state.retention import EXPIRING

log = get_logger("emporion.retention")


async def prune_loop(store: StateStore, options: RetentionSettings, stop: anyio.Event) -> None:
    """Prune what is older than `options` allows, now and every `interval_minutes`, until `stop`."""
    ages = {**options.ages(), **EXPIRING}  # expired console sessions go whatever is kept of history
    while not stop.is_set():
        try:
            removed = await store.prune(ages)
            if any(removed.values()):
                log.info("old history pruned", **removed)
        except Exception as error:
            log.warning("pruning failed, trying again later", error=str(error))
        with anyio.move_on_after(options.interval_minutes * 60):
            await stop.wait()
    return None
