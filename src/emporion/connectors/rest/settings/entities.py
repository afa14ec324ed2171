"""What a declarative connection says of each entity: reads, change filter, lookup, field mapping
by JSON paths (with nested lists: variants, lines, shipments, refunds...) and the calls that write.

Part of the connection's settings (`settings.py` re-exports every name). Canonical field names and
JSON paths are checked as the configuration is read; a path a body is written by must name one place.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field, model_validator

from emporion.connectors.rest.settings.paths import JsonPath, check_singular, field_checker, fields_of
from emporion.connectors.rest.settings.wire import Call, Paging
from emporion.connectors.settings import Strict
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

# -- what an entity looks like -------------------------------------------------------------------------


def check_zone(name: str) -> str:
    """An IANA time zone name (Europe/Bucharest), refused if unknown."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone (e.g. UTC, Europe/Bucharest)") from None
    return name


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
    id_type: Literal["auto", "string", "integer"] = Field(
        "auto",
        description="how this entity's ids are written where a record names one (a parent, a category): "
        "auto = digits as a JSON number, other ids as text",
    )
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
    timezone: Annotated[str, AfterValidator(check_zone)] = Field(
        "UTC", description="the zone of moments the shop sends without an offset (e.g. Europe/Bucharest)"
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
        if self.lookup is not None:
            field_checker(self.canonical)(self.lookup.field)
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
