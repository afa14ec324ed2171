"""The catalogue pushed one request per product with the `woocommerce` package, against emporion's sync."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
from woocommerce import API

from bench.support.catalogue import initial_sync
from bench.support.engine import bench_engine, catalogue_settings, sqlite_url
from bench.support.measure import Meter, target
from bench.support.sandbox import SandboxProcess, model_figures, model_options, sandbox_process
from bench.support.synthetic import CATEGORIES, SyntheticCatalogue
from bench.support.workdir import scratch
from emporion.model import Product

DEFAULT_SIZE = 2_000
SPEEDUP_TARGET = 30  # per-request latency: one request per product pays it every time
MODEL_SPEEDUP_TARGET = 3  # the latency model: a real shop charges per item, batches save the rest
SAFETY_STOCK = 1


def run(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """Push `size` products both ways into two fresh sandboxes that answer alike; compare the rates.

    The sandboxes either wait `latency` seconds before each answer (a slow host, per request), or run
    the latency model calibrated on a real WooCommerce 10 (`-o model=wc10`, per item, shared CPU).
    """
    flags = model_options(options)
    latency = float(options.get("latency", 0.0 if flags else 0.02))
    goal = float(options.get("target", MODEL_SPEEDUP_TARGET if flags else SPEEDUP_TARGET))
    with scratch("naive") as folder:
        with sandbox_process(folder / "naive-shop.sqlite", latency, flags) as shop:
            naive = push_naively(shop, SyntheticCatalogue(size))
            naive["shop_products"] = shop.count("/products")
        with sandbox_process(folder / "emporion-shop.sqlite", latency, flags) as shop:
            settings = catalogue_settings(shop, sqlite_url(folder / "state.db"))
            figures = anyio.run(_emporion, settings, SyntheticCatalogue(size))
            figures["shop_products"] = shop.count("/products")
            figures["shop_skus_written_twice"] = written_twice(shop)
    speedup = round(naive["wall_s"] / figures["wall_s"], 1) if figures["wall_s"] else None
    clean = figures["failed"] == 0 and figures["shop_skus_written_twice"] == 0
    return {
        "size": size,
        "latency_s": latency,
        **model_figures(options),
        "naive": naive,
        "emporion": figures,
        "speedup": speedup,
        "targets": {
            "speedup": target(speedup, goal, (speedup or 0) >= goal),
            "emporion_clean": target(clean, True, clean),
        },
    }


def written_twice(shop: SandboxProcess) -> int:
    """SKUs the shop holds more than once (a product written twice)."""
    seen: dict[str, int] = {}
    page = 1
    while True:
        items = shop.get("/products", per_page=100, page=page, orderby="id", order="asc", _fields="sku")
        for item in items:
            if item.get("sku"):
                seen[item["sku"]] = seen.get(item["sku"], 0) + 1
        if len(items) < 100:
            return sum(1 for count in seen.values() if count > 1)
        page += 1


async def _emporion(settings: Any, source: SyntheticCatalogue) -> dict[str, Any]:
    """emporion's initial sync of the same catalogue, and its figures."""
    async with bench_engine(settings, source) as engine:
        figures = (await initial_sync(engine)).as_dict()
    keys = ("products", "variants", "wall_s", "items_per_s", "shop_requests", "requests_per_item", "failed")
    return {key: figures[key] for key in keys}


def push_naively(shop: SandboxProcess, source: SyntheticCatalogue) -> dict[str, Any]:
    """What common plugins and scripts do: one POST per category, per product and per variation."""
    api = API(
        url=shop.base_url,
        consumer_key=shop.consumer_key,
        consumer_secret=shop.consumer_secret,
        version="wc/v3",
        timeout=60,
    )
    requests, errors, variants = 0, 0, 0
    meter = Meter().start()
    category_ids: dict[str, int] = {}
    for category in CATEGORIES:  # parents come first in the list
        body: dict[str, Any] = {"name": category.name}
        if category.parent_key:
            body["parent"] = category_ids[category.parent_key]
        answer = api.post("products/categories", body)
        requests += 1
        category_ids[category.key] = answer.json()["id"]
    for index in range(source.size):
        product = source.product(index)
        answer = api.post("products", product_body(product, category_ids))
        requests += 1
        if answer.status_code != 201:
            errors += 1
            continue
        product_id = answer.json()["id"]
        for variant in product.variants:
            body = {
                "sku": variant.sku,
                "regular_price": str(variant.list_price),
                "manage_stock": True,
                "stock_quantity": available(variant.stock),
                "attributes": [{"name": name, "option": value} for name, value in variant.attributes.items()],
            }
            reply = api.post(f"products/{product_id}/variations", body)
            requests += 1
            variants += 1
            errors += reply.status_code != 201
    meter.stop()
    return {
        "products": source.size,
        "variants": variants,
        "wall_s": round(meter.wall, 2),
        "items_per_s": round(source.size / meter.wall, 1),
        "requests": requests,
        "requests_per_item": round(requests / max(source.size, 1), 3),
        "errors": errors,
    }


def available(stock: Any) -> int:
    """What a script sends as stock: warehouse WH minus the same safety stock as the flow."""
    on_hand = sum((level.quantity for level in stock if level.warehouse == "WH"), Decimal(0))
    return max(int(on_hand) - SAFETY_STOCK, 0)


def product_body(product: Product, category_ids: dict[str, int]) -> dict[str, Any]:
    """The product as a typical script sends it."""
    body: dict[str, Any] = {
        "name": product.name,
        "sku": product.sku,
        "type": "variable" if product.variants else "simple",
        "description": product.description,
        "categories": [{"id": category_ids[key]} for key in product.categories],
        "weight": str(product.weight),
    }
    if product.variants:
        body["attributes"] = [
            {"name": name, "options": values, "variation": True, "visible": True}
            for name, values in product.attributes.items()
        ]
    else:
        body["regular_price"] = str(product.list_price)
        body["manage_stock"] = True
        body["stock_quantity"] = available(product.stock)
        if product.sale_price:
            body["sale_price"] = str(product.sale_price.price)
    return body
