"""What the sample Warenwirtschaft itself does, so that demos and tests can drive it as a merchant would.

It takes the orders staged in its import tables (an `auftrag` per order, stock booked out, the
import row marked `uebernommen_am`), ships them with a carrier and a tracking number (a
`lieferschein`), invoices them (`rechnung`), cancels them (stock booked back, a credit note when
invoiced), and changes its catalogue: prices, stock, names, articles taken out or deleted. Every
function is synchronous and runs in one transaction; call it through `asyncio.to_thread` from async
code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from emporion_devkit.wawi import schema

OPEN, PROCESSING, SHIPPED, DONE, CANCELLED = (
    "offen",
    "in_bearbeitung",
    "versendet",
    "abgeschlossen",
    "storniert",
)
DEFAULT_WAREHOUSE = "HL"
NOW = sa.func.current_timestamp


@dataclass
class Taken:
    """What one run of the order import did: orders taken, cancellations applied, customers created."""

    orders: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    customers: int = 0


def new_id(result: sa.CursorResult[object]) -> int:
    """The key the database gave the row just inserted."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the database did not return the new row's key")
    return int(key[0])


def _warehouse_ids(conn: sa.Connection) -> dict[str, int]:
    return {row.kuerzel: row.id for row in conn.execute(sa.select(schema.lager.c.kuerzel, schema.lager.c.id))}


def book(conn: sa.Connection, sku: str, quantity: Decimal, warehouse: str = DEFAULT_WAREHOUSE) -> None:
    """Book `quantity` of `sku` into a warehouse (negative: out of it), creating its stock row if needed."""
    warehouse_id = _warehouse_ids(conn).get(warehouse)
    if warehouse_id is None:
        raise LookupError(f"no warehouse {warehouse!r} in the Warenwirtschaft")
    stock = schema.lager_bestand
    where = (stock.c.artikelnr == sku) & (stock.c.lager_id == warehouse_id)
    if conn.execute(stock.update().where(where).values(menge=stock.c.menge + quantity)).rowcount == 0:
        conn.execute(stock.insert().values(artikelnr=sku, lager_id=warehouse_id, menge=quantity))


def _book_out(conn: sa.Connection, sku: str, quantity: Decimal, warehouse: str) -> None:
    """Book an order line out: from its warehouse first, what it lacks from the others, the rest short."""
    stock, warehouses = schema.lager_bestand, schema.lager
    rows = conn.execute(
        sa.select(warehouses.c.kuerzel, stock.c.menge)
        .join(warehouses, warehouses.c.id == stock.c.lager_id)
        .where(stock.c.artikelnr == sku)
    ).all()
    order = sorted(rows, key=lambda row: (row.kuerzel != warehouse, row.kuerzel))
    left = quantity
    for row in order:
        take = min(left, max(row.menge, Decimal(0)))
        if take > 0:
            book(conn, sku, -take, row.kuerzel)
            left -= take
    if left > 0:
        book(conn, sku, -left, warehouse)


def _customer_id(conn: sa.Connection, email: str | None, person: dict[str, object]) -> int | None:
    """The customer with this e-mail (case-insensitive), created from `person`'s columns when new."""
    email = (email or "").strip().lower()
    if not email:
        return None
    customers = schema.kunde
    found = conn.execute(sa.select(customers.c.id).where(sa.func.lower(customers.c.email) == email)).first()
    if found is not None:
        return int(found.id)
    count = conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar_one()
    values: dict[str, object] = {"kundennr": f"K-{10001 + count}", "email": email}
    for column in ("vorname", "nachname", "firma", "strasse", "plz", "ort", "land"):
        values[column] = person.get(column) or ("DE" if column == "land" else "")
    return new_id(conn.execute(customers.insert().values(**values)))


def _take_customers(conn: sa.Connection) -> int:
    """Staged customers become customers (matched by e-mail), and are marked taken."""
    staged = schema.import_kunde
    rows = conn.execute(sa.select(staged).where(staged.c.uebernommen_am.is_(None)).with_for_update()).all()
    for row in rows:
        _customer_id(conn, row.email, dict(row._mapping))
    if rows:
        conn.execute(
            staged.update().where(staged.c.id.in_([r.id for r in rows])).values(uebernommen_am=NOW())
        )
    return len(rows)


def _take_order(conn: sa.Connection, header: sa.Row[tuple[object, ...]], warehouse: str) -> None:
    """One staged order becomes an `auftrag` with its lines; its goods are booked out."""
    lines = conn.execute(
        sa.select(schema.import_position).where(schema.import_position.c.import_auftrag_id == header.id)
    ).all()
    warehouse_id = _warehouse_ids(conn).get(warehouse)
    number = f"AU-{10000 + int(header.id)}"
    order_id = new_id(
        conn.execute(
            schema.auftrag.insert().values(
                auftragsnr=number,
                shop_referenz=header.shop_referenz,
                kunde_id=_customer_id(conn, header.kunde_email, dict(header._mapping)),
                status=PROCESSING,
                summe=header.summe,
                lager_id=warehouse_id,
            )
        )
    )
    for line in lines:
        conn.execute(
            schema.auftrag_position.insert().values(
                auftrag_id=order_id, artikelnr=line.artikelnr, menge=line.menge, einzelpreis=line.einzelpreis
            )
        )
        _book_out(conn, line.artikelnr, Decimal(line.menge), warehouse)


def take_orders(engine: sa.Engine, warehouse: str = DEFAULT_WAREHOUSE) -> Taken:
    """Take everything staged: customers, orders (booked out of `warehouse` first), then cancellations."""
    taken = Taken()
    staged = schema.import_auftrag
    with engine.begin() as conn:
        taken.customers = _take_customers(conn)
        headers = conn.execute(
            sa.select(staged).where(staged.c.uebernommen_am.is_(None)).order_by(staged.c.id).with_for_update()
        ).all()
        for header in headers:
            _take_order(conn, header, warehouse)
            taken.orders.append(str(header.shop_referenz))
        if headers:
            conn.execute(
                staged.update().where(staged.c.id.in_([h.id for h in headers])).values(uebernommen_am=NOW())
            )
        cancellations = schema.import_storno
        rows = conn.execute(
            sa.select(cancellations).where(cancellations.c.uebernommen_am.is_(None)).with_for_update()
        ).all()
        for row in rows:
            if _cancel(conn, str(row.shop_referenz)):
                taken.cancelled.append(str(row.shop_referenz))
        if rows:
            conn.execute(
                cancellations.update()
                .where(cancellations.c.id.in_([r.id for r in rows]))
                .values(uebernommen_am=NOW())
            )
    return taken


def _order(conn: sa.Connection, reference: str) -> sa.Row[tuple[object, ...]]:
    row = conn.execute(sa.select(schema.auftrag).where(schema.auftrag.c.shop_referenz == reference)).first()
    if row is None:
        raise LookupError(f"no order with shop reference {reference!r} in the Warenwirtschaft (taken yet?)")
    return row


def _next_number(conn: sa.Connection, table: sa.Table, column: sa.Column[str], prefix: str) -> str:
    count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return f"{prefix}{10001 + count}"


def ship(engine: sa.Engine, reference: str, tracking: str, carrier: str = "DHL") -> str:
    """Ship an order: a delivery note with carrier and tracking number; the order reads `versendet`."""
    with engine.begin() as conn:
        order = _order(conn, reference)
        if order.status == CANCELLED:
            raise ValueError(f"order {reference!r} is cancelled in the Warenwirtschaft")
        notes = schema.lieferschein
        number = _next_number(conn, notes, notes.c.lieferscheinnr, "LS-")
        conn.execute(
            notes.insert().values(
                lieferscheinnr=number,
                auftrag_id=order.id,
                versender=carrier,
                sendungsnummer=tracking,
                versendet_am=NOW(),
            )
        )
        conn.execute(schema.auftrag.update().where(schema.auftrag.c.id == order.id).values(status=SHIPPED))
    return number


def invoice(engine: sa.Engine, reference: str) -> str:
    """Invoice an order for its total; a shipped order is then `abgeschlossen` (done)."""
    with engine.begin() as conn:
        order = _order(conn, reference)
        invoices = schema.rechnung
        number = _next_number(conn, invoices, invoices.c.nummer, "RE-")
        conn.execute(
            invoices.insert().values(
                nummer=number, auftrag_id=order.id, betrag=order.summe or Decimal(0), datum=date.today()
            )
        )
        if order.status == SHIPPED:
            conn.execute(schema.auftrag.update().where(schema.auftrag.c.id == order.id).values(status=DONE))
    return number


def _cancel(conn: sa.Connection, reference: str) -> bool:
    """Cancel a taken order: goods back into its warehouse, a credit note for what was invoiced."""
    order = conn.execute(
        sa.select(schema.auftrag).where(schema.auftrag.c.shop_referenz == reference).with_for_update()
    ).first()
    if order is None or order.status == CANCELLED:
        return False
    if conn.execute(
        sa.select(schema.lieferschein.c.id).where(schema.lieferschein.c.auftrag_id == order.id)
    ).first():
        raise ValueError(f"order {reference!r} has shipped: take the goods back as a return instead")
    warehouse = {v: k for k, v in _warehouse_ids(conn).items()}.get(order.lager_id, DEFAULT_WAREHOUSE)
    lines = conn.execute(
        sa.select(schema.auftrag_position).where(schema.auftrag_position.c.auftrag_id == order.id)
    )
    for line in lines:
        book(conn, line.artikelnr, Decimal(line.menge), warehouse)
    invoiced = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(schema.rechnung.c.betrag), 0)).where(
            (schema.rechnung.c.auftrag_id == order.id) & schema.rechnung.c.gutschrift.is_(False)
        )
    ).scalar_one()
    if Decimal(invoiced) > 0:
        number = _next_number(conn, schema.rechnung, schema.rechnung.c.nummer, "GS-")
        conn.execute(
            schema.rechnung.insert().values(
                nummer=number, auftrag_id=order.id, betrag=invoiced, gutschrift=True, datum=date.today()
            )
        )
    conn.execute(schema.auftrag.update().where(schema.auftrag.c.id == order.id).values(status=CANCELLED))
    return True


def cancel(engine: sa.Engine, reference: str) -> None:
    """Cancel an order the merchant will not deliver (nothing shipped yet)."""
    with engine.begin() as conn:
        _order(conn, reference)
        _cancel(conn, reference)


def _article_or_variant(conn: sa.Connection, sku: str) -> sa.Table:
    """The table holding this SKU: an article, or a variant."""
    for table in (schema.artikel, schema.artikel_variante):
        if conn.execute(sa.select(table.c.id).where(table.c.artikelnr == sku)).first() is not None:
            return table
    raise LookupError(f"no article or variant {sku!r} in the Warenwirtschaft")


def set_price(engine: sa.Engine, sku: str, price: Decimal) -> None:
    """Set the net sales price of an article or variant (and its Endkunde price group row)."""
    with engine.begin() as conn:
        table = _article_or_variant(conn, sku)
        conn.execute(table.update().where(table.c.artikelnr == sku).values(vk_netto=price))
        prices = schema.artikel_preis
        conn.execute(
            prices.update()
            .where((prices.c.artikelnr == sku) & (prices.c.preisgruppe_id == 1))
            .values(preis=price)
        )


def receive_stock(engine: sa.Engine, sku: str, quantity: Decimal, warehouse: str = DEFAULT_WAREHOUSE) -> None:
    """Book goods in (negative: out) for an article or variant."""
    with engine.begin() as conn:
        _article_or_variant(conn, sku)
        book(conn, sku, quantity, warehouse)


def rename(engine: sa.Engine, sku: str, name: str) -> None:
    """Rename an article."""
    with engine.begin() as conn:
        articles = schema.artikel
        if (
            conn.execute(
                articles.update().where(articles.c.artikelnr == sku).values(bezeichnung=name)
            ).rowcount
            == 0
        ):
            raise LookupError(f"no article {sku!r} in the Warenwirtschaft")


def deactivate(engine: sa.Engine, sku: str) -> None:
    """Take an article out of the range (`aktiv` false): the shop should stop selling it."""
    with engine.begin() as conn:
        articles = schema.artikel
        if (
            conn.execute(articles.update().where(articles.c.artikelnr == sku).values(aktiv=False)).rowcount
            == 0
        ):
            raise LookupError(f"no article {sku!r} in the Warenwirtschaft")


def delete(engine: sa.Engine, sku: str) -> None:
    """Delete an article with its variants, prices, promotions and stock rows."""
    with engine.begin() as conn:
        articles, variants = schema.artikel, schema.artikel_variante
        article = conn.execute(sa.select(articles.c.id).where(articles.c.artikelnr == sku)).first()
        if article is None:
            raise LookupError(f"no article {sku!r} in the Warenwirtschaft")
        variant_skus = conn.execute(
            sa.select(variants.c.artikelnr).where(variants.c.artikel_id == article.id)
        )
        skus = [sku, *variant_skus.scalars()]
        for table in (schema.artikel_preis, schema.aktion, schema.lager_bestand):
            conn.execute(table.delete().where(table.c.artikelnr.in_(skus)))
        conn.execute(variants.delete().where(variants.c.artikel_id == article.id))
        conn.execute(articles.delete().where(articles.c.id == article.id))


def stock_of(engine: sa.Engine, sku: str) -> dict[str, Decimal]:
    """The stock of a SKU per warehouse code."""
    stock, warehouses = schema.lager_bestand, schema.lager
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(warehouses.c.kuerzel, stock.c.menge)
            .join(warehouses, warehouses.c.id == stock.c.lager_id)
            .where(stock.c.artikelnr == sku)
        )
        return {row.kuerzel: Decimal(row.menge) for row in rows}
