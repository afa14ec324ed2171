"""Conflicts where operators meet them: the console API, the dashboard, `emporion conflicts` and reconcile.

Conflicts are seeded as a two-way flow leaves them (`StateStore.record` with its checks) on a real state
database; the console runs over real HTTP, the commands through the CLI, reconcile on memory systems.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from emporion.cli import app
from emporion.config import Settings
from emporion.state import Conflict, ConflictCheck, StateStore, conflict_pair
from emporion.testing import forget_systems, system
from tests.fixtures.offline import CATALOGUE_FLOW, ORDER_FLOW, offline_erp, offline_shop
from tests.integration.console_support import add_user, running_console, token
from tests.integration.test_console_pages import HTMX, logged_in, page

PAIR = conflict_pair("erp", "shop")
OWNERSHIP = {"default": "erp", "fields": {"description": "shop"}, "conflicts": "report"}
TWO_WAY = [
    CATALOGUE_FLOW | {"ownership": OWNERSHIP},
    {"name": "shop-products", "source": "shop", "target": "erp", "entities": ["category", "product"]},
    ORDER_FLOW,
]
ADDRESS = {"street": "Hauptstraße 5", "city": "Köln"}  # personal data: shown to operators, never logged
runner = CliRunner()


def settings(state_url: str) -> Settings:
    """Catalogue both ways between an offline ERP and shop (ERP owns all but the description), orders."""
    return Settings.model_validate(
        {
            "state": {"url": state_url},
            "server": {"console": {"secure_cookies": False}},
            "connections": {"shop": offline_shop(), "erp": offline_erp()},
            "flows": TWO_WAY,
        }
    )


def found(key: str, field: str, values: dict[str, Any], **changes: Any) -> Conflict:
    """A conflict as the shop -> ERP flow finds it."""
    owner = "shop" if field == "description" else "erp"
    fields = {"owner": owner, "policy": "report", "flow": "shop-products", "source_key": f"wc-{key}"}
    return Conflict(PAIR, "product", key, field, values=values, **(fields | changes))


async def seed(store: StateStore) -> dict[str, int]:
    """Two open conflicts on products, one on a customer of another pair, one resolved; ids by record."""
    await store.record(
        conflicts=[
            ConflictCheck(
                PAIR, "product", "SKU-1", (found("SKU-1", "name", {"erp": "Chair", "shop": "Stool <b> [x]"}),)
            ),
            ConflictCheck(
                PAIR,
                "product",
                "SKU-2",
                (found("SKU-2", "description", {"erp": "ERP text", "shop": "Shop"}),),
            ),
            ConflictCheck(PAIR, "product", "SKU-3", (found("SKU-3", "name", {"erp": "A", "shop": "B"}),)),
        ]
    )
    await store.record(conflicts=[ConflictCheck(PAIR, "product", "SKU-3")])  # both agree again
    other = conflict_pair("erp", "b2b-shop")
    customer = Conflict(
        other, "customer", "ana@example.org", "billing", "erp", "report", {"erp": ADDRESS}, "b2b", "9"
    )
    await store.record(conflicts=[ConflictCheck(other, "customer", "ana@example.org", (customer,))])
    return {c.natural_key: c.id or 0 for c in await store.list_conflicts(state=None)}


async def test_the_api_lists_and_dismisses_conflicts(state_url: str, tmp_path: Path) -> None:
    async with running_console(settings(state_url), tmp_path / "secrets") as server:
        store, client = server.store, server.client
        ids = await seed(store)
        read, operate = await token(store, "read"), await token(store, "operate")

        assert (await client.get("/api/v1/conflicts")).status_code == 401
        listed = await client.get("/api/v1/conflicts", headers=read)
        assert listed.status_code == 200
        rows = listed.json()
        assert {(c["natural_key"], c["field"], c["state"]) for c in rows} == {
            ("SKU-1", "name", "open"),
            ("SKU-2", "description", "open"),
            ("ana@example.org", "billing", "open"),
        }
        chair = next(c for c in rows if c["natural_key"] == "SKU-1")
        assert chair["values"] == {"erp": "Chair", "shop": "Stool <b> [x]"} and chair["owner"] == "erp"
        assert chair["pair"] == "erp <> shop" and chair["policy"] == "report" and chair["last_seen"]

        # a flow's conflicts are its pair's, whichever direction found them; orders have none
        for flow in ("catalogue", "shop-products"):
            mine = await client.get("/api/v1/conflicts", params={"flow": flow}, headers=read)
            assert sorted(c["natural_key"] for c in mine.json()) == ["SKU-1", "SKU-2"], flow
        assert (await client.get("/api/v1/conflicts", params={"flow": "orders"}, headers=read)).json() == []
        every = await client.get("/api/v1/conflicts", params={"state": "all", "limit": 10}, headers=read)
        assert len(every.json()) == 4
        resolved = await client.get("/api/v1/conflicts", params={"state": "resolved"}, headers=read)
        assert [c["natural_key"] for c in resolved.json()] == ["SKU-3"] and resolved.json()[0]["resolved_at"]
        assert (
            await client.get("/api/v1/conflicts", params={"flow": "nope"}, headers=read)
        ).status_code == 404
        assert (
            await client.get("/api/v1/conflicts", params={"state": "lost"}, headers=read)
        ).status_code == 422

        # dismissing needs the operator scope, and is audited without the values
        one = f"/api/v1/conflicts/{ids['SKU-1']}/dismiss"
        assert (await client.post(one, headers=read)).status_code == 403
        done = await client.post(one, headers=operate)
        assert done.status_code == 200 and done.json()["done"] == [ids["SKU-1"]] and done.json()["ok"]
        again = await client.post(one, headers=operate)
        assert again.json()["ok"] is False and again.json()["skipped"] == [ids["SKU-1"]]
        assert "dismissed" in again.json()["message"]
        assert (await client.post("/api/v1/conflicts/999999/dismiss", headers=operate)).status_code == 404
        gone = await client.get("/api/v1/conflicts", params={"state": "dismissed"}, headers=read)
        [dismissed] = gone.json()
        assert dismissed["id"] == ids["SKU-1"] and dismissed["resolved_by"] == "token:operate-token"
        audit = await store.list_audit(action="conflict.dismiss")
        assert [(a.actor, a.target, a.detail) for a in audit] == [
            ("token:operate-token", str(ids["SKU-1"]), {"dismissed": False}),
            ("token:operate-token", str(ids["SKU-1"]), {"dismissed": True}),
        ]
        assert "Stool" not in json.dumps([a.detail for a in audit])


async def test_the_dashboard_counts_lists_and_dismisses(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(settings(sqlite_url), tmp_path / "secrets") as server:
        store = server.store
        ids = await seed(store)
        await add_user(store, "otto", "operator")
        await add_user(store, "vera", "viewer")
        async with logged_in(server.base_url, "otto") as (client, csrf):
            home = await page(client, "/")
            assert home.one("open-conflicts") is not None
            pairs = {row["data-pair"]: row["data-open"] for row in home.all("conflict-pair")}
            assert pairs == {"erp <> shop": "2", "b2b-shop <> erp": "1"}
            text = (await client.get("/ui/overview")).text
            assert 'data-testid="open-conflicts">3<' in text and 'href="/conflicts?flow=catalogue"' in text

            listed = await page(client, "/conflicts")
            assert {r["data-record"]: r["data-state"] for r in listed.all("conflict-row")} == {
                "SKU-1": "open",
                "SKU-2": "open",
                "ana@example.org": "open",
            }
            assert len(listed.all("dismiss")) == 3 and all("disabled" not in b for b in listed.all("dismiss"))
            html = (await client.get("/conflicts")).text
            assert "Stool &lt;b&gt;" in html and "<b>" not in html  # values are shown, escaped
            assert "Hauptstraße 5" in html and "Köln" in html
            mine = await page(client, "/conflicts?flow=catalogue")
            assert sorted(r["data-record"] for r in mine.all("conflict-row")) == ["SKU-1", "SKU-2"]
            orders = await page(client, "/conflicts?flow=orders&state=odd")  # an odd state: open
            assert (
                orders.all("conflict-row") == []
                and "No open conflicts in orders" in (await client.get("/ui/conflicts?flow=orders")).text
            )

            headers = HTMX | {"X-CSRF-Token": csrf}
            dismissed = await client.post(f"/ui/conflicts/{ids['SKU-2']}/dismiss", headers=headers)
            assert dismissed.status_code == 200 and dismissed.headers["hx-trigger"] == "emporion-refresh"
            assert f"conflict {ids['SKU-2']} dismissed" in dismissed.text
            again = await client.post(f"/ui/conflicts/{ids['SKU-2']}/dismiss", headers=headers)
            assert "nothing dismissed" in again.text and "warn" in again.text
            unknown = await client.post("/ui/conflicts/999999/dismiss", headers=headers)
            assert "no conflict 999999" in unknown.text
            after = await page(client, "/conflicts?state=dismissed")
            assert [r["data-record"] for r in after.all("conflict-row")] == ["SKU-2"]
            assert after.all("dismiss") == []  # nothing left to dismiss there
            assert 'data-testid="open-conflicts">2<' in (await client.get("/ui/overview")).text

        async with logged_in(server.base_url, "vera") as (client, csrf):
            listed = await page(client, "/conflicts")
            assert listed.all("dismiss") and all("disabled" in b for b in listed.all("dismiss"))
            refused = await client.post(
                f"/ui/conflicts/{ids['SKU-1']}/dismiss", headers=HTMX | {"X-CSRF-Token": csrf}
            )
            assert refused.status_code == 403
        assert (await store.get_conflict(ids["SKU-1"])).state == "open"  # type: ignore[union-attr]


async def test_one_way_flows_show_no_conflict_pairs(sqlite_url: str, tmp_path: Path) -> None:
    one_way = Settings.model_validate(
        {
            "state": {"url": sqlite_url},
            "server": {"console": {"secure_cookies": False}},
            "connections": {"shop": offline_shop(), "erp": offline_erp()},
            "flows": [CATALOGUE_FLOW, ORDER_FLOW],
        }
    )
    async with running_console(one_way, tmp_path / "secrets") as server:
        await add_user(server.store, "otto", "operator")
        async with logged_in(server.base_url, "otto") as (client, _):
            home = await page(client, "/")
            assert home.all("conflict-pair") == [] and home.all("open-conflicts") == []


# -- the command line ---------------------------------------------------------------------------------


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def write(folder: Path, flows: list[dict[str, Any]], connections: dict[str, Any] | None = None) -> Path:
    """A configuration file with these flows, its state database in `folder`."""
    config = {
        "state": {"url": f"sqlite:///{folder / 'state.db'}"},
        "connections": connections or {"shop": offline_shop(), "erp": offline_erp()},
        "flows": flows,
    }
    path = folder / "emporion.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def seeded(folder: Path) -> dict[str, int]:
    store = await StateStore.connect(f"sqlite:///{folder / 'state.db'}")
    try:
        return await seed(store)
    finally:
        await store.close()


def table_rows(output: str) -> list[list[str]]:
    """The cells of a printed table's rows (continuation lines included)."""
    lines = [line for line in output.splitlines() if line.startswith("│")]
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]


def test_conflicts_command_lists_and_dismisses(tmp_path: Path) -> None:
    config = write(tmp_path, TWO_WAY)
    ids = anyio.run(seeded, tmp_path)

    result = invoke("conflicts", "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "open conflicts: 3" in result.stdout
    records = {row[1]: row for row in table_rows(result.stdout) if row[0]}
    assert set(records) == {"SKU-1", "SKU-2", "ana@example.org"}
    assert records["SKU-1"][2:6] == ["name", "erp", "report", "erp: Chair"]
    assert "shop: Stool <b> [x]" in result.stdout  # each side's value, as it is

    mine = invoke("conflicts", "-c", str(config), "--flow", "shop-products", "--json")
    assert mine.exit_code == 0, mine.output
    shown = json.loads(mine.stdout)
    assert sorted(c["natural_key"] for c in shown) == ["SKU-1", "SKU-2"]
    assert shown[0]["values"] and shown[0]["last_seen"].endswith("+00:00")
    every = json.loads(invoke("conflicts", "-c", str(config), "--all", "--json").stdout)
    assert sorted(c["state"] for c in every) == ["open", "open", "open", "resolved"]
    assert invoke("conflicts", "-c", str(config), "--flow", "nope").exit_code == 2

    done = invoke("conflicts", "dismiss", str(ids["SKU-1"]), "-c", str(config))
    assert done.exit_code == 0 and f"dismissed conflict {ids['SKU-1']} (product SKU-1, name)" in done.stdout
    again = invoke("conflicts", "dismiss", str(ids["SKU-1"]), "-c", str(config))
    assert again.exit_code == 1 and "dismissed already" in again.stderr
    assert invoke("conflicts", "dismiss", "999999", "-c", str(config)).exit_code == 2
    left = json.loads(invoke("conflicts", "-c", str(config), "--json").stdout)
    assert sorted(c["natural_key"] for c in left) == ["SKU-2", "ana@example.org"]
    listed = invoke("conflicts", "-c", str(config), "--all")
    assert "conflicts: 4" in listed.stdout and "dismissed" in listed.stdout


@pytest.fixture
def memory_systems() -> Iterator[None]:
    """An empty ERP and shop in memory: nothing drifts, so reconcile reports only the conflicts."""
    forget_systems()
    system("conflicts-erp")
    system("conflicts-shop")
    yield
    forget_systems()


MEMORY = {
    "erp": {"type": "memory", "system": "conflicts-erp"},
    "shop": {"type": "memory", "system": "conflicts-shop"},
}


def test_reconcile_lists_the_open_conflicts_and_keeps_its_exit_code(
    tmp_path: Path, memory_systems: None
) -> None:
    config = write(tmp_path, [CATALOGUE_FLOW | {"ownership": OWNERSHIP}], MEMORY)
    ids = anyio.run(seeded, tmp_path)

    result = invoke("reconcile", "-c", str(config))
    assert result.exit_code == 0, result.output  # clean: conflicts wait for a person, not for a repair
    assert "reconcile catalogue: clean" in result.stdout
    assert "open conflicts: 2" in result.stdout  # its pair's products; the other pair's customer is not
    records = {row[1] for row in table_rows(result.stdout) if row[0]}
    assert records == {"SKU-1", "SKU-2"} and "emporion conflicts dismiss ID" in result.stdout

    reports = json.loads(invoke("reconcile", "-c", str(config), "--json").stdout)
    [report] = reports
    assert report["status"] == "clean"
    assert {(c["natural_key"], c["id"]) for c in report["conflicts"]} == {
        ("SKU-1", ids["SKU-1"]),
        ("SKU-2", ids["SKU-2"]),
    }

    one_way = write(tmp_path, [CATALOGUE_FLOW], MEMORY)
    plain = invoke("reconcile", "-c", str(one_way), "--json")
    assert "conflicts" not in json.loads(plain.stdout)[0]  # one-way flows' reports stay as they were
