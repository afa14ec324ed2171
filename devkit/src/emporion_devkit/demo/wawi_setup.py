"""Sets up the sample Warenwirtschaft for `emporion demo --erp sql|files`: its database, or its file drop.

`--erp sql` creates the database on a MariaDB server (the URL's database, else `emporion_demo_wawi`),
the schema and the sample catalogue; the password, when the URL has one, goes to a secret file and
never into the configuration. `--erp files` keeps the Warenwirtschaft's own data in SQLite in the
demo's folder and its drop in `drop/`, served over SFTP by a private sshd unless `--drop DIR` names a
local folder.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from emporion_devkit.wawi import config as wawi_config
from emporion_devkit.wawi import files_config, schema
from emporion_devkit.wawi.files import FileDrop
from emporion_devkit.wawi.sample import SampleSpec, fill

DEFAULT_DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/"
DEFAULT_DATABASE = "emporion_demo_wawi"
DATABASE_URL_ENV = "EMPORION_DEMO_DATABASE_URL"


@dataclass
class Warenwirtschaft:
    """The demo's running Warenwirtschaft: its database, its connection settings, its file drop if any."""

    engine: sa.Engine
    connection: dict[str, Any]
    where: str  # how the demo describes it to the user
    drop: FileDrop | None = None


def database_url(given: str | None) -> URL:
    """The demo database's URL: `--database-url`, else the environment, else the local MariaDB."""
    url = make_url(given or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL)
    if url.get_backend_name() == "mysql" and url.drivername == "mysql":
        url = url.set(drivername="mysql+pymysql")
    elif url.get_backend_name() == "mariadb" and url.drivername == "mariadb":
        url = url.set(drivername="mariadb+pymysql")
    elif url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if not url.database and url.get_backend_name() != "sqlite":
        url = url.set(database=DEFAULT_DATABASE)
    return url


def _create_database(url: URL) -> None:
    """Create the URL's database on its server when it is missing (MariaDB/MySQL and PostgreSQL)."""
    backend, name = url.get_backend_name(), url.database
    if backend == "sqlite" or not name:
        return
    server = url.set(database="postgres" if backend == "postgresql" else "")
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if backend in ("mysql", "mariadb"):
                conn.exec_driver_sql(
                    f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
            elif not conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first():
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()


def prepare_database(url: URL, spec: SampleSpec, *, fresh: bool) -> sa.Engine:
    """The Warenwirtschaft's database with its schema and sample catalogue (made once; `fresh`: again)."""
    _create_database(url)
    engine = sa.create_engine(url, pool_pre_ping=True)
    if fresh and schema.exists(engine):
        schema.drop(engine)
    if not schema.exists(engine):
        schema.create(engine)
    fill(engine, spec)
    return engine


def sql_erp(secret_dir: Path, url: URL, spec: SampleSpec, *, fresh: bool) -> Warenwirtschaft:
    """`--erp sql`: the database on its server; the connection names the password file, if any."""
    engine = prepare_database(url, spec, fresh=fresh)
    password_file = None
    if url.password:
        password_file = secret_dir / "wawi-db-password"
        password_file.touch(mode=0o600)
        password_file.write_text(str(url.password), encoding="utf-8")
    public = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    connection = wawi_config.sql_connection(public.render_as_string(hide_password=False), password_file)
    where = f"Warenwirtschaft database {public.render_as_string()}"
    return Warenwirtschaft(engine, connection, where)


def files_erp(
    directory: Path,
    spec: SampleSpec,
    stack: ExitStack,
    *,
    drop: Path | None,
    fresh: bool,
    articles_as_xml: bool,
) -> Warenwirtschaft:
    """`--erp files`: the ERP's data in SQLite, its drop a local folder or served by a private sshd."""
    from emporion_devkit.sftp import SftpServer

    engine = prepare_database(make_url(f"sqlite:///{directory / 'wawi.sqlite'}"), spec, fresh=fresh)
    root = (drop or directory / "drop").resolve()
    root.mkdir(parents=True, exist_ok=True)
    if drop is not None:
        location, where, access = str(root), f"file drop {root}", None
    else:
        server = stack.enter_context(SftpServer(directory / "sftp", root))
        access = files_config.SftpAccess(server.client_key, server.known_hosts)
        location, where = server.location, f"file drop {server.location} (private sshd, host key checked)"
    connection = files_config.files_connection(location, access, articles_as_xml=articles_as_xml)
    return Warenwirtschaft(engine, connection, where, FileDrop(engine, root, articles_as_xml=articles_as_xml))
