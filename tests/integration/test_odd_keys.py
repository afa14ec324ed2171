"""A key a connector cannot use (a resync of `²`) is a dead letter naming it, not a crashed batch."""

from __future__ import annotations

import pytest

from emporion.connectors.base import Unmappable
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration.engine_support import running_engine, shop_api
from tests.integration.test_unreadable_records import mirror_settings, published_products

ODD_KEYS = ["²", "٣", "12a", "0", "99999999999999999999999"]


async def test_a_resync_of_odd_keys_dead_letters_each_and_syncs_the_rest(
    sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SandboxShop.serve() as target:
        [made] = published_products(shop_api(sandbox_shop), "Cup", "CUP", "3.00", 1)
        settings = mirror_settings(sandbox_shop, target, sqlite_url, monkeypatch)
        async with running_engine(settings) as engine:
            flow = settings.flows[0]
            await engine.store.enqueue("mirror", "product", [*ODD_KEYS, str(made["id"])], reason="resync")
            handled = await engine.work(flow)
            dead = await engine.store.list_dead(flow="mirror")
            depth = await engine.store.queue_depth("mirror")
            copies = shop_api(target).get("/products").json()

    assert handled == len(ODD_KEYS) + 1
    assert sorted((letter.key, letter.record) for letter in dead) == sorted(
        (key, f"product {key}") for key in ODD_KEYS
    )
    assert all("not a record number" in letter.reason for letter in dead)
    assert not any(depth.values())  # nothing left to retry: the batch did not crash
    assert [copy["sku"] for copy in copies] == ["CUP-0"]


async def test_an_order_read_names_an_odd_key_instead_of_failing(sandbox_shop: SandboxShop) -> None:
    shop = WooCommerceConnector(
        "shop", sandbox_shop.base_url, sandbox_shop.consumer_key, sandbox_shop.consumer_secret
    )
    try:
        records = await shop.read("order", ["²", "1"])
    finally:
        await shop.close()
    odd = [record for record in records if isinstance(record, Unmappable)]
    assert [(record.key, record.record) for record in odd] == [("²", "order ²")]
