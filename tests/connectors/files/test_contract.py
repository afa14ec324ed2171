"""The connector contract for the file connector, on a local folder and on a real SFTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from emporion.connectors.files.connector import FilesConnector
from emporion.connectors.files.plugin import PLUGIN
from emporion.connectors.roles import CatalogueSource, SalesTarget
from emporion.testing.contract import (
    BudgetedConnectionContract,
    CatalogueSourceContract,
    ConnectorContract,
    SalesTargetContract,
)
from emporion.testing.contract.catalogue import Commit
from tests.connectors.files.erp import ExportingErp, settings
from tests.fixtures.sftp import SftpServer

PAGE_SIZE = 3


class LocalDrop:
    """A connector on a fresh local folder, with the ERP exporting into it."""

    plugin = PLUGIN
    erp: ExportingErp

    @pytest.fixture
    async def connector(self, tmp_path: Path) -> AsyncIterator[FilesConnector]:
        self.erp = ExportingErp(tmp_path)
        connector = FilesConnector("drop", settings(str(tmp_path)))
        yield connector
        await connector.close()


class SftpDrop:
    """A connector on a fresh folder of a real SFTP server (key login, host key checked)."""

    plugin = PLUGIN
    erp: ExportingErp

    @pytest.fixture
    async def connector(self, sftp_server: SftpServer, sftp_folder: Path) -> AsyncIterator[FilesConnector]:
        self.erp = ExportingErp(sftp_folder)
        values = settings(
            sftp_server.location(sftp_folder),
            private_key=sftp_server.key_text(),
            known_hosts=str(sftp_server.known_hosts),
        )
        connector = FilesConnector("drop", values)
        yield connector
        await connector.close()


class CatalogueAsErp:
    """Seeds and changes articles as the ERP does: a new full export per change."""

    erp: ExportingErp
    page_size = PAGE_SIZE

    async def seed(self, connector: CatalogueSource, count: int, tag: str) -> list[str]:
        skus = [f"A-{tag}-{n}" for n in range(count)]
        for n, sku in enumerate(skus):
            self.erp.add(sku, f"Artikel {tag} {n}", Decimal("12.50"))
        self.erp.export_articles()
        return skus

    async def touch(self, connector: CatalogueSource, key: str) -> None:
        self.erp.reprice(key)
        self.erp.export_articles()

    async def begin_change(self, connector: CatalogueSource, key: str) -> Commit:
        """An export the ERP is still writing under a temporary name: the change is in it, but the feed
        must not see it before the export is finished and renamed into place (with what the ERP
        holds by then, as a full export does)."""
        name, price = self.erp.articles[key]
        uncommitted = {**self.erp.articles, key: (name, price + Decimal("0.01"))}
        in_progress = self.erp.begin_articles(uncommitted)

        async def commit() -> None:
            in_progress.unlink()
            self.erp.reprice(key)
            self.erp.export_articles()

        return commit


class SalesAsErp:
    """An ERP whose articles and stock are exported before the orders come."""

    erp: ExportingErp

    async def stocked_sku(self, connector: SalesTarget, tag: str) -> str:
        sku = f"S-{tag}"
        self.erp.add(sku, f"Lagerartikel {tag}", Decimal("10"), Decimal(7))
        self.erp.export_articles()
        self.erp.export_stock()
        return sku


class TestLocalConnector(LocalDrop, ConnectorContract):
    pass


class TestLocalCatalogueSource(LocalDrop, CatalogueAsErp, CatalogueSourceContract):
    pass


class TestLocalSalesTarget(LocalDrop, SalesAsErp, SalesTargetContract):
    pass


class TestLocalBudget(LocalDrop, BudgetedConnectionContract):
    pass


class TestSftpConnector(SftpDrop, ConnectorContract):
    pass


class TestSftpCatalogueSource(SftpDrop, CatalogueAsErp, CatalogueSourceContract):
    pass


class TestSftpSalesTarget(SftpDrop, SalesAsErp, SalesTargetContract):
    pass


class TestSftpBudget(SftpDrop, BudgetedConnectionContract):
    pass
