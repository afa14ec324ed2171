"""The sample Warenwirtschaft's file flavour: catalogue exports into a drop folder, orders imported from it.

Many ERPs offer no database access, only a folder they export to and import from. This module is
that ERP's side of the drop (a local folder; on an SFTP server it is the folder the server serves):
- `export_catalogue` writes full exports as German ERPs do: CSV in cp1252 with `;`, a decimal comma
  and dates as 31.12.2026 (categories, articles, variants, prices, promotions, stock; articles also
  as XML when asked), each under a temporary name first and renamed, only when its content changed;
- `import_orders` reads the openTRANS ORDER files emporion writes, stages them in the import tables
  and lets the Warenwirtschaft take them (`erp.take_orders`), archiving each file it read;
- `export_progress` writes what changed in its orders, delivery notes and invoices as delta CSV files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from lxml import etree

from emporion_devkit.wawi import erp, schema

ENCODING = "cp1252"
EXPORT_FOLDER = "export"
ORDER_FOLDER = "import"
ARCHIVE = "archiv"
FAILED = "fehler"
Cell = str | int | Decimal | date | datetime | bool | None


def cell(value: Cell) -> str:
    """A value as a German export writes it: decimal comma, 31.12.2026, J/N, empty for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "J" if value else "N"
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """A CSV file in cp1252 with `;` and CRLF line ends, as German ERPs export."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return buffer.getvalue().encode(ENCODING, errors="replace")


def write_atomic(path: Path, data: bytes) -> None:
    """Write under a temporary name in the same folder, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".tmp-{path.name}")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def file_stamp() -> str:
    """A file name stamp that sorts by time (UTC, microseconds)."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")


Export = Callable[[sa.Connection], tuple[list[str], list[list[Cell]]]]


def _categories(conn: sa.Connection) -> tuple[list[str], list[list[Cell]]]:
    t = schema.warengruppe
    rows = conn.execute(sa.select(t.c.id, t.c.name, t.c.eltern_id).order_by(t.c.id))
    return ["ID", "Name", "Übergeordnet"], [list(row) for row in rows]


def _articles(conn: sa.Connection) -> tuple[list[str], list[list[Cell]]]:
    t = schema.artikel
    columns = (t.c.artikelnr, t.c.bezeichnung, t.c.beschreibung, t.c.vk_netto, t.c.gewicht, t.c.ean)
    rows = conn.execute(sa.select(*columns, t.c.warengruppe_id, t.c.aktiv, t.c.im_shop).order_by(t.c.id))
    header = ["Artikelnummer", "Bezeichnung", "Beschreibung", "VK netto", "Gewicht", "EAN", "Warengruppe"]
    return [*header, "Aktiv", "Im Shop"], [list(row) for row in rows]


def _variants(conn: sa.Connection) -> tuple[list[str], list[list[Cell]]]:
    v, a = schema.artikel_variante, schema.artikel
    rows = conn.execute(
        sa.select(v.c.artikelnr, a.c.artikelnr, v.c.farbe, v.c.groesse, v.c.vk_netto, v.c.aktiv)
        .join(a, a.c.id == v.c.artikel_id)
        .order_by(v.c.id)
    )
    return ["Artikelnummer", "Vaterartikel", "Farbe", "Größe", "VK netto", "Aktiv"], [list(r) for r in rows]


def _prices(conn: sa.Connection) -> tuple[list[str], list[list[Cell]]]:
    p, g = schema.artikel_preis, schema.preisgruppe
    rows = conn.execute(
        sa.select(p.c.id, p.c.artikelnr, g.c.name, p.c.preis)
        .join(g, g.c.id == p.c.preisgruppe_id)
        .order_by(p.c.id)
    )
    return ["ID", "Artikelnummer", "Preisgruppe", "Preis"], [list(row) for row in rows]


def _promotions(conn: sa.Connection) -> tuple[list[str], list[list[Cell]]]:
    t = schema.aktion
    rows = conn.execute(
        sa.select(t.c.id, t.c.artikelnr, t.c.preis, t.c.gueltig_von, t.c.gueltig_bis).order_by(t.c.id)
    )
    return ["ID", "Artikelnummer", "Aktionspreis", "Gültig von", "Gültig bis"], [list(row) for row in rows]


def _stock(conn: sa.Connection) -> tuple[list[str], list[list[Cell]]]:
    b, lager = schema.lager_bestand, schema.lager
    rows = conn.execute(
        sa.select(b.c.id, b.c.artikelnr, lager.c.kuerzel, b.c.menge)
        .join(lager, lager.c.id == b.c.lager_id)
        .order_by(b.c.id)
    )
    return ["ID", "Artikelnummer", "Lager", "Menge"], [list(row) for row in rows]


EXPORTS: dict[str, Export] = {
    "warengruppen": _categories,
    "artikel": _articles,
    "varianten": _variants,
    "preise": _prices,
    "aktionen": _promotions,
    "bestand": _stock,
}


def articles_xml(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """Articles as a simple XML export (`<ARTIKELSTAMM><ARTIKEL>`, one element per column), UTF-8."""
    root = etree.Element("ARTIKELSTAMM")
    tags = [
        "ARTIKELNR",
        "BEZEICHNUNG",
        "BESCHREIBUNG",
        "VK_NETTO",
        "GEWICHT",
        "EAN",
        "WARENGRUPPE",
        "AKTIV",
        "IM_SHOP",
    ]
    for row in rows:
        article = etree.SubElement(root, "ARTIKEL")
        for tag, value in zip(tags, row, strict=True):
            etree.SubElement(article, tag).text = cell(value)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


@dataclass
class FileDrop:
    """The Warenwirtschaft's side of a drop folder: what it exported last, and what it imported."""

    engine: sa.Engine
    root: Path
    articles_as_xml: bool = False
    exported: dict[str, str] = field(default_factory=dict)  # export name -> sha256 of its rows
    progress_seen: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    @property
    def export_dir(self) -> Path:
        return self.root / EXPORT_FOLDER

    @property
    def order_dir(self) -> Path:
        return self.root / ORDER_FOLDER

    def export_catalogue(self) -> list[Path]:
        """Write a full export of each catalogue table whose content changed since the last one."""
        written = []
        stamp = file_stamp()
        with self.engine.connect() as conn:
            for name, export in EXPORTS.items():
                header, rows = export(conn)
                digest = hashlib.sha256(repr(rows).encode()).hexdigest()
                if self.exported.get(name) == digest:
                    continue
                if name == "artikel" and self.articles_as_xml:
                    path, data = self.export_dir / f"{name}_{stamp}.xml", articles_xml(header, rows)
                else:
                    path, data = self.export_dir / f"{name}_{stamp}.csv", csv_bytes(header, rows)
                write_atomic(path, data)
                self.exported[name] = digest
                written.append(path)
        return written

    def import_orders(self, warehouse: str = erp.DEFAULT_WAREHOUSE) -> erp.Taken:
        """Stage every order and cancellation file in the import folder, archive it, take what is staged.

        A file the Warenwirtschaft cannot read is moved to `fehler/` with the reason beside it, and
        the others are imported.
        """
        from emporion_devkit.wawi.opentrans import OrderFileError, read_order

        folder = self.order_dir
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("*.xml")) + sorted(folder.glob("cancel-*.csv")):
            if path.name.startswith("."):
                continue
            try:
                with self.engine.begin() as conn:
                    if path.suffix == ".xml":
                        read_order(path.read_bytes(), path.name).stage(conn)
                    else:
                        _stage_cancellations(conn, path)
            except OrderFileError as error:
                (folder / FAILED).mkdir(exist_ok=True)
                (folder / FAILED / f"{path.name}.grund.txt").write_text(str(error), encoding="utf-8")
                os.replace(path, folder / FAILED / path.name)
                continue
            (folder / ARCHIVE).mkdir(exist_ok=True)
            os.replace(path, folder / ARCHIVE / path.name)
        return erp.take_orders(self.engine, warehouse)

    def export_progress(self) -> list[Path]:
        """Write the orders, delivery notes and invoices that changed since the last export (deltas)."""
        stamp = file_stamp()
        written = []
        with self.engine.connect() as conn:
            for name, header, rows in _progress(conn):
                fresh = []
                for row in rows:
                    key = f"{name}:{row[0]}"
                    if self.progress_seen.get(key) != tuple(row):
                        fresh.append(row)
                        self.progress_seen[key] = tuple(row)
                if fresh:
                    path = self.export_dir / f"{name}_{stamp}.csv"
                    write_atomic(path, csv_bytes(header, fresh))
                    written.append(path)
        return written

    def cycle(self) -> tuple[list[Path], erp.Taken, list[Path]]:
        """One round of the Warenwirtschaft's file jobs: export, import and take orders, report progress."""
        exported = self.export_catalogue()
        taken = self.import_orders()
        return exported, taken, self.export_progress()


def _progress(conn: sa.Connection) -> list[tuple[str, list[str], list[list[Cell]]]]:
    """The progress exports: order status, shipments with tracking, invoices and credit notes."""
    a, ls, re = schema.auftrag, schema.lieferschein, schema.rechnung
    taken = a.c.shop_referenz.is_not(None)
    orders = conn.execute(
        sa.select(a.c.shop_referenz, a.c.auftragsnr, a.c.status).where(taken).order_by(a.c.id)
    )
    shipments = conn.execute(
        sa.select(
            ls.c.lieferscheinnr, a.c.shop_referenz, ls.c.versender, ls.c.sendungsnummer, ls.c.versendet_am
        )
        .join(a, a.c.id == ls.c.auftrag_id)
        .where(taken)
        .order_by(ls.c.id)
    )
    invoices = conn.execute(
        sa.select(re.c.nummer, a.c.shop_referenz, re.c.betrag, re.c.gutschrift)
        .join(a, a.c.id == re.c.auftrag_id)
        .where(taken)
        .order_by(re.c.id)
    )
    return [
        ("status", ["Shop-Referenz", "Auftragsnummer", "Status"], [list(r) for r in orders]),
        (
            "versand",
            ["Lieferschein", "Shop-Referenz", "Versender", "Sendungsnummer", "Versendet am"],
            [list(r) for r in shipments],
        ),
        ("rechnungen", ["Rechnung", "Shop-Referenz", "Betrag", "Gutschrift"], [list(r) for r in invoices]),
    ]


def _stage_cancellations(conn: sa.Connection, path: Path) -> None:
    """A cancellation file (`reference;number;cancelled_at`, UTF-8) into `import_storno`, once per order."""
    from emporion_devkit.wawi.opentrans import OrderFileError

    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=";"))
    except (UnicodeDecodeError, csv.Error):
        raise OrderFileError(f"cancellation file {path.name}: not a UTF-8 CSV file") from None
    cancellations = schema.import_storno
    for number, row in enumerate(rows, start=2):
        reference = (row.get("reference") or "").strip()
        if not reference:
            raise OrderFileError(f"cancellation file {path.name} row {number}: no reference")
        known = sa.select(cancellations.c.id).where(cancellations.c.shop_referenz == reference)
        if conn.execute(known).first() is None:
            conn.execute(cancellations.insert().values(shop_referenz=reference, grund="Storno im Shop"))
