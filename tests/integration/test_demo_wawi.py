"""`emporion demo --erp sql|files --once` as a user runs them: the sample Warenwirtschaft's whole story."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from emporion_devkit.wawi import erp, schema


def emporion(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `emporion` command as a user would, with a wide terminal."""
    return subprocess.run(
        [sys.executable, "-m", "emporion", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        timeout=600,
        check=False,
    )


def assert_story_told(output: str) -> None:
    """The catalogue verified clean, every order landed and was taken, the tracking reached the shop."""
    assert "flow catalogue: clean" in output
    assert "5 placed in the shop, 5 in the Warenwirtschaft's import, 5 taken as orders" in output
    assert "0 dead letters" in output
    assert "shipped with DHL JJD0001234; the shop order is completed with its tracking number" in output


def test_demo_with_the_warenwirtschaft_database(tmp_path: Path, mariadb_url: str) -> None:
    demo = tmp_path / "demo"
    result = emporion(
        "demo",
        "--erp",
        "sql",
        "--once",
        "--products",
        "40",
        "--dir",
        str(demo),
        "--database-url",
        mariadb_url,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert_story_told(result.stdout)
    password = make_url(mariadb_url).password
    config = (demo / "emporion.yaml").read_text()
    assert (
        password and f":{password}@" not in config and "wawi-db-password" in config
    )  # a secret file instead
    assert oct((demo / "secrets" / "wawi-db-password").stat().st_mode & 0o777) == "0o600"

    changed = emporion("wawi", "price", "-c", str(demo / "emporion.yaml"), "SKU-00001", "19.99")
    assert changed.returncode == 0, changed.stdout + changed.stderr
    engine = sa.create_engine(mariadb_url)
    try:
        with engine.connect() as conn:
            price = conn.execute(
                sa.select(schema.artikel.c.vk_netto).where(schema.artikel.c.artikelnr == "SKU-00001")
            ).scalar_one()
    finally:
        engine.dispose()
    assert str(price) == "19.99"
    missing = emporion("wawi", "ship", "-c", str(demo / "emporion.yaml"), "WEB-999999", "JJD1")
    assert missing.returncode == 1 and "WEB-999999" in missing.stderr


def test_demo_with_the_warenwirtschaft_file_drop_over_sftp(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    result = emporion("demo", "--erp", "files", "--once", "--products", "40", "--dir", str(demo))
    assert result.returncode == 0, result.stdout + result.stderr
    assert_story_told(result.stdout)
    assert "sftp://" in result.stdout and "host key checked" in result.stdout
    config = (demo / "emporion.yaml").read_text()
    assert "location: sftp://" in config and "known_hosts:" in config
    archived = sorted(p.name for p in (demo / "drop" / "import" / "archiv").iterdir())
    assert len(archived) == 5 and all(name.startswith("auftrag-WEB-") for name in archived)
    assert list((demo / "drop" / "export").glob("versand_*.csv"))  # the shipment went back as a file

    engine = sa.create_engine(f"sqlite:///{demo / 'wawi.sqlite'}")
    try:
        before = erp.stock_of(engine, "SKU-00001")["AL"]
        booked = emporion(
            "wawi", "stock", "-c", str(demo / "emporion.yaml"), "SKU-00001", "5", "--warehouse", "AL"
        )
        assert booked.returncode == 0, booked.stdout + booked.stderr
        assert erp.stock_of(engine, "SKU-00001")["AL"] == before + 5
    finally:
        engine.dispose()
    took = emporion("wawi", "take", "-c", str(demo / "emporion.yaml"))
    assert took.returncode == 0 and "took 0 orders" in took.stdout, took.stdout + took.stderr


def test_demo_with_a_local_drop_and_articles_as_xml(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    result = emporion(
        "demo", "--erp", "files", "--xml", "--drop", str(drop), "--once", "--products", "40",
        "--dir", str(tmp_path / "demo"),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert_story_told(result.stdout)
    assert list((drop / "export").glob("artikel_*.xml")) and not list((drop / "export").glob("artikel_*.csv"))
