"""Fixtures of the browser tests: one running emporion (real Tryton, the sandbox shop, a catalogue and an
order flow, two dead letters, one order) shared by a module's tests, and Debian's Chromium driving it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import anyio
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from emporion.state import StateStore
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.browser.support import (
    PASSWORDS,
    VIEWPORT,
    Dashboard,
    StateReader,
    add_user,
    launch,
    trash_products_holding,
    wait_for,
)
from tests.fixtures.tryton import RunningTryton
from tests.integration.process_support import CATALOGUE, EmporionProcess, write_config
from tests.integration.test_catalogue_sync import simple_skus

STARTUP_SECONDS = 120.0
SYNC_SECONDS = 150.0
expect.set_options(timeout=10_000)  # a busy CI machine; live regions refresh every 2-3 s


@pytest.fixture(scope="module")
def dashboard(
    tryton_server_module: RunningTryton, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    """`emporion run` with the console on 127.0.0.1 (plain HTTP), synced, with dead letters and an order."""
    directory = tmp_path_factory.mktemp("dashboard")
    state_url = f"sqlite:///{directory / 'state.db'}"
    anyio.run(StateStore.migrate, state_url)
    skus = anyio.run(simple_skus, tryton_server_module)
    refused = skus[-2:]  # the shop refuses these two: one is retried by an operator, one stays open
    with SandboxShop.serve(db=":memory:", host="127.0.0.1", port=0, seed=11) as shop:
        trashed = trash_products_holding(shop, refused)
        config = write_config(
            directory, tryton_server_module, shop, state_url, console={"secure_cookies": False}
        )
        add_user(config, "oscar", directory)
        add_user(config, "vera", directory)
        process = EmporionProcess(config, directory / "emporion.log", state_url)
        state = StateReader(state_url)
        try:
            process.start()
            anyio.run(process.ready, STARTUP_SECONDS)
            port = re.search(r"port: (\d+)", config.read_text(encoding="utf-8"))
            assert port is not None
            dashboard = Dashboard(
                f"http://127.0.0.1:{port[1]}",
                process,
                shop,
                state,
                trashed,
                order={},
                synced_sku=skus[0],
                docs_screenshot=os.environ.get("EMPORION_DOCS_SCREENSHOT") == "1",
            )
            wait_for(
                lambda: state.cursors(CATALOGUE) == 2 and len(state.dead(CATALOGUE)) == len(refused),
                SYNC_SECONDS,
                "the catalogue's first sync with two dead letters",
                process,
            )
            dashboard.order = shop.place_orders(1)[0]
            wait_for(lambda: state.synced_orders() == 1, SYNC_SECONDS, "the order in Tryton", process)
            yield dashboard
        finally:
            state.close()
            process.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (one per module)."""
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Fresh browser contexts (no cookies) at 1280x800, closed after the test."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        context.on("page", lambda page: page.on("dialog", lambda dialog: dialog.accept()))  # confirmations
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def login(dashboard: Dashboard, new_context: Callable[[], BrowserContext]) -> Callable[[str], Page]:
    """Log a user in through the login form in a fresh context; the page shows the overview."""

    def as_user(name: str) -> Page:
        page = new_context().new_page()
        page.goto(f"{dashboard.url}/login")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", PASSWORDS[name])
        page.get_by_test_id("login-submit").click()
        page.wait_for_url(f"{dashboard.url}/")
        return page

    return as_user
