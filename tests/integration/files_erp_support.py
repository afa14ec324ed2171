"""The dev kit's Warenwirtschaft behind a file drop on a real SFTP server, and the configuration that maps it.

The ERP is the sample Warenwirtschaft in a SQLite file (`emporion_devkit.wawi`); its file side
(`wawi.files.FileDrop`) exports the catalogue as German CSV (cp1252, `;`, decimal comma, 31.12.2026)
into `export/`, imports the openTRANS order files emporion writes into `import/` (archiving each
file it read into `import/archiv/`) and writes its progress (status, shipments, invoices) as delta
CSV files. The drop folder is served by a private OpenSSH sshd on 127.0.0.1
(`emporion_devkit.sftp.SftpServer`: its own host key, checked through a known_hosts file, and a
client key); emporion reaches it only through `sftp://`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from emporion_devkit.sftp import SftpServer
from emporion_devkit.wawi import files_config, sample, schema
from emporion_devkit.wawi.files import ARCHIVE, EXPORT_FOLDER, ORDER_FOLDER, FileDrop
from emporion_devkit.wawi.files_config import SftpAccess
from emporion_devkit.wawi.opentrans import read_order
from tests.integration import sql_erp_support
from tests.integration.sql_erp_support import SHOP_WAREHOUSES

PRODUCTS = 20
PRICE_LIST = "Endkunde"


@dataclass
class Drop:
    """The Warenwirtschaft (its database and its file side) and the SFTP server serving its drop."""

    engine: sa.Engine
    files: FileDrop
    server: SftpServer

    @property
    def root(self) -> Path:
        return self.files.root


@contextmanager
def sftp_drop(tmp_path: Path) -> Iterator[Drop]:
    """The sample Warenwirtschaft in SQLite, its drop folder served over SFTP on 127.0.0.1."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'wawi.db'}")
    schema.create(engine)
    sample.fill(engine, sample.SampleSpec(products=PRODUCTS))
    root = tmp_path / "drop"
    for folder in (EXPORT_FOLDER, ORDER_FOLDER):
        (root / folder).mkdir(parents=True)
    server = SftpServer(tmp_path / "ssh", root)
    server.start()
    try:
        yield Drop(engine, FileDrop(engine, root), server)
    finally:
        server.stop()
        engine.dispose()


def files_connection(drop: Drop, *, articles_as_xml: bool = False) -> dict[str, Any]:
    """The dev kit's `type: files` connection on the SFTP drop, as the orders test writes it.

    Catalogue exports in and progress back are the dev kit's mapping (`wawi.files_config`); the
    order files carry this test's buyer id and the connector's default file names.
    """
    access = SftpAccess(private_key=drop.server.client_key, known_hosts=drop.server.known_hosts)
    connection = files_config.files_connection(drop.server.location, access, articles_as_xml=articles_as_xml)
    connection["orders"] = {
        "folder": ORDER_FOLDER,
        "format": "opentrans",
        "buyer_id": "SHOP",
        "supplier_id": "WAWI",
    }
    return connection


def catalogue_flow(poll_interval: float = 1.0) -> dict[str, Any]:
    """The catalogue flow from the drop into the shop: two warehouses, the Endkunde price group."""
    return sql_erp_support.catalogue_flow(poll_interval, price_list=PRICE_LIST)


def order_flow(poll_interval: float = 1.0) -> dict[str, Any]:
    """The order flow: the shop's orders as openTRANS files into the drop, progress files back."""
    return sql_erp_support.order_flow(poll_interval)


def order_files(drop: Drop) -> Counter[str]:
    """How many order files the drop holds per order reference (waiting, and archived by the ERP)."""
    folder = drop.root / ORDER_FOLDER
    counts: Counter[str] = Counter()
    for path in [*folder.glob("*.xml"), *(folder / ARCHIVE).glob("*.xml")]:
        if not path.name.startswith("."):
            counts[read_order(path.read_bytes(), path.name).reference] += 1
    return counts


def stock_of(drop: Drop, sku: str) -> int:
    """What the shop should show for a SKU: its stock in the shop's warehouses."""
    levels = drop_stock(drop, sku)
    return int(sum(quantity for warehouse, quantity in levels.items() if warehouse in SHOP_WAREHOUSES))


def drop_stock(drop: Drop, sku: str) -> dict[str, Any]:
    """The Warenwirtschaft's stock of a SKU per warehouse code."""
    from emporion_devkit.wawi import erp

    return erp.stock_of(drop.engine, sku)


def group_price(drop: Drop, sku: str, group: str = PRICE_LIST) -> Any:
    """The SKU's price in a price group."""
    prices, groups = schema.artikel_preis, schema.preisgruppe
    with drop.engine.connect() as conn:
        return conn.execute(
            sa.select(prices.c.preis)
            .join(groups, groups.c.id == prices.c.preisgruppe_id)
            .where(prices.c.artikelnr == sku, groups.c.name == group)
        ).scalar_one()
