"""Declarative writes on minishop: search before create, idempotency keys, unknown outcomes, batches, stock.

The shop runs behind a recording layer that keeps every API request (method, path, headers, body)
and can refuse the next create before the shop sees it, or lose the shop's answer to it (the create
happens, the connector hears a 504). It also takes `POST /api/products/batch` (`{items}`), answering
each item with the saved product or its error, in the order sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from decimal import Decimal
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emporion.connectors.base import AuthError, Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.rest.connector import DeclarativeConnector
from emporion.connectors.rest.hooks import Hooks
from emporion.connectors.rest.plugin import GRAPHQL_PLUGIN, PLUGIN
from emporion.connectors.rest.settings import Call, GraphQLConnection, RestConnection
from emporion.model import Category, Order, OrderNote, Product, Shipment
from tests.connectors.rest.test_contract import API_KEY, DESCRIPTION, description
from tests.example_shop.server import MiniShop, Refused

AUTH = {"kind": "api_key", "key": API_KEY, "header": "X-Api-Key"}
Scope = MutableMapping[str, Any]
Asgi = Callable[[Scope, Any, Any], Awaitable[None]]


class RecordingShop(MiniShop):
    """minishop behind a layer that records requests, can refuse or lose a create, and takes batches."""

    def __init__(self) -> None:
        super().__init__(api_key=API_KEY, per_page=3)
        self.seen: list[tuple[str, str, dict[str, str], Any]] = []
        self.refuse_next_create = False
        self.lose_next_create = False

    def posts(self, path: str) -> list[tuple[str, str, dict[str, str], Any]]:
        """The POST requests to `path` the shop was sent."""
        return [request for request in self.seen if request[0] == "POST" and request[1] == path]

    async def _batch(self, request: Request) -> JSONResponse:
        """POST /api/products/batch: save each item, answer each with the product or its error."""
        if (refusal := self._refusal(request)) is not None:
            return refusal
        answers: list[dict[str, Any]] = []
        for item in (await request.json())["items"]:
            try:
                ident = item.pop("id", None)
                answers.append(self.save("products", item, int(ident) if ident is not None else None))
            except Refused as refused:
                answers.append(
                    {"sku": item.get("sku"), "error": {"message": refused.message, "field": refused.field}}
                )
        return JSONResponse({"items": answers})

    def app(self) -> Starlette:  # type: ignore[override]
        """The shop's app with the batch route, behind the recording layer."""
        inner = super().app()
        inner.router.routes.insert(0, Route("/api/products/batch", self._batch, methods=["POST"]))
        return self._recording(inner)  # type: ignore[return-value]

    def _recording(self, inner: Asgi) -> Asgi:
        """An ASGI layer that records each request and can refuse or lose the next create."""

        async def app(scope: Scope, receive: Any, send: Any) -> None:
            """Record the request, then refuse, lose or pass on a create as asked."""
            if scope["type"] != "http":
                return await inner(scope, receive, send)
            chunks, more = [], True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
            self.seen.append((scope["method"], scope["path"], headers, json.loads(body) if body else None))
            given = False

            async def replay() -> dict[str, Any]:
                """The request body, read once by the layer, given again to the app."""
                nonlocal given
                if given:
                    return {"type": "http.disconnect"}
                given = True
                return {"type": "http.request", "body": body, "more_body": False}

            creating = scope["method"] == "POST" and scope["path"] == "/api/products"
            if creating and self.refuse_next_create:
                self.refuse_next_create = False
                return await JSONResponse({"error": "unwell"}, 503)(scope, replay, send)
            if creating and self.lose_next_create:
                self.lose_next_create = False

                async def swallow(message: Any) -> None:
                    """Drop the shop's answer (the connection is lost after the shop acted)."""
                    return None

                await inner(scope, replay, swallow)  # the shop creates; its answer is lost
                return await JSONResponse({"error": "gateway timeout"}, 504)(scope, replay, send)
            await inner(scope, replay, send)

        return app


@pytest.fixture
def shop() -> Iterator[RecordingShop]:
    """A recording minishop, paging by three."""
    with RecordingShop().serve() as running:
        yield running  # type: ignore[misc]


def connector_of(settings: RestConnection) -> DeclarativeConnector:
    """The declarative connector of `settings`, built by the plugin."""
    connector = PLUGIN.build("minishop", settings)
    assert isinstance(connector, DeclarativeConnector)
    return connector


@pytest.fixture
async def connector(shop: RecordingShop) -> AsyncIterator[DeclarativeConnector]:
    """The connector of minishop.yaml for the recording shop."""
    connector = connector_of(description(shop, AUTH))
    yield connector
    await connector.close()


def product(sku: str, name: str = "Tea", price: str = "4.50", **more: Any) -> Product:
    """A canonical product with `sku`."""
    return Product(key=f"src-{sku}", sku=sku, name=name, list_price=Decimal(price), **more)


def skus(shop: MiniShop, sku: str) -> list[dict[str, Any]]:
    """The shop's products with `sku`."""
    return [record for record in shop.all("products") if record["sku"] == sku]


async def test_search_before_create_matches_a_product_made_outside(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """An unlinked product whose SKU exists updates that one (MATCHED) and creates nothing."""
    made = shop.save("products", {"sku": "OUT-1", "name": "Made outside", "price": "1"})
    record = product("OUT-1", "Synced")
    (outcome,) = await connector.write("product", [WriteItem(record.key, record)], [])
    assert outcome.status is OutcomeStatus.MATCHED and outcome.target_ref == {"id": str(made["id"])}
    assert shop.posts("/api/products") == [] and skus(shop, "OUT-1")[0]["name"] == "Synced"


async def test_an_unknown_outcome_is_looked_up_not_repeated(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """A create whose answer is lost is found by SKU: CREATED once, never sent twice."""
    shop.lose_next_create = True
    record = product("LOST-1")
    (outcome,) = await connector.write("product", [WriteItem(record.key, record)], [])
    (made,) = skus(shop, "LOST-1")
    assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref == {"id": str(made["id"])}
    assert len(shop.posts("/api/products")) == 1


async def test_the_idempotency_key_is_the_same_when_a_create_is_retried(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """A retried create carries the key of the first attempt; another record another key."""
    shop.refuse_next_create = True
    record = product("IDEM-1")
    (failed,) = await connector.write("product", [WriteItem(record.key, record)], [])
    assert failed.status is OutcomeStatus.FAILED and isinstance(failed.error, Retryable)
    (created,) = await connector.write("product", [WriteItem(record.key, record)], [])
    assert created.status is OutcomeStatus.CREATED and len(skus(shop, "IDEM-1")) == 1
    first, second = (headers.get("idempotency-key") for _, _, headers, _ in shop.posts("/api/products"))
    assert first and first == second
    other = product("IDEM-2")
    await connector.write("product", [WriteItem(other.key, other)], [])
    assert shop.posts("/api/products")[-1][2]["idempotency-key"] != first


async def test_a_batch_answers_each_item(shop: RecordingShop) -> None:
    """A batch call gives each item its outcome: created, matched, or failed naming the field."""
    settings = description(shop, AUTH)
    entity = settings.entities.product
    assert entity is not None
    batch = {"method": "POST", "path": "/products/batch", "body": {"items": "{items}"}, "items": "$.items"}
    settings.entities.product = entity.model_validate(
        {**entity.model_dump(exclude_none=True), "batch": {**batch, "error": "$.error"}, "batch_size": 2}
    )
    connector = connector_of(settings)
    try:
        found_id = shop.save("products", {"sku": "B-2", "name": "Outside", "price": "1"})["id"]
        good, found, bad = product("B-1"), product("B-2", "Found"), product("B-3", price="-1")
        items = [WriteItem(r.key, r) for r in (good, found, bad)]
        outcomes = {o.key: o for o in await connector.write("product", items, [])}
        assert outcomes[good.key].status is OutcomeStatus.CREATED
        assert outcomes[found.key].status is OutcomeStatus.MATCHED
        failure = outcomes[bad.key]
        assert failure.status is OutcomeStatus.FAILED and isinstance(failure.error, Permanent)
        assert failure.error.field == "list_price" and failure.error.record
        assert len(shop.posts("/api/products/batch")) == 2  # batch_size 2: two calls
        sent = [entry for request in shop.posts("/api/products/batch") for entry in request[3]["items"]]
        assert [entry.get("id") for entry in sent if entry["sku"] == "B-2"] == [int(str(found_id))]
        assert len(shop.all("products")) == 2 and skus(shop, "B-2")[0]["name"] == "Found"
    finally:
        await connector.close()


async def test_a_stock_only_write_takes_the_stock_call(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """A write of stock alone sends the stock call's body and leaves the rest as it is."""
    made = shop.save("products", {"sku": "STOCK-1", "name": "Kept", "price": "2", "stock": 1})
    record = product("STOCK-1", "Not this name", available=Decimal(7))
    item = WriteItem(record.key, record, {"id": str(made["id"])}, only=frozenset({"available"}))
    (outcome,) = await connector.write("product", [item], [])
    assert outcome.status is OutcomeStatus.UPDATED
    puts = [
        body
        for method, path, _, body in shop.seen
        if method == "PUT" and path == f"/api/products/{made['id']}"
    ]
    assert puts == [{"stock": 7}]
    assert skus(shop, "STOCK-1")[0]["stock"] == 7 and skus(shop, "STOCK-1")[0]["name"] == "Kept"


async def test_a_linked_product_gone_from_the_shop_is_searched_then_created(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """A 404 on the linked id searches by SKU, then creates."""
    record = product("GONE-1")
    (outcome,) = await connector.write("product", [WriteItem(record.key, record, {"id": "999999"})], [])
    (made,) = skus(shop, "GONE-1")
    assert outcome.status is OutcomeStatus.CREATED and outcome.target_ref == {"id": str(made["id"])}


async def test_an_unchanged_linked_write_sends_nothing(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """Writing what the shop holds already is UNCHANGED, with no write sent."""
    record = product("SAME-1", available=Decimal(5))  # without stock, the create leaves the shop's own
    (first,) = await connector.write("product", [WriteItem(record.key, record)], [])
    writes = shop.writes
    (again,) = await connector.write("product", [WriteItem(record.key, record, first.target_ref)], [])
    assert again.status is OutcomeStatus.UNCHANGED and shop.writes == writes


async def test_a_refused_key_stops_the_write(shop: RecordingShop) -> None:
    """A refused API key is raised, not made every item's failure."""
    connector = connector_of(description(shop, {**AUTH, "key": "wrong-key"}))
    try:
        record = product("AUTH-1")
        with pytest.raises(AuthError):
            await connector.write("product", [WriteItem(record.key, record)], [])
    finally:
        await connector.close()


async def test_order_notes_and_status_are_written_once(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """The ERP's status and note reach the order once; writing them again changes nothing."""
    shop.save("products", {"sku": "ORD-1", "name": "Tea", "price": "4.50", "stock": 5})
    key = str(shop.place_order("buyer@example.com", [("ORD-1", 1)])["id"])
    (order,) = await connector.read("order", [key])
    assert isinstance(order, Order)
    note = OrderNote(key="erp-1", text="Shipped from the ERP")
    update = order.model_copy(update={"status": "completed", "notes": [note]})
    item = WriteItem(key, update, {"id": key}, only=frozenset({"status", "hold", "notes"}))
    (first,) = await connector.write("order", [item], [])
    assert first.status is OutcomeStatus.UPDATED, first.error
    (again,) = await connector.write("order", [item], [])
    assert again.status is OutcomeStatus.UNCHANGED, again.error
    (held,) = [record for record in shop.all("orders") if str(record["id"]) == key]
    assert held["status"] == "done" and [n["key"] for n in held["notes"]] == ["erp-1"]


async def test_a_shipment_without_a_fulfil_call_goes_as_a_note_and_status_and_notes_still_go(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """minishop has no fulfilments: the tracking becomes a customer-visible note, once; the rest goes."""
    shop.save("products", {"sku": "SHIP-1", "name": "Tea", "price": "4.50", "stock": 5})
    key = str(shop.place_order("buyer@example.com", [("SHIP-1", 1)])["id"])
    (order,) = await connector.read("order", [key])
    assert isinstance(order, Order)
    shipment = Shipment(key="s1", carrier="DPD", tracking_numbers=["TRK-77"])
    note = OrderNote(key="erp-1", text="Invoice INV-1")
    update = order.model_copy(update={"status": "shipped", "notes": [note], "shipments": [shipment]})
    item = WriteItem(key, update, {"id": key})
    (first,) = await connector.write("order", [item], [])
    assert first.status is OutcomeStatus.UPDATED, first.error
    (again,) = await connector.write("order", [item], [])
    assert again.status is OutcomeStatus.UNCHANGED, again.error
    (held,) = [record for record in shop.all("orders") if str(record["id"]) == key]
    assert held["status"] == "shipped"
    notes = {n["key"]: n for n in held["notes"]}
    assert set(notes) == {"erp-1", "shipment-s1"}
    assert "TRK-77" in notes["shipment-s1"]["text"] and notes["shipment-s1"]["customer_visible"] is True


async def test_a_shipment_the_shop_cannot_take_is_reported_without_holding_back_the_status(
    shop: RecordingShop,
) -> None:
    """Neither `fulfil` nor `note`: the status still goes; the outcome fails naming the order's shipments."""
    settings = description(shop, AUTH)
    orders = settings.entities.order
    assert orders is not None
    settings.entities.order = orders.model_copy(update={"note": None})
    connector = connector_of(settings)
    try:
        shop.save("products", {"sku": "SHIP-2", "name": "Tea", "price": "4.50", "stock": 5})
        placed = shop.place_order("buyer@example.com", [("SHIP-2", 1)])
        key = str(placed["id"])
        (order,) = await connector.read("order", [key])
        assert isinstance(order, Order)
        shipment = Shipment(key="s1", tracking_numbers=["TRK-78"])
        update = order.model_copy(update={"status": "shipped", "shipments": [shipment]})
        (outcome,) = await connector.write("order", [WriteItem(key, update, {"id": key})], [])
    finally:
        await connector.close()
    assert outcome.status is OutcomeStatus.FAILED
    assert isinstance(outcome.error, Permanent) and outcome.error.field == "shipments"
    assert outcome.error.record == f"order {placed['number']}"
    (held,) = [record for record in shop.all("orders") if str(record["id"]) == key]
    assert held["status"] == "shipped" and held["notes"] == []


async def test_a_category_without_a_slug_is_found_by_name_and_never_made_twice(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """No slug: created without one (the shop makes its own), then matched by name, not made again."""
    records = [Category(key="t1", name="Tea"), Category(key="t2", name="Green tea")]
    outcomes = await connector.write("category", [WriteItem(c.key, c) for c in records], [])
    assert [outcome.status for outcome in outcomes] == [OutcomeStatus.CREATED] * 2, outcomes
    again = await connector.write("category", [WriteItem(c.key, c) for c in records], [])
    assert [outcome.status for outcome in again] == [OutcomeStatus.MATCHED] * 2, again
    assert [o.target_ref for o in again] == [o.target_ref for o in outcomes]
    assert sorted(c["slug"] for c in shop.all("categories")) == ["green-tea", "tea"]


async def test_a_category_without_a_slug_that_cannot_be_searched_for_is_not_created(
    shop: RecordingShop,
) -> None:
    """No list call to find it by name: that category fails alone naming `slug`; the others are made."""
    settings = description(shop, AUTH)
    categories = settings.entities.category
    assert categories is not None
    settings.entities.category = categories.model_copy(update={"list": None})
    connector = connector_of(settings)
    try:
        records = [Category(key="t1", name="Tea"), Category(key="t2", name="Herbs", slug="herbs")]
        outcomes = await connector.write("category", [WriteItem(c.key, c) for c in records], [])
    finally:
        await connector.close()
    statuses = {outcome.key: outcome for outcome in outcomes}
    assert statuses["t2"].status is OutcomeStatus.CREATED
    refused = statuses["t1"]
    assert refused.status is OutcomeStatus.FAILED and isinstance(refused.error, Permanent)
    assert refused.error.field == "slug" and refused.error.record == "category Tea"
    assert [c["slug"] for c in shop.all("categories")] == ["herbs"]


class PresetHooks(Hooks):
    """A preset's code: writes products whose SKU starts with PRESET- itself, and renames on reading."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def shape_read(self, entity: str, data: Any) -> Any:
        """Names read from the shop in upper case (a hook sees every record before the mapping)."""
        return {**data, "name": str(data.get("name", "")).upper()}

    async def write(
        self, connector: DeclarativeConnector, entity: str, item: WriteItem, ref: dict[str, object] | None
    ) -> Outcome | None:
        """Take PRESET- products; leave the others to the described calls."""
        if not item.record.key.startswith("src-PRESET-"):
            return None
        self.written.append(item.key)
        return Outcome(item.key, OutcomeStatus.CREATED, {"id": "preset"})


async def test_a_presets_hooks_write_first_and_shape_reads(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """The preset's write hook takes its items before the described calls; reads pass its shaping."""
    hooks = PresetHooks()
    connector.hooks = hooks
    taken, described = product("PRESET-1"), product("PLAIN-1", "Plain tea")
    outcomes = await connector.write("product", [WriteItem(r.key, r) for r in (taken, described)], [])
    by_key = {outcome.key: outcome for outcome in outcomes}
    assert by_key[taken.key].target_ref == {"id": "preset"} and hooks.written == [taken.key]
    assert skus(shop, "PRESET-1") == [] and len(skus(shop, "PLAIN-1")) == 1
    (read,) = await connector.read("product", [str(by_key[described.key].target_ref["id"])])  # type: ignore[index]
    assert isinstance(read, Product) and read.name == "PLAIN TEA"


class ProgressHooks(Hooks):
    """A preset's order progress: a value computed from the shop's order, the status sent itself."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def progress_values(
        self, connector: DeclarativeConnector, order: Order, current: Any
    ) -> dict[str, Any]:
        """The number of lines the shop's order holds, for every progress call."""
        return {"line_count": len(current["lines"])}

    async def send_progress(
        self,
        connector: DeclarativeConnector,
        part: str,
        call: Call | None,
        values: dict[str, Any],
        record: str,
    ) -> bool:
        """Take the status (kept, not sent to the shop); notes go as described."""
        if part != "status":
            return False
        self.sent.append((part, values))
        return True


async def test_progress_calls_get_the_presets_values_and_a_preset_may_send_a_part_itself(
    shop: RecordingShop,
) -> None:
    """A value the preset computes from the shop's order fills a described note; it sends the status."""
    data = yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8"))
    data |= {"url": f"{shop.url}/api", "auth": AUTH}
    data["entities"]["order"]["note"]["body"]["text"] = "{text} ({line_count} lines)"
    connector = connector_of(RestConnection.model_validate(data))
    hooks = ProgressHooks()
    connector.hooks = hooks
    try:
        shop.save("products", {"sku": "PROG-1", "name": "Tea", "price": "4.50", "stock": 5})
        shop.save("products", {"sku": "PROG-2", "name": "Mug", "price": "9.00", "stock": 5})
        key = str(shop.place_order("buyer@example.com", [("PROG-1", 1), ("PROG-2", 2)])["id"])
        (order,) = await connector.read("order", [key])
        assert isinstance(order, Order) and order.raw_status == "paid"
        note = OrderNote(key="erp-9", text="Invoice INV-9")
        update = order.model_copy(update={"status": "completed", "notes": [note]})
        (outcome,) = await connector.write("order", [WriteItem(key, update, {"id": key})], [])
    finally:
        await connector.close()
    assert outcome.status is OutcomeStatus.UPDATED, outcome.error
    (held,) = [record for record in shop.all("orders") if str(record["id"]) == key]
    assert [n["text"] for n in held["notes"]] == ["Invoice INV-9 (2 lines)"]
    assert held["status"] == "paid"  # the preset took the status: nothing described was sent
    ((part, values),) = hooks.sent
    assert part == "status" and values["status"] == "done" and values["line_count"] == 2
    assert values["id"] == key


class EnrichingHooks(Hooks):
    """A preset that completes each page of products with a call of its own (the categories' names)."""

    def __init__(self) -> None:
        self.pages: list[int] = []

    async def enrich(self, connector: DeclarativeConnector, entity: str, items: list[Any]) -> list[Any]:
        """Products named after their first category as the shop lists it now; others as they are."""
        if entity != "product":
            return items
        self.pages.append(len(items))
        names: dict[str, str] = {}
        async for page in connector.listing("category"):
            names |= {str(category["id"]): category["name"] for category in page}
        return [
            {**item, "name": f"{item['name']} / {names.get(str((item.get('category_ids') or [''])[0]), '-')}"}
            for item in items
            if item["sku"] != "HIDDEN-1"
        ]


async def test_the_enrich_hook_completes_every_page_before_it_is_mapped(
    shop: RecordingShop, connector: DeclarativeConnector
) -> None:
    """Scans and reads by key see the records as the hook completed them; a record it drops is not read."""
    teas = shop.save("categories", {"name": "Teas", "slug": "teas"})
    made = [
        shop.save(
            "products", {"sku": f"RICH-{n}", "name": "Tea", "price": "1.00", "category_ids": [teas["id"]]}
        )
        for n in range(4)
    ]
    hidden = shop.save("products", {"sku": "HIDDEN-1", "name": "Secret", "price": "1.00"})
    hooks = EnrichingHooks()
    connector.hooks = hooks
    scanned = [record async for page in connector.scan("product") for record in page]
    assert sorted(r.name for r in scanned if isinstance(r, Product)) == ["Tea / Teas"] * 4
    assert len(hooks.pages) == 2  # five products in pages of three, each page enriched once
    read = await connector.read("product", [str(made[0]["id"]), str(hidden["id"])])
    assert [(r.key, getattr(r, "name", None)) for r in read] == [(str(made[0]["id"]), "Tea / Teas")]


class ByIdsShop(MiniShop):
    """minishop with a GraphQL products query that takes a list of ids (`ids: [ID!]`); the ids are kept."""

    def __init__(self) -> None:
        super().__init__(api_key=API_KEY, per_page=3)
        self.asked: list[Any] = []

    async def _by_ids(self, request: Request) -> JSONResponse:
        """POST /graphql-by-ids: the products whose id is in the `ids` variable (an error if no list)."""
        ids = (await request.json()).get("variables", {}).get("ids")
        self.asked.append(ids)
        if not isinstance(ids, list):
            return JSONResponse({"errors": [{"message": f"Variable $ids got {ids!r}: a list is expected"}]})
        items = [dict(p) for p in self.found("products", {}) if str(p["id"]) in {str(i) for i in ids}]
        return JSONResponse(json.loads(json.dumps({"data": {"products": {"items": items}}}, default=str)))

    def app(self) -> Starlette:  # type: ignore[override]
        """The shop's app with the by-ids GraphQL route."""
        inner = super().app()
        inner.router.routes.insert(0, Route("/graphql-by-ids", self._by_ids, methods=["POST"]))
        return inner


async def test_a_graphql_ids_param_is_given_the_ids_as_a_list() -> None:
    """Reading by key through a GraphQL list call with `ids_param` sends the keys as a list variable."""
    with ByIdsShop().serve() as running:
        shop: ByIdsShop = running  # type: ignore[assignment]
        ids = [
            str(shop.save("products", {"sku": f"GQ-{n}", "name": "Tea", "price": "2.00"})["id"])
            for n in range(3)
        ]
        settings = GraphQLConnection.model_validate(
            {
                "type": "graphql",
                "url": f"{shop.url}/graphql-by-ids",
                "auth": AUTH,
                "entities": {
                    "product": {
                        "list": {
                            "query": "query($ids: [ID!]) { products(ids: $ids) { items { id sku name price } } }",  # noqa: E501
                            "items": "$.data.products.items",
                        },
                        "ids_param": "ids",
                        "money": "string",
                        "fields": {"sku": "$.sku", "name": "$.name", "list_price": "$.price"},
                    }
                },
            }
        )
        connector = GRAPHQL_PLUGIN.build("byids", settings)
        assert isinstance(connector, DeclarativeConnector)
        try:
            read = await connector.read("product", [ids[0], ids[2]])
            single = await connector.raw("product", ids[1])
        finally:
            await connector.close()
    assert sorted(r.key for r in read) == [ids[0], ids[2]]
    assert single is not None and single["sku"] == "GQ-1"
    assert shop.asked == [[ids[0], ids[2]], [ids[1]]]
