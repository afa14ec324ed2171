"""The order feed of a file drop: orders handed over (their markers) and the ERP's progress files.

Markers are taken by modification time with a look-back window (`MARKER_WINDOW`) and the names
already reported within it, so a marker renamed into place while a poll listed is reported by the
next; the ERP's progress files go through the drop's exactly-once feed (`drop.py`), whose cursor
travels inside this one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from emporion.connectors.base import ChangeBatch
from emporion.connectors.files.catalogue import Catalogue
from emporion.connectors.files.drop import Drop
from emporion.connectors.files.feeds import feed_sources
from emporion.connectors.files.store import FileInfo, Store

MARKER_WINDOW = 300.0  # seconds: markers this much older than the newest seen are still compared


class OrderFeed:
    """References of orders handed over, and of orders the ERP reported progress on."""

    def __init__(self, store: Store, sent: str, drop: Drop, catalogue: Catalogue) -> None:
        self.store = store
        self.sent = sent
        self.drop = drop
        self.catalogue = catalogue

    async def _reference(self, info: FileInfo) -> str | None:
        """The reference a marker names."""
        data: dict[str, Any] = json.loads(await self.store.read(info.path))
        return str(data["reference"]) if data.get("reference") else None

    async def changes(self, text: str | None) -> ChangeBatch:
        """References changed since the cursor `text` (None: from now on)."""
        sources = feed_sources(self.catalogue, "order")
        markers = await self.store.list(self.sent, "*.json")
        if text is None:
            drop = await self.drop.start(sources)
            return ChangeBatch([], _order_cursor(_marker_state(markers, {}), drop.cursor))
        try:
            state = json.loads(text)
            seen: dict[str, float] = {str(k): float(v) for k, v in state["seen"].items()}
            floor = float(state["t"]) - MARKER_WINDOW
            drop_cursor = str(state["drop"])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"damaged order-file cursor ({type(error).__name__})") from None
        keys = []
        for info in markers:
            if info.mtime >= floor and info.name not in seen:
                reference = await self._reference(info)
                if reference:
                    keys.append(reference)
        polled = await self.drop.poll(sources, drop_cursor) if sources else ChangeBatch([], drop_cursor)
        keys += polled.keys
        cursor = _order_cursor(_marker_state(markers, seen), polled.cursor)
        return ChangeBatch(list(dict.fromkeys(keys)), cursor, polled.more)


def _marker_state(markers: Sequence[FileInfo], seen: dict[str, float]) -> dict[str, Any]:
    """The markers' part of the order cursor: the newest time and the names seen within the window."""
    newest = max([info.mtime for info in markers] + list(seen.values()) + [0.0])
    names = {info.name: info.mtime for info in markers if info.mtime >= newest - MARKER_WINDOW}
    return {"t": newest, "seen": names}


def _order_cursor(markers: dict[str, Any], drop: str | None) -> str:
    """The order feed's cursor text."""
    return json.dumps({**markers, "drop": drop or ""}, separators=(",", ":"))
