"""The settings of a declarative shop connection (`type: rest` or `type: graphql` in the configuration).

A shop's API is described, not programmed: how to authenticate, how each entity is listed, paged,
filtered by change, looked up by natural key, mapped field by field from JSON paths, and written; how
its webhooks are signed and registered. `preset: <name>` starts from a description shipped with the
project (`presets/<name>.yaml`); what the configuration says besides goes on top of it, key by key.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, model_validator

from emporion.connectors.rest.paths import JsonPath, Template, check_singular, fields_of
from emporion.connectors.rest.presets import with_preset
from emporion.connectors.settings import ConnectionSettings, Secret, Strict
from emporion.model import (
    Category,
    Customer,
    DiscountLine,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Product,
    Record,
    Refund,
    RefundLine,
    Shipment,
    ShippingLine,
    TaxLine,
    Variant,
)

# -- authentication ------------------------------------------------------------------------------------


class ApiKeyAuth(Strict):
    """An API key sent in a header (or a query parameter) with every request."""

    kind: Literal["api_key"]
    key: Secret
    header: str = Field("X-Api-Key", description="the header that carries the key")
    prefix: str = Field("", description="text before the key in the header (e.g. 'Token ')")
    query: str | None = Field(None, description="send the key as this query parameter instead of a header")


class BearerAuth(Strict):
    """A long-lived token sent as `Authorization: Bearer <token>`."""

    kind: Literal["bearer"]
    token: Secret


class BasicAuth(Strict):
    """HTTP Basic: a user name (or API key) and a password (or secret)."""

    kind: Literal["basic"]
    username: Secret
    password: Secret | None = None


class OAuth2Auth(Strict):
    """OAuth 2 client credentials: a token from `token_url`, renewed before it expires and on a 401."""

    kind: Literal["oauth2"]
    token_url: str = Field(description="absolute, or relative to the connection's url")
    client_id: str
    client_secret: Secret
    scope: str | None = None
    audience: str | None = None
    send_credentials: Literal["basic", "body"] = Field(
        "basic", description="client id and secret as HTTP Basic (RFC 6749 2.3.1) or in the form body"
    )
    renew_before_seconds: float = Field(60.0, ge=0, description="renew this long before `expires_in` ends")


class LoginAuth(Strict):
    """A login call that returns a token (a REST login or a GraphQL login mutation), repeated on a 401."""

    kind: Literal["login"]
    username: str
    password: Secret
    path: str = Field(description="the login endpoint, absolute or relative to the connection's url")
    method: Literal["POST", "PUT", "GET"] = "POST"
    body: Any = Field(
        None, description="the JSON body; the strings '{username}' and '{password}' are filled in"
    )
    token: JsonPath = Field(
        description="where the answer carries the token: a JSON path ($.token) or header:<name>"
    )
    expires_in: JsonPath | None = Field(None, description="JSON path of the token's lifetime in seconds")
    lifetime_seconds: float | None = Field(None, gt=0, description="the token's lifetime when not given")
    error: JsonPath | None = Field(None, description="JSON path of an error in a 200 answer (GraphQL unions)")
    header: str = Field("Authorization", description="the header that carries the token afterwards")
    prefix: str = Field("Bearer ", description="text before the token in that header")


Auth = Annotated[ApiKeyAuth | BearerAuth | BasicAuth | OAuth2Auth | LoginAuth, Field(discriminator="kind")]

# -- paging ------------------------------------------------------------------------------------------


class PagePaging(Strict):
    """Pages by number: `?page=1&per_page=50`, until a short or empty page (or `pages`/`total` says so)."""

    kind: Literal["page"]
    param: str = "page"
    size_param: str = "per_page"
    size: int = Field(50, ge=1, le=1000)
    first: int = Field(1, ge=0, description="the number of the first page")
    total: JsonPath | None = Field(None, description="JSON path of the total count of records, if given")


class OffsetPaging(Strict):
    """Pages by offset: `?offset=100&limit=50` (GraphQL: variables `skip`/`take`)."""

    kind: Literal["offset"]
    param: str = "offset"
    size_param: str = "limit"
    size: int = Field(50, ge=1, le=1000)
    total: JsonPath | None = Field(None, description="JSON path of the total count of records, if given")


class CursorPaging(Strict):
    """Pages by an opaque cursor the previous page returns (`next`), until it is empty or null."""

    kind: Literal["cursor"]
    param: str = "cursor"
    next: JsonPath = Field(description="JSON path of the next page's cursor in an answer")
    size_param: str | None = "limit"
    size: int = Field(50, ge=1, le=1000)
    total: JsonPath | None = Field(None, description="JSON path of the total count of records, if given")


class NextLinkPaging(Strict):
    """Pages by following the next page's URL: a JSON path in the answer, or `header:Link` (RFC 8288)."""

    kind: Literal["next_link"]
    next: JsonPath = Field(description="JSON path of the next page's URL in an answer, or header:Link")
    size_param: str | None = "limit"
    size: int = Field(50, ge=1, le=1000)
    total: JsonPath | None = Field(None, description="JSON path of the total count of records, if given")


Paging = Annotated[PagePaging | OffsetPaging | CursorPaging | NextLinkPaging, Field(discriminator="kind")]

# -- one call ----------------------------------------------------------------------------------------

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class Call(Strict):
    """One request: REST method and path, or (GraphQL) a query or mutation with its variables.

    Strings may hold placeholders: `{id}` (the shop's id of the record), `{key}`, `{sku}`,
    `{natural_key}`, `{natural_keys}` (comma-joined), `{since}`, `{quantity}`, `{location}`, `{url}`,
    `{topic}`, `{secret}`, `{parent.<path>}`. A body or variables value that is exactly `{body}` is the
    record mapped to the shop's fields (see `EntitySettings.fields`); exactly `{<field>}` keeps the
    field's type (a number stays a number).
    """

    method: HttpMethod = "GET"
    path: Template | None = Field(None, description="REST: relative to the connection's url")
    query: str | None = Field(None, description="GraphQL: the query or mutation document")
    params: dict[str, Template] = Field(default_factory=dict, description="query string parameters")
    body: Any = Field(None, description="REST: the JSON body template")
    variables: dict[str, Any] = Field(default_factory=dict, description="GraphQL: the variables template")
    items: JsonPath | None = Field(None, description="JSON path of the list of records in the answer")
    result: JsonPath | None = Field(None, description="JSON path of the record in the answer")
    error: JsonPath | None = Field(
        None, description="JSON path of an error in a successful answer (a GraphQL ErrorResult's message)"
    )
    idempotency_header: str | None = Field(
        None, description="send a key derived from the write (stable across retries) in this header"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Call:
        if (self.path is None) == (self.query is None):
            raise ValueError("a call names either a REST `path` or a GraphQL `query`")
        return self


# -- what an entity looks like -------------------------------------------------------------------------


class ChangedSince(Strict):
    """How to ask for records changed since a moment, with an overlap for late commits and clock skew."""

    param: str = Field(description="the query parameter (GraphQL: variable) that takes the moment")
    stamp: JsonPath = Field(description="JSON path of a record's last-modified stamp in an answer")
    format: Literal["iso", "iso_z", "epoch", "epoch_ms"] = "iso"
    overlap_seconds: float = Field(60.0, ge=0, description="re-read this long before the cursor")


class Lookup(Strict):
    """Search before create: how to find existing records by natural key (SKU, e-mail, external ref)."""

    field: str = Field(description="the canonical field that is the natural key (sku, slug, email, number)")
    call: Call = Field(description="a list call filtered by `{natural_key}` or `{natural_keys}`")
    path: JsonPath = Field(description="JSON path of the natural key in a found record")
    batch: int = Field(1, ge=1, le=500, description="natural keys per call (needs `{natural_keys}`)")


class NestedList(Strict):
    """The base of a list inside a record: where its items are and the fields of one item."""

    items: JsonPath
    fields: dict[str, JsonPath]
    values: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="canonical field -> {the shop's value: the canonical value} (status published: true)",
    )

    canonical: ClassVar[type[BaseModel]] = BaseModel

    def sublists(self) -> dict[str, NestedList]:
        """The lists inside each item (a refund's lines), by canonical field name."""
        return sublists_of(self)


def sublists_of(settings: BaseModel) -> dict[str, NestedList]:
    """The lists described in entity or list settings (a product's variants), by canonical field name."""
    found = {name: getattr(settings, name) for name in type(settings).model_fields}
    return {name: value for name, value in found.items() if isinstance(value, NestedList)}


def nested(model: type[BaseModel], what: str) -> type[NestedList]:
    """The settings of a list inside a record (a product's variants, an order's lines) of `model`s."""

    class Nested(NestedList):
        items: JsonPath = Field(description=f"JSON path of the {what} inside the record")
        fields: dict[fields_of(model), JsonPath] = Field(  # type: ignore[valid-type]
            description="canonical field -> JSON path inside one item"
        )
        values: dict[fields_of(model), dict[str, Any]] = Field(  # type: ignore[valid-type]
            default_factory=dict, description="canonical field -> {the shop's value: the canonical value}"
        )

    Nested.canonical = model
    Nested.__name__ = Nested.__qualname__ = f"{model.__name__}List"
    Nested.__doc__ = f"Where the {what} are inside a record, and their fields."
    return Nested


class NamedValues(Strict):
    """Attributes kept as a list of pairs (Medusa's options, Vendure's option groups): name and value."""

    items: JsonPath = Field(description="JSON path of the list of pairs inside the record ($.options)")
    name: JsonPath = Field(description="JSON path of an attribute's name inside one pair ($.option.title)")
    value: JsonPath = Field(description="JSON path of its value, or values, inside one pair ($.value)")


class VariantList(nested(Variant, "variants")):  # type: ignore[misc]
    """Where a product's variants are inside it, their fields, and their attributes kept as pairs."""

    attributes: NamedValues | None = Field(None, description="a variant's attributes as name-value pairs")


LineList = nested(OrderLine, "order lines")
RefundLineList = nested(RefundLine, "refunded lines")
ShipmentList = nested(Shipment, "shipments (fulfilments)")
ShippingLineList = nested(ShippingLine, "shipping lines (methods and their cost)")
PaymentList = nested(Payment, "payments")
TaxLineList = nested(TaxLine, "tax lines (the tax per rate)")
DiscountList = nested(DiscountLine, "discounts (coupons)")


class RefundList(nested(Refund, "refunds")):  # type: ignore[misc]
    """Where the refunds are inside an order, their fields, and the refunded lines of one refund."""

    lines: RefundLineList | None = Field(None, description="where a refund's lines are")  # type: ignore[valid-type]


class EntitySettings(Strict):
    """What every entity of the shop has: reads, paging, change filter, lookup, mapping and writes."""

    list: Call | None = Field(None, description="lists records (paged); required to read")
    get: Call | None = Field(None, description="one record by `{id}`; else `list` with `ids`")
    ids_param: str | None = Field(None, description="list filter taking comma-joined ids (read by key)")
    paging: Paging | None = Field(None, description="none: one answer holds every record")
    id: JsonPath = Field("$.id", description="JSON path of the shop's id in a record")
    changed_since: ChangedSince | None = Field(None, description="none: changes by full comparison")
    lookup: Lookup | None = None
    fields: dict[str, JsonPath] = Field(
        default_factory=dict,
        description="canonical field -> JSON path in the shop's record (custom fields as custom.<name>)",
    )
    write_fields: dict[str, JsonPath] | None = Field(
        None, description="canonical field -> JSON path in a written body, where it differs from `fields`"
    )
    values: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="canonical field -> {the shop's value: the canonical value} (status published: true)",
    )
    money: Literal["decimal", "string", "minor_units"] = Field(
        "decimal", description="how amounts travel: JSON numbers, decimal strings, or cents as integers"
    )
    constants: dict[JsonPath, Any] = Field(
        default_factory=dict, description="JSON path -> value set in every create body (status: published)"
    )
    create: Call | None = None
    update: Call | None = None
    upsert: Call | None = Field(None, description="one call that creates or updates (by natural key)")
    batch: Call | None = Field(None, description="writes many: `{items}` is the list of bodies")
    batch_size: int = Field(50, ge=1, le=1000)
    delete: Call | None = None
    stock: Call | None = Field(None, description="sets stock alone: `{quantity}`, `{sku}`, `{location}`")
    price: Call | None = Field(None, description="sets prices alone: `{list_price}`, `{sku}`")

    canonical: ClassVar[type[Record]] = Record

    def writes(self) -> bool:
        """Whether records of this entity are written with a body (create, update, upsert or batch)."""
        return any(call is not None for call in (self.create, self.update, self.upsert, self.batch))

    def written(self) -> dict[str, str]:
        """Canonical field -> JSON path in a written body."""
        return self.fields if self.write_fields is None else self.write_fields

    def sublists(self) -> dict[str, NestedList]:
        """The lists described inside a record (variants, lines), by canonical field name."""
        return sublists_of(self)

    @model_validator(mode="after")
    def _checked(self) -> EntitySettings:
        if self.writes():
            problems = [
                f"{where}: {error}"
                for where, path in writable_paths(self)
                if (error := singular_problem(path))
            ]
            if problems:
                raise ValueError("; ".join(problems))
        return self


def writable_paths(entity: EntitySettings) -> list[tuple[str, str]]:
    """(where, JSON path) of every path a written body is built by: fields, lists and their items."""
    paths = [(f"fields.{name}", path) for name, path in entity.written().items()]
    paths += [(f"constants.{path}", path) for path in entity.constants]
    for name, items in entity.sublists().items():
        paths.append((f"{name}.items", items.items))
        paths += [(f"{name}.fields.{field}", path) for field, path in items.fields.items()]
        paths += pair_paths(f"{name}.attributes", getattr(items, "attributes", None))
    return paths + pair_paths("attributes", getattr(entity, "attributes", None))


def pair_paths(where: str, pairs: NamedValues | None) -> list[tuple[str, str]]:
    """(where, JSON path) of the paths a list of name-value pairs is written by."""
    if pairs is None:
        return []
    return [(f"{where}.{part}", getattr(pairs, part)) for part in ("items", "name", "value")]


def singular_problem(path: str) -> str | None:
    """Why a path cannot be written to (it names no single place), or None."""
    try:
        check_singular(path)
    except ValueError as error:
        return str(error)
    return None


class ProductEntity(EntitySettings):
    """Products, with their variants where the shop has them."""

    fields: dict[fields_of(Product), JsonPath] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="canonical product field -> JSON path in the shop's record"
    )
    write_fields: dict[fields_of(Product), JsonPath] | None = Field(  # type: ignore[valid-type]
        None, description="canonical field -> JSON path in a written body, where it differs from `fields`"
    )

    values: dict[fields_of(Product), dict[str, Any]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="canonical field -> {the shop's value: the canonical value}"
    )

    canonical: ClassVar[type[Record]] = Product
    variants: VariantList | None = Field(None, description="where a product's variants are")
    attributes: NamedValues | None = Field(None, description="a product's attributes as name-values pairs")


class CategoryEntity(EntitySettings):
    """Categories (collections)."""

    fields: dict[fields_of(Category), JsonPath] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="canonical category field -> JSON path in the shop's record"
    )
    write_fields: dict[fields_of(Category), JsonPath] | None = Field(  # type: ignore[valid-type]
        None, description="canonical field -> JSON path in a written body, where it differs from `fields`"
    )

    values: dict[fields_of(Category), dict[str, Any]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="canonical field -> {the shop's value: the canonical value}"
    )

    canonical: ClassVar[type[Record]] = Category


class CustomerEntity(EntitySettings):
    """Customer accounts."""

    fields: dict[fields_of(Customer), JsonPath] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="canonical customer field -> JSON path in the shop's record"
    )
    write_fields: dict[fields_of(Customer), JsonPath] | None = Field(  # type: ignore[valid-type]
        None, description="canonical field -> JSON path in a written body, where it differs from `fields`"
    )

    values: dict[fields_of(Customer), dict[str, Any]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="canonical field -> {the shop's value: the canonical value}"
    )

    canonical: ClassVar[type[Record]] = Customer


class OrderEntity(EntitySettings):
    """Orders, with their lines, shipments and refunds, and the calls that report progress back."""

    fields: dict[fields_of(Order), JsonPath] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="canonical order field -> JSON path in the shop's record"
    )
    write_fields: dict[fields_of(Order), JsonPath] | None = Field(  # type: ignore[valid-type]
        None, description="canonical field -> JSON path in a written body, where it differs from `fields`"
    )

    values: dict[fields_of(Order), dict[str, Any]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="canonical field -> {the shop's value: the canonical value}"
    )

    canonical: ClassVar[type[Record]] = Order
    lines: LineList = Field(description="where an order's lines are")  # type: ignore[valid-type]
    shipments: ShipmentList | None = Field(None, description="where an order's fulfilments are")  # type: ignore[valid-type]
    refunds: RefundList | None = Field(None, description="where an order's refunds are")
    shipping_lines: ShippingLineList | None = Field(  # type: ignore[valid-type]
        None, description="where an order's shipping methods and their cost are"
    )
    payments: PaymentList | None = Field(None, description="where an order's payments are")  # type: ignore[valid-type]
    tax_lines: TaxLineList | None = Field(None, description="where an order's tax per rate is")  # type: ignore[valid-type]
    discounts: DiscountList | None = Field(None, description="where an order's coupons are")  # type: ignore[valid-type]
    statuses: dict[str, OrderStatus] = Field(
        default_factory=dict, description="the shop's order status -> the canonical order status"
    )
    open_statuses: list[str] = Field(
        default_factory=list, description="the shop's statuses of orders still open (re-checked daily)"
    )
    email_param: str | None = Field(None, description="list filter by customer e-mail")
    fulfil: Call | None = Field(None, description="adds a shipment: `{tracking_number}`, `{carrier}`")
    refund: Call | None = Field(None, description="refunds `{amount}` of the order")
    status: Call | None = Field(None, description="sets the shop's status `{status}`")
    note: Call | None = Field(None, description="adds a note `{text}`")


class Entities(Strict):
    """What the shop holds; an entity left out is neither read nor written."""

    product: ProductEntity | None = None
    category: CategoryEntity | None = None
    customer: CustomerEntity | None = None
    order: OrderEntity | None = None

    def configured(self) -> dict[str, EntitySettings]:
        """The entities described, by canonical name."""
        return {
            name: entity for name in type(self).model_fields if (entity := getattr(self, name)) is not None
        }


# -- webhooks ----------------------------------------------------------------------------------------


class Signature(Strict):
    """How the shop signs a delivery: HMAC over `signed` with the secret, in a header, hex or base64."""

    algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    header: str = "X-Signature"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field("", description="text before the signature in the header (e.g. 'sha256=')")
    signed: str = Field(
        "{body}", description="what is signed: '{body}', or e.g. '{timestamp}.{body}' with the timestamp"
    )
    timestamp_header: str | None = Field(None, description="the header with the delivery's timestamp")
    tolerance_seconds: float = Field(300.0, gt=0, description="older timestamps are refused (replays)")


class WebhookSettings(Strict):
    """The shop's webhooks: signature, topics per entity, where the key is, and registration."""

    secret: Secret | None = Field(None, description="none: generated and kept beside the state database")
    signature: Signature = Signature()
    topic_header: str | None = Field(None, description="the header naming the topic")
    topic: JsonPath | None = Field(None, description="JSON path of the topic in the body, if not in a header")
    delivery_header: str | None = Field(None, description="the header with the delivery's own id")
    topics: dict[str, list[str]] = Field(
        default_factory=dict, description="entity -> the topics that announce its changes"
    )
    key: JsonPath = Field("$.id", description="JSON path of the changed record's id in a delivery")
    subscribe: Call | None = Field(None, description="registers one topic: `{url}`, `{topic}`, `{secret}`")
    subscriptions: Call | None = Field(None, description="lists registered webhooks (to not register twice)")
    subscription_url: JsonPath = Field("$.url", description="JSON path of a listed webhook's delivery URL")
    subscription_topic: JsonPath = Field("$.topic", description="JSON path of a listed webhook's topic")


# -- rate headers ------------------------------------------------------------------------------------


class RateSettings(Strict):
    """What the shop says about its limits: remaining requests or cost, and when the budget resets."""

    max_requests_per_second: float | None = Field(None, gt=0)
    max_concurrency: int = Field(4, ge=1, le=64)
    remaining_header: str | None = Field(None, description="e.g. X-RateLimit-Remaining")
    reset_header: str | None = Field(
        None, description="seconds until the budget resets, e.g. X-RateLimit-Reset"
    )
    cost: JsonPath | None = Field(
        None,
        description="JSON path of a GraphQL answer's query cost (e.g. $.extensions.cost.actualQueryCost)",
    )
    cost_remaining: JsonPath | None = Field(None, description="JSON path of the cost budget left")
    low_water: float = Field(
        0.1, ge=0, le=1, description="slow down when less than this share of the budget is left"
    )


# -- the connection ----------------------------------------------------------------------------------


class RestConnection(ConnectionSettings):
    """A shop reached over a REST API described in the configuration (or a shipped preset)."""

    type: Literal["rest"]
    preset: str | None = Field(None, description="start from a shipped description: medusa, merchantpro")
    url: str = Field(description="the API's base URL; paths are relative to it")
    auth: Auth
    timeout: float = Field(30.0, gt=0, description="seconds to wait for an answer")
    retries: int = Field(2, ge=0, le=10, description="quick retries of a read that failed transiently")
    rate: RateSettings = RateSettings()
    headers: dict[str, str] = Field(default_factory=dict, description="sent with every request")
    entities: Entities = Field(description="what the shop holds and how to read and write it")
    webhooks: WebhookSettings | None = Field(None, description="none: changes are polled")
    options: dict[str, Any] = Field(
        default_factory=dict, description="values the preset's calls name as {option.<name>} (a location id)"
    )

    _preset = model_validator(mode="before")(with_preset)

    def takes_webhooks(self) -> bool:
        """Whether the shop's webhooks are taken (and registered where the API allows)."""
        return self.webhooks is not None

    def configured_webhook_secret(self) -> str | None:
        """The configured webhook secret, or None when one is generated."""
        if self.webhooks is None or self.webhooks.secret is None:
            return None
        return self.webhooks.secret.get_secret_value() or None


class GraphQLConnection(RestConnection):
    """A shop reached over a GraphQL API: every call is a named query or mutation sent to `url`."""

    type: Literal["graphql"]  # type: ignore[assignment]
    preset: str | None = Field(None, description="start from a shipped description: vendure")
