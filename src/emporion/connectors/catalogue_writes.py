"""Catalogue writes into any target: every item gets one outcome, and a record the target refuses fails alone.

What every catalogue target does the same way, whatever its wire: items are checked before anything
is read, an item's home is its link and else one of its SKUs, requests go in batches that a refusal
splits record by record, and the outcomes follow the batch's order. What differs by system (its
name in messages, how it names a refused field, what it reads and sends) comes in as arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from emporion.connectors.base import AuthError, ConnectorError, Outcome, OutcomeStatus, Permanent, WriteItem
from emporion.model import Category, Product

R = TypeVar("R")
BATCH = 50  # rows per request
BLANK: tuple[object, ...] = (None, "")  # what a target holds for a field left empty

Home = tuple[int, OutcomeStatus]  # an item's record in the target and how it was found
Checked = list[tuple[WriteItem, Product]]
# the system's `named(error, record, fallback field)`: the error naming the record and its field
Named = Callable[[ConnectorError, str, str], ConnectorError]


@dataclass
class ProductPlan:
    """What one item asks of the target: a template to create, or writes to an existing one."""

    item: WriteItem
    product: Product
    label: str
    status: OutcomeStatus
    template: int | None = None
    create: dict[str, Any] | None = None
    template_write: dict[str, Any] = field(default_factory=dict)


def sends(item: WriteItem, name: str, creating: bool) -> bool:
    """Whether canonical field `name` is written: always on create; on update when sent and not kept."""
    if creating:
        return True
    if item.only is not None and name not in item.only:
        return False
    return name not in item.keep_on_update


def same(left: Any, right: Any, blank: tuple[object, ...] = BLANK) -> bool:
    """Whether a value read from the target already holds what is to be written (numbers by value)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return bool(left) == bool(right)
    if isinstance(left, Decimal | float | int) and isinstance(right, Decimal | float | int):
        return Decimal(str(left)) == Decimal(str(right))
    return bool(left == right) or (left in blank and right in blank)


def label_of(product: Product, key: str) -> str:
    """How errors name a product: its SKU, else its first variant's, else its key."""
    return product.sku or next((variant.sku for variant in product.variants if variant.sku), "") or key


def item_label(item: WriteItem) -> str:
    """How errors name an item: its product's label, else its key."""
    return label_of(item.record, item.key) if isinstance(item.record, Product) else item.key


def skus_of(product: Product) -> list[str]:
    """The product's SKU and its variants', in the order a home is searched by."""
    return [product.sku, *(variant.sku for variant in product.variants)]


def attribute_names(product: Product) -> list[str]:
    """The attributes the product's variants use, by name."""
    return sorted({name for variant in product.variants for name in variant.attributes})


def linked_ids(items: Iterable[WriteItem]) -> dict[str, int]:
    """The target id each linked item's reference holds, by item key (items without one left out)."""
    return {
        item.key: int(ref["id"])
        for item in items
        if (ref := item.target_ref) and str(ref.get("id", "")).isdigit()
    }


def checked_products(
    upserts: Sequence[WriteItem], check: Callable[[WriteItem], Product]
) -> tuple[Checked, dict[str, ConnectorError], dict[str, str]]:
    """The items whose product `check` takes, the refused ones' errors, and every item's label."""
    checked: Checked = []
    failed: dict[str, ConnectorError] = {}
    labels: dict[str, str] = {}
    for item in upserts:
        try:
            product = check(item)
        except Permanent as error:
            failed[item.key] = error
            labels[item.key] = item.key
            continue
        labels[item.key] = label_of(product, item.key)
        checked.append((item, product))
    return checked, failed, labels


def check_product(
    item: WriteItem, system: str, category_id: str, attributes: Callable[[Product, str], None]
) -> Product:
    """The item's product, or Permanent naming what the target cannot take (SKUs, attributes, ids).

    `attributes(product, label)` raises what the system cannot take of the variants' attributes;
    categories must be ids already (`category_id` says of which system, with its article).
    """
    product = item.record
    if not isinstance(product, Product):
        raise Permanent(f"not a product: {type(product).__name__}", record=item.key, field="record")
    label = label_of(product, item.key)
    if not product.variants and not product.sku:
        raise Permanent(f"a product without SKU cannot be matched in {system}", record=label, field="sku")
    skus = [variant.sku for variant in product.variants]
    if any(not sku for sku in skus) or len(set(skus)) != len(skus):
        raise Permanent("every variant needs a SKU of its own", record=label, field="variants.sku")
    attributes(product, label)
    for category in product.categories:
        if not (category.isascii() and category.isdigit()):
            raise Permanent(f"category {category!r} is not {category_id}", record=label, field="categories")
    return product


def category_of(item: WriteItem, category_id: str) -> tuple[Category, int | None]:
    """The item's category and its parent's target id (the flow resolved it), or Permanent."""
    category = item.record
    if not isinstance(category, Category):
        raise Permanent(f"not a category: {type(category).__name__}", record=item.key, field="record")
    if not category.name.strip():
        raise Permanent("a category needs a name", record=item.key, field="name")
    parent = category.parent_key
    if parent is not None and not (parent.isascii() and parent.isdigit()):
        raise Permanent(f"parent {parent!r} is not {category_id}", record=category.name, field="parent_key")
    return category, int(parent) if parent is not None else None


def checked_categories(
    upserts: Sequence[WriteItem], category_id: str
) -> tuple[list[tuple[WriteItem, Category, int | None]], dict[str, ConnectorError]]:
    """The items whose category `category_of` takes, with their parent ids, and the refused ones' errors."""
    checked: list[tuple[WriteItem, Category, int | None]] = []
    failed: dict[str, ConnectorError] = {}
    for item in upserts:
        try:
            checked.append((item, *category_of(item, category_id)))
        except Permanent as error:
            failed[item.key] = error
    return checked, failed


def category_row(
    linked: int | None,
    current: Mapping[int, dict[str, Any]],
    same_name: Sequence[dict[str, Any]],
    category: Category,
    parent: int | None,
    parent_of: Callable[[dict[str, Any]], int | None],
) -> tuple[dict[str, Any] | None, OutcomeStatus]:
    """The category's row: its linked one (updated), else the first of its name under the same parent
    (matched); None when it is to be created."""
    row = current.get(linked) if linked is not None else None
    if row is not None:
        return row, OutcomeStatus.UPDATED
    found = next((r for r in same_name if r["name"] == category.name and parent_of(r) == parent), None)
    return found, OutcomeStatus.MATCHED


def matched_by_sku(unlinked: Checked, found: Mapping[str, int]) -> dict[str, Home]:
    """Each item's home found by the first of its SKUs the target holds."""
    homes: dict[str, Home] = {}
    for item, product in unlinked:
        for sku in skus_of(product):
            if sku in found:
                homes[item.key] = (found[sku], OutcomeStatus.MATCHED)
                break
    return homes


def attribute_values(checked: Checked, failed: Mapping[str, ConnectorError]) -> dict[str, set[str]]:
    """Every attribute value the batch's live variants use, by attribute name."""
    values: dict[str, set[str]] = {}
    for item, product in checked:
        if item.key in failed:
            continue
        for variant in product.variants:
            for name, value in variant.attributes.items():
                values.setdefault(name, set()).add(value)
    return values


def refuse_unusable(product: Product, problems: Mapping[str, Permanent]) -> None:
    """Raise the problem of the first of the product's attributes the target cannot use."""
    for name in attribute_names(product):
        if name in problems:
            raise problems[name]


async def check_categories(
    checked: Checked,
    homes: Mapping[str, object],
    failed: dict[str, ConnectorError],
    known: Callable[[list[int]], Awaitable[set[str]]],
    system: str,
) -> None:
    """Fail each item that sends a category id the target does not hold (`known` says which it holds)."""
    sent = [
        (item, product)
        for item, product in checked
        if product.categories and sends(item, "categories", item.key not in homes)
    ]
    ids = sorted({int(category) for _, product in sent for category in product.categories})
    if not ids:
        return
    held = await known(ids)
    for item, product in sent:
        missing = [category for category in product.categories if category not in held]
        if missing:
            failed[item.key] = Permanent(
                f"{system} has no product category with id {', '.join(missing)}",
                record=label_of(product, item.key),
                field="categories",
            )


def in_order(
    upserts: Sequence[WriteItem],
    written: Mapping[str, Outcome],
    failed: Mapping[str, ConnectorError],
    named: Named,
    labels: Mapping[str, str],
    fallback: str,
) -> list[Outcome]:
    """One outcome per upsert in the batch's order: its failure, named, else what was written."""
    outcomes = []
    for item in upserts:
        if item.key in failed:
            error = named(failed[item.key], labels.get(item.key, item.key), fallback)
            outcomes.append(Outcome(item.key, OutcomeStatus.FAILED, error=error))
        elif item.key in written:
            outcomes.append(written[item.key])
    return outcomes


def deleted(
    deletes: Sequence[WriteItem], failed: Mapping[str, ConnectorError], named: Named
) -> list[Outcome]:
    """Each deleted item's outcome: deleted with its reference, else its failure naming `active`."""
    outcomes = []
    for item in deletes:
        error = failed.get(item.key)
        if error is None:
            outcomes.append(Outcome(item.key, OutcomeStatus.DELETED, target_ref=item.target_ref))
        else:
            outcomes.append(
                Outcome(item.key, OutcomeStatus.FAILED, error=named(error, item_label(item), "active"))
            )
    return outcomes


async def in_batches(
    parts: Mapping[str, Sequence[R]],
    send: Callable[[list[R]], Awaitable[Sequence[int]]],
    failed: dict[str, ConnectorError],
    weight: Callable[[R], int] = lambda row: 1,
) -> dict[str, list[int]]:
    """Send each key's rows, about BATCH rows a request, and give the ids sent back per key.

    A key's rows stay in one request; keys already failed are left out. A request the target
    refuses (Permanent) is sent again key by key, so that only the refused keys fail; any other
    error fails the whole request's keys.
    """
    live = {key: list(rows) for key, rows in parts.items() if rows and key not in failed}
    done: dict[str, list[int]] = {}
    for chunk in _chunks(live, weight):
        try:
            ids = await send([row for rows in chunk.values() for row in rows])
        except ConnectorError as error:
            if not isinstance(error, Permanent) or isinstance(error, AuthError) or len(chunk) == 1:
                failed.update({key: error for key in chunk})
                continue
            for key, rows in chunk.items():
                try:
                    done[key] = list(await send(rows))
                except ConnectorError as alone:
                    failed[key] = alone
            continue
        position = 0
        for key, rows in chunk.items():
            done[key] = list(ids[position : position + len(rows)])
            position += len(rows)
    return done


def _chunks(parts: dict[str, list[R]], weight: Callable[[R], int]) -> list[dict[str, list[R]]]:
    """Keys grouped so that each request carries about BATCH rows (a key's rows stay together)."""
    chunks: list[dict[str, list[R]]] = [{}]
    size = 0
    for key, rows in parts.items():
        rows_weight = sum(weight(row) for row in rows)
        if size and size + rows_weight > BATCH:
            chunks.append({})
            size = 0
        chunks[-1][key] = rows
        size += rows_weight
    return [chunk for chunk in chunks if chunk]
