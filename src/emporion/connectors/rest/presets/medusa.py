"""What the Medusa v2 description cannot say: products made in several calls, stock levels, order progress.

A Medusa product has options, variants, prices per currency and an inventory item per variant whose
stock is kept per stock location. A simple product is a product with one variant whose only option
is "Default"; a product with variants keeps the ERP's product SKU as its `external_id`. Prices are
read and written in `options.currency`; stock is what the shop can sell at
`options.stock_location_id`: read as stocked less reserved, written as the wanted units plus those
reserved by orders not fulfilled yet (the level is made when missing), so that an order the ERP has
taken in is not counted twice while Medusa still reserves it. Medusa takes no idempotency key: a
create whose answer is lost is looked up by SKU (GET /admin/products?variants[sku]=) before it
could be repeated. Medusa does not round tax (19% of 4.90 is 0.931): an order is read with the
total it shows the shopper (its total to the cent, half up) and each line's and shipping method's
tax in cents, the cent the rounding of the parts lost or gained given to the part it moved most, so
that the parts add up to that total. Payments and refunds are read in cents too. Order progress is
completed here: the lines still to fulfil and the shipment with its tracking label, the payment to
refund (captured first), status actions, notes kept in the order's metadata.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, Retryable, WriteItem
from emporion.connectors.rest.hooks import Hooks
from emporion.connectors.rest.settings import Call, OrderEntity
from emporion.connectors.rest.writes import written_fields
from emporion.model import Product, Variant

if TYPE_CHECKING:
    from emporion.connectors.rest.client import Answer
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any
CENT = Decimal("0.01")
DEFAULT_OPTION = "Default"
LEVELS = "/admin/inventory-items/location-levels/batch"
ITEMS = "id,*variants,*variants.inventory_items"
STATUS_ACTIONS = {"completed": "complete", "canceled": "cancel", "archived": "archive"}


def cents(amount: Any) -> Decimal:
    """An amount Medusa sends unrounded (0.931) as cents, half up (0.93)."""
    return Decimal(str(amount or 0)).quantize(CENT, ROUND_HALF_UP)


def exact(value: Any) -> Decimal:
    """A JSON number as an exact Decimal (0 when absent)."""
    return Decimal(str(value or 0))


def amount_of(value: Any) -> Decimal | None:
    """A JSON number (int or Decimal) as Decimal, None when absent."""
    return None if value is None else Decimal(str(value))


async def send(
    connector: DeclarativeConnector, method: str, path: str, label: str, body: Json = None, **params: str
) -> Json:
    """One request of the preset's own (body and parameters sent as they are); the answer's JSON."""
    call = Call.model_validate(
        {
            "method": method,
            "path": "{path}",
            "params": {name: f"{{param_{name}}}" for name in params},
            "body": None if body is None else "{payload}",
        }
    )
    values = {"path": path, "payload": body} | {f"param_{name}": value for name, value in params.items()}
    answer = await connector.client.call(call, values, record=label, read=method == "GET")
    return answer.body


def price_in(variant: Json, currency: str) -> Decimal | None:
    """The variant's price in `currency` without rules (not a price list's or a region's)."""
    for price in variant.get("prices") or []:
        if str(price.get("currency_code", "")).lower() == currency and not price.get("rules"):
            return amount_of(price.get("amount"))
    return None


def level_at(variant: Json, location: str) -> tuple[str | None, Json | None]:
    """The variant's inventory item id and its level at `location` (None where missing)."""
    for link in variant.get("inventory_items") or []:
        levels = (link.get("inventory") or {}).get("location_levels") or []
        found = next((level for level in levels if level.get("location_id") == location), None)
        return link.get("inventory_item_id"), found
    return None, None


def reserved(level: Json | None) -> Decimal:
    """Units reserved by placed orders not fulfilled yet at a level (0 without one)."""
    return Decimal(0) if level is None else exact(level.get("reserved_quantity"))


def sellable_at(variant: Json, location: str) -> Decimal | None:
    """Units the shop can sell at `location` (stocked less reserved): 0 without a level, None when
    Medusa keeps no stock for the variant."""
    if not variant.get("manage_inventory", True) or not location:
        return None
    _, level = level_at(variant, location)
    return Decimal(0) if level is None else exact(level.get("stocked_quantity")) - reserved(level)


def is_simple(data: Json) -> bool:
    """One variant whose options are only the "Default" one."""
    variants = data.get("variants") or []
    return len(variants) == 1 and all(
        (option.get("option") or {}).get("title") == DEFAULT_OPTION
        for option in variants[0].get("options") or []
    )


def shape_product(data: Json, currency: str, location: str) -> Json:
    """A Medusa product with its SKU, price and stock where the description reads them (`$.shaped`)."""
    variants = [
        {
            **variant,
            "shaped_price": price_in(variant, currency),
            "shaped_available": sellable_at(variant, location),
        }
        for variant in data.get("variants") or []
    ]
    shaped: dict[str, Any] = {
        "sku": data.get("external_id") or data.get("handle"),
        "currency": currency.upper(),
    }
    if is_simple(data):
        only = variants[0]
        shaped |= {
            "sku": only.get("sku"),
            "price": only["shaped_price"],
            "available": only["shaped_available"],
        }
        shaped |= {"variants": [], "options": []}
    else:
        options = [
            {
                "title": option.get("title"),
                "values": sorted(str(v.get("value")) for v in option.get("values") or []),
            }
            for option in data.get("options") or []
        ]
        shaped |= {"variants": variants, "options": options}
    return {**data, "shaped": shaped}


def rounded_parts(parts: list[Json], order_tax: Decimal) -> None:
    """Each part's tax in cents (`shaped_tax`), the cents the rounding lost or gained given back to
    the parts it moved most, so that they add up to the order's tax to the cent (what Medusa shows)."""
    for part in parts:
        part["shaped_tax"] = cents(part.get("tax_total"))
    left = order_tax - sum((part["shaped_tax"] for part in parts), Decimal(0))
    step = CENT if left > 0 else -CENT
    moved = sorted(
        parts, key=lambda part: (exact(part.get("tax_total")) - part["shaped_tax"]) * step, reverse=True
    )
    for part in moved[: int(abs(left) / CENT)]:
        part["shaped_tax"] += step


def tax_lines(items: list[Json], methods: list[Json]) -> list[dict[str, Any]]:
    """The order's tax per rate (by each part's first tax line): on lines, and on shipping."""
    by_code: dict[str, dict[str, Any]] = {}
    for kind, parts in (("tax_total", items), ("shipping_tax_total", methods)):
        for part in parts:
            for tax_line in (part.get("tax_lines") or [])[:1]:
                code = str(tax_line.get("code") or tax_line.get("rate"))
                entry = by_code.setdefault(
                    code,
                    {"code": tax_line.get("code") or "", "label": tax_line.get("description") or ""}
                    | {
                        "rate": tax_line.get("rate"),
                        "tax_total": Decimal(0),
                        "shipping_tax_total": Decimal(0),
                    },
                )
                entry[kind] += part["shaped_tax"]
    return list(by_code.values())


def shape_order(data: Json) -> Json:
    """A Medusa order in cents: its total as Medusa shows it (half up), taxes rounded to add up to it,
    a status word that says "shipped" or "delivered" for a pending order whose fulfilment says so."""
    items = [dict(line) for line in data.get("items") or []]
    methods = [dict(line) for line in data.get("shipping_methods") or []]
    for part in [*items, *methods]:
        part["shaped_net"] = cents(exact(part.get("total")) - exact(part.get("tax_total")))
    unrounded = sum((exact(part.get("tax_total")) for part in [*items, *methods]), Decimal(0))
    rounded_parts([*items, *methods], cents(unrounded))
    shipping_tax = sum((line["shaped_tax"] for line in methods), Decimal(0))
    tax = sum((line["shaped_tax"] for line in items), Decimal(0)) + shipping_tax
    net = sum((line["shaped_net"] for line in [*items, *methods]), Decimal(0))
    status = str(data.get("status") or "")
    if status == "pending":
        fulfilment = str(data.get("fulfillment_status") or "")
        status = {"shipped": "shipped", "partially_shipped": "shipped", "partially_delivered": "shipped"}.get(
            fulfilment, "delivered" if fulfilment == "delivered" else status
        )
    fulfilments = [{**f, "shaped_state": fulfilment_state(f)} for f in data.get("fulfillments") or []]
    collections = [
        {**collection, "payments": [rounded_payment(p) for p in collection.get("payments") or []]}
        for collection in data.get("payment_collections") or []
    ]
    shaped = {
        "status": status,
        "shipping_total": sum((line["shaped_net"] for line in methods), Decimal(0)),
        "shipping_tax": shipping_tax,
        "tax_total": tax,
        "total": net + tax,
        "tax_lines": tax_lines(items, methods),
    }
    lists = {"items": items, "shipping_methods": methods, "fulfillments": fulfilments}
    return {**data, **lists, "payment_collections": collections, "shaped": shaped}


def rounded_payment(payment: Json) -> Json:
    """A payment and its refunds with their amounts in cents (Medusa charges the unrounded total)."""
    refunds = [{**refund, "amount": cents(refund.get("amount"))} for refund in payment.get("refunds") or []]
    return {**payment, "amount": cents(payment.get("amount")), "refunds": refunds}


def fulfilment_state(fulfilment: Json) -> str:
    """A fulfilment's state from its moments."""
    for moment, state in (
        ("canceled_at", "canceled"),
        ("delivered_at", "delivered"),
        ("shipped_at", "shipped"),
    ):
        if fulfilment.get(moment):
            return state
    return "fulfilled"


class MedusaHooks(Hooks):
    """Medusa's products and order progress, where one described call is not enough."""

    def __init__(self, connector: DeclarativeConnector | None = None) -> None:
        self.connector = connector
        options = connector.settings.options if connector else {}
        self.currency = str(options.get("currency") or "eur").lower()
        self.location = str(options.get("stock_location_id") or "")
        self.channel = str(options.get("sales_channel_id") or "")
        self.profile = str(options.get("shipping_profile_id") or "")

    async def start(self, connector: DeclarativeConnector) -> None:
        """This connection's own hooks (its currency and location), its shipping profile, order progress."""
        bound = MedusaHooks(connector)
        connector.hooks = bound
        if not bound.profile:
            found = await send(
                connector, "GET", "/admin/shipping-profiles", "shipping profile", type="default"
            )
            profiles = found.get("shipping_profiles") or []
            bound.profile = str(profiles[0]["id"]) if profiles else ""
        OrderProgress(connector).install()

    def shape_read(self, entity: str, data: Json) -> Json:
        """Products flattened, orders rounded; other records as they are."""
        if not isinstance(data, dict):
            return data
        if entity == "product":
            return shape_product(data, self.currency, self.location)
        if entity == "order" and isinstance(data.get("items"), list):
            return shape_order(data)
        return data

    async def write(
        self, connector: DeclarativeConnector, entity: str, item: WriteItem, ref: dict[str, object] | None
    ) -> Outcome | None:
        """A product created or updated with its variants, prices and stock; other entities as described."""
        if entity != "product" or not isinstance(item.record, Product):
            return None
        return await ProductWriter(self, connector, item).write(ref)


def handle_of(sku: str) -> str:
    """A product handle (URL name) made from its SKU: unique as the SKU is."""
    return re.sub(r"[^a-z0-9]+", "-", sku.lower()).strip("-") or "product"


class ProductWriter:
    """One product written to Medusa: found by SKU, created whole, or updated where it differs."""

    def __init__(self, hooks: MedusaHooks, connector: DeclarativeConnector, item: WriteItem) -> None:
        assert isinstance(item.record, Product)
        self.hooks = hooks
        self.connector = connector
        self.item = item
        self.product: Product = item.record
        self.label = f"product {self.product.sku or item.key}"
        self.sent = 0

    async def send(self, method: str, path: str, body: Json = None, **params: str) -> Json:
        """One call of the preset, its failure naming the product."""
        self.sent += method != "GET"
        return await send(self.connector, method, path, self.label, body, **params)

    def variants(self) -> list[Variant]:
        """The product's variants; a simple product is its own single variant."""
        if self.product.variants:
            return self.product.variants
        product = self.product
        only = Variant(
            key=product.key, sku=product.sku, list_price=product.list_price, available=product.available
        )
        return [only.model_copy(update={"attributes": {DEFAULT_OPTION: DEFAULT_OPTION}})]

    def named(self, field: str, fields: frozenset[str] | None) -> bool:
        """Whether the write sends `field` (a variant's fields travel with `variants`)."""
        return fields is None or field in fields or (bool(self.product.variants) and "variants" in fields)

    async def write(self, ref: dict[str, object] | None) -> Outcome:
        """Create (after a search by SKU), or update what differs."""
        if not self.product.sku or any(not variant.sku for variant in self.variants()):
            raise Permanent("Medusa sells variants by SKU: a SKU is missing", record=self.label, field="sku")
        current = await self.connector.raw("product", str(ref["id"])) if ref else None
        searched = ref is None and not self.item.target_ref and not self.product.variants
        if current is None and not searched:  # a simple product's SKU was looked up already
            ref = await self.find()
            current = await self.connector.raw("product", str(ref["id"])) if ref else None
        if ref is None or current is None:
            return await self.create()
        await self.update(str(ref["id"]), current)
        if self.item.target_ref:
            status = OutcomeStatus.UPDATED if self.sent else OutcomeStatus.UNCHANGED
        else:
            status = OutcomeStatus.MATCHED
        return Outcome(self.item.key, status, {"id": str(ref["id"])})

    async def find(self) -> dict[str, object] | None:
        """The product by its SKU: its external_id, else one of its variants' SKUs."""
        searches = [{"external_id": self.product.sku}] + [
            {"variants[sku]": variant.sku} for variant in self.variants()[:1]
        ]
        for search in searches:
            found = await self.send("GET", "/admin/products", fields="id", **search)
            if found.get("products"):
                return {"id": str(found["products"][0]["id"])}
        return None

    def variant_body(self, variant: Variant) -> dict[str, Any]:
        """A variant as Medusa creates it: SKU, title, options, price in the currency, managed stock."""
        title = (
            " ".join([self.product.name, *variant.attributes.values()]).strip()
            if self.product.variants
            else ""
        )
        body: dict[str, Any] = {
            "title": title or self.product.name,
            "sku": variant.sku,
            "options": dict(variant.attributes),
            "manage_inventory": True,
            "prices": [],
        }
        if variant.list_price is not None:
            body["prices"] = [{"currency_code": self.hooks.currency, "amount": variant.list_price}]
        return body

    def options(self) -> list[dict[str, Any]]:
        """The product's options: each attribute's values in the order the variants name them."""
        wanted: dict[str, list[str]] = {}
        for variant in self.variants():
            for name, value in variant.attributes.items():
                values = wanted.setdefault(name, [])
                if value not in values:
                    values.append(value)
        return [{"title": name, "values": values} for name, values in wanted.items()]

    async def create(self) -> Outcome:
        """The product with its options, variants and prices, then its stock levels at the location."""
        product = self.product
        body: dict[str, Any] = {
            "title": product.name,
            "description": product.description or None,
            "status": "published" if product.active else "draft",
            "external_id": product.sku,
            "handle": handle_of(product.sku),
            "options": self.options(),
            "variants": [self.variant_body(variant) for variant in self.variants()],
        }
        if self.hooks.profile:
            body["shipping_profile_id"] = self.hooks.profile
        if self.hooks.channel:
            body["sales_channels"] = [{"id": self.hooks.channel}]
        try:
            made = await self.send("POST", "/admin/products", body, fields=ITEMS)
        except Retryable:  # sent, answer lost: did the create happen?
            found = await self.find()
            if found is None:
                raise
            await self.stock(str(found["id"]), {variant.sku: variant for variant in self.variants()})
            return Outcome(self.item.key, OutcomeStatus.CREATED, found)
        ident = str(made["product"]["id"])
        await self.stock(ident, {variant.sku: variant for variant in self.variants()}, made["product"])
        return Outcome(self.item.key, OutcomeStatus.CREATED, {"id": ident})

    async def stock(self, ident: str, variants: dict[str, Variant], made: Json = None) -> None:
        """Stock levels at the location for freshly made variants (Medusa makes items, no levels)."""
        location = self.hooks.location
        wanted = {sku: v.available for sku, v in variants.items() if v.available is not None}
        if not location or not wanted:
            return
        held = {"product": made} if made else await self.send("GET", f"/admin/products/{ident}", fields=ITEMS)
        levels = [
            {"inventory_item_id": link["inventory_item_id"], "location_id": location}
            | {"stocked_quantity": int(wanted[variant["sku"]])}
            for variant in held["product"].get("variants") or []
            if variant.get("sku") in wanted
            for link in (variant.get("inventory_items") or [])[:1]
        ]
        if levels:
            await self.send("POST", LEVELS, {"create": levels})

    async def update(self, ident: str, current: Json) -> None:
        """The product's own fields, each variant's price and stock by SKU, new variants made."""
        fields = written_fields(self.item, False)
        product = self.product
        wanted: dict[str, Any] = {}
        if (fields is None or "name" in fields) and product.name != current.get("title"):
            wanted["title"] = product.name
        if (fields is None or "description" in fields) and (product.description or None) != current.get(
            "description"
        ):
            wanted["description"] = product.description or None
        status = "published" if product.active else "draft"
        if (fields is None or "active" in fields) and status != current.get("status"):
            wanted["status"] = status
        if wanted:
            await self.send("POST", f"/admin/products/{ident}", wanted)
        held = {variant.get("sku"): variant for variant in current.get("variants") or []}
        prices: list[Json] = []
        create: list[dict[str, Any]] = []
        update: list[dict[str, Any]] = []
        new: list[Variant] = []
        for variant in self.variants():
            existing = held.get(variant.sku)
            if existing is None:
                new.append(variant)
                continue
            if self.named("list_price", fields) and variant.list_price is not None:
                if price_in(existing, self.hooks.currency) != variant.list_price:
                    prices.append({"id": existing["id"], "prices": self.prices(existing, variant.list_price)})
            if self.named("available", fields) and variant.available is not None and self.hooks.location:
                if sellable_at(existing, self.hooks.location) != variant.available:
                    item_id, level = level_at(existing, self.hooks.location)
                    if item_id is not None:
                        entry: dict[str, Any] = {"inventory_item_id": item_id}
                        entry |= {
                            "location_id": self.hooks.location,
                            "stocked_quantity": int(variant.available + reserved(level)),
                        }
                        (create if level is None else update).append(entry)
        if prices:
            await self.send("POST", f"/admin/products/{ident}/variants/batch", {"update": prices})
        if create or update:
            await self.send("POST", LEVELS, {"create": create, "update": update})
        if new and product.variants and (fields is None or "variants" in fields):
            await self.add_variants(ident, current, new)

    def prices(self, existing: Json, amount: Decimal) -> list[dict[str, Any]]:
        """The variant's prices with the one in the currency set to `amount` (the others kept)."""
        kept = [
            {"id": price["id"], "currency_code": price["currency_code"], "amount": amount_of(price["amount"])}
            for price in existing.get("prices") or []
            if price.get("rules") or str(price.get("currency_code", "")).lower() != self.hooks.currency
        ]
        return [*kept, {"currency_code": self.hooks.currency, "amount": amount}]

    async def add_variants(self, ident: str, current: Json, new: list[Variant]) -> None:
        """Variants the product lacks: the option values they name added first, then their stock."""
        held = {option.get("title"): option for option in current.get("options") or []}
        add: list[dict[str, Any]] = []
        update: list[dict[str, Any]] = []
        for option in self.options():
            existing = held.get(option["title"])
            if existing is None:
                add.append(option)
                continue
            values = {value.get("value") for value in existing.get("values") or []}
            missing = [value for value in option["values"] if value not in values]
            if missing:
                update.append({"product_option_id": existing["id"], "add": [{"value": v} for v in missing]})
        if add or update:
            await self.send("POST", f"/admin/products/{ident}/options/batch", {"add": add, "update": update})
        await self.send(
            "POST", f"/admin/products/{ident}/variants/batch", {"create": [self.variant_body(v) for v in new]}
        )
        await self.stock(ident, {variant.sku: variant for variant in new})


def remaining_items(order: Json) -> list[dict[str, Any]]:
    """The order's line items with the quantities not fulfilled yet."""
    left = []
    for item in order.get("items") or []:
        done = int(Decimal(str((item.get("detail") or {}).get("fulfilled_quantity") or 0)))
        quantity = int(Decimal(str(item.get("quantity") or 0))) - done
        if quantity > 0:
            left.append({"id": item["id"], "quantity": quantity})
    return left


class OrderProgress:
    """The order calls of the description, completed with what Medusa needs before they are sent."""

    def __init__(self, connector: DeclarativeConnector) -> None:
        self.connector = connector
        self.plain = connector.client.call
        settings = connector.entity("order") if connector.settings.entities.order else None
        self.settings = settings if isinstance(settings, OrderEntity) else None

    def install(self) -> None:
        """Put this in front of the connection's calls."""
        self.connector.client.call = self.call  # type: ignore[method-assign]

    async def call(
        self,
        call: Call,
        values: Any = None,
        *,
        record: str | None = None,
        idempotency_key: str | None = None,
        read: bool = False,
    ) -> Answer:
        """Fulfilments, refunds and status actions completed; every other call as it is."""
        given = dict(values or {})
        described = self.settings
        if described is not None and call is described.fulfil:
            return await self.fulfil(call, given, record)
        if described is not None and call is described.refund:
            return await self.refund(call, given, record)
        if described is not None and call is described.status:
            return await self.move(call, given, record)
        if described is not None and call is described.note:
            return await self.note(call, given, record)
        return await self.plain(call, given, record=record, idempotency_key=idempotency_key, read=read)

    async def order(self, values: dict[str, Any], record: str | None) -> Json:
        """The order the call is about, as Medusa holds it now."""
        found = await self.connector.raw("order", str(values["id"]))
        if found is None:
            raise Permanent("Medusa has no such order", record=record, field="id")
        return found

    async def fulfil(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """A fulfilment of every item not yet fulfilled, then its shipment with the tracking label."""
        from emporion.connectors.rest.client import Answer

        items = remaining_items(await self.order(values, record))
        if not items:
            return Answer({}, {})
        answer = await self.plain(call, values | {"items": items}, record=record)
        order = await self.order(values, record)
        fresh = [
            f for f in order.get("fulfillments") or [] if not f.get("shipped_at") and not f.get("canceled_at")
        ]
        if not fresh:
            raise Permanent("Medusa made no fulfilment to ship", record=record, field="shipments")
        fulfilment = max(fresh, key=lambda f: str(f.get("created_at") or ""))
        body: dict[str, Any] = {"items": items}
        number = str(values.get("tracking_number") or "")
        if number:
            url = str(values.get("tracking_url") or "")
            link = url if url.startswith(("http://", "https://")) else f"https://tracking.invalid/{number}"
            body["labels"] = [{"tracking_number": number, "tracking_url": link, "label_url": link}]
        path = f"/admin/orders/{values['id']}/fulfillments/{fulfilment['id']}/shipments"
        await send(self.connector, "POST", path, record or "", body)
        return answer

    async def refund(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """A refund of the order's payment, captured first when it is only authorized."""
        order = await self.order(values, record)
        payments = [
            payment
            for collection in order.get("payment_collections") or []
            for payment in collection.get("payments") or []
            if not payment.get("canceled_at")
        ]
        if not payments:
            raise Permanent("the order has no payment to refund", record=record, field="refunds")
        payment = payments[0]
        if not payment.get("captured_at"):
            await send(self.connector, "POST", f"/admin/payments/{payment['id']}/capture", record or "", {})
        values |= {"payment_id": payment["id"], "reason": values.get("reason") or "refund"}
        return await self.plain(call, values, record=record)

    async def move(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """complete, cancel and archive by Medusa's actions; shipped by fulfilling what is left."""
        status = str(values.get("status") or "")
        if status == "shipped" and self.settings is not None and self.settings.fulfil is not None:
            return await self.fulfil(self.settings.fulfil, values, record)
        action = STATUS_ACTIONS.get(status)
        if action is None:
            raise Permanent(
                f"Medusa has no action that makes an order {status}", record=record, field="status"
            )
        return await self.plain(call, values | {"action": action}, record=record)

    async def note(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """A note kept in the order's metadata (Medusa has no order notes), beside what is there."""
        metadata = dict((await self.order(values, record)).get("metadata") or {})
        name = f"emporion_note_{values.get('note_key') or len(metadata) + 1}"
        return await self.plain(
            call, values | {"metadata": metadata | {name: values.get("text") or ""}}, record=record
        )


HOOKS = MedusaHooks()
