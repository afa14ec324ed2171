"""The console API over real HTTP on a real state database: roles, scopes, CSRF, limits, audit, actions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from emporion.ops.auth import Accounts
from emporion.state import DeadLetter, JournalEntry, Link
from tests.integration.console_support import (
    PASSWORD,
    add_user,
    console_settings,
    login,
    running_console,
    token,
)


def links(flow: str, entity: str, count: int) -> list[Link]:
    """Linked records as a sync leaves them."""
    name = "SKU-{}" if entity == "product" else "Category {}"
    return [
        Link(flow, entity, f"{index}", {"id": 100 + index}, name.format(index), f"fp{index}")
        for index in range(1, count + 1)
    ]


async def test_roles_and_scopes_are_enforced(state_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(state_url), tmp_path / "secrets") as server:
        store, client = server.store, server.client
        await add_user(store, "vera", "viewer")
        read, operate = await token(store, "read"), await token(store, "operate")

        assert (await client.get("/api/v1/flows")).status_code == 401  # nobody
        flows = await client.get("/api/v1/flows", headers=read)
        assert flows.status_code == 200
        assert [f["name"] for f in flows.json()] == ["catalogue", "orders"]

        # a read token may look but not act; an operate token may act
        assert (await client.post("/api/v1/flows/catalogue/pause", headers=read)).status_code == 403
        assert await store.paused_flows() == set()
        paused = await client.post("/api/v1/flows/catalogue/pause", headers=operate)
        assert paused.status_code == 200 and await store.paused_flows() == {"catalogue"}
        assert (await client.get("/api/v1/flows", headers=read)).json()[0]["state"] == "paused"
        assert (await client.post("/api/v1/flows/nosuch/pause", headers=operate)).status_code == 404
        assert (await client.get("/api/v1/users", headers=operate)).status_code == 403  # admin only

        # a viewer's session cannot retry a dead letter (even with the CSRF token)
        await store.record(dead=[DeadLetter("orders", "order", "7", "no such SKU", field="lines[0].sku")])
        (letter,) = await store.list_dead()
        viewer, csrf = await login(server.base_url, "vera")
        try:
            refused = await viewer.post(
                "/api/v1/dead-letters/retry", json={"ids": [letter.id]}, headers={"X-CSRF-Token": csrf}
            )
            assert refused.status_code == 403
            assert (await viewer.get(f"/api/v1/dead-letters/{letter.id}")).json()["field"] == "lines[0].sku"
        finally:
            await viewer.aclose()
        assert (await store.get_dead(letter.id)).status == "open"

        # revoked and expired tokens are refused
        accounts = Accounts(store)
        await accounts.revoke_token("operate-token", actor="test")
        assert (await client.get("/api/v1/flows", headers=operate)).status_code == 401
        old = await accounts.create_token(
            "old", "read", datetime.now(UTC) - timedelta(seconds=1), actor="test"
        )
        expired = await client.get("/api/v1/flows", headers={"Authorization": f"Bearer {old.token}"})
        assert expired.status_code == 401 and "expired" in expired.json()["detail"]

        denied = await store.list_audit(action="denied")
        assert [entry.actor for entry in denied] == ["user:vera", "token:read-token"]


async def test_cookie_session_needs_its_csrf_token_and_is_a_strict_httponly_cookie(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = console_settings(sqlite_url, secure_cookies=True)
    async with running_console(settings, tmp_path / "secrets") as server:
        await add_user(server.store, "otto", "operator")
        response = await server.client.post("/login", json={"username": "otto", "password": PASSWORD})
        assert response.status_code == 200
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
        csrf = response.json()["csrf_token"]
        session = response.cookies["emporion_session"]
        headers = {"Cookie": f"emporion_session={session}"}  # the client would not send a Secure cookie
        assert (await server.client.get("/api/v1/flows", headers=headers)).status_code == 200
        no_token = await server.client.post("/api/v1/flows/orders/pause", headers=headers)
        assert no_token.status_code == 403 and "CSRF" in no_token.json()["detail"]
        wrong = await server.client.post(
            "/api/v1/flows/orders/pause", headers=headers | {"X-CSRF-Token": csrf[:-1] + "x"}
        )
        assert wrong.status_code == 403
        assert await server.store.paused_flows() == set()
        ok = await server.client.post("/api/v1/flows/orders/pause", headers=headers | {"X-CSRF-Token": csrf})
        assert ok.status_code == 200 and await server.store.paused_flows() == {"orders"}
        forged = {"Cookie": f"emporion_session={session[:-2]}xx"}
        assert (await server.client.get("/api/v1/flows", headers=forged)).status_code == 401
        out = await server.client.post("/logout", headers=headers | {"X-CSRF-Token": csrf})
        assert out.status_code == 204 and "emporion_session=" in out.headers["set-cookie"]


async def test_logins_are_rate_limited_per_user_and_audited(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(sqlite_url, login_attempts=3, login_address_attempts=3, login_window=600)
    async with running_console(settings, tmp_path / "secrets") as server:
        await add_user(server.store, "ada", "admin")
        for _ in range(3):
            bad = await server.client.post("/login", json={"username": "ada", "password": "wrong password"})
            assert bad.status_code == 401
        locked = await server.client.post("/login", json={"username": "ada", "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        # the address is locked out too, whichever user it tries
        await add_user(server.store, "bob", "viewer")
        assert (
            await server.client.post("/login", json={"username": "bob", "password": PASSWORD})
        ).status_code == 429
        outcomes = [e.outcome for e in await server.store.list_audit(action="login")]
        assert outcomes == ["limited", "limited", "failed", "failed", "failed"]
        assert all(e.client == "127.0.0.1" for e in await server.store.list_audit(action="login"))


async def test_actions_queue_work_and_leave_audit_lines(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        store, client = server.store, server.client
        admin = await token(store, "admin")
        await store.record(links=links("catalogue", "product", 3) + links("catalogue", "category", 2))

        one = await client.post("/api/v1/flows/catalogue/records/product/2/resync", headers=admin)
        assert one.status_code == 200 and one.json()["queued"] == 1
        (item,) = await store.claim("catalogue", "product", worker="t", limit=10)
        assert item.key == "2" and item.priority == 50 and item.reason == "resync" and item.correlation_id
        await store.finish([item])

        whole = await client.post("/api/v1/flows/catalogue/resync", headers=admin)
        assert whole.json()["queued"] == 5
        assert await store.queue_depth("catalogue") == {
            ("catalogue", "product"): 3,
            ("catalogue", "category"): 2,
        }

        await store.record(dead=[DeadLetter("orders", "order", "9", "bad address", field="shipping.country")])
        (letter,) = await store.list_dead()
        retried = await client.post(
            "/api/v1/dead-letters/retry", json={"ids": [letter.id, 999]}, headers=admin
        )
        assert retried.json()["done"] == [letter.id] and retried.json()["skipped"] == [999]
        assert (await store.get_dead(letter.id)).status == "retried"
        assert (await store.queue_depth("orders"))[("orders", "order")] == 1

        record = await client.get("/api/v1/flows/catalogue/records/product/3", headers=admin)
        assert record.status_code == 200
        assert record.json()["link"]["natural_key"] == "SKU-3" and record.json()["read_errors"]  # ERP away
        found = await client.get("/api/v1/search", params={"q": "SKU-1"}, headers=admin)
        assert [(r["flow"], r["key"]) for r in found.json()["records"]] == [("catalogue", "1")]

        audit = (await client.get("/api/v1/audit", headers=admin)).json()
        assert [line["action"] for line in audit[:3]] == ["dead.retry", "flow.resync", "record.resync"]
        assert audit[2]["actor"] == "token:admin-token" and audit[2]["target"] == "catalogue/product/2"


async def test_users_and_tokens_through_the_api(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        admin = await token(server.store, "admin")
        created = await server.client.post(
            "/api/v1/users", json={"name": "nina", "role": "operator", "password": PASSWORD}, headers=admin
        )
        assert created.status_code == 201 and created.json()["role"] == "operator"
        assert "password" not in json.dumps(created.json())
        new = await server.client.post(
            "/api/v1/tokens", json={"name": "ci", "scope": "read", "expires": "1d"}, headers=admin
        )
        assert new.status_code == 201 and new.json()["token"].startswith("emp_")
        listed = (await server.client.get("/api/v1/tokens", headers=admin)).json()
        assert all("token" not in t and "token_hash" not in t for t in listed)
        ci = {"Authorization": f"Bearer {new.json()['token']}"}
        assert (await server.client.get("/api/v1/alerts", headers=ci)).status_code == 200
        assert (await server.client.delete("/api/v1/tokens/ci", headers=admin)).status_code == 204
        assert (await server.client.get("/api/v1/alerts", headers=ci)).status_code == 401
        assert (await server.client.delete("/api/v1/users/nina", headers=admin)).status_code == 204
        assert await server.store.get_user("nina") is None


async def test_metrics_expose_state_gauges_with_labels(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        store, client = server.store, server.client
        read = await token(store, "read")
        assert (await client.get("/metrics")).status_code == 401  # read scope by default
        await store.enqueue("catalogue", "product", ["1", "2", "3"])
        await store.record(dead=[DeadLetter("orders", "order", "5", "bad")])
        text = (await client.get("/metrics", headers=read)).text
        assert metric(text, "emporion_work_queued", flow="catalogue", entity="product") == 3
        assert metric(text, "emporion_dead_letters_open", flow="orders") == 1
        assert metric(text, "emporion_flow_paused", flow="orders") == 0
        assert metric(text, "emporion_circuit_state", connection="shop", state="closed") == 1
        await store.set_paused("orders", True, "test")
        (item,) = (await store.claim("catalogue", "product", worker="t", limit=1))[:1]
        await store.finish([item])
        text = (await client.get("/metrics", headers=read)).text
        assert metric(text, "emporion_work_queued", flow="catalogue", entity="product") == 2
        assert metric(text, "emporion_flow_paused", flow="orders") == 1
        assert metric(text, "emporion_flow_lag_seconds", flow="catalogue") > 0


async def test_open_metrics_and_openapi(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url, metrics="open"), tmp_path / "secrets") as server:
        assert (await server.client.get("/metrics")).status_code == 200
        document = (await server.client.get("/api/v1/openapi.json")).json()
        assert {"/api/v1/flows", "/api/v1/dead-letters/retry", "/api/v1/events", "/login"} <= set(
            document["paths"]
        )
        assert (await server.client.get("/healthz")).status_code == 200


async def test_event_stream_sends_journal_lines(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        read = await token(server.store, "read")
        await server.store.record(
            journal=[
                JournalEntry("catalogue", "product", "4", "update", reason="change", after_fingerprint="f")
            ]
        )
        async with server.client.stream(
            "GET", "/api/v1/events", params={"after": 0, "max_seconds": 3}, headers=read
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            body = "".join([chunk async for chunk in response.aiter_text()])
        (data,) = re.findall(r"event: journal\ndata: (.*)\n", body)
        assert json.loads(data)["key"] == "4" and json.loads(data)["action"] == "update"


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (fails when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{"):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if found == labels:
                return float(line.rsplit(" ", 1)[1])
    pytest.fail(f"{name}{labels} not in the metrics")
