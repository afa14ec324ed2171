"""Every paging kind over several pages of the running example shop, and the ways paging ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from emporion.connectors.base import Permanent
from emporion.connectors.rest.client import Page, RestClient
from emporion.connectors.rest.settings import Call, Paging
from tests.connectors.rest import client
from tests.example_shop.server import MiniShop
from tests.example_shop.shop_paging import PagingMode

KEY = {"kind": "api_key", "key": "minishop-key"}
LIST = Call(path="/api/products", items="$.items")
PAGINGS: dict[PagingMode, dict[str, Any]] = {
    "page": {"kind": "page", "size": 2},
    "offset": {"kind": "offset", "size": 2},
    "cursor": {"kind": "cursor", "next": "$.next_cursor", "size": 2},
    "next_link": {"kind": "next_link", "next": "$.links.next", "size": 2},
}


def paging(settings: dict[str, Any]) -> Any:
    """Paging settings read as from the configuration."""
    return TypeAdapter(Paging).validate_python(settings)


@pytest.fixture
def shop(request: pytest.FixtureRequest) -> Iterator[MiniShop]:
    """A minishop paging the way the test names, with five products A..E."""
    with MiniShop(paging=request.param).serve() as running:
        for sku in "ABCDE":
            running.save("products", {"sku": sku, "name": f"product {sku}"})
        yield running


async def every_page(
    rest: RestClient, call: Call, settings: Any, values: dict[str, Any] | None = None
) -> list[Page]:
    """Every page `pages` yields, the client closed afterwards."""
    try:
        return [page async for page in rest.pages(call, settings, values)]
    finally:
        await rest.close()


def skus(pages: list[Page]) -> list[list[str]]:
    """The SKUs on each page."""
    return [[item["sku"] for item in page.items] for page in pages]


@pytest.mark.parametrize("shop", list(PAGINGS), indirect=True)
async def test_every_paging_kind_reads_every_page_once(shop: MiniShop) -> None:
    before = shop.requests
    pages = await every_page(client(shop.url, KEY), LIST, paging(PAGINGS[shop.paging]))
    assert skus(pages) == [["A", "B"], ["C", "D"], ["E"]]
    assert shop.requests - before == 3  # the short (or last-linked) page ends it
    assert all(page.answer.body["server_time"] for page in pages)


@pytest.mark.parametrize("shop", ["next_link"], indirect=True)
async def test_next_link_from_the_link_header_keeps_the_filters(shop: MiniShop) -> None:
    settings = paging({"kind": "next_link", "next": "header:Link", "size": 1})
    call = Call(path="/api/products", params={"sku": "{natural_keys}"}, items="$.items")
    pages = await every_page(client(shop.url, KEY), call, settings, {"natural_keys": ["B", "D", "E"]})
    assert skus(pages) == [["B"], ["D"], ["E"]]


@pytest.mark.parametrize("shop", ["page", "offset"], indirect=True)
async def test_a_full_last_page_ends_on_the_empty_one_or_on_the_total(shop: MiniShop) -> None:
    shop.delete("products", 5)  # four left: two full pages
    before = shop.requests
    pages = await every_page(client(shop.url, KEY), LIST, paging(PAGINGS[shop.paging]))
    assert skus(pages) == [["A", "B"], ["C", "D"]] and shop.requests - before == 3
    before = shop.requests
    counted = paging(PAGINGS[shop.paging] | {"total": "$.total"})
    pages = await every_page(client(shop.url, KEY), LIST, counted)
    assert skus(pages) == [["A", "B"], ["C", "D"]] and shop.requests - before == 2
    assert [page.total for page in pages] == [4, 4]


@pytest.mark.parametrize("shop", ["page"], indirect=True)
async def test_an_empty_list_still_gives_its_first_page(shop: MiniShop) -> None:
    call = Call(path="/api/products", params={"sku": "NONE"}, items="$.items")
    pages = await every_page(client(shop.url, KEY), call, paging(PAGINGS["page"]))
    assert len(pages) == 1 and pages[0].items == [] and pages[0].answer.body["server_time"]


@pytest.mark.parametrize("shop", ["page"], indirect=True)
async def test_no_paging_is_one_answer(shop: MiniShop) -> None:
    pages = await every_page(
        client(shop.url, KEY), Call(path="/api/products", params={"per_page": "10"}, items="$.items"), None
    )
    assert skus(pages) == [["A", "B", "C", "D", "E"]]


@pytest.mark.parametrize("shop", ["cursor"], indirect=True)
async def test_a_shop_repeating_its_cursor_is_refused(shop: MiniShop) -> None:
    shop.repeat_cursor = True
    rest = client(shop.url, KEY)
    seen: list[list[str]] = []
    with pytest.raises(Permanent, match="same next page twice"):
        async for page in rest.pages(LIST, paging(PAGINGS["cursor"])):
            seen.append([item["sku"] for item in page.items])
    await rest.close()
    assert seen == [["A", "B"], ["A", "B"]]  # the cursor came back once: stopped, never looping
