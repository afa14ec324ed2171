"""A Warenwirtschaft's database into the shop, end to end: real MariaDB and PostgreSQL, the sandbox shop.

The catalogue with its price list, a dated promotion and stock per warehouse reaches the shop and
verifies clean; a row the merchant changes reaches the shop within two poll intervals in each change
mode (monotonic row version, updated_at, full-result diff) while `Engine.run` runs; a deleted row, and
a soft-deleted one, is handled as the flow's `on_remove` says; a row with a bad number is a dead letter
naming the table, the row and the column while the others sync.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from emporion.config import Settings
from emporion.engine.sync import sync_flow, verify_flow
from emporion_devkit.sandbox.woocommerce import SandboxShop
from emporion_devkit.wawi import erp as wawi_erp
from tests.integration import sql_erp_support as wawi
from tests.integration.engine_support import running_engine, shop_api

POLL = 1.0  # seconds between change-feed polls
WRITE_ALLOWANCE = 2.0  # seconds for the read of the changed record and its write to the shop


def catalogue_document(
    url: str,
    shop: SandboxShop,
    state_url: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    product_change: dict[str, Any] | None = None,
    product_columns: dict[str, Any] | None = None,
    on_remove: str = "unpublish",
    create: bool = True,
) -> dict[str, Any]:
    """The sample Warenwirtschaft (created here unless `create` is false) and the catalogue flow."""
    if create:
        wawi.create_sample(url)
    connection = wawi.connection(
        url, monkeypatch, product_change=product_change, product_columns=product_columns
    )
    return wawi.config(
        connection,
        wawi.shop_connection(shop, monkeypatch),
        state_url,
        [wawi.catalogue_flow(POLL, on_remove)],
    )


def catalogue_settings(
    url: str, shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> Settings:
    """The validated settings of `catalogue_document`."""
    return wawi.settings(catalogue_document(url, shop, state_url, monkeypatch, **options))


async def test_catalogue_prices_promotion_and_stock_per_warehouse_reach_the_shop_and_verify_clean(
    erp_db_url: str, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = catalogue_settings(erp_db_url, sandbox_shop, sqlite_url, monkeypatch)
    api = shop_api(sandbox_shop)
    async with running_engine(settings) as engine:
        runner = engine.runners["catalogue"]
        report = await verify_flow(runner, await sync_flow(runner))
        assert report.clean, [(e.entity, e.failed, e.mismatches[:2], e.missing) for e in report.entities]
        categories, products = report.entities
        assert products.linked == products.source_count == wawi.PRODUCTS
        assert categories.linked == categories.source_count == 9

    shop_categories = {c["name"]: c for c in api.get("/products/categories", params={"per_page": 100}).json()}
    assert shop_categories["Kitchen"]["parent"] == shop_categories["Home"]["id"]
    for sku in wawi.simple_skus(erp_db_url):
        product = wawi.by_sku(api, sku)
        assert product is not None, f"{sku} not in the shop"
        assert Decimal(product["regular_price"]) == wawi.expected_price(erp_db_url, sku), sku  # Haendler
        assert product["stock_quantity"] == wawi.expected_stock(erp_db_url, sku), sku  # HL + AL, not DF
    assert wawi.by_sku(api, "SKU-00001")["name"] == "Urban Bottle 1"  # type: ignore[index]
    assert wawi.by_sku(api, "SKU-00003")["categories"][0]["name"] == "Kitchen"  # type: ignore[index]
    promoted = wawi.by_sku(api, "SKU-00001")
    assert promoted is not None and promoted["sale_price"] == "9.99"
    assert promoted["date_on_sale_to_gmt"], "the promotion's end date did not reach the shop"
    ended = wawi.by_sku(api, "SKU-00002")
    assert ended is not None and ended["sale_price"] == "", "a promotion that ended reached the shop"

    variable = wawi.by_sku(api, "VAR-00005")
    assert variable is not None and variable["type"] == "variable"
    variations = {v["sku"]: v for v in api.get(f"/products/{variable['id']}/variations").json()}
    assert set(variations) == {"VAR-00005-S-RED", "VAR-00005-S-BLUE", "VAR-00005-M-RED", "VAR-00005-M-BLUE"}
    for sku, variation in variations.items():
        assert Decimal(variation["regular_price"]) == wawi.expected_price(erp_db_url, sku), sku
        assert variation["stock_quantity"] == wawi.expected_stock(erp_db_url, sku), sku
    options = {a["name"]: a["option"] for a in variations["VAR-00005-M-BLUE"]["attributes"]}
    assert options == {"Farbe": "blue", "Größe": "M"}


CHANGE_MODES: dict[str, dict[str, Any]] = {
    "monotonic": {"mode": "monotonic", "column": "zeilen_version"},
    "updated_at": {"mode": "updated_at", "column": "geaendert_am", "lookback_seconds": 5},
    "full_diff": {"mode": "full_diff"},
}


@pytest.mark.parametrize("mode", list(CHANGE_MODES))
async def test_a_changed_row_reaches_the_shop_within_two_poll_intervals(
    mode: str, erp_db_url: str, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = catalogue_settings(
        erp_db_url, sandbox_shop, sqlite_url, monkeypatch, product_change=CHANGE_MODES[mode]
    )
    api = shop_api(sandbox_shop)
    renamed, counted = "SKU-00004", "SKU-00006"
    skus = wawi.simple_skus(erp_db_url)
    bound = 2 * POLL + WRITE_ALLOWANCE
    async with wawi.engine_running(settings) as engine:
        await wawi.eventually(
            lambda: anyio.to_thread.run_sync(lambda: all(wawi.by_sku(api, s) for s in skus)),
            120,
            "the initial sync",
        )
        await anyio.sleep(2 * POLL)  # the feeds have polled from their start position
        took: dict[str, float] = {}

        async def measured(what: str, change: Callable[[], None], shown: Callable[[], bool]) -> None:
            await anyio.to_thread.run_sync(change)
            took[what] = await wawi.eventually(lambda: anyio.to_thread.run_sync(shown), bound + 10, what)

        await measured(
            f"article renamed ({mode})",
            lambda: wawi.update_article(erp_db_url, renamed, bezeichnung="Korb umbenannt"),
            lambda: (wawi.by_sku(api, renamed) or {}).get("name") == "Korb umbenannt",
        )
        await measured(
            "stock counted (updated_at)",
            lambda: wawi.set_stock(erp_db_url, counted, "AL", Decimal(40)),
            lambda: (
                (wawi.by_sku(api, counted) or {}).get("stock_quantity")
                == wawi.expected_stock(erp_db_url, counted)
            ),
        )
        await measured(
            "price group price (full_diff)",
            lambda: wawi.set_group_price(erp_db_url, counted, wawi.PRICE_LIST, Decimal("77.70")),
            lambda: (wawi.by_sku(api, counted) or {}).get("regular_price") == "77.70",
        )
        measured_times = ", ".join(f"{what} {seconds:.2f} s" for what, seconds in took.items())
        print(f"\nchange to shop, poll {POLL} s, products {mode}: {measured_times}")
        for what, seconds in took.items():
            assert seconds <= bound, f"{what} took {seconds:.2f} s: more than two polls + {WRITE_ALLOWANCE} s"
        assert (wawi.by_sku(api, counted) or {}).get("stock_quantity") == 40 + 16  # AL counted, HL as it was
        assert await engine.store.list_dead(flow="catalogue") == []


@pytest.mark.parametrize("on_remove", ["unpublish", "delete"])
async def test_a_deleted_row_is_handled_as_the_flows_on_remove_says(
    on_remove: str,
    erp_db_url: str,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = catalogue_settings(
        erp_db_url,
        sandbox_shop,
        sqlite_url,
        monkeypatch,
        product_change=CHANGE_MODES["full_diff"],
        on_remove=on_remove,
    )
    api = shop_api(sandbox_shop)
    doomed, kept = "SKU-00007", "SKU-00008"
    async with running_engine(settings) as engine:
        runner = engine.runners["catalogue"]
        await sync_flow(runner)
        await engine.ensure_initial_sync()
        product = wawi.by_sku(api, doomed)
        assert product is not None
        with wawi.erp_engine(erp_db_url) as erp:
            wawi_erp.delete(erp, doomed)
        await engine.drain(runner.flow)
        gone = api.get(f"/products/{product['id']}")
        if on_remove == "delete":
            assert gone.status_code == 404 or gone.json()["status"] == "trash", gone.text
        else:
            assert gone.json()["status"] == "draft", gone.text
        assert (wawi.by_sku(api, kept) or {}).get("status") == "publish"
        report = await verify_flow(runner)
        assert report.clean, [(e.entity, e.failed, e.mismatches[:2], e.missing) for e in report.entities]


@pytest.mark.parametrize("mode", ["updated_at", "monotonic"])
async def test_a_soft_deleted_row_is_unpublished_in_the_shop(
    mode: str, erp_db_url: str, sandbox_shop: SandboxShop, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    change = {**CHANGE_MODES[mode], "soft_delete": "geloescht"}
    wawi.create_sample(erp_db_url)
    wawi.add_column(erp_db_url, "geloescht BOOLEAN NOT NULL DEFAULT FALSE")
    settings = catalogue_settings(
        erp_db_url, sandbox_shop, sqlite_url, monkeypatch, product_change=change, create=False
    )
    api = shop_api(sandbox_shop)
    doomed = "SKU-00009"
    async with running_engine(settings) as engine:
        runner = engine.runners["catalogue"]
        await sync_flow(runner)
        await engine.ensure_initial_sync()
        assert (wawi.by_sku(api, doomed) or {}).get("status") == "publish"
        wawi.update_article(erp_db_url, doomed, geloescht=True)
        await engine.drain(runner.flow)
        assert (wawi.by_sku(api, doomed) or {}).get("status") == "draft"
        others = [s for s in wawi.simple_skus(erp_db_url) if s != doomed]
        assert all((wawi.by_sku(api, s) or {}).get("status") == "publish" for s in others)


async def test_a_row_with_a_bad_number_is_a_dead_letter_naming_table_row_and_column(
    erp_db_url: str,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wawi.create_sample(erp_db_url)
    wawi.add_column(erp_db_url, "gewicht_text VARCHAR(20)")  # the weight kept as text, typed by hand
    document = catalogue_document(
        erp_db_url,
        sandbox_shop,
        sqlite_url,
        monkeypatch,
        product_columns={"weight": "gewicht_text"},
        create=False,
    )
    settings = wawi.settings(document)
    api = shop_api(sandbox_shop)
    broken, renamed = "SKU-00010", "SKU-00011"
    wawi.update_article(erp_db_url, broken, gewicht_text="1,2,5 kg")
    async with running_engine(settings) as engine:
        runner = engine.runners["catalogue"]
        report = await sync_flow(runner)
        assert not report.clean
        (dead,) = await engine.store.list_dead(flow="catalogue")
        assert dead.key == broken
        assert "artikel" in (dead.record or "") and broken in (dead.record or ""), dead.record
        assert dead.field in ("weight", "gewicht_text"), dead.field
        assert "1,2,5" not in dead.reason  # the value is not quoted back
        listed = await anyio.to_thread.run_sync(
            lambda: emporion(
                "dead", "list", "-c", str(wawi.write_config(document, tmp_path / "e.yaml")), "--json"
            )
        )
        assert listed.returncode == 0, listed.stderr
        (entry,) = json.loads(listed.stdout)
        assert entry["key"] == broken and "artikel" in entry["record"], entry
        assert entry.get("field") == dead.field or dead.field in entry["reason"], entry
        assert wawi.by_sku(api, broken) is None
        assert all(wawi.by_sku(api, s) for s in wawi.simple_skus(erp_db_url) if s != broken)

        # the merchant fixes the weight and renames another article: both arrive
        await engine.ensure_initial_sync()
        wawi.update_article(erp_db_url, broken, gewicht_text="1.25")
        wawi.update_article(erp_db_url, renamed, bezeichnung="Korb aus Leinen")
        await engine.drain(runner.flow)
        fixed = wawi.by_sku(api, broken)
        assert fixed is not None and Decimal(fixed["weight"]) == Decimal("1.25")
        assert (wawi.by_sku(api, renamed) or {}).get("name") == "Korb aus Leinen"


def emporion(*args: str) -> subprocess.CompletedProcess[str]:
    """An `emporion` command as a user runs it (environment as the test set it: the secrets)."""
    return subprocess.run(
        [sys.executable, "-m", "emporion", *args], capture_output=True, text=True, timeout=120, check=False
    )


async def test_a_column_the_table_does_not_have_is_named_by_check_and_the_categories_still_sync(
    erp_db_url: str,
    sandbox_shop: SandboxShop,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wawi.create_sample(erp_db_url)
    connection = wawi.connection(erp_db_url, monkeypatch, product_columns={"weight": "gewicht_kg"})
    shop = wawi.shop_connection(sandbox_shop, monkeypatch)
    document = wawi.config(connection, shop, sqlite_url, [wawi.catalogue_flow(POLL)])
    config = wawi.write_config(document, tmp_path / "emporion.yaml")
    checked = emporion("check", "-c", str(config))
    assert checked.returncode != 0, checked.stdout
    output = checked.stdout + checked.stderr
    assert "gewicht_kg" in output and "artikel" in output, output
    assert "emporion_test" not in output.replace("emporion_test_", "")  # no password (the user's name is it)

    api = shop_api(sandbox_shop)
    async with running_engine(wawi.settings(document)) as engine:
        report = await sync_flow(engine.runners["catalogue"])
        dead = await engine.store.list_dead(flow="catalogue", limit=100)
    categories = {c["name"] for c in api.get("/products/categories", params={"per_page": 100}).json()}
    assert {"Kitchen", "Home", "Camping"} <= categories  # the categories' source is not stopped
    assert not report.clean
    named = [
        d for d in dead if "gewicht_kg" in f"{d.field} {d.reason}" and "artikel" in f"{d.record} {d.reason}"
    ]
    assert named, [(d.key, d.record, d.field, d.reason) for d in dead[:3]]
