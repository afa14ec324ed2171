"""Create a ready-to-use Tryton database (SQLite or PostgreSQL) for emporion, cached for speed.

Provisioning runs trytond and proteus in a child process (`python -m emporion_devkit.erp.provision`) so
that trytond's process-wide configuration never leaks into the caller. A SQLite database that was
built once is kept as a template file under the cache directory and copied afterwards; on PostgreSQL
the template is a database that new ones are cloned from.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import emporion

MODULES: tuple[str, ...] = (
    "product",
    "stock",
    "sale",
    "sale_price_list",
    "party",
    "company",
    "currency",
    "country",
    "account",
    "account_invoice",
    "account_product",
    "carrier",
    "sale_shipment_cost",
    "stock_package_shipping",
    "product_attribute",
    "product_price_list_dates",
    "product_measurements",
    "account_payment",
    "sale_payment",
)

DEFAULT_CACHE_DIR = Path(os.environ.get("EMPORION_TRYTON_CACHE", Path.cwd() / "var" / "tryton-cache"))
_HERE = Path(__file__).parent


@dataclass(frozen=True)
class CatalogueSpec:
    """The size and shape of a sample catalogue: product count, share of variable ones, random seed."""

    products: int = 500
    variant_share: float = 0.1
    seed: int = 1


@dataclass(frozen=True)
class TrytonDatabase:
    """A provisioned Tryton database: where its configuration is, its name and its two logins."""

    config_file: Path
    name: str
    uri: str
    admin_password: str = field(repr=False)
    user: str
    password: str = field(repr=False)
    data_path: Path | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.uri.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The database file on SQLite (None on PostgreSQL)."""
        return self.data_path / f"{self.name}.sqlite" if self.data_path else None

    def database_section(self) -> str:
        """The `[database]` section of a trytond configuration file for this database."""
        lines = ["[database]", f"uri = {self.uri}"]
        if self.data_path:
            lines.append(f"path = {self.data_path}")
        return "\n".join(lines) + "\n"

    def child_env(self) -> dict[str, str]:
        """Environment for a child process that provisions this database (secrets never go in argv)."""
        env = dict(os.environ)
        env["EMPORION_TRYTON_ADMIN_PASSWORD"] = self.admin_password
        env["EMPORION_TRYTON_USER"] = self.user
        env["EMPORION_TRYTON_PASSWORD"] = self.password
        return env


def _is_postgres(path_or_url: str | os.PathLike[str]) -> bool:
    return str(path_or_url).startswith(("postgresql://", "postgres://"))


def _source_hash(*names: str) -> str:
    digest = hashlib.sha256()
    for name in names:
        digest.update((_HERE / name).read_bytes())
    return digest.hexdigest()


def code_version() -> str:
    """Short hash of the provisioning code and versions: templates built by other code are stale."""
    import trytond

    parts = [
        ",".join(MODULES),
        emporion.__version__,
        trytond.__version__,
        _source_hash("provision.py", "catalogue.py"),
    ]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:8]


def cache_key(db: TrytonDatabase, catalogue: CatalogueSpec | None) -> str:
    """Key of a template: code version, then a hash of the logins and the catalogue shape."""
    parts = [
        db.admin_password,
        db.user,
        db.password,
        repr(catalogue),
        # Promotion windows are placed around the day of creation: rebuild monthly.
        date.today().strftime("%Y-%m") if catalogue else "",
    ]
    return f"{code_version()}_{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:12]}"


def _prune_sqlite_cache(cache_dir: Path) -> None:
    """Remove templates built by an older version of the provisioning code."""
    current = code_version()
    for stale in cache_dir.glob("*.sqlite"):
        if not stale.name.startswith(f"{current}_"):
            stale.unlink(missing_ok=True)


def _write_config(db: TrytonDatabase) -> None:
    db.config_file.parent.mkdir(parents=True, exist_ok=True)
    db.config_file.write_text(db.database_section())


def _run_child(module: str, db: TrytonDatabase, *args: str) -> None:
    command = [sys.executable, "-m", module, "--config", str(db.config_file), "--database", db.name, *args]
    result = subprocess.run(command, env=db.child_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed for database {db.name}:\n{result.stdout}\n{result.stderr}")


def _sqlite_provisioned(file: Path, user: str, products: int) -> bool:
    if not file.exists():
        return False
    try:
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as conn:
            users = conn.execute("SELECT count(*) FROM res_user WHERE login = ?", (user,)).fetchone()[0]
            companies = conn.execute("SELECT count(*) FROM company_company").fetchone()[0]
            templates = conn.execute("SELECT count(*) FROM product_template").fetchone()[0]
    except sqlite3.Error:
        return False
    return bool(users and companies and templates >= products)


def _build(db: TrytonDatabase, catalogue: CatalogueSpec | None) -> None:
    if db.sqlite_file and not db.sqlite_file.exists():
        sqlite3.connect(db.sqlite_file).close()  # trytond-admin expects the file to exist
    _run_child("emporion_devkit.erp.provision", db)
    if catalogue and catalogue.products:
        _run_child(
            "emporion_devkit.erp.catalogue",
            db,
            "--products",
            str(catalogue.products),
            "--variant-share",
            str(catalogue.variant_share),
            "--seed",
            str(catalogue.seed),
        )
    _run_child("emporion_devkit.erp.provision", db, "--carriers")


def _create_sqlite(db: TrytonDatabase, catalogue: CatalogueSpec | None, cache_dir: Path | None) -> None:
    target = db.sqlite_file
    assert target is not None
    expected = catalogue.products if catalogue else 0
    if _sqlite_provisioned(target, db.user, expected):
        return
    if cache_dir is None:
        _build(db, catalogue)
        return
    cached = cache_dir / f"{cache_key(db, catalogue)}.sqlite"
    if not cached.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        _prune_sqlite_cache(cache_dir)
        with tempfile.TemporaryDirectory(dir=cache_dir) as scratch:
            builder = TrytonDatabase(
                config_file=Path(scratch) / "trytond.conf",
                name="template",
                uri="sqlite://",
                admin_password=db.admin_password,
                user=db.user,
                password=db.password,
                data_path=Path(scratch),
            )
            _write_config(builder)
            _build(builder, catalogue)
            os.replace(Path(scratch) / "template.sqlite", cached)
    partial = target.with_suffix(".sqlite.part")
    shutil.copyfile(cached, partial)
    os.replace(partial, target)


def _pg_connect(uri: str, dbname: str):  # type: ignore[no-untyped-def]
    import psycopg

    parts = urlsplit(uri)
    return psycopg.connect(
        host=parts.hostname or None,
        port=parts.port or None,
        user=parts.username or None,
        password=parts.password or None,
        dbname=dbname,
        autocommit=True,
    )


def _pg_exists(uri: str, name: str) -> bool:
    with _pg_connect(uri, "postgres") as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _pg_provisioned(uri: str, name: str, user: str, products: int) -> bool:
    import psycopg

    if not _pg_exists(uri, name):
        return False
    try:
        with _pg_connect(uri, name) as conn:
            users = conn.execute("SELECT count(*) FROM res_user WHERE login = %s", (user,)).fetchone()[0]
            templates = conn.execute("SELECT count(*) FROM product_template").fetchone()[0]
    except psycopg.Error:
        return False
    return bool(users and templates >= products)


def _create_postgres(db: TrytonDatabase, catalogue: CatalogueSpec | None, use_cache: bool) -> None:
    from psycopg import sql

    expected = catalogue.products if catalogue else 0
    if _pg_provisioned(db.uri, db.name, db.user, expected):
        return
    template = f"emporion_tpl_{cache_key(db, catalogue)}"
    if use_cache and not _pg_provisioned(db.uri, template, db.user, expected):
        with _pg_connect(db.uri, "postgres") as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'emporion\\_tpl\\_%'")
            for (stale,) in rows.fetchall():
                if not stale.startswith(f"emporion_tpl_{code_version()}_"):
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(stale))
                    )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(template)))
            conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(template)))
        builder = TrytonDatabase(
            config_file=db.config_file.with_name(f"{template}.conf"),
            name=template,
            uri=db.uri,
            admin_password=db.admin_password,
            user=db.user,
            password=db.password,
        )
        _write_config(builder)
        _build(builder, catalogue)
    with _pg_connect(db.uri, "postgres") as conn:
        if not _pg_exists(db.uri, db.name):
            if use_cache:
                query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(db.name), sql.Identifier(template)
                )
            else:
                query = sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(db.name))
            conn.execute(query)
    if not use_cache:
        _build(db, catalogue)


def create_database(
    path_or_url: str | os.PathLike[str],
    name: str = "emporion",
    *,
    admin_password: str,
    emporion_password: str,
    emporion_user: str = "emporion",
    catalogue: CatalogueSpec | None = None,
    config_dir: Path | None = None,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
) -> TrytonDatabase:
    """Create (or find) a provisioned Tryton database; idempotent.

    `path_or_url` is a directory for SQLite (the file is DIR/NAME.sqlite) or a postgresql:// URL of
    the server (the database NAME is created there). `cache_dir=None` builds without a template.
    """
    cache_dir = cache_dir.resolve() if cache_dir else None
    if _is_postgres(path_or_url):
        uri = f"postgresql://{urlsplit(str(path_or_url)).netloc}/"
        base = config_dir or (cache_dir or Path(tempfile.gettempdir())) / "pg-config"
        db = TrytonDatabase(
            base / f"{name}.conf", name, uri, admin_password, emporion_user, emporion_password
        )
        _write_config(db)
        _create_postgres(db, catalogue, use_cache=cache_dir is not None)
        return db
    data_path = Path(path_or_url).resolve()
    data_path.mkdir(parents=True, exist_ok=True)
    config_file = (config_dir or data_path) / f"{name}.conf"
    db = TrytonDatabase(
        config_file, name, "sqlite://", admin_password, emporion_user, emporion_password, data_path
    )
    _write_config(db)
    _create_sqlite(db, catalogue, cache_dir)
    return db


def copy_database(source: TrytonDatabase, directory: Path, name: str | None = None) -> TrytonDatabase:
    """A fresh copy of a SQLite database in `directory` (for tests that change data)."""
    assert source.sqlite_file is not None, "only SQLite databases are copied as files"
    name = name or source.name
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    copy = TrytonDatabase(
        directory / f"{name}.conf",
        name,
        source.uri,
        source.admin_password,
        source.user,
        source.password,
        directory,
    )
    _write_config(copy)
    shutil.copyfile(source.sqlite_file, directory / f"{name}.sqlite")
    return copy


def drop_database(db: TrytonDatabase) -> None:
    """Remove a database (the SQLite file, or the PostgreSQL database) and its configuration file."""
    if db.sqlite_file is not None:
        db.sqlite_file.unlink(missing_ok=True)
    else:
        from psycopg import sql

        with _pg_connect(db.uri, "postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))
    db.config_file.unlink(missing_ok=True)
