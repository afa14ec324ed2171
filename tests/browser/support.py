"""What the browser tests share: Debian's Chromium launched by Playwright, the running emporion they test,
reads of its state database, the trashed shop products that make real dead letters, and screenshots.

No browser is ever downloaded: Chromium comes from Debian's packages (scripts/chromium.sh) and Playwright
only drives it. A missing browser fails the tests loudly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright
from sqlalchemy import create_engine, func, select

from emporion.state import tables
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration.engine_support import shop_api
from tests.integration.process_support import CATALOGUE, ORDERS, EmporionProcess

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
DOCS_SCREENSHOT = ROOT / "docs" / "dashboard.png"
PASSWORDS = {"oscar": "oscar-operates-the-flows", "vera": "vera-only-looks-around"}
ROLES = {"oscar": "operator", "vera": "viewer"}


def chromium_path() -> str:
    """Debian's Chromium (EMPORION_CHROMIUM, default /usr/bin/chromium); fails when it is not there."""
    path = os.environ.get("EMPORION_CHROMIUM") or CHROMIUM
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"no Chromium at {path}: run scripts/chromium.sh (installs Debian's chromium package) or set "
            "EMPORION_CHROMIUM; the browser tests never download a browser",
            pytrace=False,
        )
    return path


def launch(playwright: Playwright) -> Browser:
    """Chromium headless with a fresh profile (Playwright gives each launch its own user-data dir)."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def screenshot_dir() -> Path:
    """Where the page screenshots go: EMPORION_SCREENSHOTS, default var/screenshots/ (gitignored)."""
    directory = Path(os.environ.get("EMPORION_SCREENSHOTS") or ROOT / "var" / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def shoot(page: Page, name: str) -> Path:
    """Save a full-page screenshot of what the browser shows now as `<name>.png`."""
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000, f"empty screenshot {path}"
    return path


def wait_for(check: Callable[[], Any], seconds: float, what: str, process: EmporionProcess) -> Any:
    """Poll `check()` until it gives something true (returned), or fail with the end of emporion's log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        assert process.alive(), f"emporion exited on its own:\n{process.tail()}"
        time.sleep(0.25)
    raise AssertionError(f"{what} not reached in {seconds:.0f} s\n{process.tail()}")


class StateReader:
    """Reads of emporion's state database from outside the process (SQLAlchemy Core, synchronous)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def cursors(self, flow: str) -> int:
        """How many change-feed cursors a flow has set (the catalogue has two once its first sync ran)."""
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(tables.cursor).where(tables.cursor.c.flow == flow)
            return conn.execute(query).scalar_one()

    def dead(self, flow: str | None = None) -> list[Any]:
        """Every dead letter (any status), oldest first."""
        query = select(tables.dead).order_by(tables.dead.c.id)
        if flow:
            query = query.where(tables.dead.c.flow == flow)
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    def link(self, flow: str, entity: str, key: str) -> Any:
        """The link of one record, or None."""
        t = tables.link
        query = select(t).where(t.c.flow == flow, t.c.entity == entity, t.c.source_key == key)
        with self.engine.connect() as conn:
            return conn.execute(query).first()

    def synced_orders(self) -> int:
        """Order links in state synced."""
        t = tables.link
        query = select(func.count()).select_from(t)
        query = query.where(t.c.flow == ORDERS, t.c.entity == "order", t.c.state == "synced")
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def queued(self) -> int:
        """Work items queued or leased, any flow."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(tables.work)).scalar_one()

    def audit(self, actor: str) -> list[tuple[str, str | None, str]]:
        """An actor's audit lines as (action, target, outcome), oldest first."""
        t = tables.audit_log
        query = select(t.c.action, t.c.target, t.c.outcome).where(t.c.actor == actor).order_by(t.c.id)
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query).all()]  # type: ignore[misc]

    def paused(self, flow: str) -> bool:
        """Whether the state database holds the flow paused."""
        t = tables.flow_control
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.flow == flow)).first()
        return bool(row and row.paused)


def trash_products_holding(shop: SandboxShop, skus: list[str]) -> dict[str, int]:
    """Products with these SKUs, created and moved to the trash in the shop, as a shop manager leaves them.

    WooCommerce keeps a trashed product's SKU taken: creating another product with it is refused with
    `400 product_invalid_sku`, while the SKU search (which skips the trash) finds nothing to adopt. The
    catalogue flow's create fails for good: a real dead letter, fixed by emptying the trash.
    """
    ids: dict[str, int] = {}
    with shop_api(shop) as client:
        for sku in skus:
            created = client.post(
                "/products",
                json={"name": f"Old {sku}", "sku": sku, "type": "simple", "regular_price": "1.00"},
            )
            created.raise_for_status()
            ids[sku] = created.json()["id"]
            client.delete(f"/products/{ids[sku]}").raise_for_status()  # to the trash, SKU still taken
    return ids


def empty_trash(shop: SandboxShop, product_id: int) -> None:
    """Delete a trashed product for good (`force=true`), freeing its SKU."""
    with shop_api(shop) as client:
        client.delete(f"/products/{product_id}", params={"force": "true"}).raise_for_status()


def add_user(config: Path, name: str, directory: Path) -> None:
    """Create a console user with the CLI (`emporion user add NAME --role ROLE --password-file F`)."""
    password_file = directory / f"{name}.password"
    password_file.write_text(PASSWORDS[name] + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    command = [sys.executable, "-m", "emporion", "user", "add", name, "--role", ROLES[name]]
    command += ["--password-file", str(password_file), "-c", str(config)]
    done = subprocess.run(command, cwd=config.parent, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"user add {name} failed:\n{done.stdout}\n{done.stderr}"


@dataclass
class Dashboard:
    """The running emporion the browser tests look at, and what was prepared in it."""

    url: str
    process: EmporionProcess
    shop: SandboxShop
    state: StateReader
    trashed: dict[str, int]  # SKU -> id of the trashed shop product holding it (a dead letter each)
    order: dict[str, Any]  # the shop order placed before the tests
    synced_sku: str  # a product synced without trouble
    docs_screenshot: bool = False  # the overview also regenerates docs/dashboard.png
    flows: tuple[str, ...] = (CATALOGUE, ORDERS)

    @property
    def retried_sku(self) -> str:
        """The refused SKU an operator frees and retries."""
        return sorted(self.trashed)[0]

    @property
    def open_sku(self) -> str:
        """The refused SKU whose dead letter stays open (for the viewer)."""
        return sorted(self.trashed)[1]

    def dead_letter(self, sku: str) -> Any:
        """The catalogue's dead letter for a SKU (the newest)."""
        letters = [d for d in self.state.dead(CATALOGUE) if d.record == sku]
        assert letters, f"no dead letter for {sku}: {self.state.dead()}"
        return letters[-1]
