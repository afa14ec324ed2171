"""Requests under the latency model: a worker held, costs spent on the shared CPU, batches item by item.

Under the model a batch is worked through one item at a time (WooCommerce runs its items one after the
other in one PHP request), so two concurrent batches interleave; two creates of one SKU at once meet
WooCommerce's SKU lock: the one that finds the SKU being inserted gets `woocommerce_rest_product_not_created`
(no resource id), the one that finds it stored gets `product_invalid_sku` naming the product that holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response

from emporion_devkit.sandbox.woocommerce.errors import ApiError, no_route
from emporion_devkit.sandbox.woocommerce.latency import LatencyRuntime
from emporion_devkit.sandbox.woocommerce.shop import BATCH_LIMIT

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.app import RestRequest, SandboxApp

SECTIONS = (("create", "create"), ("update", "update"), ("delete", "delete"))
CREATED_KINDS = ("product", "variation")
LOCK_WINDOW = 0.2  # the share of a create's work during which its SKU is held in the lookup table


def sku_lock_error(sku: str) -> dict[str, Any]:
    """The item WooCommerce answers when another request is inserting the same SKU right now."""
    return {
        "id": 0,
        "error": {
            "code": "woocommerce_rest_product_not_created",
            "message": f"The product with SKU ({sku}) you are trying to insert is already present"
            " in the lookup table",
            "data": {"status": 400},
        },
    }


async def serve(app: SandboxApp, runtime: LatencyRuntime, rest: RestRequest, route: str) -> Response:
    """Answer one authenticated API request as the modelled host would, in time and in content."""
    from emporion_devkit.sandbox.woocommerce.app import COLLECTIONS, EDIT, READ, ROUTE, json_response

    model = runtime.model
    runtime.stats["requests"] += 1
    await runtime.acquire()
    created = 0
    try:
        factor = runtime.factor()
        reading = rest.method in READ
        base = model.read_request_ms if reading else model.write_request_ms
        await runtime.work(base * factor / 1000)
        match = ROUTE.match(route)
        if match is not None and match["tail"] == "batch" and rest.method in EDIT:
            kind = COLLECTIONS[match["collection"] or match["nested"]]
            if not app.shop.resources[kind].editable:
                raise no_route()
            app.require(rest, "batch")
            answer, created = await _batch(app, runtime, rest, kind, int(match["parent"] or 0), factor)
            return json_response(answer)
        response = app.dispatch(rest, route)
        if response.status_code < 400:
            action, count = _cost(rest.method, response)
            await runtime.work(model.item_ms(action) * count * factor / 1000)
            if action == "create" and match is not None:
                kind = COLLECTIONS[match["collection"] or match["nested"]]
                created = kind in CREATED_KINDS
        return response
    finally:
        runtime.release()
        if created:
            runtime.created()


def _cost(method: str, response: Response) -> tuple[str, int]:
    """The action a single request's item cost is charged as, and how many items."""
    if method in ("GET", "HEAD"):
        try:
            body = orjson.loads(bytes(response.body))
        except orjson.JSONDecodeError:
            return "read", 1
        return "read", len(body) if isinstance(body, list) else 1
    if method == "POST" and response.status_code == 201:
        return "create", 1
    if method == "DELETE":
        return "delete", 1
    return "update", 1


async def _batch(
    app: SandboxApp, runtime: LatencyRuntime, rest: RestRequest, kind: str, parent: int, factor: float
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """A batch worked through item by item; (the answer, how many products were created)."""
    body = rest.body()
    sections = {name: body.get(name) or [] for name, _ in SECTIONS}
    if sum(len(items) for items in sections.values() if isinstance(items, list)) > BATCH_LIMIT:
        raise ApiError(
            413,
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
        )
    app.shop.check_parent(app.shop.resources[kind], parent)
    answer: dict[str, list[dict[str, Any]]] = {}
    created = 0
    for section, action in SECTIONS:
        if section not in body:
            continue
        items = sections[section] if isinstance(sections[section], list) else []
        out: list[dict[str, Any]] = []
        for item in items:
            cost = runtime.item_cost(action, factor)
            if section == "create" and kind in CREATED_KINDS:
                result = await _create(app, runtime, rest, kind, parent, item, cost)
                created += "error" not in result
            else:
                await runtime.work(cost)
                result = app.sandbox.batch(kind, {section: [item]}, parent, rest.key)[section][0]
            out.append(result)
        answer[section] = out
    return answer, created


async def _create(
    app: SandboxApp,
    runtime: LatencyRuntime,
    rest: RestRequest,
    kind: str,
    parent: int,
    item: Any,
    cost: float,
) -> dict[str, Any]:
    """One created product or variation, with the SKU lock somewhere inside its work."""
    raw = item.get("sku") if isinstance(item, dict) else None
    sku = raw.strip() if isinstance(raw, str) else ""
    if not sku:
        await runtime.work(cost)
        return app.sandbox.batch(kind, {"create": [item]}, parent, rest.key)["create"][0]
    # validation refuses a stored SKU early in the item's work (the rest is skipped); the SKU lock is
    # taken near its end, and a create that finds it taken has done nearly all of its work in vain
    check = runtime.random.uniform(0, 1 - LOCK_WINDOW)
    await runtime.work(cost * check)
    if app.shop.store.ids("product", "sku = ?", [sku]) or app.shop.store.ids("variation", "sku = ?", [sku]):
        return app.sandbox.batch(kind, {"create": [item]}, parent, rest.key)["create"][0]
    await runtime.work(cost * (1 - check - LOCK_WINDOW))
    if sku in runtime.claims:
        await runtime.work(cost * LOCK_WINDOW)
        return sku_lock_error(sku)
    token = id(item)
    runtime.claims[sku] = token
    try:
        await runtime.work(cost * LOCK_WINDOW)
        return app.sandbox.batch(kind, {"create": [item]}, parent, rest.key)["create"][0]
    finally:
        if runtime.claims.get(sku) == token:
            del runtime.claims[sku]
