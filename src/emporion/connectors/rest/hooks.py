"""What a preset adds in code where its description cannot say it (Medusa's inventory levels, say).

A preset `presets/<name>.py` may define `HOOKS`, an instance of a `Hooks` subclass; the connector
calls each method at its place. The defaults do nothing, so a described shop needs no code at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Outcome, WriteItem
from emporion.model import Order, Record

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector
    from emporion.connectors.rest.settings import Call

Json = Any


class Hooks:
    """Preset code: every method optional; the defaults leave the described behaviour as it is."""

    async def start(self, connector: DeclarativeConnector) -> None:
        """Once, before the first call (look up ids the description needs: a stock location, say)."""

    def shape_read(self, entity: str, data: Json) -> Json:
        """A shop record before the mapping reads it (flatten what JSON paths cannot reach)."""
        return data

    def shape_write(self, entity: str, body: Json, record: Record, creating: bool) -> Json:
        """A mapped body before it is sent (nest what the mapping wrote flat)."""
        return body

    async def write(
        self, connector: DeclarativeConnector, entity: str, item: WriteItem, ref: dict[str, object] | None
    ) -> Outcome | None:
        """One write the description cannot do, or None to let the described calls do it."""
        return None

    async def enrich(self, connector: DeclarativeConnector, entity: str, items: list[Json]) -> list[Json]:
        """A page of shop records before they are mapped, completed by calls of the preset's own."""
        return items

    async def changed_since(
        self, connector: DeclarativeConnector, entity: str, since: datetime
    ) -> dict[str, tuple[str, datetime]]:
        """Keys of `entity` changed since `since` that its own change filter misses (a record changed
        by another one's change), each with (stamp text, moment); the feed reports them once per stamp."""
        return {}

    async def progress_values(
        self, connector: DeclarativeConnector, order: Order, current: Json
    ) -> dict[str, Any]:
        """Values added to every progress call of `order` (`current`: the shop's order as read)."""
        return {}

    async def send_progress(
        self,
        connector: DeclarativeConnector,
        part: str,
        call: Call | None,
        values: dict[str, Any],
        record: str,
    ) -> bool:
        """One progress call (fulfil, refund, note, status) made the preset's way; False: as described."""
        return False


def hooks_of(preset: str | None) -> Hooks:
    """The preset's hooks (`presets/<name>.py` HOOKS), or the defaults."""
    if not preset:
        return Hooks()
    import importlib

    name = f"emporion.connectors.rest.presets.{preset}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:  # the preset's code is there but broken: say so, never run without it
            raise
        return Hooks()  # a preset described in YAML alone
    found = getattr(module, "HOOKS", None)
    return found if isinstance(found, Hooks) else Hooks()
