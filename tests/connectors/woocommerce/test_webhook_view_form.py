"""Product webhooks carry the product as a GET in view context shows it, as WooCommerce sends them
(`&` as `&amp;`, descriptions through wpautop and wptexturize); the connector takes a delivery as
"this record changed", re-reads it in edit context, and finds it as it was written: no drift.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

from emporion.connectors.woocommerce.connector import WooCommerceConnector
from emporion.engine.compare import diff_records
from emporion.model import Product
from tests.connectors.woocommerce.test_connector import as_written, hoodie, simple, woo, write_products
from tests.devkit.sandbox.conftest import Receiver
from tests.integration.engine_support import shop_api

__all__ = ["woo"]  # the connector on the sandbox shop, used by every test here

SECRET = "view-form-secret"
DESCRIPTION = 'First line & more.\nSecond "quoted" line.\n\nA new paragraph.'


async def deliveries(sandbox_shop: Any, receiver: Receiver) -> list[tuple[dict[str, str], bytes]]:
    await asyncio.sleep(0.05)
    assert await asyncio.to_thread(sandbox_shop.sandbox.webhooks.idle, 10)
    return receiver.deliveries()


async def test_a_product_delivery_is_the_view_form_and_rereads_as_written(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    api = shop_api(sandbox_shop)
    receiver = Receiver()
    try:
        hook = {"topic": "product.updated", "delivery_url": receiver.url, "secret": SECRET}
        api.post("/webhooks", json=hook).raise_for_status()
        record = simple("VIEW-1", name="Salt & Pepper", description=DESCRIPTION, short_description="S & P")
        ref = (await write_products(woo, record))[record.key].target_ref
        await deliveries(sandbox_shop, receiver)
        receiver.requests.clear()
        changed = record.model_copy(update={"list_price": Decimal("11.00")})
        await write_products(woo, changed, refs={record.key: ref})
        [(headers, body)] = await deliveries(sandbox_shop, receiver)

        delivered = json.loads(body)
        assert (
            delivered["name"] == "Salt &amp; Pepper"
            and delivered["short_description"] == "<p>S &amp; P</p>\n"
        )
        assert delivered["description"] == (
            "<p>First line &amp; more.<br />\nSecond &#8220;quoted&#8221; line.</p>\n"
            "<p>A new paragraph.</p>\n"
        )
        assert delivered == api.get(f"/products/{ref['id']}").json()  # what a GET in view context shows
        stored = api.get(f"/products/{ref['id']}", params={"context": "edit"}).json()
        assert stored["description"] == DESCRIPTION.replace("&", "&amp;")

        assert woo.verify_webhook(headers, body, SECRET)
        hint = woo.parse_webhook(headers, body)
        assert hint is not None and (hint.entity, hint.keys) == ("product", [str(ref["id"])])
        [back] = await woo.read("product", hint.keys)
        assert back == as_written(changed, ref)  # read in edit context: no <p>, no &amp;
        assert not diff_records(changed, back)
    finally:
        receiver.close()


async def test_a_variation_delivery_names_its_product_which_rereads_as_written(
    sandbox_shop: Any, woo: WooCommerceConnector
) -> None:
    api = shop_api(sandbox_shop)
    receiver = Receiver()
    try:
        record = hoodie("S", "M").model_copy(update={"name": "Hoodie & Cap", "description": DESCRIPTION})
        ref = (await write_products(woo, record))[record.key].target_ref
        hook = {"topic": "product.updated", "delivery_url": receiver.url, "secret": SECRET}
        api.post("/webhooks", json=hook).raise_for_status()
        await deliveries(sandbox_shop, receiver)
        receiver.requests.clear()
        variant = record.variants[0].model_copy(update={"available": Decimal(2)})
        changed = record.model_copy(update={"variants": [variant, record.variants[1]]})
        await write_products(woo, changed, refs={record.key: ref})

        received = await deliveries(sandbox_shop, receiver)
        bodies = [json.loads(body) for _headers, body in received]
        assert {item["type"] for item in bodies} == {"variable", "variation"}
        parent = next(item for item in bodies if item["type"] == "variable")
        assert parent["name"] == "Hoodie &amp; Cap" and parent["description"].startswith("<p>")
        for headers, body in received:
            hint = woo.parse_webhook(headers, body)
            assert hint is not None and hint.keys == [str(ref["id"])]  # a variation names its product
        [back] = await woo.read("product", [str(ref["id"])])
        assert isinstance(back, Product) and back == as_written(changed, ref)
        assert not diff_records(changed, back)
    finally:
        receiver.close()
