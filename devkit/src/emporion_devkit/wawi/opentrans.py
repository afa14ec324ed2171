"""The Warenwirtschaft's openTRANS 2.1 ORDER import: an order file read into its import tables.

The reader is lenient about prefixes (openTRANS elements in their namespace, BMEcat elements in
theirs) and strict about what it needs: the order id (the shop reference), and per item the
supplier's article number and a quantity. The parser is hardened: no entities, no DTD, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from lxml import etree

from emporion_devkit.wawi import schema
from emporion_devkit.wawi.erp import new_id

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class OrderFileError(ValueError):
    """An order file the Warenwirtschaft cannot import (names the file and the element)."""


def _all(node: etree._Element, name: str) -> list[etree._Element]:
    return list(node.iterfind(f".//{{*}}{name}"))


def _text(node: etree._Element, name: str) -> str:
    found = node.find(f".//{{*}}{name}")
    return (found.text or "").strip() if found is not None else ""


def _decimal(node: etree._Element, name: str, where: str) -> Decimal | None:
    text = _text(node, name)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise OrderFileError(f"{where}: {name} is not a number") from None


@dataclass
class StagedLine:
    """One order item as the import table holds it."""

    position: str
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal | None


@dataclass
class StagedOrder:
    """One openTRANS order, ready to be staged in `import_auftrag` and `import_position`."""

    reference: str
    number: str
    ordered_at: datetime | None
    currency: str
    total: Decimal | None
    shipping: Decimal | None = None
    person: dict[str, str] = field(default_factory=dict)
    lines: list[StagedLine] = field(default_factory=list)

    def stage(self, conn: sa.Connection) -> bool:
        """Insert header and lines unless the reference is staged already (an order file read twice)."""
        staged = schema.import_auftrag
        if conn.execute(sa.select(staged.c.id).where(staged.c.shop_referenz == self.reference)).first():
            return False
        header_id = new_id(
            conn.execute(
                staged.insert().values(
                    shop_referenz=self.reference,
                    shop_bestellnr=self.number,
                    bestelldatum=self.ordered_at,
                    waehrung=self.currency,
                    summe=self.total,
                    versandkosten=self.shipping,
                    **self.person,
                )
            )
        )
        for line in self.lines:
            conn.execute(
                schema.import_position.insert().values(
                    import_auftrag_id=header_id,
                    position=line.position,
                    artikelnr=line.sku,
                    bezeichnung=line.name[:200],
                    menge=line.quantity,
                    einzelpreis=line.unit_price,
                )
            )
        return True


def _party(root: etree._Element) -> dict[str, str]:
    """The invoice recipient's (else the buyer's, else the first party's) name, address and e-mail."""
    parties = _all(root, "PARTY")
    chosen = None
    for role in ("invoice_recipient", "invoice", "buyer", "delivery"):
        for party in parties:
            if chosen is None and role in {(r.text or "").strip() for r in _all(party, "PARTY_ROLE")}:
                chosen = party
    chosen = chosen if chosen is not None else (parties[0] if parties else None)
    if chosen is None:
        return {}
    email = _text(chosen, "EMAIL") or next((_text(p, "EMAIL") for p in parties if _text(p, "EMAIL")), "")
    name, name2 = _text(chosen, "NAME"), _text(chosen, "NAME2")
    company, person = (name, name2) if name2 else ("", name)
    first, _, last = person.partition(" ")
    values = {
        "kunde_email": email,
        "vorname": _text(chosen, "FIRST_NAME") or (first if last else ""),
        "nachname": _text(chosen, "CONTACT_SURNAME") or last or first,
        "firma": company,
        "strasse": _text(chosen, "STREET"),
        "plz": _text(chosen, "ZIP"),
        "ort": _text(chosen, "CITY"),
        "land": _text(chosen, "COUNTRY_CODED")[:2],
    }
    return {key: value[:80] if key != "kunde_email" else value for key, value in values.items() if value}


def _remark(root: etree._Element, kind: str, where: str) -> Decimal | None:
    """A money REMARKS element of this type (openTRANS carries the grand total and shipping there)."""
    for remark in _all(root, "REMARKS"):
        if remark.get("type") == kind:
            try:
                return Decimal((remark.text or "").strip())
            except InvalidOperation:
                raise OrderFileError(f"{where}: REMARKS {kind} is not a number") from None
    return None


def read_order(data: bytes, name: str) -> StagedOrder:
    """Read an openTRANS ORDER document; an unreadable or incomplete file raises OrderFileError."""
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as error:
        raise OrderFileError(f"order file {name}: not well-formed XML (line {error.lineno})") from None
    reference = _text(root, "ORDER_ID")
    if not reference:
        raise OrderFileError(f"order file {name}: no ORDER_ID")
    ordered = _text(root, "ORDER_DATE")
    lines = []
    for index, item in enumerate(_all(root, "ORDER_ITEM"), start=1):
        where = f"order file {name} item {index}"
        sku = _text(item, "SUPPLIER_PID")
        quantity = _decimal(item, "QUANTITY", where)
        if not sku or quantity is None:
            raise OrderFileError(f"{where}: SUPPLIER_PID and QUANTITY are required")
        lines.append(
            StagedLine(
                position=_text(item, "LINE_ITEM_ID") or str(index),
                sku=sku,
                name=_text(item, "DESCRIPTION_SHORT"),
                quantity=quantity,
                unit_price=_decimal(item, "PRICE_AMOUNT", where),
            )
        )
    summary = root.find(".//{*}ORDER_SUMMARY")
    where = f"order file {name}"
    grand_total = _remark(root, "grand_total", where)
    if grand_total is None and summary is not None:
        grand_total = _decimal(summary, "TOTAL_AMOUNT", where)
    return StagedOrder(
        reference=reference,
        number=reference,
        ordered_at=datetime.fromisoformat(ordered) if ordered else None,
        currency=_text(root, "CURRENCY")[:3],
        total=grand_total,
        shipping=_remark(root, "shipping", where),
        person=_party(root),
        lines=lines,
    )
