"""What the Vendure description cannot say: products made in several mutations, and order progress.

Vendure sells variants only: a simple product is a Vendure product with one variant without options
(read back as a simple product with that variant's SKU, price and stock); a product with variants
gets one option group per attribute. The product's own SKU of a product with variants is kept as
its slug (Vendure lower-cases slugs). Stock is written as stock on hand at the configured location
(`options.stock_location_id`) and read as what can be sold: on hand less what paid orders hold
(Vendure allocates on payment and takes the units on fulfilment). Amounts are cents.
Order progress needs what a call's placeholders cannot hold: the lines still to fulfil, the settled
payment to refund, a refund settled after it is made, cancelling by `cancelOrder`; `start` puts
these in front of the connection's calls (the mutations stay those of the description).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.connectors.rest.hooks import Hooks
from emporion.connectors.rest.settings import Call
from emporion.connectors.rest.writes import written_fields
from emporion.model import Product, Variant

if TYPE_CHECKING:
    from emporion.connectors.rest.client import Answer
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any
UNION = "__typename ... on ErrorResult { errorCode message }"


def gql(query: str, result: str | None = None) -> Call:
    """A call of the preset's own, its ErrorResult refused as Permanent."""
    error = f"$.data.{result}.message" if result else None
    return Call(query=query, result=f"$.data.{result}" if result else None, error=error)


FIND_BY_SLUG = gql(
    "query($slug: String!) { products(options: {filter: {slug: {eq: $slug}}}) { items { id } } }"
)
CREATE_PRODUCT = gql(
    "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }", "createProduct"
)
UPDATE_PRODUCT = gql(
    "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { id } }", "updateProduct"
)
CREATE_GROUP = gql(
    "mutation($input: CreateProductOptionGroupInput!) { createProductOptionGroup(input: $input) "
    "{ id code options { id code name } } }",
    "createProductOptionGroup",
)
ADD_GROUP = gql(
    "mutation($p: ID!, $g: ID!) { addOptionGroupToProduct(productId: $p, optionGroupId: $g) { id } }",
    "addOptionGroupToProduct",
)
CREATE_OPTION = gql(
    "mutation($input: CreateProductOptionInput!) { createProductOption(input: $input) { id } }",
    "createProductOption",
)
PRODUCT_GROUPS = gql(
    "query($id: ID!) { product(id: $id) { optionGroups { id code name options { id code name } } } }",
    "product",
)
CREATE_VARIANTS = gql(
    "mutation($input: [CreateProductVariantInput!]!) { createProductVariants(input: $input) { id } }"
)
UPDATE_VARIANTS = gql(
    "mutation($input: [UpdateProductVariantInput!]!) { updateProductVariants(input: $input) { id } }"
)
SHIP_FULFILMENT = gql(
    "mutation($id: ID!, $state: String!) { transitionFulfillmentToState(id: $id, state: $state) "
    f"{{ {UNION} ... on Fulfillment {{ id state }} }} }}",
    "transitionFulfillmentToState",
)
SETTLE_REFUND = gql(
    "mutation($input: SettleRefundInput!) { settleRefund(input: $input) "
    f"{{ {UNION} ... on Refund {{ id state }} }} }}",
    "settleRefund",
)
CANCEL_ORDER = gql(
    "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) "
    f"{{ {UNION} ... on Order {{ id state }} }} }}",
    "cancelOrder",
)


async def send(connector: DeclarativeConnector, call: Call, variables: dict[str, Any], label: str) -> Answer:
    """Send one of the preset's calls with `variables` as they are (numbers stay numbers)."""
    templated = call.model_copy(update={"variables": {name: f"{{{name}}}" for name in variables}})
    return await connector.client.call(templated, variables, record=label)


def cents(amount: Decimal | None) -> int | None:
    """Decimal units as Vendure's integer cents."""
    return None if amount is None else int((amount * 100).to_integral_value())


def code_of(text: str) -> str:
    """A Vendure code (option group, option) made from a name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "option"


def saleable(variant: Json) -> int:
    """What a variant can still sell over all its stock locations: on hand less allocated to orders."""
    levels = variant.get("stockLevels") or []
    return sum(int(level.get("stockOnHand") or 0) - int(level.get("stockAllocated") or 0) for level in levels)


def allocated(variant: Json | None, location: str) -> int:
    """Units at `location` that paid orders hold until they are fulfilled."""
    levels = (variant or {}).get("stockLevels") or []
    return sum(
        int(level.get("stockAllocated") or 0)
        for level in levels
        if str(level.get("stockLocationId")) == location
    )


def parent_sku(slug: str, variants: list[Json]) -> str:
    """The SKU of a product with variants: its slug, in the case of the variants' SKUs that begin with it."""
    for variant in variants:
        sku = str(variant.get("sku") or "")
        if sku.lower().startswith(slug) and len(sku) > len(slug):
            return sku[: len(slug)]
    return slug


def attribute_list(variants: list[Json]) -> list[dict[str, Any]]:
    """The product's attributes (option groups) with the values its variants have, as pairs."""
    values: dict[str, set[str]] = {}
    for variant in variants:
        for option in variant.get("options") or []:
            values.setdefault(option["group"]["name"], set()).add(option["name"])
    return [{"name": name, "values": sorted(found)} for name, found in sorted(values.items())]


def shape_product(data: Json) -> Json:
    """A Vendure product as the description reads it: simple (one variant, no options) or with variants."""
    variants = [{**variant, "available": saleable(variant)} for variant in data.get("variants") or []]
    shaped = {**data, "sku": parent_sku(data.get("slug") or "", variants), "variants": variants}
    shaped["attributeList"] = attribute_list(variants)
    if variants:
        shaped["currencyCode"] = variants[0].get("currencyCode")
    if len(variants) == 1 and not variants[0].get("options"):
        only = variants[0]
        shaped |= {"sku": only.get("sku"), "price": only.get("price"), "available": only["available"]}
        shaped["variants"] = []
    return shaped


def split_name(full: str | None) -> tuple[str, str]:
    """A full name as first name and the rest."""
    first, _, last = (full or "").strip().partition(" ")
    return first, last.strip()


def difference(data: Json, gross: str, net: str) -> int:
    """Tax in cents: an amount with tax less the same without."""
    return int(data.get(gross) or 0) - int(data.get(net) or 0)


def shape_order(data: Json) -> Json:
    """A Vendure order with the taxes and names it gives only as gross and net amounts or a full name."""
    billing_first, billing_last = split_name((data.get("billingAddress") or {}).get("fullName"))
    shipping_first, shipping_last = split_name((data.get("shippingAddress") or {}).get("fullName"))
    lines = [
        {**line, "shapedTax": difference(line, "linePriceWithTax", "linePrice")} for line in data["lines"]
    ]
    shipping = [
        {**line, "shapedTax": difference(line, "priceWithTax", "price")} for line in data["shippingLines"]
    ]
    shaped = {
        "billing_first_name": billing_first,
        "billing_last_name": billing_last,
        "shipping_first_name": shipping_first,
        "shipping_last_name": shipping_last,
        "shipping_tax": difference(data, "shippingWithTax", "shipping"),
        "tax_total": difference(data, "totalWithTax", "total"),
    }
    return {**data, "lines": lines, "shippingLines": shipping, "shaped": shaped}


def shape_customer(data: Json) -> Json:
    """A Vendure customer with its default billing and shipping addresses, a guest without an account."""
    addresses = data.get("addresses") or []
    billing = next(
        (a for a in addresses if a.get("defaultBillingAddress")), addresses[0] if addresses else None
    )
    shipping = next((a for a in addresses if a.get("defaultShippingAddress")), billing)
    return {**data, "guest": data.get("user") is None, "billing": named(billing), "shipping": named(shipping)}


def named(address: Json | None) -> Json | None:
    """An address with its full name split into first and last name."""
    if address is None:
        return None
    first, last = split_name(address.get("fullName"))
    return {**address, "firstName": first, "lastName": last}


class VendureHooks(Hooks):
    """Vendure's products and order progress, where one described call is not enough."""

    async def start(self, connector: DeclarativeConnector) -> None:
        """Order progress calls get the values the description cannot compute (see the module)."""
        OrderProgress(connector).install()

    def shape_read(self, entity: str, data: Json) -> Json:
        """Products flattened, orders with their taxes; other records as they are."""
        if not isinstance(data, dict):
            return data
        if entity == "product":
            return shape_product(data)
        if entity == "customer":
            return shape_customer(data)
        if entity == "order" and isinstance(data.get("lines"), list):
            return shape_order({**data, "shippingLines": data.get("shippingLines") or []})
        return data

    async def write(
        self, connector: DeclarativeConnector, entity: str, item: WriteItem, ref: dict[str, object] | None
    ) -> Outcome | None:
        """A product created or updated with its variants; other entities as described."""
        if entity != "product" or not isinstance(item.record, Product):
            return None
        return await ProductWriter(connector, item).write(ref)


class ProductWriter:
    """One product written to Vendure: the product, its option groups, its variants."""

    def __init__(self, connector: DeclarativeConnector, item: WriteItem) -> None:
        assert isinstance(item.record, Product)
        self.connector = connector
        self.item = item
        self.product: Product = item.record
        self.label = f"product {self.product.sku or item.key}"
        self.options = connector.settings.options
        self.sent = 0

    async def send(self, call: Call, variables: dict[str, Any]) -> Answer:
        """One mutation or query of the preset, its failure naming the product."""
        self.sent += 1
        return await send(self.connector, call, variables, self.label)

    def variants(self) -> list[Variant]:
        """The product's variants; a simple product is its own single variant."""
        if self.product.variants:
            return self.product.variants
        product = self.product
        return [
            Variant(
                key=product.key, sku=product.sku, list_price=product.list_price, available=product.available
            )
        ]

    def translation(self, fields: frozenset[str] | None, creating: bool) -> dict[str, Any]:
        """The product's English (or configured language) name, slug and description."""
        text: dict[str, Any] = {"languageCode": self.options.get("language", "en")}
        if fields is None or "name" in fields:
            text["name"] = self.product.name
        if fields is None or "description" in fields:
            text["description"] = self.product.description
        if creating:
            text["slug"] = self.product.sku.lower()
        return text

    async def write(self, ref: dict[str, object] | None) -> Outcome:
        """Create (after a search by slug), or update what differs."""
        if not self.product.sku or any(not variant.sku for variant in self.variants()):
            raise Permanent("Vendure sells variants by SKU: a SKU is missing", record=self.label, field="sku")
        if ref is None:
            found = await self.send(FIND_BY_SLUG, {"slug": self.product.sku.lower()})
            items = found.body["data"]["products"]["items"]
            if items:
                ref = {"id": items[0]["id"]}
        if ref is None:
            return await self.create()
        current = await self.connector.raw("product", str(ref["id"]))
        if current is None:
            return await self.create()
        await self.update(str(ref["id"]), current)
        if self.item.target_ref:
            status = OutcomeStatus.UPDATED if self.sent else OutcomeStatus.UNCHANGED
        else:
            status = OutcomeStatus.MATCHED
        return Outcome(self.item.key, status, {"id": str(ref["id"])})

    async def create(self) -> Outcome:
        """The product, its option groups and its variants."""
        product = self.product
        made = await self.send(
            CREATE_PRODUCT,
            {"input": {"enabled": product.active, "translations": [self.translation(None, True)]}},
        )
        ident = str(made.body["data"]["createProduct"]["id"])
        options = await self.option_ids(ident, {}) if product.variants else {}
        inputs = [self.variant_input(ident, variant, options) for variant in self.variants()]
        await self.send(CREATE_VARIANTS, {"input": inputs})
        return Outcome(self.item.key, OutcomeStatus.CREATED, {"id": ident})

    def variant_input(self, ident: str, variant: Variant, options: dict[tuple[str, str], str]) -> Json:
        """A createProductVariants input for one variant."""
        name = " ".join([self.product.name, *variant.attributes.values()]).strip()
        body: dict[str, Any] = {
            "productId": ident,
            "sku": variant.sku,
            "enabled": variant.active,
            "taxCategoryId": self.options.get("tax_category_id", "1"),
            "translations": [{"languageCode": self.options.get("language", "en"), "name": name}],
            "optionIds": [options[(group, value)] for group, value in variant.attributes.items()],
        }
        if variant.list_price is not None:
            body["price"] = cents(variant.list_price)
        if variant.available is not None:
            body["stockLevels"] = [self.stock_level(variant.available, None)]
        return body

    def stock_level(self, available: Decimal, existing: Json | None) -> dict[str, Any]:
        """Stock on hand at the configured location: what may be sold plus what paid orders hold."""
        location = str(self.options.get("stock_location_id", "1"))
        return {"stockLocationId": location, "stockOnHand": int(available) + allocated(existing, location)}

    async def option_ids(self, ident: str, groups: dict[str, Json]) -> dict[tuple[str, str], str]:
        """(attribute, value) -> option id, making the groups and options the product lacks."""
        found: dict[tuple[str, str], str] = {}
        wanted: dict[str, list[str]] = {}
        for variant in self.product.variants:
            for name, value in variant.attributes.items():
                wanted.setdefault(name, [])
                if value not in wanted[name]:
                    wanted[name].append(value)
        language = self.options.get("language", "en")
        for name, values in wanted.items():
            group = groups.get(name)
            if group is None:
                made = await self.send(
                    CREATE_GROUP,
                    {
                        "input": {
                            "code": code_of(f"{self.product.sku}-{name}"),
                            "translations": [{"languageCode": language, "name": name}],
                            "options": [
                                {
                                    "code": code_of(value),
                                    "translations": [{"languageCode": language, "name": value}],
                                }
                                for value in values
                            ],
                        }
                    },
                )
                group = {**made.body["data"]["createProductOptionGroup"], "name": name}
                for option in group["options"]:
                    option["name"] = next((v for v in values if code_of(v) == option["code"]), option["code"])
                await self.send(ADD_GROUP, {"p": ident, "g": group["id"]})
            for option in group["options"]:
                found[(name, option["name"])] = str(option["id"])
            for value in values:
                if (name, value) not in found:
                    made = await self.send(
                        CREATE_OPTION,
                        {
                            "input": {
                                "productOptionGroupId": group["id"],
                                "code": code_of(value),
                                "translations": [{"languageCode": language, "name": value}],
                            }
                        },
                    )
                    found[(name, value)] = str(made.body["data"]["createProductOption"]["id"])
        return found

    async def update(self, ident: str, current: Json) -> None:
        """The product's own fields, then each variant by SKU (new ones created); only what differs."""
        fields = written_fields(self.item, False)
        wanted: dict[str, Any] = {"id": ident}
        if (fields is None or "active" in fields) and bool(current.get("enabled")) != self.product.active:
            wanted["enabled"] = self.product.active
        text = self.translation(fields, False)
        if any(
            text.get(name) is not None and text[name] != current.get(name) for name in ("name", "description")
        ):
            wanted["translations"] = [text]
        if len(wanted) > 1:
            await self.send(UPDATE_PRODUCT, {"input": wanted})
        held = {variant["sku"]: variant for variant in current.get("variants") or []}
        changes, new = [], []
        for variant in self.variants():
            existing = held.get(variant.sku)
            if existing is None:
                new.append(variant)
                continue
            change = self.variant_change(variant, existing, fields)
            if change:
                changes.append({"id": existing["id"], **change})
        if changes:
            await self.send(UPDATE_VARIANTS, {"input": changes})
        if new and (fields is None or "variants" in fields):
            groups = await self.send(PRODUCT_GROUPS, {"id": ident})
            held_groups = {group["name"]: group for group in groups.body["data"]["product"]["optionGroups"]}
            options = await self.option_ids(ident, held_groups) if self.product.variants else {}
            await self.send(CREATE_VARIANTS, {"input": [self.variant_input(ident, v, options) for v in new]})

    def variant_change(
        self, variant: Variant, existing: Json, fields: frozenset[str] | None
    ) -> dict[str, Any]:
        """What an updateProductVariants input changes for one held variant (empty: nothing)."""
        top = self.product.variants == []
        price_named = fields is None or "list_price" in fields or (not top and "variants" in fields)
        stock_named = fields is None or "available" in fields or (not top and "variants" in fields)
        active_named = fields is None or (not top and "variants" in fields)
        change: dict[str, Any] = {}
        if (
            price_named
            and variant.list_price is not None
            and cents(variant.list_price) != existing.get("price")
        ):
            change["price"] = cents(variant.list_price)
        if stock_named and variant.available is not None and int(variant.available) != saleable(existing):
            change["stockLevels"] = [self.stock_level(variant.available, existing)]
        if active_named and not top and variant.active != bool(existing.get("enabled")):
            change["enabled"] = variant.active
        return change


def remaining_lines(order: Json) -> list[dict[str, Any]]:
    """The order's lines with the quantities no live fulfilment holds yet."""
    done: dict[str, int] = {}
    for fulfilment in order.get("fulfillments") or []:
        if fulfilment.get("state") != "Cancelled":
            for line in fulfilment.get("lines") or []:
                done[str(line["orderLineId"])] = done.get(str(line["orderLineId"]), 0) + int(line["quantity"])
    left = [
        {"orderLineId": line["id"], "quantity": int(line["quantity"]) - done.get(str(line["id"]), 0)}
        for line in order.get("lines") or []
    ]
    return [line for line in left if line["quantity"] > 0]


class OrderProgress:
    """The order calls of the description, completed with what Vendure needs before they are sent."""

    def __init__(self, connector: DeclarativeConnector) -> None:
        self.connector = connector
        self.plain = connector.client.call

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
        """Fulfilments, refunds and status moves completed; every other call as it is."""
        query = call.query or ""
        given = dict(values or {})
        if "addFulfillmentToOrder" in query:
            return await self.fulfil(call, given, record)
        if "refundOrder" in query:
            return await self.refund(call, given, record)
        if "transitionOrderToState" in query and given.get("status") in ("Cancelled", "Shipped", "Delivered"):
            return await self.move(given, record)
        return await self.plain(call, given, record=record, idempotency_key=idempotency_key, read=read)

    async def order(self, values: dict[str, Any], record: str | None) -> Json:
        """The order the call is about, as Vendure holds it now."""
        found = await self.connector.raw("order", str(values["id"]))
        if found is None:
            raise Permanent("Vendure has no such order", record=record, field="id")
        return found

    async def fulfil(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """A fulfilment of every line not yet fulfilled, then marked shipped."""
        from emporion.connectors.rest.client import Answer

        lines = remaining_lines(await self.order(values, record))
        if not lines:
            return Answer({}, {})
        values |= {
            "lines": lines,
            "carrier": values.get("carrier") or "",
            "tracking_number": values.get("tracking_number") or "",
        }
        answer = await self.plain(call, values, record=record)
        made = answer.body["data"]["addFulfillmentToOrder"]
        await send(self.connector, SHIP_FULFILMENT, {"id": made["id"], "state": "Shipped"}, record or "")
        return answer

    async def refund(self, call: Call, values: dict[str, Any], record: str | None) -> Answer:
        """A refund of the settled payment, in cents, then settled."""
        order = await self.order(values, record)
        payment = next((p for p in order.get("payments") or [] if p.get("state") == "Settled"), None)
        if payment is None:
            raise Permanent("the order has no settled payment to refund", record=record, field="refunds")
        values |= {"payment_id": payment["id"], "amount_minor": cents(Decimal(str(values["amount"])))}
        values["reason"] = values.get("reason") or ""
        answer = await self.plain(call, values, record=record)
        made = answer.body["data"]["refundOrder"]
        settle = {"input": {"id": made["id"], "transactionId": f"refund-{made['id']}"}}
        await send(self.connector, SETTLE_REFUND, settle, record or "")
        return answer

    async def move(self, values: dict[str, Any], record: str | None) -> Answer:
        """Cancelled by cancelOrder; Shipped and Delivered through fulfilments of what is left."""
        if values["status"] == "Cancelled":
            cancel = {"input": {"orderId": values["id"], "reason": "cancelled", "cancelShipping": True}}
            return await send(self.connector, CANCEL_ORDER, cancel, record or "")
        described = self.connector.entity("order")
        fulfil = getattr(described, "fulfil", None)
        if fulfil is None:
            raise Permanent("the description has no fulfil call", record=record, field="fulfil")
        answer = await self.fulfil(fulfil, dict(values), record)
        if values["status"] == "Delivered":
            for fulfilment in (await self.order(values, record)).get("fulfillments") or []:
                if fulfilment.get("state") in ("Pending", "Shipped"):
                    for state in ("Shipped", "Delivered")[(fulfilment["state"] == "Shipped") :]:
                        moved = {"id": fulfilment["id"], "state": state}
                        answer = await send(self.connector, SHIP_FULFILMENT, moved, record or "")
        return answer


HOOKS = VendureHooks()
