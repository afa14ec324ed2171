"""`emporion check` for a SQL connection, and the database's errors as typed errors (MariaDB, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from emporion.connectors.base import AuthError, Permanent, Retryable
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.sql.connector import SqlConnector
from emporion.connectors.sql.database import Database
from emporion.connectors.sql.settings import SqlConnection
from tests.connectors.sql.conftest import Wawi

Build = Callable[..., SqlConnector]


async def test_check_names_each_source_and_its_change_mode(wawi: Wawi, make_connector: Build) -> None:
    """Every source is validated and described: table, change mode, column, look-back, deleted mark."""
    results = await make_connector(mode="updated_at").check()

    assert all(result.ok for result in results), [r for r in results if not r.ok]
    details = {result.name: result.detail for result in results}
    assert details["catalogue.products"] == (
        "product: table artikel, change updated_at on geaendert_am (look-back 120 s), "
        "deleted when geloescht is set"
    )
    assert details["catalogue.stock"].startswith("product (stock): table lager_bestand, change updated_at")
    assert "connected to the" in details["connect"]


async def test_check_finds_missing_columns_wrong_change_types_and_writing_queries(
    wawi: Wawi, make_connector: Build
) -> None:
    """A mapped column not there, a change column of the wrong type, a query that writes: each named."""
    connector = make_connector(
        mode="monotonic",
        products={
            "table": "artikel",
            "key": "art_id",
            "columns": {"sku": "artnr", "name": "titel"},
            "change": {"mode": "monotonic", "column": "geaendert_am"},
        },
        categories={"query": "DELETE FROM warengruppe", "key": "wg_id"},
        customers={"table": "kunden_gibt_es_nicht", "key": "kd_nr"},
        stock={
            "table": "lager_bestand",
            "key": "lb_id",
            "columns": {"sku": {"template": "{{ artnr }}"}, "warehouse": "lager", "quantity": "menge"},
        },
    )
    results = {result.name: result for result in await connector.check()}

    products = results["catalogue.products"]
    assert not products.ok and "no column titel" in products.detail
    assert "change column geaendert_am holds" in products.detail
    assert "but monotonic needs a number or row version" in products.detail
    assert not results["catalogue.categories"].ok and "DELETE" in results["catalogue.categories"].detail
    assert (
        not results["catalogue.customers"].ok
        and "kunden_gibt_es_nicht" in results["catalogue.customers"].detail
    )
    assert not results["catalogue.stock"].ok and "must name a column" in results["catalogue.stock"].detail
    assert results["catalogue.prices"].ok


async def test_check_of_an_unreachable_database_is_one_line_without_the_password(erp_db_url: str) -> None:
    """A server that refuses connections: one failed line naming the host and port, never the password."""
    url = make_url(erp_db_url).set(port=1, password=None).render_as_string(hide_password=False)
    settings = SqlConnection.model_validate(
        {"type": "sql", "url": url, "password": "geheim-123", "timeout": 3}
    )
    connector = SqlConnector("wawi", settings)
    try:
        results = await connector.check()
    finally:
        await connector.close()

    assert len(results) == 1 and not results[0].ok
    assert "127.0.0.1:1" in results[0].detail and "geheim-123" not in results[0].detail


async def test_driver_errors_become_typed_errors_naming_table_and_column(wawi: Wawi) -> None:
    """A missing column names its column; a missing table its table; refused credentials are AuthError."""
    database = Database(
        SqlConnection.model_validate({"type": "sql", "url": wawi.url}), CircuitBreaker("wawi")
    )
    try:
        with pytest.raises(Permanent) as missing_column:
            await database.run(
                lambda c: c.execute(sa.text("SELECT titel FROM artikel")).all(), what="table artikel"
            )
        assert missing_column.value.field == "titel" and missing_column.value.record == "table artikel"
        with pytest.raises(Permanent) as missing_table:
            await database.run(lambda c: c.execute(sa.text("SELECT 1 FROM lager")).all(), what="table lager")
        assert "lager" in str(missing_table.value.record)
    finally:
        database.dispose()

    wrong = make_url(wawi.url).set(username="emporion_nobody", password="falsch")
    wrong = wrong.render_as_string(hide_password=False)
    refused = Database(SqlConnection.model_validate({"type": "sql", "url": wrong}), CircuitBreaker("wawi"))
    try:
        with pytest.raises(AuthError) as auth:
            await refused.run(lambda c: c.execute(sa.text("SELECT 1")).all())
        assert "falsch" not in str(auth.value)
    finally:
        refused.dispose()


async def test_a_lock_wait_timeout_is_retryable(wawi: Wawi) -> None:
    """A row held by another transaction past the timeout is Retryable and counts in the circuit."""
    circuit = CircuitBreaker("wawi")
    settings = SqlConnection.model_validate({"type": "sql", "url": wawi.url, "timeout": 1})
    database = Database(settings, circuit)
    wawi.article("LOCK-1", "Gesperrt")
    holder = wawi.engine.connect()
    transaction = holder.begin()
    holder.execute(sa.text("UPDATE artikel SET bezeichnung = 'x' WHERE artnr = 'LOCK-1'"))
    try:
        if wawi.dialect != "postgresql":
            holder_guard = "SET SESSION innodb_lock_wait_timeout = 1"
            await database.run(lambda c: c.execute(sa.text(holder_guard)))
        with pytest.raises(Retryable):
            await database.run(
                lambda c: c.execute(sa.text("UPDATE artikel SET bezeichnung = 'y' WHERE artnr = 'LOCK-1'")),
                what="table artikel",
            )
        assert circuit.failures == 1
    finally:
        transaction.rollback()
        holder.close()
        database.dispose()


async def test_catalogue_reads_run_in_read_only_transactions_on_postgresql(pg_url: str) -> None:
    """Behind the query check, PostgreSQL itself refuses a write in the catalogue's read transactions."""
    url = make_url(pg_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    database = Database(SqlConnection.model_validate({"type": "sql", "url": url}), CircuitBreaker("wawi"))
    try:
        await database.run(lambda c: c.execute(sa.text("CREATE TABLE notiz (id int)")))
        with pytest.raises(Permanent) as refused:
            await database.read(lambda c: c.execute(sa.text("INSERT INTO notiz VALUES (1)")), what="query")
        assert "read-only" in str(refused.value)
        count = await database.read(lambda c: c.execute(sa.text("SELECT count(*) FROM notiz")).scalar())
        assert count == 0
    finally:
        database.dispose()


def test_tls_settings_become_each_drivers_options() -> None:
    """A configured `tls` asks each driver for TLS with certificate checks; an untouched one asks nothing."""
    from emporion.connectors.settings import TLSSettings
    from emporion.connectors.sql.database import tls_args

    pg, maria = make_url("postgresql+psycopg://u@db/wawi"), make_url("mysql+pymysql://u@db/wawi")
    checked = TLSSettings(ca_bundle="/etc/wawi-ca.pem")
    assert tls_args(pg, TLSSettings()) == {} and tls_args(maria, TLSSettings()) == {}
    assert tls_args(pg, checked) == {"sslmode": "verify-full", "sslrootcert": "/etc/wawi-ca.pem"}
    assert tls_args(pg, TLSSettings(verify=False)) == {"sslmode": "require"}
    assert tls_args(maria, checked) == {
        "ssl": {"verify_cert": True, "check_hostname": True, "ca": "/etc/wawi-ca.pem"}
    }
    assert (
        tls_args(make_url("mssql+pyodbc://u@db/wawi"), TLSSettings(verify=False))["TrustServerCertificate"]
        == "yes"
    )


async def test_a_value_that_does_not_fit_is_named_without_quoting_it(wawi: Wawi) -> None:
    """A value the column refuses (text for a number) is a Permanent error that never repeats the value."""
    database = Database(
        SqlConnection.model_validate({"type": "sql", "url": wawi.url}), CircuitBreaker("wawi")
    )
    statement = sa.text("INSERT INTO kunde (kd_nr, email) VALUES (:nr, 'x@example.org')")
    try:
        with pytest.raises(Permanent) as refused:
            if wawi.dialect != "postgresql":
                await database.run(lambda c: c.execute(sa.text("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")))
            await database.run(lambda c: c.execute(statement, {"nr": "erika.muster"}), what="table kunde")
        assert "erika.muster" not in str(refused.value) and refused.value.record == "table kunde"
    finally:
        database.dispose()
