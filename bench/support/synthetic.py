"""A fast source connector yielding the canonical records a Tryton catalogue of the same shape gives.

Records are made on demand from their index (never held all at once), with the sample catalogue's
shape (`emporion_devkit.erp.catalogue`): a category tree, a tenth of the products variable with 4 variants
(2 sizes x 2 colours), list prices, a `Wholesale` price list, promotions as dated sale prices for a
fifth, stock in two warehouses, weights and EANs. Its change feed reports the keys `touch()` changed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Capabilities, ChangeBatch, CheckResult, FeedKind, Outcome, WriteItem
from emporion.model import Category, Product, Record, SalePrice, StockLevel, Variant
from emporion_devkit.erp.catalogue import ADJECTIVES, CATEGORY_TREE, NOUNS, ean13

VARIANTS = (("S", "red"), ("S", "blue"), ("M", "red"), ("M", "blue"))
VARIABLE_EVERY = 10  # every tenth product has variants
VARIANT_KEY_BASE = 100_000_000
PAGE = 500
WAREHOUSES = ("WH", "WH2")


def _categories() -> list[Category]:
    """The sample category tree as canonical records."""
    categories, number = [], 0
    for root, children in CATEGORY_TREE.items():
        number += 1
        root_key = f"{number}"
        categories.append(Category(key=root_key, name=root))
        for child in children:
            number += 1
            categories.append(Category(key=f"{number}", name=child, parent_key=root_key))
    return categories


CATEGORIES = _categories()
LEAVES = [category.key for category in CATEGORIES if category.parent_key]


class Dice:
    """Cheap deterministic numbers for one record (seeding `random.Random` per record costs more)."""

    def __init__(self, seed: int) -> None:
        self.state = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF

    def _next(self) -> int:
        """The next 31-bit number (a 64-bit linear congruential step)."""
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return self.state >> 33

    def random(self) -> float:
        """A float in [0, 1)."""
        return self._next() / 2**31

    def randint(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + self._next() % (high - low + 1)

    def choice(self, items: Sequence[Any]) -> Any:
        """One of `items`."""
        return items[self._next() % len(items)]


class SyntheticCatalogue:
    """A read-only source of `size` products, made on the fly; a stand-in for Tryton's connector."""

    name = "synthetic"

    def __init__(self, size: int, *, seed: int = 1, currency: str = "EUR") -> None:
        self.size = size
        self.seed = seed
        self.currency = currency
        self.changes_log: list[str] = []  # keys in the order they were touched
        self.revision: dict[str, int] = {}  # key -> how often it changed
        self.cpu_seconds = 0.0  # CPU spent making records (what reading them from an ERP would cost)
        self.today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    def capabilities(self) -> Capabilities:
        """Reads categories and products, writes nothing, polls for changes."""
        return Capabilities(
            reads=frozenset({"category", "product"}),
            writes=frozenset(),
            batch_size=PAGE,
            feed=FeedKind.POLL,
            natural_keys={"product": "sku"},
        )

    async def check(self) -> list[CheckResult]:
        """Nothing to connect to: always fine."""
        return [CheckResult("synthetic catalogue", True, f"{self.size} products")]

    def touch(self, keys: Sequence[str]) -> None:
        """Change the stock and price of these products, as an ERP user would; the feed reports them."""
        for key in keys:
            self.revision[key] = self.revision.get(key, 0) + 1
            self.changes_log.append(key)

    async def changes(self, entity: str, cursor: str | None) -> ChangeBatch:
        """Keys touched since `cursor` (a position in the change log); None means from now on."""
        end = len(self.changes_log)
        if entity != "product" or cursor is None:
            return ChangeBatch([], str(end))
        start = int(cursor)
        return ChangeBatch(list(dict.fromkeys(self.changes_log[start:end])), str(end))

    async def read(self, entity: str, keys: Sequence[str]) -> list[Record]:
        """The current records for `keys` (unknown keys are left out)."""
        if entity == "category":
            wanted = set(keys)
            return [category for category in CATEGORIES if category.key in wanted]
        began = time.process_time()
        records: list[Record] = [
            self.product(int(key) - 1) for key in keys if key.isdigit() and 0 < int(key) <= self.size
        ]
        self.cpu_seconds += time.process_time() - began
        return records

    async def scan(self, entity: str) -> AsyncIterator[list[Record]]:
        """Every record, in pages of 500 made on demand."""
        if entity == "category":
            yield list(CATEGORIES)
            return
        for start in range(0, self.size, PAGE):
            began = time.process_time()
            page = [self.product(index) for index in range(start, min(start + PAGE, self.size))]
            self.cpu_seconds += time.process_time() - began
            yield page

    async def write(
        self, entity: str, upserts: Sequence[WriteItem], deletes: Sequence[WriteItem]
    ) -> list[Outcome]:
        """The source is never written to."""
        raise NotImplementedError("the synthetic catalogue is read-only")

    async def close(self) -> None:
        """Nothing to close."""
        return None

    def product(self, index: int) -> Product:
        """Product number `index` (0-based), the same every time for the same seed and revision."""
        key = str(index + 1)
        revision = self.revision.get(key, 0)
        rng = Dice(self.seed * 1_000_003 + index)
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {index + 1}"
        list_price = Decimal(rng.randint(500, 20000) + revision) / 100
        weight = Decimal(rng.randint(1, 50)) / 10
        sale_price = None
        if rng.random() < 0.2:
            sale_price = SalePrice(
                price=(list_price * Decimal("0.8")).quantize(Decimal("0.01")),
                start=self.today - dt.timedelta(days=30),
                end=self.today + dt.timedelta(days=366),
            )
        common = {
            "key": key,
            "name": name,
            "categories": [rng.choice(LEAVES)],
            "currency": self.currency,
            "list_price": list_price,
            "weight": weight,
            "description": f"{name}: sample product number {index + 1}.",
        }
        wholesale = {"Wholesale": (list_price * Decimal("0.9")).quantize(Decimal("0.01"))}
        if index % VARIABLE_EVERY == VARIABLE_EVERY - 1:
            variants = [
                Variant(
                    key=str(VARIANT_KEY_BASE + index * 4 + number),
                    sku=f"VAR-{index + 1:06d}-{size}-{colour.upper()}",
                    attributes={"size": size, "colour": colour},
                    list_price=list_price,
                    sale_price=sale_price,
                    price_lists=wholesale,
                    stock=self._stock(rng, revision),
                    weight=weight,
                )
                for number, (size, colour) in enumerate(VARIANTS)
            ]
            return Product(
                **common,
                sku=f"VAR-{index + 1:06d}",
                attributes={"colour": ["blue", "red"], "size": ["M", "S"]},
                variants=variants,
            )
        custom = {"ean": ean13(index + 1)} if index % 2 == 0 else {}
        return Product(
            **common,
            sku=f"SKU-{index + 1:06d}",
            price_lists=wholesale,
            sale_price=sale_price,
            stock=self._stock(rng, revision),
            custom=custom,
        )

    @staticmethod
    def _stock(rng: Dice, revision: int) -> list[StockLevel]:
        """Stock in the two warehouses; a change adds `revision` units to the first."""
        quantities = (rng.choice((0, rng.randint(1, 40))) + revision, rng.choice((0, 0, rng.randint(1, 20))))
        return [
            StockLevel(warehouse=code, quantity=Decimal(quantity))
            for code, quantity in zip(WAREHOUSES, quantities, strict=True)
        ]
