"""Tryton on PostgreSQL: a database is cloned from the cached template and serves the connector."""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit

import pytest

from emporion.connectors.tryton.connector import TrytonConnector
from emporion_devkit.erp.tryton_server import TrytonServer
from emporion_devkit.erp.tryton_setup import CatalogueSpec, create_database, drop_database
from tests.fixtures.tryton import ADMIN_PASSWORD, CACHE_DIR, EMPORION_PASSWORD

pytestmark = [pytest.mark.tryton, pytest.mark.postgres]
PG_SERVER = os.environ.get("EMPORION_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def test_postgres_database_serves_the_catalogue() -> None:
    name = f"emporion_tryton_{secrets.token_hex(4)}"
    server_url = f"postgresql://{urlsplit(PG_SERVER).netloc}/"
    db = create_database(
        server_url,
        name,
        admin_password=ADMIN_PASSWORD,
        emporion_password=EMPORION_PASSWORD,
        catalogue=CatalogueSpec(products=20, variant_share=0.2, seed=5),
        cache_dir=CACHE_DIR,
    )
    try:
        assert (
            create_database(
                server_url,
                name,
                admin_password=ADMIN_PASSWORD,
                emporion_password=EMPORION_PASSWORD,
                catalogue=CatalogueSpec(products=20, variant_share=0.2, seed=5),
                cache_dir=CACHE_DIR,
            )
            == db
        )  # idempotent
        with TrytonServer(db) as server:
            connector = TrytonConnector("tryton", server.url, server.database, server.user, server.password)
            try:
                results = await connector.check()
                products = [p async for page in connector.scan("product") for p in page]
            finally:
                await connector.close()
        assert all(result.ok for result in results), results
        assert len(products) == 20 and sum(1 for p in products if p.is_variable) == 4
        assert {level.warehouse for level in products[0].stock or products[0].variants[0].stock} == {
            "WH",
            "WH2",
        }
    finally:
        drop_database(db)
