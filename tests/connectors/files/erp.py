"""A small Warenwirtschaft that exports files as a German ERP does (cp1252, `;`, decimal comma).

It keeps its articles and stock in memory and writes a full export of each into the drop's export
folder whenever something changes: `artikel_<n>.csv` and `bestand_<n>.csv`, numbered so that a later
export always sorts after an earlier one, written under a temporary name and renamed, as a careful
ERP does (and as the connector expects: it never reads `.tmp-` files).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from emporion.connectors.files.settings import FilesConnection

PRODUCTS = {
    "key": "ArtNr",
    "pattern": "artikel_*.csv",
    "csv": {"encoding": "cp1252", "decimal_comma": True, "date_format": "%d.%m.%Y"},
    "columns": {"sku": "ArtNr", "name": "Bezeichnung", "list_price": "VK"},
}
STOCK = {
    "key": "Id",
    "pattern": "bestand_*.csv",
    "csv": {"encoding": "cp1252", "decimal_comma": True},
    "columns": {"sku": "ArtNr", "warehouse": "Lager", "quantity": "Menge"},
}
SALE_PRICES = {
    "key": "Id",
    "pattern": "aktion_*.csv",
    "csv": {"encoding": "cp1252", "decimal_comma": True, "date_format": "%d.%m.%Y"},
    "columns": {"sku": "ArtNr", "price": "Preis", "start": "Von", "end": "Bis"},
}


def settings(location: str, **changes: Any) -> FilesConnection:
    """A drop with articles and stock as full exports and orders as openTRANS files."""
    values: dict[str, Any] = {
        "type": "files",
        "location": location,
        "page_size": 3,
        "settle_seconds": 0,
        "currency": "EUR",
        "catalogue": {"products": PRODUCTS, "stock": STOCK},
        "orders": {"folder": "orders", "format": "opentrans", "supplier_id": "MERCHANT"},
    }
    values.update(changes)
    return FilesConnection.model_validate(values)


@dataclass
class ExportingErp:
    """The ERP's side of the drop: its data, and the export files it writes."""

    root: Path
    articles: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    stock: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    exports: int = 0
    clock: float = 1_700_000_000.0

    @property
    def export(self) -> Path:
        return self.root / "export"

    def _write(self, name: str, text: str) -> Path:
        """Write an export atomically with a modification time after every earlier export's."""
        self.export.mkdir(parents=True, exist_ok=True)
        self.exports += 1
        self.clock += 2
        path = self.export / name.format(n=f"{self.exports:05d}")
        temporary = path.with_name(".tmp-" + path.name)
        temporary.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
        os.utime(temporary, (self.clock, self.clock))
        temporary.rename(path)
        return path

    def articles_text(self, articles: dict[str, tuple[str, Decimal]] | None = None) -> str:
        """The articles (these, or the ERP's own) as a full export's text."""
        lines = ["ArtNr;Bezeichnung;VK"]
        for sku, (name, price) in sorted((self.articles if articles is None else articles).items()):
            lines.append(f"{sku};{name};{format(price, 'f').replace('.', ',')}")
        return "\n".join(lines) + "\n"

    def export_articles(self) -> Path:
        """A full export of the articles."""
        return self._write("artikel_{n}.csv", self.articles_text())

    def begin_articles(self, articles: dict[str, tuple[str, Decimal]]) -> Path:
        """An export the ERP has begun to write (under its temporary name only), of `articles`."""
        self.export.mkdir(parents=True, exist_ok=True)
        temporary = self.export / ".tmp-artikel_in_progress.csv"
        temporary.write_bytes(self.articles_text(articles).encode("cp1252"))
        return temporary

    def export_stock(self) -> Path:
        """A full export of the stock per warehouse."""
        lines = ["Id;ArtNr;Lager;Menge"]
        for (sku, warehouse), quantity in sorted(self.stock.items()):
            lines.append(f"{sku}-{warehouse};{sku};{warehouse};{format(quantity, 'f').replace('.', ',')}")
        return self._write("bestand_{n}.csv", "\n".join(lines) + "\n")

    def add(self, sku: str, name: str, price: Decimal, stock: Decimal | None = None) -> None:
        """A new article (and its stock in the main warehouse)."""
        self.articles[sku] = (name, price)
        if stock is not None:
            self.stock[(sku, "Hauptlager")] = stock

    def reprice(self, sku: str, delta: Decimal = Decimal("0.01")) -> None:
        """Change an article's price."""
        name, price = self.articles[sku]
        self.articles[sku] = (name, price + delta)
