"""The declarative change feed on minishop: the overlap, a change while paging, preset stamps, full diff."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta

import pytest

from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.hooks import Hooks
from emporion.connectors.rest.plugin import PLUGIN
from emporion.testing.contract import drain
from tests.connectors.rest.test_contract import API_KEY, description
from tests.example_shop.server import MiniShop

AUTH = {"kind": "api_key", "key": API_KEY, "header": "X-Api-Key"}


def products(shop: MiniShop, count: int, tag: str) -> list[str]:
    """`count` new products; their keys."""
    return [str(shop.save("products", {"sku": f"F-{tag}-{n}", "name": "Tea"})["id"]) for n in range(count)]


def restamp(shop: MiniShop, key: str, moment: datetime) -> None:
    """Give product `key` the change stamp `moment` (a change that committed late)."""
    with shop._lock:
        shop.records["products"][int(key)]["modified"] = moment.isoformat(timespec="microseconds")


async def test_a_late_commit_inside_the_overlap_is_reported_once(
    shop: MiniShop, connector: DeclarativeConnector
) -> None:
    """A change stamped before the cursor but inside the overlap is reported by the next poll, once."""
    (key,) = products(shop, 1, "late")
    start = await connector.changes("product", None)
    first = await drain(connector, "product", start.cursor)
    assert first.keys == []
    at = datetime.fromisoformat(json.loads(str(first.cursor))["at"])
    shop.save("products", {"name": "Late"}, int(key))
    restamp(shop, key, at - timedelta(seconds=2))  # stamped before the cursor, inside the 5 s overlap
    second = await drain(connector, "product", first.cursor)
    assert second.keys == [key]
    assert (await drain(connector, "product", second.cursor)).keys == []


async def test_a_change_older_than_the_overlap_is_not_read_again(
    shop: MiniShop, connector: DeclarativeConnector
) -> None:
    """A stamp older than the overlap window is before what the feed asks for: not reported."""
    (key,) = products(shop, 1, "old")
    start = await connector.changes("product", None)
    at = datetime.fromisoformat(json.loads(str(start.cursor))["at"])
    restamp(shop, key, at - timedelta(seconds=30))
    assert (await drain(connector, "product", start.cursor)).keys == []


class TouchOnFirstAnswer:
    """A request observer that changes a product of the first page once the first page is answered."""

    def __init__(self, shop: MiniShop, key: str) -> None:
        """Change product `key` once the first answer arrives."""
        self.shop, self.key, self.answers = shop, key, 0

    async def before(self, headers: MutableMapping[str, str]) -> None:
        """Nothing to add before a request."""
        return None

    async def after(self, method: str, status: int) -> None:
        """Count answers; change the product after the first."""
        self.answers += 1
        if self.answers == 1:
            self.shop.save("products", {"name": "Moved while paging"}, int(self.key))


async def test_a_change_while_paging_loses_no_other_record(
    shop: MiniShop, connector: DeclarativeConnector
) -> None:
    """A record changed after page one moves to the end; the one it pushed onto page one is still read."""
    keys = products(shop, 9, "paging")
    start = await connector.changes("product", None)
    for key in keys:
        shop.save("products", {"name": "Changed"}, int(key))
    connector.observe_requests(TouchOnFirstAnswer(shop, keys[0]))
    polled = await drain(connector, "product", start.cursor)
    assert sorted(polled.keys, key=int) == keys
    assert len(polled.keys) == len(set(polled.keys))


class StampsOfTheirOwn(Hooks):
    """Preset code reporting products changed by something the shop does not stamp on them."""

    def __init__(self) -> None:
        """Nothing reported until `stamps` is filled."""
        self.stamps: dict[str, tuple[str, datetime]] = {}
        self.asked: list[datetime] = []

    async def changed_since(
        self, connector: DeclarativeConnector, entity: str, since: datetime
    ) -> dict[str, tuple[str, datetime]]:
        """The stamps set by the test, for products only; remembers each `since` asked for."""
        self.asked.append(since)
        return dict(self.stamps) if entity == "product" else {}


async def test_keys_of_the_changed_since_hook_are_reported_once_per_stamp(
    shop: MiniShop, connector: DeclarativeConnector
) -> None:
    """A key the preset's hook reports joins the feed's: once per stamp, again when its stamp moves."""
    (key,) = products(shop, 1, "hook")
    hooks = StampsOfTheirOwn()
    connector.hooks = hooks
    start = await connector.changes("product", None)
    assert (await drain(connector, "product", start.cursor)).keys == []
    at = datetime.fromisoformat(json.loads(str(start.cursor))["at"])
    assert hooks.asked[-1] == at - timedelta(seconds=5)  # the cursor's moment less the overlap
    moment = datetime.now(UTC)  # later than the product's own stamp, which is kept as seen
    moment = moment.replace(microsecond=moment.microsecond or 1)  # not a whole second: settled
    hooks.stamps = {key: (moment.isoformat(), moment)}
    first = await drain(connector, "product", start.cursor)
    assert first.keys == [key]
    second = await drain(connector, "product", first.cursor)
    assert second.keys == []
    later = moment + timedelta(microseconds=5)
    hooks.stamps = {key: (later.isoformat(), later)}
    assert (await drain(connector, "product", second.cursor)).keys == [key]


def test_the_later_stamp_of_a_key_wins_and_the_feeds_own_on_a_tie() -> None:
    """Joining the hook's stamps keeps, per key, the later stamp; on equal moments the feed's own text."""
    from emporion.connectors.rest.feed import joined

    early, late = datetime(2026, 12, 5, 21, 0, 1, tzinfo=UTC), datetime(2026, 12, 5, 21, 0, 2, tzinfo=UTC)
    own = {"1": ("own-late", late), "2": ("own-early", early), "3": ("own", early)}
    more = {"1": ("hook-early", early), "2": ("hook-late", late), "3": ("hook", early), "4": ("hook", late)}
    assert joined(own, more) == {
        "1": ("own-late", late),
        "2": ("hook-late", late),
        "3": ("own", early),
        "4": ("hook", late),
    }


async def test_full_diff_feed_reports_new_changed_and_deleted(shop: MiniShop) -> None:
    """Without `changed_since` the feed compares whole listings: new, changed and deleted, each once."""
    settings = description(shop, AUTH)
    category = settings.entities.category
    assert category is not None
    settings.entities.category = category.model_copy(update={"changed_since": None})
    connector = PLUGIN.build("minishop", settings)
    assert isinstance(connector, DeclarativeConnector)
    try:
        kept, changed, gone = (str(shop.save("categories", {"name": f"Diff {n}"})["id"]) for n in range(3))
        start = await connector.changes("category", None)
        assert start.keys == []
        shop.save("categories", {"name": "Diff changed"}, int(changed))
        shop.delete("categories", int(gone))
        made = str(shop.save("categories", {"name": "Diff new"})["id"])
        polled = await connector.changes("category", start.cursor)
        assert sorted(polled.keys) == sorted([changed, gone, made]) and kept not in polled.keys
        assert (await connector.changes("category", polled.cursor)).keys == []
    finally:
        await connector.close()


async def test_a_damaged_cursor_is_refused_by_name(connector: DeclarativeConnector) -> None:
    """A cursor that is not the feed's own is a Permanent error naming the cursor."""
    from emporion.connectors.base import Permanent

    with pytest.raises(Permanent, match="cursor"):
        await connector.changes("product", "not json")


def test_stamp_formats_are_read_as_utc() -> None:
    """Moments go out and stamps come back in every format, naive ISO stamps taken as UTC."""
    from emporion.connectors.rest.feed import moment_text, parse_stamp

    moment = datetime(2026, 12, 5, 21, 0, 1, tzinfo=UTC)
    assert moment_text(moment, "iso_z") == "2026-12-05T21:00:01.000000Z"
    assert moment_text(moment, "epoch_ms") == int(moment.timestamp() * 1000)
    assert parse_stamp("2026-12-05T21:00:01Z", "iso", "p 1") == moment
    assert parse_stamp(int(moment.timestamp()), "epoch", "p 1") == moment
    assert parse_stamp("2026-12-05T21:00:01", "iso", "p 1") == moment  # naive: UTC
