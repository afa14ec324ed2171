"""Field-by-field comparison of what the target should hold with what it holds.

Both sides are canonical records; values are normalised (numbers by value, empty text as none,
lists of ids as sets, variants by SKU) so that only real differences are reported. A target may keep
one stock for several variants on their product (the variants read without stock of their own while
the product has some): those variants' expected stock is compared, summed, with the product's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Unmappable
from emporion.model import Product, Record, Variant

# fields that never travel to a target, or that the target names its own way
NOT_COMPARED = {"key", "stock", "price_lists", "currency", "active", "salable"}
# fields a target fills in itself when the record leaves them empty
TARGET_CHOOSES_WHEN_NONE = {"slug"}
# a variable product's prices (and, unless it keeps one stock for its variants, its stock) live on its
# variants; shops derive the parent's
VARIABLE_PARENT_SKIPS = {"list_price", "sale_price", "available"}


def _parent_skips(product: Record) -> set[str]:
    """What is not compared on a variable product: its prices, and its stock unless it holds one."""
    if not isinstance(product, Product) or not product.variants:
        return set()
    return VARIABLE_PARENT_SKIPS - ({"available"} if product.available is not None else set())


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs: where, what was expected, what was found."""

    field: str
    expected: Any
    actual: Any


def _normal(value: Any) -> Any:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _compare(path: str, expected: Any, actual: Any, diffs: list[FieldDiff]) -> None:
    if path.endswith("categories") and isinstance(expected, list):
        if {str(v) for v in expected} != {str(v) for v in actual or []}:
            diffs.append(FieldDiff(path, sorted(map(str, expected)), sorted(map(str, actual or []))))
        return
    if path.endswith("custom") and isinstance(expected, dict):
        for name, value in expected.items():
            _compare(f"{path}.{name}", value, (actual or {}).get(name), diffs)
        return
    if path.endswith("images") and isinstance(expected, list):
        want = [i["url"] for i in expected]
        have = [i["url"] for i in actual or []]
        if want != have:
            diffs.append(FieldDiff(path, want, have))
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for name in expected:
            _compare(f"{path}.{name}", expected[name], actual.get(name), diffs)
        return
    if _normal(expected) != _normal(actual):
        diffs.append(FieldDiff(path, expected, actual))


def published(record: Record) -> bool:
    return bool(getattr(record, "active", True) and getattr(record, "salable", True))


def diff_records(
    expected: Record, actual: Record, ignore: set[str] | frozenset[str] = frozenset()
) -> list[FieldDiff]:
    """The fields where `actual` does not hold what `expected` says (fields in `ignore` are skipped)."""
    skip = NOT_COMPARED | set(ignore) | {"variants"} | _parent_skips(expected)
    want = expected.model_dump(exclude=skip)
    have = actual.model_dump(exclude=skip)
    diffs: list[FieldDiff] = []
    for name, value in want.items():
        if value is None and name in TARGET_CHOOSES_WHEN_NONE:
            continue
        _compare(name, value, have.get(name), diffs)
    if published(expected) != published(actual):
        diffs.append(FieldDiff("published", published(expected), published(actual)))
    if isinstance(expected, Product) and isinstance(actual, Product):
        diffs += _variant_diffs(expected, actual, ignore)
    return diffs


def _variant_diffs(expected: Product, actual: Product, ignore: set[str] | frozenset[str]) -> list[FieldDiff]:
    """Variants by SKU; the stock of variants that share their product's is compared as one sum."""
    diffs: list[FieldDiff] = []
    found = {v.sku: v for v in actual.variants}
    shared: list[Decimal] = []  # expected stock of the variants whose stock the target keeps on the product
    for variant in expected.variants:
        other = found.pop(variant.sku, None)
        if other is None:
            diffs.append(FieldDiff(f"variants[{variant.sku}]", "present", "missing"))
            continue
        skip = set(ignore)
        if _stock_on_product(variant, other, actual):
            shared.append(variant.available or Decimal(0))
            skip.add("available")
        for item in diff_records(variant, other, skip):
            diffs.append(FieldDiff(f"variants[{variant.sku}].{item.field}", item.expected, item.actual))
    for sku in found:
        diffs.append(FieldDiff(f"variants[{sku}]", "absent", "present"))
    if shared and "available" not in ignore and _normal(sum(shared)) != _normal(actual.available):
        diffs.append(FieldDiff("available (shared by its variants)", sum(shared), actual.available))
    return diffs


def _stock_on_product(expected: Variant, actual: Variant, product: Product) -> bool:
    """Whether the target keeps this variant's stock on its product (the variant has none of its own)."""
    return expected.available is not None and actual.available is None and product.available is not None


def _view(path: str, value: Any, shape: Any) -> Any:
    """One field in comparison form, read the way `_compare` reads it (`shape` is the expected value)."""
    if path.endswith("categories") and isinstance(shape, list):
        return sorted({str(v) for v in value or []})
    if path.endswith("custom") and isinstance(shape, dict):
        return {name: _normal((value or {}).get(name)) for name in shape}
    if path.endswith("images") and isinstance(shape, list):
        return [image["url"] for image in value or []]
    if isinstance(shape, dict) and isinstance(value, dict):
        return {name: _view(f"{path}.{name}", value.get(name), shape[name]) for name in shape}
    return _normal(value)


def comparable(
    record: Record, ignore: set[str] | frozenset[str] = frozenset(), shape: Record | None = None
) -> dict[str, Any]:
    """What `diff_records` compares of `record`, normalised, in the shape of the expected record.

    Two records whose views are equal have no field differences, so a reconcile compares the
    fingerprints of the views first and walks the fields only when they differ.
    """
    shape = shape or record
    skip = NOT_COMPARED | set(ignore) | {"variants"} | _parent_skips(shape)
    have = record.model_dump(exclude=skip)
    want = have if shape is record else shape.model_dump(exclude=skip)
    view: dict[str, Any] = {
        name: _view(name, have.get(name), value)
        for name, value in want.items()
        if not (value is None and name in TARGET_CHOOSES_WHEN_NONE)
    }
    view["published"] = published(record)
    if isinstance(record, Product):
        shapes = {v.sku: v for v in shape.variants} if isinstance(shape, Product) else {}
        view["variants"] = {
            variant.sku: comparable(variant, ignore, shapes.get(variant.sku)) for variant in record.variants
        }
    return view


def unreadable_diff(found: Record) -> list[FieldDiff]:
    """A target record its connector could not read back: drift on the field it names."""
    if not isinstance(found, Unmappable):
        return []
    return [FieldDiff(found.field or "record", "readable", found.reason)]
