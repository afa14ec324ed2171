"""The sample Warenwirtschaft on real MariaDB and PostgreSQL: schema, sample data, and what the ERP does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from emporion_devkit.erp.catalogue import plan
from emporion_devkit.wawi import erp, schema
from emporion_devkit.wawi.sample import CUSTOMERS, SampleSpec, fill, salable_skus

SPEC = SampleSpec(products=30, variant_share=0.2)


@pytest.fixture
def wawi(erp_db_url: str) -> Iterator[sa.Engine]:
    """A fresh database with the schema and the sample catalogue."""
    engine = sa.create_engine(erp_db_url)
    schema.create(engine)
    assert fill(engine, SPEC) == SPEC.products
    try:
        yield engine
    finally:
        engine.dispose()


def scalar(engine: sa.Engine, query: sa.Select[Any]) -> Any:
    with engine.connect() as conn:
        return conn.execute(query).scalar_one()


def count(engine: sa.Engine, table: sa.Table) -> int:
    return int(str(scalar(engine, sa.select(sa.func.count()).select_from(table))))


def stage(
    engine: sa.Engine, reference: str, lines: dict[str, Decimal], email: str = "neu@example.org"
) -> None:
    """Stage an order as the SQL connector would: header, then lines naming it, one transaction."""
    with engine.begin() as conn:
        header = erp.new_id(
            conn.execute(
                schema.import_auftrag.insert().values(
                    shop_referenz=reference, kunde_email=email, nachname="Neumann", summe=Decimal("42.00")
                )
            )
        )
        for position, (sku, quantity) in enumerate(lines.items(), start=1):
            conn.execute(
                schema.import_position.insert().values(
                    import_auftrag_id=header, position=str(position), artikelnr=sku, menge=quantity
                )
            )


def test_sample_matches_the_demo_plan(wawi: sa.Engine) -> None:
    planned = plan(SPEC.products, SPEC.variant_share, SPEC.seed)
    assert count(wawi, schema.artikel) == len(planned)
    variant_count = sum(len(p.variants) for p in planned if p.variants[0].attributes)
    assert variant_count > 0 and count(wawi, schema.artikel_variante) == variant_count
    skus = [p.code + v.suffix for p in planned for v in p.variants]
    assert count(wawi, schema.lager_bestand) == 2 * len(skus)  # both warehouses, zero rows included
    assert count(wawi, schema.artikel_preis) == 2 * len(skus)
    assert count(wawi, schema.kunde) == len(CUSTOMERS)
    first = planned[0]
    price = scalar(wawi, sa.select(schema.artikel.c.vk_netto).where(schema.artikel.c.artikelnr == first.code))
    assert price == first.list_price
    promotions = sum(len(p.variants) for p in planned if p.promotion)
    assert count(wawi, schema.aktion) == promotions
    valid = scalar(
        wawi, sa.select(sa.func.count()).where(schema.aktion.c.gueltig_bis < schema.aktion.c.gueltig_von)
    )
    assert valid == 0
    assert set(salable_skus(SPEC)) <= set(skus)
    assert fill(wawi, SPEC) == 0  # a second fill leaves the data alone


def test_merchant_updates_move_the_row_version_and_the_stamp(wawi: sa.Engine) -> None:
    articles = schema.artikel
    query = sa.select(articles.c.zeilen_version, articles.c.geaendert_am).where(
        articles.c.artikelnr == "SKU-00001"
    )
    with wawi.connect() as conn:
        version, stamp = conn.execute(query).one()
        highest = conn.execute(sa.select(sa.func.max(articles.c.zeilen_version))).scalar_one()
    time.sleep(0.05)
    erp.rename(wawi, "SKU-00001", "Klassischer Becher")
    with wawi.connect() as conn:
        new_version, new_stamp = conn.execute(query).one()
    assert new_version > highest >= version  # an update draws a new, higher row version
    assert new_stamp > stamp  # and the database moved the modification time
    stock = schema.lager_bestand
    before = scalar(wawi, sa.select(sa.func.max(stock.c.geaendert_am)))
    time.sleep(0.05)
    with wawi.begin() as conn:  # a plain UPDATE as a merchant's tool would send it
        conn.execute(stock.update().where(stock.c.artikelnr == "SKU-00001").values(menge=stock.c.menge + 1))
    after = scalar(wawi, sa.select(sa.func.max(stock.c.geaendert_am)).where(stock.c.artikelnr == "SKU-00001"))
    assert after > before


def test_taking_an_order_books_its_stock_out_and_marks_it_taken(wawi: sa.Engine) -> None:
    sku = next(s for s in salable_skus(SPEC) if sum(erp.stock_of(wawi, s).values()) >= 3)
    before = erp.stock_of(wawi, sku)
    stage(wawi, "WEB-1001", {sku: Decimal(2)})
    taken = erp.take_orders(wawi)
    assert taken.orders == ["WEB-1001"]
    after = erp.stock_of(wawi, sku)
    assert sum(after.values()) == sum(before.values()) - 2
    assert after["HL"] == max(before["HL"] - 2, Decimal(0))  # the order's warehouse first
    staged = schema.import_auftrag
    assert (
        scalar(wawi, sa.select(staged.c.uebernommen_am).where(staged.c.shop_referenz == "WEB-1001"))
        is not None
    )
    order = schema.auftrag
    assert (
        scalar(wawi, sa.select(order.c.status).where(order.c.shop_referenz == "WEB-1001")) == erp.PROCESSING
    )
    customer = sa.select(sa.func.count()).where(schema.kunde.c.email == "neu@example.org")
    assert scalar(wawi, customer) == 1  # the new customer was created once
    assert erp.take_orders(wawi).orders == []  # taken once, never again
    assert sum(erp.stock_of(wawi, sku).values()) == sum(after.values())


def test_shipping_sets_carrier_and_tracking_and_invoicing_completes(wawi: sa.Engine) -> None:
    stage(wawi, "WEB-1002", {"SKU-00001": Decimal(1)}, email="anna.schmidt@example.org")
    erp.take_orders(wawi)
    note = erp.ship(wawi, "WEB-1002", "JJD0001234", "DHL")
    with wawi.connect() as conn:
        shipment = conn.execute(
            sa.select(schema.lieferschein).where(schema.lieferschein.c.lieferscheinnr == note)
        ).one()
        assert (shipment.versender, shipment.sendungsnummer) == ("DHL", "JJD0001234")
        assert shipment.versendet_am is not None
        kunde = conn.execute(
            sa.select(schema.auftrag.c.kunde_id).where(schema.auftrag.c.shop_referenz == "WEB-1002")
        )
        known = conn.execute(sa.select(schema.kunde.c.id).where(schema.kunde.c.kundennr == "K-10001"))
        assert kunde.scalar_one() == known.scalar_one()  # an existing customer is found by e-mail
    number = erp.invoice(wawi, "WEB-1002")
    with wawi.connect() as conn:
        invoice = conn.execute(sa.select(schema.rechnung).where(schema.rechnung.c.nummer == number)).one()
        status = conn.execute(
            sa.select(schema.auftrag.c.status).where(schema.auftrag.c.shop_referenz == "WEB-1002")
        )
    assert (
        invoice.betrag == Decimal("42.00") and invoice.gutschrift is False and invoice.datum == date.today()
    )
    assert status.scalar_one() == erp.DONE
    with pytest.raises(ValueError, match="shipped"):
        erp.cancel(wawi, "WEB-1002")


def test_cancelling_books_stock_back_and_credits_what_was_invoiced(wawi: sa.Engine) -> None:
    before = erp.stock_of(wawi, "SKU-00001")
    stage(wawi, "WEB-1003", {"SKU-00001": Decimal(1)})
    erp.take_orders(wawi)
    erp.invoice(wawi, "WEB-1003")
    erp.cancel(wawi, "WEB-1003")
    assert erp.stock_of(wawi, "SKU-00001") == before
    with wawi.connect() as conn:
        credit = conn.execute(sa.select(schema.rechnung).where(schema.rechnung.c.gutschrift.is_(True))).one()
    assert credit.betrag == Decimal("42.00") and credit.nummer.startswith("GS-")
    # a cancellation staged by the shop side is taken once, and a second request changes nothing
    stage(wawi, "WEB-1004", {"SKU-00001": Decimal(1)})
    erp.take_orders(wawi)
    with wawi.begin() as conn:
        conn.execute(schema.import_storno.insert().values(shop_referenz="WEB-1004"))
    assert erp.take_orders(wawi).cancelled == ["WEB-1004"]
    assert erp.stock_of(wawi, "SKU-00001") == before


def test_catalogue_changes_a_merchant_makes(wawi: sa.Engine) -> None:
    erp.set_price(wawi, "SKU-00001", Decimal("19.99"))
    erp.receive_stock(wawi, "SKU-00001", Decimal(5), "AL")
    articles = schema.artikel
    assert scalar(wawi, sa.select(articles.c.vk_netto).where(articles.c.artikelnr == "SKU-00001")) == Decimal(
        "19.99"
    )
    prices = schema.artikel_preis
    group = sa.select(prices.c.preis).where(
        (prices.c.artikelnr == "SKU-00001") & (prices.c.preisgruppe_id == 1)
    )
    assert scalar(wawi, group) == Decimal("19.99")
    erp.deactivate(wawi, "SKU-00001")
    assert scalar(wawi, sa.select(articles.c.aktiv).where(articles.c.artikelnr == "SKU-00001")) is False
    variable = next(p for p in plan(SPEC.products, SPEC.variant_share, SPEC.seed) if p.variants[0].attributes)
    erp.delete(wawi, variable.code)
    variants = sa.select(sa.func.count()).where(
        schema.artikel_variante.c.artikelnr.like(f"{variable.code}-%")
    )
    assert scalar(wawi, variants) == 0
    stock = sa.select(sa.func.count()).where(schema.lager_bestand.c.artikelnr.like(f"{variable.code}%"))
    assert scalar(wawi, stock) == 0
    with pytest.raises(LookupError, match="NOPE"):
        erp.set_price(wawi, "NOPE", Decimal(1))
