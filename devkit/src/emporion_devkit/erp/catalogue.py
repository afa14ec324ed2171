"""A deterministic sample catalogue for a Tryton database: categories, products, variants, prices, stock.

`load_catalogue(db, ...)` runs `python -m emporion_devkit.erp.catalogue` in a child process, which writes
through proteus' local trytond backend in batches small enough for SQLite.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emporion_devkit.erp.tryton_setup import TrytonDatabase

BATCH = 50  # SQLite's parser gives up on larger multi-record statements
CATEGORY_TREE: dict[str, list[str]] = {
    "Clothing": ["Shirts", "Trousers", "Jackets"],
    "Home": ["Kitchen", "Decor"],
    "Outdoor": ["Camping"],
}
SIZES = ("S", "M", "L", "XL")
COLOURS = ("red", "blue", "black", "white")
NOUNS = ("Mug", "Lamp", "Tent", "Shirt", "Bottle", "Chair", "Cap", "Towel", "Basket", "Blanket")
ADJECTIVES = ("Classic", "Urban", "Alpine", "Linen", "Solid", "Coastal", "Nordic", "Vintage")
PROMOTIONS = "Promotions"
WHOLESALE = "Wholesale"
NOT_SALABLE_EVERY = 25  # every 25th product is not salable, so shops must leave it out


@dataclass(frozen=True)
class PlannedVariant:
    """One product.product of a planned template."""

    suffix: str
    attributes: dict[str, str]
    stock: dict[str, int]


@dataclass(frozen=True)
class PlannedTemplate:
    """One product.template of the sample catalogue, decided before anything is written."""

    index: int
    code: str
    name: str
    category: str
    list_price: Decimal
    weight: float
    salable: bool
    variants: list[PlannedVariant]
    ean: str | None
    promotion: tuple[Decimal, int, int] | None  # factor, start offset (days), end offset (days)


def ean13(number: int) -> str:
    """A valid EAN-13 for `number` (prefix 400, German range, with its check digit)."""
    digits = f"400{number:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def plan(products: int, variant_share: float, seed: int) -> list[PlannedTemplate]:
    """Decide the whole catalogue from the seed, so the same arguments always give the same data."""
    rng = random.Random(seed)
    leaves = [child for children in CATEGORY_TREE.values() for child in children]
    variable = set(rng.sample(range(products), round(products * variant_share))) if products else set()
    planned = []
    for index in range(products):
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {index + 1}"
        if index in variable:
            sizes = SIZES[: rng.randint(2, 4)]
            colours = COLOURS[: rng.randint(1, 2)]
            variants = [
                PlannedVariant(f"-{size}-{colour.upper()}", {"size": size, "colour": colour}, _stock(rng))
                for size in sizes
                for colour in colours
            ]
            code = f"VAR-{index + 1:05d}"
        else:
            variants = [PlannedVariant("", {}, _stock(rng))]
            code = f"SKU-{index + 1:05d}"
        roll = rng.random()
        promotion = None
        if roll < 0.2:
            promotion = (Decimal("0.8"), -30, 365)
        elif roll < 0.25:
            promotion = (Decimal("0.7"), 200, 230)
        planned.append(
            PlannedTemplate(
                index=index,
                code=code,
                name=name,
                category=rng.choice(leaves),
                list_price=Decimal(rng.randint(500, 20000)) / 100,
                weight=rng.randint(1, 50) / 10,
                salable=index % NOT_SALABLE_EVERY != NOT_SALABLE_EVERY - 1,
                variants=variants,
                ean=ean13(index + 1) if not variants[0].attributes and index % 2 == 0 else None,
                promotion=promotion,
            )
        )
    return planned


def _stock(rng: random.Random) -> dict[str, int]:
    return {"WH": rng.choice((0, rng.randint(1, 40))), "WH2": rng.choice((0, 0, rng.randint(1, 20)))}


def _batches(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Writer:
    """Raw create/search calls through proteus' local backend (no client-side on_change cost)."""

    def __init__(self) -> None:
        from proteus.config import get_config

        self.config = get_config()
        self.context = self.config.context

    def proxy(self, model: str) -> Any:
        from proteus import Model

        return Model.get(model)._proxy

    def create(self, model: str, values: Sequence[dict[str, Any]]) -> list[int]:
        ids: list[int] = []
        for batch in _batches(values):
            ids.extend(self.proxy(model).create(list(batch), self.context))
        return ids

    def search(self, model: str, domain: list[Any]) -> list[int]:
        return list(self.proxy(model).search(domain, 0, None, None, self.context))

    def ref(self, module: str, xml_id: str) -> int:
        return int(self.proxy("ir.model.data").get_id(module, xml_id, self.context))


def _categories(writer: _Writer) -> dict[str, int]:
    ids: dict[str, int] = {}
    for root, children in CATEGORY_TREE.items():
        (ids[root],) = writer.create("product.category", [{"name": root}])
        for child, child_id in zip(
            children,
            writer.create("product.category", [{"name": c, "parent": ids[root]} for c in children]),
            strict=True,
        ):
            ids[child] = child_id
    return ids


def _attribute_set(writer: _Writer) -> int:
    attributes = writer.create(
        "product.attribute",
        [
            {
                "name": "size",
                "string": "Size",
                "type_": "selection",
                "selection": "\n".join(f"{s}:{s}" for s in SIZES),
            },
            {
                "name": "colour",
                "string": "Colour",
                "type_": "selection",
                "selection": "\n".join(f"{c}:{c.title()}" for c in COLOURS),
            },
        ],
    )
    (set_id,) = writer.create(
        "product.attribute.set", [{"name": "Apparel", "attributes": [("add", attributes)]}]
    )
    return set_id


def _template_values(
    item: PlannedTemplate, refs: dict[str, int], categories: dict[str, int]
) -> dict[str, Any]:
    products = []
    for variant in item.variants:
        values: dict[str, Any] = {
            "suffix_code": variant.suffix,
            "description": f"{item.name}: sample product number {item.index + 1}.",
        }
        if variant.attributes:
            values["attributes"] = variant.attributes
        if item.ean:
            values["identifiers"] = [("create", [{"type": "ean", "code": item.ean}])]
        products.append(values)
    values = {
        "name": item.name,
        "code": item.code,
        "type": "goods",
        "default_uom": refs["unit"],
        "sale_uom": refs["unit"],
        "salable": item.salable,
        "list_price": item.list_price,
        "account_category": refs["goods"],
        "categories": [("add", [categories[item.category]])],
        "weight": item.weight,
        "weight_uom": refs["kg"],
        "products": [("create", products)],
    }
    if item.variants[0].attributes:
        values["attribute_set"] = refs["attribute_set"]
    return values


def _price_lists(writer: _Writer, planned: list[PlannedTemplate], product_ids: dict[str, int]) -> None:
    today = date.today()
    company = writer.context["company"]
    lines: list[dict[str, Any]] = []
    for item in planned:
        if item.promotion is None:
            continue
        factor, start, end = item.promotion
        for variant in item.variants:
            lines.append(
                {
                    "product": product_ids[item.code + variant.suffix],
                    "formula": f"unit_price * Decimal('{factor}')",
                    "start_date": today + timedelta(days=start),
                    "end_date": today + timedelta(days=end),
                }
            )
    lines.append({"formula": "unit_price"})
    for sequence, line in enumerate(lines, start=1):
        line["sequence"] = sequence
    (promotions,) = writer.create(
        "product.price_list", [{"name": PROMOTIONS, "company": company, "price": "list_price"}]
    )
    writer.create("product.price_list.line", [dict(line, price_list=promotions) for line in lines])
    writer.create(
        "product.price_list",
        [
            {
                "name": WHOLESALE,
                "company": company,
                "price": "list_price",
                "lines": [("create", [{"formula": "unit_price * Decimal('0.9')"}])],
            }
        ],
    )


def _stock_moves(
    writer: _Writer, planned: list[PlannedTemplate], product_ids: dict[str, int], refs: dict[str, int]
) -> None:
    supplier = writer.search("stock.location", [("type", "=", "supplier")])[0]
    storages = {}
    for code in ("WH", "WH2"):
        (warehouse,) = writer.proxy("stock.location").read(
            writer.search("stock.location", [("code", "=", code)]), ["storage_location"], writer.context
        )
        storages[code] = warehouse["storage_location"]
    moves = []
    for item in planned:
        for variant in item.variants:
            for code, quantity in variant.stock.items():
                if quantity:
                    moves.append(
                        {
                            "product": product_ids[item.code + variant.suffix],
                            "unit": refs["unit"],
                            "quantity": float(quantity),
                            "from_location": supplier,
                            "to_location": storages[code],
                            "unit_price": (item.list_price / 2).quantize(Decimal("0.0001")),
                            "currency": refs["currency"],
                            "company": writer.context["company"],
                            "effective_date": date.today(),
                        }
                    )
    move_proxy = writer.proxy("stock.move")
    for batch in _batches(writer.create("stock.move", moves)):
        move_proxy.do(list(batch), writer.context)


def build(products: int, variant_share: float, seed: int) -> int:
    """Write the planned catalogue with the current proteus configuration; returns the templates written."""
    writer = _Writer()
    if writer.search("product.price_list", [("name", "=", PROMOTIONS)]):
        return 0  # already loaded
    planned = plan(products, variant_share, seed)
    (company,) = writer.proxy("company.company").read(
        [writer.context["company"]], ["currency"], writer.context
    )
    refs = {
        "unit": writer.ref("product", "uom_unit"),
        "kg": writer.ref("product", "uom_kilogram"),
        "goods": writer.search("product.category", [("accounting", "=", True)])[0],
        "attribute_set": _attribute_set(writer),
        "currency": company["currency"],
    }
    categories = _categories(writer)
    writer.create("product.template", [_template_values(item, refs, categories) for item in planned])
    product_ids = {
        row["code"]: row["id"]
        for row in writer.proxy("product.product").search_read([], 0, None, None, ["code"], writer.context)
    }
    _price_lists(writer, planned, product_ids)
    _stock_moves(writer, planned, product_ids, refs)
    return len(planned)


def load_catalogue(
    db: TrytonDatabase, products: int = 500, variant_share: float = 0.1, seed: int = 1
) -> None:
    """Load the sample catalogue into a provisioned database (no-op when one is already there)."""
    from emporion_devkit.erp.tryton_setup import _run_child

    _run_child(
        "emporion_devkit.erp.catalogue",
        db,
        "--products",
        str(products),
        "--variant-share",
        str(variant_share),
        "--seed",
        str(seed),
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry of the child process."""
    from proteus import config as proteus_config

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--variant-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    proteus_config.set_trytond(args.database, config_file=args.config)
    build(args.products, args.variant_share, args.seed)


if __name__ == "__main__":
    main()
