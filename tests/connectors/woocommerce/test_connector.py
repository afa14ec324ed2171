"""The WooCommerce connector against the sandbox shop over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from emporion.connectors.base import (
    AuthError,
    OutcomeStatus,
    RateLimited,
    Retryable,
    Unmappable,
    WriteItem,
)
from emporion.connectors.roles import missing_roles
from emporion.connectors.woocommerce.client import WooCommerceClient
from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.connectors.woocommerce.plugin import PLUGIN
from emporion.model import Category, Image, Product, Record, SalePrice, Variant
from tests.devkit.sandbox.conftest import Receiver
from tests.integration.engine_support import shop_api


def connector_for(
    shop: Any, key: str | None = None, secret: str | None = None, **options: Any
) -> WooCommerceConnector:
    return WooCommerceConnector(
        "shop", shop.base_url, key or shop.consumer_key, secret or shop.consumer_secret, **options
    )


@pytest.fixture
async def woo(sandbox_shop: Any) -> AsyncIterator[WooCommerceConnector]:
    connector = connector_for(sandbox_shop)
    yield connector
    await connector.close()


async def scan_all(connector: WooCommerceConnector, entity: str) -> list[Record]:
    return [record async for page in connector.scan(entity) for record in page]


def simple(sku: str, **fields: Any) -> Product:
    values: dict[str, Any] = {
        "key": f"erp-{sku}",
        "sku": sku,
        "name": f"Product {sku}",
        "list_price": Decimal("10"),
    }
    values.update(fields)
    return Product(**values)


def hoodie(*sizes: str) -> Product:
    variants = [
        Variant(
            key=f"erp-HOODIE-{size}",
            sku=f"HOODIE-{size}",
            attributes={"Size": size},
            list_price=Decimal("49.90"),
            available=Decimal("5"),
        )
        for size in sizes
    ]
    return Product(
        key="erp-HOODIE", sku="HOODIE", name="Hoodie", attributes={"Size": list(sizes)}, variants=variants
    )


async def write_products(
    connector: WooCommerceConnector, *products: Product, refs: dict | None = None
) -> dict:
    items = [WriteItem(p.key, p, (refs or {}).get(p.key)) for p in products]
    outcomes = await connector.write("product", items, [])
    return {outcome.key: outcome for outcome in outcomes}


def as_written(product: Product, ref: dict[str, Any]) -> Product:
    """The canonical record as the shop should give it back: WooCommerce ids as keys."""
    variants = [v.model_copy(update={"key": str(ref["variations"][v.sku])}) for v in product.variants]
    return product.model_copy(update={"key": str(ref["id"]), "variants": variants})


# --- connection, auth, checks ----------------------------------------------------------------------


async def test_connector_plays_the_roles_its_plugin_declares(woo: WooCommerceConnector) -> None:
    assert missing_roles(woo, PLUGIN.roles) == []
    caps = woo.capabilities()
    assert caps.reads == caps.writes == frozenset({"category", "product", "order", "customer"})
    assert caps.batch_size == 100
    assert caps.natural_keys == {"product": "sku", "category": "slug", "order": "number", "customer": "email"}


async def test_check_passes_with_a_read_write_key(woo: WooCommerceConnector) -> None:
    results = {result.name: result for result in await woo.check()}
    assert [name for name, result in results.items() if not result.ok] == []
    assert set(results) == {
        "reachable",
        "authentication",
        "read permission",
        "write permission",
        "woocommerce version",
    }
    assert results["woocommerce version"].detail.startswith("WooCommerce ")


async def test_read_only_key_fails_the_write_check_and_writes_raise_auth_error(sandbox_shop: Any) -> None:
    key, secret = sandbox_shop.add_key(permission="read")
    async with connector_for(sandbox_shop, key, secret) as connector:
        results = {result.name: result for result in await connector.check()}
        assert results["read permission"].ok
        assert not results["write permission"].ok
        assert "read permission only" in results["write permission"].detail
        assert "read_write" in results["write permission"].detail
        with pytest.raises(AuthError, match="read_write"):
            await write_products(connector, simple("RO-1"))


async def test_wrong_secret_fails_authentication(sandbox_shop: Any) -> None:
    async with connector_for(sandbox_shop, secret="cs_wrong") as connector:
        results = {result.name: result for result in await connector.check()}
        assert results["reachable"].ok
        assert not results["authentication"].ok
        with pytest.raises(AuthError):
            await scan_all(connector, "product")


async def test_unreachable_store_is_reported_not_raised() -> None:
    async with WooCommerceConnector("shop", "http://127.0.0.1:9", "ck_x", "cs_x", timeout=2) as connector:
        [result] = await connector.check()
        assert result.name == "reachable" and not result.ok


@pytest.mark.parametrize("signature_method", ["HMAC-SHA256", "HMAC-SHA1"])
async def test_oauth_over_plain_http(sandbox_shop: Any, signature_method: str) -> None:
    async with connector_for(sandbox_shop, signature_method=signature_method) as connector:
        outcomes = await write_products(connector, simple(f"OAUTH-{signature_method}"))
        assert all(o.ok for o in outcomes.values())
        assert len(await scan_all(connector, "product")) == 1


async def test_basic_auth_behind_a_tls_proxy(sandbox_shop: Any) -> None:
    async with connector_for(
        sandbox_shop, auth_mode="basic", headers={"X-Forwarded-Proto": "https"}
    ) as connector:
        outcomes = await write_products(connector, simple("BASIC-1"))
        assert outcomes["erp-BASIC-1"].status is OutcomeStatus.CREATED
    # Basic credentials over plain HTTP (no TLS proxy header) are refused, as WooCommerce does.
    async with connector_for(sandbox_shop, auth_mode="basic") as connector:
        with pytest.raises(AuthError):
            await scan_all(connector, "product")


# --- categories ------------------------------------------------------------------------------------


async def test_categories_with_a_parent_in_the_same_call(woo: WooCommerceConnector) -> None:
    child = Category(key="erp-c2", name="T-Shirts & Tops", parent_key="erp-c1", slug="t-shirts")
    parent = Category(key="erp-c1", name="Clothing", slug="clothing", description="All clothes")
    outcomes = await woo.write("category", [WriteItem(child.key, child), WriteItem(parent.key, parent)], [])
    by_key = {o.key: o for o in outcomes}
    assert {o.status for o in outcomes} == {OutcomeStatus.CREATED}
    parent_id, child_id = by_key["erp-c1"].target_ref["id"], by_key["erp-c2"].target_ref["id"]  # type: ignore[index]
    read = {c.key: c for c in await woo.read("category", [str(parent_id), str(child_id)])}
    assert read[str(child_id)] == Category(
        key=str(child_id), name="T-Shirts & Tops", parent_key=str(parent_id), slug="t-shirts"
    )
    assert read[str(parent_id)].description == "All clothes"

    # Unlinked again (a lost link): found by slug, not duplicated.
    again = await woo.write(
        "category", [WriteItem(parent.key, parent.model_copy(update={"name": "Apparel"}))], []
    )
    assert again[0].status is OutcomeStatus.MATCHED and again[0].target_ref == {"id": parent_id}
    assert len(await scan_all(woo, "category")) == 2

    deleted = await woo.write("category", [], [WriteItem("erp-c2", child, {"id": child_id})])
    assert deleted[0].status is OutcomeStatus.DELETED
    assert await woo.read("category", [str(child_id)]) == []


async def test_category_without_slug_is_matched_by_name_and_parent(woo: WooCommerceConnector) -> None:
    first = await woo.write("category", [WriteItem("k1", Category(key="k1", name="Shoes"))], [])
    second = await woo.write(
        "category", [WriteItem("k1", Category(key="k1", name="Shoes", description="x"))], []
    )
    assert first[0].status is OutcomeStatus.CREATED
    assert second[0].status is OutcomeStatus.MATCHED
    assert second[0].target_ref == first[0].target_ref


# --- products --------------------------------------------------------------------------------------


async def test_simple_product_round_trip_through_the_shop(woo: WooCommerceConnector) -> None:
    [category] = await woo.write("category", [WriteItem("cat", Category(key="cat", name="Mugs"))], [])
    product = simple(
        "MUG-1",
        description="<p>Stoneware</p>",
        short_description="Stoneware",
        categories=[str(category.target_ref["id"])],  # type: ignore[index]
        images=[Image(url="https://img.test/mug.jpg", alt="mug")],
        list_price=Decimal("12.5"),
        sale_price=SalePrice(
            price=Decimal("9.99"),
            start=datetime(2026, 1, 1, tzinfo=UTC),
            end=datetime(2036, 1, 1, tzinfo=UTC),
        ),
        available=Decimal("17"),
        weight=Decimal("0.35"),
        custom={"gtin": "4006381333931", "material": "stoneware"},
    )
    outcomes = await write_products(woo, product)
    ref = outcomes[product.key].target_ref
    assert outcomes[product.key].status is OutcomeStatus.CREATED and ref is not None
    [back] = await woo.read("product", [str(ref["id"])])
    assert back == as_written(product, ref)


async def test_variable_product_with_variations_round_trip(woo: WooCommerceConnector) -> None:
    product = hoodie("S", "M", "L")
    outcome = (await write_products(woo, product))[product.key]
    ref = outcome.target_ref
    assert outcome.status is OutcomeStatus.CREATED and ref is not None
    assert set(ref["variations"]) == {"HOODIE-S", "HOODIE-M", "HOODIE-L"}
    [back] = await woo.read("product", [str(ref["id"])])
    assert back == as_written(product, ref)

    # Drop L, add XL, change M's price: variations matched by SKU through the link's ids.
    changed = hoodie("S", "M", "XL")
    changed.variants[1] = changed.variants[1].model_copy(update={"list_price": Decimal("44")})
    woo.client.requests_sent.clear()
    second = (await write_products(woo, changed, refs={product.key: ref}))[product.key]
    # Linked: no lookups, one batch for the parent and one for its variations.
    assert woo.client.requests_sent == {"POST products/batch": 1, "POST products/{id}/variations/batch": 1}
    assert second.status is OutcomeStatus.UPDATED and second.target_ref is not None
    assert second.target_ref["variations"]["HOODIE-S"] == ref["variations"]["HOODIE-S"]
    assert "HOODIE-L" not in second.target_ref["variations"]
    [back] = await woo.read("product", [str(ref["id"])])
    assert back == as_written(changed, second.target_ref)


async def test_updates_prices_sale_window_stock_and_custom_fields(woo: WooCommerceConnector) -> None:
    product = simple("UPD-1", available=Decimal("3"), custom={"colour": "red"})
    ref = (await write_products(woo, product))[product.key].target_ref
    update = product.model_copy(
        update={
            "list_price": Decimal("20.00"),
            "sale_price": SalePrice(price=Decimal("15.125"), start=datetime(2026, 11, 1, 8, tzinfo=UTC)),
            "available": Decimal("42"),
            "custom": {"colour": "blue", "season": "winter"},
        }
    )
    outcome = (await write_products(woo, update, refs={product.key: ref}))[product.key]
    assert outcome.status is OutcomeStatus.UPDATED and outcome.target_ref == ref
    [back] = await woo.read("product", [str(ref["id"])])  # type: ignore[index]
    assert back.list_price == Decimal("20") and back.available == Decimal("42")  # type: ignore[attr-defined]
    assert back.sale_price == update.sale_price  # type: ignore[attr-defined]
    assert back.custom == {"colour": "blue", "season": "winter"}  # type: ignore[attr-defined]

    # Clearing the sale and stock management.
    cleared = update.model_copy(update={"sale_price": None, "available": None})
    await write_products(woo, cleared, refs={product.key: ref})
    [back] = await woo.read("product", [str(ref["id"])])  # type: ignore[index]
    assert back.sale_price is None and back.available is None  # type: ignore[attr-defined]


async def test_an_unlinked_product_is_matched_by_sku_not_duplicated(woo: WooCommerceConnector) -> None:
    first = (await write_products(woo, simple("MATCH-1")))["erp-MATCH-1"]
    second = (await write_products(woo, simple("MATCH-1", name="Renamed")))["erp-MATCH-1"]
    assert first.status is OutcomeStatus.CREATED
    assert second.status is OutcomeStatus.MATCHED
    assert second.target_ref == first.target_ref
    products = await scan_all(woo, "product")
    assert [(p.sku, p.name) for p in products] == [("MATCH-1", "Renamed")]  # type: ignore[attr-defined]


async def test_a_stale_link_is_resolved_again_by_sku(woo: WooCommerceConnector) -> None:
    outcome = (await write_products(woo, simple("STALE-1")))["erp-STALE-1"]
    stale = (await write_products(woo, simple("STALE-1"), refs={"erp-STALE-1": {"id": 999999}}))[
        "erp-STALE-1"
    ]
    assert stale.status is OutcomeStatus.MATCHED and stale.target_ref == outcome.target_ref


async def test_more_than_100_items_are_split_and_scanned_back(woo: WooCommerceConnector) -> None:
    products = [simple(f"BULK-{n:03d}") for n in range(230)]
    woo.client.requests_sent.clear()
    outcomes = await write_products(woo, *products)
    # One SKU lookup and one batch per 100 items.
    assert woo.client.requests_sent == {"GET products": 3, "POST products/batch": 3}
    assert len(outcomes) == 230
    assert {o.status for o in outcomes.values()} == {OutcomeStatus.CREATED}
    pages = [page async for page in woo.scan("product")]
    assert [len(page) for page in pages] == [100, 100, 30]
    assert sorted(p.sku for page in pages for p in page) == sorted(p.sku for p in products)  # type: ignore[attr-defined]

    # All 230 again, unlinked: matched by SKU in 3 lookups, updated in batches, none created.
    woo.client.requests_sent.clear()
    again = await write_products(woo, *products)
    assert {o.status for o in again.values()} == {OutcomeStatus.MATCHED}
    assert woo.client.requests_sent == {"GET products": 3, "POST products/batch": 3}
    deleted = await woo.write(
        "product", [], [WriteItem(k, products[0], o.target_ref) for k, o in again.items()]
    )
    assert {o.status for o in deleted} == {OutcomeStatus.DELETED}
    assert await scan_all(woo, "product") == []


async def test_duplicate_sku_fails_that_item_only(woo: WooCommerceConnector) -> None:
    await write_products(woo, simple("DUP-1"))
    items = [
        WriteItem("a", simple("OK-1", key="a")),
        WriteItem("b", simple("OK-2", key="b")),
        WriteItem("c", simple("DUP-C", key="c")),
        WriteItem("d", simple("DUP-C", key="d")),
    ]
    outcomes = {o.key: o for o in await woo.write("product", items, [])}
    failed = [o for o in outcomes.values() if not o.ok]
    assert len(failed) == 1
    assert failed[0].error is not None and failed[0].error.field == "sku"  # type: ignore[attr-defined]
    assert failed[0].error.record == "DUP-C"  # type: ignore[attr-defined]
    assert all(outcomes[k].status is OutcomeStatus.CREATED for k in ("a", "b"))


# --- transient failures ----------------------------------------------------------------------------


async def test_429_with_retry_after_is_rate_limited(sandbox_shop: Any, woo: WooCommerceConnector) -> None:
    sandbox_shop.faults.set(rate_429=1.0, retry_after=3, count=1)
    with pytest.raises(RateLimited) as caught:
        await scan_all(woo, "product")
    assert caught.value.after == 3
    assert woo.client.budget.paused_for > 2  # the whole connection waits


async def test_server_error_is_retryable(sandbox_shop: Any, woo: WooCommerceConnector) -> None:
    sandbox_shop.faults.set(rate_503=1.0, count=1)
    with pytest.raises(Retryable) as caught:
        await write_products(woo, simple("FAIL-1"))
    assert not isinstance(caught.value, RateLimited)
    assert (await write_products(woo, simple("FAIL-1")))["erp-FAIL-1"].ok


# --- change feed -----------------------------------------------------------------------------------


async def test_changes_reports_products_modified_since_the_cursor(woo: WooCommerceConnector) -> None:
    start = await woo.changes("product", None)
    assert start.keys == [] and start.cursor
    ref = (await write_products(woo, simple("FEED-1")))["erp-FEED-1"].target_ref
    batch = await woo.changes("product", start.cursor)
    assert str(ref["id"]) in batch.keys  # type: ignore[index]
    assert not batch.more

    categories = await woo.changes("category", None)
    written = await woo.write("category", [WriteItem("f", Category(key="f", name="Feed"))], [])
    after = await woo.changes("category", categories.cursor)
    assert after.keys == [str(written[0].target_ref["id"])]  # type: ignore[index]
    assert (await woo.changes("category", after.cursor)).keys == []


async def test_client_pages_with_per_page_100(sandbox_shop: Any) -> None:
    client = WooCommerceClient(sandbox_shop.base_url, sandbox_shop.consumer_key, sandbox_shop.consumer_secret)
    try:
        result = await client.batch(
            "products", create=[{"name": f"P{n}", "sku": f"P{n}"} for n in range(150)]
        )
        assert len(result.create) == 150 and all(item.ok for item in result.create)
        pages = [len(page) async for page in client.iter_pages("products")]
        assert pages == [100, 50]
    finally:
        await client.close()


async def test_known_images_are_sent_by_id_not_downloaded_again(woo: WooCommerceConnector) -> None:
    images = [
        Image(url="https://img.test/front.jpg", alt="front"),
        Image(url="https://img.test/back.jpg", position=1),
    ]
    product = simple("IMG-1", images=images)
    first = (await write_products(woo, product))[product.key].target_ref
    assert first is not None and set(first["images"]) == {
        "https://img.test/front.jpg",
        "https://img.test/back.jpg",
    }
    second = (await write_products(woo, product, refs={product.key: first}))[product.key].target_ref
    assert second == first  # the same attachments, no new uploads
    [back] = await woo.read("product", [str(first["id"])])
    assert back.images == images  # type: ignore[attr-defined]

    # Without the link (a MATCHED write) the URLs are sent again and the new ids are learnt.
    third = (await write_products(woo, product))[product.key].target_ref
    assert third is not None and third["id"] == first["id"] and set(third["images"]) == set(first["images"])


async def test_unlinked_variable_product_is_matched_with_its_variations(woo: WooCommerceConnector) -> None:
    product = hoodie("S", "M")
    first = (await write_products(woo, product))[product.key]
    again = (await write_products(woo, hoodie("S", "M", "L")))[product.key]
    assert again.status is OutcomeStatus.MATCHED and again.target_ref is not None
    assert again.target_ref["id"] == first.target_ref["id"]  # type: ignore[index]
    variations = again.target_ref["variations"]
    assert variations["HOODIE-S"] == first.target_ref["variations"]["HOODIE-S"]  # type: ignore[index]
    [back] = await woo.read("product", [str(again.target_ref["id"])])
    assert sorted(v.sku for v in back.variants) == ["HOODIE-L", "HOODIE-M", "HOODIE-S"]  # type: ignore[attr-defined]


async def test_stale_variation_ids_in_the_link_are_listed_again(woo: WooCommerceConnector) -> None:
    product = hoodie("S", "M")
    ref = (await write_products(woo, product))[product.key].target_ref
    assert ref is not None
    stale = dict(ref, variations={"HOODIE-S": 999998, "HOODIE-M": 999999})
    outcome = (await write_products(woo, product, refs={product.key: stale}))[product.key]
    assert outcome.status is OutcomeStatus.UPDATED
    assert outcome.target_ref is not None and outcome.target_ref["variations"] == ref["variations"]


# --- HTTPS with a custom CA bundle -----------------------------------------------------------------


def _make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (openssl CLI)."""
    ca_key, ca_cert = folder / "ca.key", folder / "ca.pem"
    key, csr, cert, ext = (
        folder / "server.key",
        folder / "server.csr",
        folder / "server.pem",
        folder / "san.ext",
    )
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    commands = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert,
         "-days", "1", "-subj", "/CN=emporion test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "1", "-extfile", ext],
    ]  # fmt: skip
    for command in commands:
        subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return ca_cert, cert, key


@pytest.fixture
def tls_shop_url(sandbox_shop: Any, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The sandbox's app served over real TLS on 127.0.0.1, and the CA bundle that signed its certificate."""
    ca_cert, cert, key = _make_certificates(tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        sandbox_shop.sandbox.app(False),
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"https://127.0.0.1:{port}", ca_cert
    server.should_exit = True
    thread.join(timeout=10)


async def test_https_uses_basic_auth_and_verifies_with_a_custom_ca(
    sandbox_shop: Any, tls_shop_url: tuple
) -> None:
    url, ca_bundle = tls_shop_url
    key, secret = sandbox_shop.consumer_key, sandbox_shop.consumer_secret
    async with WooCommerceConnector("tls", url, key, secret, verify=str(ca_bundle)) as connector:
        assert (await write_products(connector, simple("TLS-1")))["erp-TLS-1"].status is OutcomeStatus.CREATED
        assert all(result.ok for result in await connector.check())
    context = ssl.create_default_context(cafile=str(ca_bundle))  # as the engine builds it from config
    async with WooCommerceConnector("tls", url, key, secret, verify=context) as connector:
        assert len(await scan_all(connector, "product")) == 1
    async with WooCommerceConnector("tls", url, key, secret) as connector:  # system CAs: refused
        with pytest.raises(Retryable, match="certificate"):
            await scan_all(connector, "product")


# --- webhooks --------------------------------------------------------------------------------------


async def test_a_webhook_port_wordpress_will_not_call_is_warned_about(
    woo: WooCommerceConnector, caplog: pytest.LogCaptureFixture
) -> None:
    # WordPress's wp_safe_remote_post calls ports 80, 443 and 8080 only (seen on WooCommerce 10.0.2:
    # every delivery to another port failed while the webhook read "active")
    with caplog.at_level(logging.WARNING, logger="emporion.woocommerce"):
        await woo.ensure_webhooks("https://sync.example.test/webhooks/shop", "s", installation="i1")
        assert not [r for r in caplog.records if "ports 80, 443 and 8080" in r.getMessage()]
        await woo.ensure_webhooks("http://sync.example.test:8800/webhooks/shop", "s", installation="i1")
    (warning,) = [r for r in caplog.records if "ports 80, 443 and 8080" in r.getMessage()]
    assert "port 8800" in warning.getMessage()


async def test_webhooks_are_ensured_once_and_deliveries_verify(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    receiver = Receiver()
    try:
        ids = await woo.ensure_webhooks(receiver.url, "hook-secret", installation="i1")
        assert len(ids) == 4
        assert await woo.ensure_webhooks(receiver.url, "hook-secret", installation="i1") == ids  # idempotent
        ref = (await write_products(woo, simple("HOOK-1")))["erp-HOOK-1"].target_ref
        await asyncio.to_thread(sandbox_shop.sandbox.webhooks.idle, 10)  # deliveries sent
        headers, body = receiver.deliveries()[0]
        assert woo.verify_webhook(headers, body, "hook-secret")
        assert not woo.verify_webhook(headers, body, "wrong")
        hint = woo.parse_webhook(headers, body)
        assert hint is not None and hint.entity == "product" and hint.keys == [str(ref["id"])]  # type: ignore[index]
    finally:
        receiver.close()


async def test_dropped_connection_and_timeout_are_retryable(sandbox_shop: Any) -> None:
    async with connector_for(sandbox_shop, timeout=0.5) as connector:
        sandbox_shop.faults.set(rate_drop=1.0, count=1)
        with pytest.raises(Retryable):
            await scan_all(connector, "product")
        sandbox_shop.faults.set(rate_timeout=1.0, timeout=3, count=1)
        with pytest.raises(Retryable, match="timed out"):
            await scan_all(connector, "product")
        assert await scan_all(connector, "product") == []


async def test_change_feed_pages_through_many_changes(woo: WooCommerceConnector) -> None:
    start = await woo.changes("product", None)
    outcomes = await write_products(woo, *(simple(f"MANY-{n:03d}") for n in range(150)))
    first = await woo.changes("product", start.cursor)
    assert len(first.keys) == 100 and first.more
    second = await woo.changes("product", first.cursor)
    assert len(second.keys) == 50 and not second.more
    assert set(first.keys) | set(second.keys) == {str(o.target_ref["id"]) for o in outcomes.values()}  # type: ignore[index]


async def test_a_record_that_cannot_be_mapped_fails_alone(woo: WooCommerceConnector) -> None:
    items = [
        WriteItem("good", simple("GOOD-1", key="good")),
        WriteItem("bad", simple("BAD-1", key="bad", categories=["x"])),
    ]
    outcomes = {o.key: o for o in await woo.write("product", items, [])}
    assert outcomes["good"].status is OutcomeStatus.CREATED
    assert outcomes["bad"].status is OutcomeStatus.FAILED
    assert outcomes["bad"].error.field == "categories" and outcomes["bad"].error.record == "BAD-1"  # type: ignore[union-attr]


async def test_category_with_an_unknown_parent_reference_fails_alone(woo: WooCommerceConnector) -> None:
    items = [
        WriteItem("ok", Category(key="ok", name="Fine")),
        WriteItem("bad", Category(key="bad", name="Lost", parent_key="erp-9")),
    ]
    outcomes = {o.key: o for o in await woo.write("category", items, [])}
    assert outcomes["ok"].status is OutcomeStatus.CREATED
    assert outcomes["bad"].status is OutcomeStatus.FAILED and outcomes["bad"].error.field == "parent_key"  # type: ignore[union-attr]


# --- what WooCommerce does to text, stock and SKUs of variations ----------------------------------


async def test_text_with_ampersands_and_lines_reads_back_as_written(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    product = simple(
        "TXT-1",
        name='Salt & Pepper "Duo" <b>XL</b>',
        description="First line & more.\nSecond line.\n\nNew paragraph.",
        short_description="Short & sweet",
    )
    ref = (await write_products(woo, product))[product.key].target_ref
    assert ref is not None
    shown = shop_api(sandbox_shop).get(f"/products/{ref['id']}").json()  # context=view, as a browser asks
    assert shown["name"] == 'Salt &amp; Pepper "Duo" <b>XL</b>'
    assert shown["description"].startswith("<p>First line &amp; more.<br />")
    [back] = await woo.read("product", [str(ref["id"])])
    assert back == as_written(product, ref)
    [scanned] = [p for p in await scan_all(woo, "product") if p.key == str(ref["id"])]
    assert scanned == back
    [category] = await woo.write("category", [WriteItem("c", Category(key="c", name="Kitchen & Bath"))], [])
    [read] = await woo.read("category", [str(category.target_ref["id"])])  # type: ignore[index]
    assert isinstance(read, Category) and read.name == "Kitchen & Bath"


def variable_in_shop(sandbox_shop: Any, variations: list[dict[str, Any]]) -> int:
    """A variable product made in the shop by hand (stock 40 on the product) with these variations."""
    api = shop_api(sandbox_shop)
    body = {
        "name": "Shirt",
        "type": "variable",
        "sku": "SHIRT",
        "manage_stock": True,
        "stock_quantity": 40,
        "attributes": [{"name": "Size", "options": ["S", "M", "L"], "variation": True}],
    }
    created = api.post("/products", json=body)
    created.raise_for_status()
    ident = int(created.json()["id"])
    api.post(f"/products/{ident}/variations/batch", json={"create": variations}).raise_for_status()
    return ident


def size(option: str, **fields: Any) -> dict[str, Any]:
    return {"regular_price": "20.00", "attributes": [{"name": "Size", "option": option}], **fields}


async def test_a_variation_sharing_its_products_stock_reads_without_stock_of_its_own(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    ident = variable_in_shop(
        sandbox_shop,
        [size("S", sku="SHIRT-S", manage_stock=True, stock_quantity=5), size("M", sku="SHIRT-M")],
    )
    raw = shop_api(sandbox_shop).get(f"/products/{ident}/variations", params={"context": "edit"}).json()
    assert {v["sku"]: v["manage_stock"] for v in raw} == {"SHIRT-S": True, "SHIRT-M": "parent"}
    [product] = await woo.read("product", [str(ident)])
    assert isinstance(product, Product) and product.available == Decimal(40)
    assert {v.sku: v.available for v in product.variants} == {"SHIRT-S": Decimal(5), "SHIRT-M": None}


async def test_a_variation_without_its_own_sku_is_reported_not_taken_for_its_product(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    ident = variable_in_shop(sandbox_shop, [size("S", sku="SHIRT-S"), size("L")])
    [read] = await woo.read("product", [str(ident)])
    assert isinstance(read, Unmappable) and read.field == "variants.sku" and read.record == "SHIRT"
    assert f"of product {ident} (SKU SHIRT) has no SKU of its own" in read.reason
    [scanned] = [p for p in await scan_all(woo, "product") if p.key == str(ident)]
    assert isinstance(scanned, Unmappable) and scanned.reason == read.reason


async def test_a_variation_sku_never_matches_a_product(sandbox_shop: Any, woo: WooCommerceConnector) -> None:
    ident = variable_in_shop(sandbox_shop, [size("S", sku="SHIRT-S")])
    listed = shop_api(sandbox_shop).get("/products", params={"sku": "SHIRT-S"}).json()
    assert [item["type"] for item in listed] == ["variation"]  # WooCommerce's `sku` filter finds it
    assert await woo.lookup("product", ["SHIRT-S", "SHIRT"]) == {"SHIRT": {"id": ident}}


async def test_stock_kept_on_the_product_is_written_and_read_there(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    shared = hoodie("S", "M")
    shared = shared.model_copy(
        update={
            "available": Decimal(12),
            "variants": [v.model_copy(update={"available": None}) for v in shared.variants],
        }
    )
    ref = (await write_products(woo, shared))[shared.key].target_ref
    assert ref is not None
    raw = shop_api(sandbox_shop).get(f"/products/{ref['id']}/variations", params={"context": "edit"}).json()
    assert {v["manage_stock"] for v in raw} == {"parent"} and {v["stock_quantity"] for v in raw} == {12}
    [back] = await woo.read("product", [str(ref["id"])])
    assert back == as_written(shared, ref)  # 12 on the product, none on each variation (not 2 x 12)
