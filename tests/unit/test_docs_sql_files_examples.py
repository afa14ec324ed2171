"""The guides of the SQL and file connectors say what the code does.

Every YAML example in `docs/connectors/sql.md` and `docs/connectors/files.md` is a configuration
emporion accepts; each worked example is the dev kit's configuration of its sample Warenwirtschaft
(so the guide cannot drift from the demo); the rule example maps a row as the guide says; and the
`emporion check` lines the guides quote are the lines the connectors print for the sample.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from emporion.config import parse_settings
from emporion.connectors.base import OutcomeStatus, WriteItem
from emporion.connectors.files.connector import FilesConnector
from emporion.connectors.files.settings import FilesConnection
from emporion.connectors.roles import SaleOptions
from emporion.connectors.rows.mapping import RowMapper
from emporion.connectors.rows.settings import PRODUCT_FIELDS
from emporion.connectors.sql.connector import SqlConnector
from emporion.connectors.sql.settings import SqlConnection
from emporion.model import Customer, Order, OrderLine, OrderStatus
from emporion_devkit.wawi import config as wawi_config
from emporion_devkit.wawi import files_config, schema
from emporion_devkit.wawi.files import FileDrop
from emporion_devkit.wawi.sample import SampleSpec, fill, salable_skus

DOCS = Path(__file__).resolve().parents[2] / "docs" / "connectors"
PAGES = ("sql.md", "files.md")
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
ANY_BLOCK = re.compile(r"^```\w*\n(.*?)^```", re.MULTILINE | re.DOTALL)
WORKED = "## Worked example"
SECRETS = {"WAWI_DB_PASSWORD": "not-the-real-one", "WAWI_SFTP_KEY": "not-a-real-key"}
EXPORT_STAMP = re.compile(r"_\d{8}-\d{6}-\d{6}\.csv")


def page(name: str) -> str:
    """The text of one guide."""
    return (DOCS / name).read_text(encoding="utf-8")


def yaml_blocks(text: str) -> list[str]:
    """The YAML examples of a guide, in order."""
    return YAML_BLOCK.findall(text)


def worked_section(text: str) -> str:
    """The guide's worked example section, to its end."""
    assert WORKED in text, "the guide has no worked example"
    return text[text.index(WORKED) :]


def examples() -> list[Any]:
    """(guide, block) for every YAML example of both guides, named by guide and number."""
    return [
        pytest.param(name, block, id=f"{name}#{number}")
        for name in PAGES
        for number, block in enumerate(yaml_blocks(page(name)), start=1)
    ]


@pytest.fixture(autouse=True)
def example_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the examples' `env:` secrets name."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def test_both_guides_have_yaml_examples_and_a_worked_example() -> None:
    """Each guide has several examples, one of them inside its worked example."""
    for name in PAGES:
        text = page(name)
        assert len(yaml_blocks(text)) >= 4, name
        assert yaml_blocks(worked_section(text)), name
        assert "PLACEHOLDER" not in text and "FIGURES" not in text, name


@pytest.mark.parametrize(("name", "block"), examples())
def test_each_yaml_example_is_a_configuration_emporion_accepts(name: str, block: str) -> None:
    """A whole configuration (never a fragment), valid, with connections of the guide's type."""
    data = yaml.safe_load(block)
    assert isinstance(data, dict) and "connections" in data, "an example is a whole configuration"
    settings = parse_settings(block)
    kind = SqlConnection if name == "sql.md" else FilesConnection
    assert settings.connections
    assert all(isinstance(connection, kind) for connection in settings.connections.values())


def worked_connection(name: str) -> dict[str, Any]:
    """The one connection of the guide's worked example, as data."""
    (block, *_) = yaml_blocks(worked_section(page(name)))
    connections = yaml.safe_load(block)["connections"]
    assert len(connections) == 1
    return dict(next(iter(connections.values())))


def test_the_sql_worked_example_is_the_dev_kits_configuration() -> None:
    """The guide's connection is what `emporion demo --erp sql` writes (its URL and password aside)."""
    documented = worked_connection("sql.md")
    assert documented.pop("password") == "env:WAWI_DB_PASSWORD"
    assert documented == wawi_config.sql_connection(documented["url"])


def test_the_files_worked_example_is_the_dev_kits_configuration() -> None:
    """The guide's connection is what `emporion demo --erp files` writes (its location and key aside)."""
    documented = worked_connection("files.md")
    assert documented.pop("private_key") == "env:WAWI_SFTP_KEY"
    assert documented.pop("known_hosts")
    assert documented == files_config.files_connection(documented["location"])


def test_the_rule_example_maps_a_row_as_the_guide_says() -> None:
    """Templates, expressions with decimal(), a strict value map and `row[...]` over an ERP's row."""
    text = page("sql.md")
    (block,) = [b for b in yaml_blocks(text) if "vk_brutto" in b]
    settings = parse_settings(block)
    connection = settings.connections["wawi"]
    assert isinstance(connection, SqlConnection) and connection.catalogue.products is not None
    mapper = RowMapper(connection.catalogue.products, PRODUCT_FIELDS)
    row = {
        "id": 7,
        "artikelnr": "4711",
        "bezeichnung": "Schraube",
        "zusatz": "M4 x 20",
        "vk_brutto": Decimal("11.90"),
        "steuerschluessel": "2",
        "status": "A",
        "Marke (Hersteller)": "Würth",
    }
    fields = mapper.fields(row, "table artikel row 7")
    assert fields["name"] == "Schraube M4 x 20"
    assert fields["list_price"] == Decimal("10.00")
    assert fields["tax_class"] == "reduced-rate"
    assert fields["active"] is True
    assert fields["custom"] == {"brand": "Würth"}
    assert {"vk_brutto", "steuerschluessel", "Marke (Hersteller)"} <= mapper.columns()


def quoted_check_lines(name: str, heading: str = "## `emporion check`") -> list[str]:
    """The `ok`/`FAIL` lines a guide quotes in its check section (code blocks only)."""
    text = page(name)
    section = text[text.index(heading) :]
    section = section[: section.index("\n## ", 1)]
    lines = [line.strip() for block in ANY_BLOCK.findall(section) for line in block.splitlines()]
    return [line for line in lines if line.startswith(("ok ", "FAIL "))]


def printed(results: list[Any], connection: str = "erp") -> list[str]:
    """Check results as `emporion check` prints them."""
    return [f"{'ok' if r.ok else 'FAIL'} {connection}: {r.name} — {r.detail}" for r in results]


@pytest.fixture
def sample_database(tmp_path: Path) -> Iterator[sa.Engine]:
    """The dev kit's Warenwirtschaft with the demo's sample catalogue, in SQLite."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'wawi.sqlite'}")
    schema.create(engine)
    fill(engine, SampleSpec())
    try:
        yield engine
    finally:
        engine.dispose()


async def test_the_sql_check_lines_quoted_are_what_check_prints(sample_database: sa.Engine) -> None:
    """Every line the SQL guide quotes is printed by `check` for the worked example (on its SQLite
    copy): its catalogue sources, its order import and its progress sources."""
    data = wawi_config.sql_connection(sample_database.url.render_as_string(hide_password=False))
    connector = SqlConnector("erp", SqlConnection.model_validate(data))
    try:
        lines = printed(await connector.check())
    finally:
        await connector.close()
    quoted = [line for line in quoted_check_lines("sql.md") if line.startswith("ok ")]
    quoted = [line for line in quoted if not line.startswith("ok erp: connect")]
    assert len(quoted) >= 11 and all(line in lines for line in quoted), (quoted, lines)


async def test_the_files_check_lines_quoted_are_what_check_prints(
    sample_database: sa.Engine, tmp_path: Path
) -> None:
    """Every line the files guide quotes is printed for the worked example's exports (names' stamps aside)."""
    drop = tmp_path / "drop"
    FileDrop(sample_database, drop).export_catalogue()
    settings = FilesConnection.model_validate(files_config.files_connection(str(drop)))
    connector = FilesConnector("erp", settings)
    try:
        lines = [EXPORT_STAMP.sub("_<stamp>.csv", line) for line in printed(await connector.check())]
    finally:
        await connector.close()
    quoted = [EXPORT_STAMP.sub("_<stamp>.csv", line) for line in quoted_check_lines("files.md")]
    quoted = [line.replace("/srv/wawi", str(drop)) for line in quoted if line.startswith("ok ")]
    assert quoted and all(line in lines for line in quoted), (quoted, lines)


SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.MULTILINE | re.DOTALL)
GRANTED_SPEC = SampleSpec(products=12)


def grant_statements(dialect: str) -> list[str]:
    """The SQL guide's statements for a least-privilege login (its MariaDB block, then PostgreSQL's)."""
    mariadb, postgresql = SQL_BLOCK.findall(page("sql.md"))[:2]
    block = mariadb if dialect == "mysql" else postgresql
    return [statement.strip() for statement in block.split(";") if statement.strip()]


def login_for(admin: sa.Engine, user: str, password: str) -> list[str]:
    """The guide's statements with its login, host, password and database swapped for the test's."""
    database = str(admin.url.database)
    swapped = []
    for statement in grant_statements(admin.dialect.name):
        statement = statement.replace("'emporion'@'10.0.0.%'", f"'{user}'@'127.0.0.1'")
        statement = statement.replace("wawi.", f"`{database}`.").replace(
            "DATABASE wawi", f'DATABASE "{database}"'
        )
        statement = re.sub(r"\bemporion\b", user, statement).replace("a long random password", password)
        swapped.append(statement)
    return swapped


@pytest.fixture
def least_privileged(erp_db_url: str) -> Iterator[tuple[sa.Engine, str]]:
    """The sample Warenwirtschaft on MariaDB or PostgreSQL, and the URL of a login granted as the guide
    says (dropped afterwards)."""
    admin = sa.create_engine(erp_db_url)
    schema.create(admin)
    fill(admin, GRANTED_SPEC)
    user, password = f"emporion_{secrets.token_hex(4)}", secrets.token_hex(16)
    with admin.begin() as conn:
        for statement in login_for(admin, user, password):
            conn.exec_driver_sql(statement)
    url = admin.url.set(username=user, password=password)
    try:
        yield admin, url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            if admin.dialect.name == "mysql":
                conn.exec_driver_sql(f"DROP USER '{user}'@'127.0.0.1'")
            else:
                conn.exec_driver_sql(f'DROP OWNED BY "{user}"')
                conn.exec_driver_sql(f'DROP ROLE "{user}"')
        admin.dispose()


def a_shop_order(sku: str) -> Order:
    """A paid shop order of one line, as the order flow hands it to the sales target."""
    line = OrderLine(
        key="1", sku=sku, quantity=Decimal(2), unit_price=Decimal("10.00"), total=Decimal("20.00")
    )
    return Order(
        key="1042",
        number="1042",
        status=OrderStatus.PROCESSING,
        currency="EUR",
        customer=Customer(key="c1", email="kunde@example.com"),
        lines=[line],
        total=Decimal("20.00"),
        reference="WEB-1042",
    )


async def test_the_guides_grants_are_enough_and_no_more(least_privileged: tuple[sa.Engine, str]) -> None:
    """With only the guide's grants the worked example checks clean, reads, stages an order, and
    cannot change a business table."""
    admin, url = least_privileged
    public = sa.make_url(url)
    data = wawi_config.sql_connection(public.set(password=None).render_as_string(hide_password=False))
    data["password"] = public.password
    connector = SqlConnector("erp", SqlConnection.model_validate(data))
    try:
        results = [*await connector.check(), *await connector.sales.check()]
        assert all(result.ok for result in results), [r for r in results if not r.ok]
        products = [record async for page in connector.scan("product") for record in page]
        assert len(products) == GRANTED_SPEC.products
        sku = salable_skus(GRANTED_SPEC)[0]
        order = a_shop_order(sku)
        (outcome,) = await connector.write_sales([WriteItem(order.key, order)], SaleOptions())
        assert outcome.status is OutcomeStatus.CREATED, outcome
    finally:
        await connector.close()
    with admin.connect() as conn:
        staged = conn.execute(sa.select(schema.import_auftrag.c.shop_referenz)).scalars().all()
    assert staged == ["WEB-1042"]
    limited = sa.create_engine(url)
    try:
        with pytest.raises(sa.exc.DBAPIError), limited.begin() as conn:
            conn.execute(sa.update(schema.artikel).values(bezeichnung="changed"))
    finally:
        limited.dispose()
