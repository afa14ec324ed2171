"""The dashboard's pages over real HTTP on a real SQLite state database: login form, hooks, roles, actions."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx

from emporion.server.app import GRACEFUL_SECONDS
from emporion.state import CircuitRecord, DeadLetter, JournalEntry, Link, ReconcileReport, StateStore
from tests.integration.console_support import (
    PASSWORD,
    add_user,
    console_settings,
    login,
    running_console,
)

PAGES = ["/", "/dead", "/reports", "/alerts", "/records", "/events", "/dead/1", "/reports/1"]
HTMX = {"HX-Request": "true"}
CSP = "default-src 'self'; frame-ancestors 'none'"


class Hooks(HTMLParser):
    """The elements of a page that carry a `data-testid`, in order, with their attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keep the element when it has a test id."""
        values = dict(attrs)
        if values.get("data-testid"):
            self.found.append((tag, values))

    def all(self, testid: str) -> list[dict[str, str | None]]:
        """The attributes of every element with this test id."""
        return [attrs for _, attrs in self.found if attrs["data-testid"] == testid]

    def one(self, testid: str) -> dict[str, str | None]:
        """The attributes of the one element with this test id (fails when there is none or several)."""
        (found,) = self.all(testid)
        return found


async def seed(store: StateStore) -> None:
    """Dead letters, a reconcile report, alerts, links and journal lines, as the engine leaves them."""
    await store.record(
        dead=[
            DeadLetter("orders", "order", "7", "no such SKU", field="lines[0].sku", record="1007"),
            DeadLetter("orders", "order", "8", "bad address", field="shipping.country", record="1008"),
            DeadLetter(
                "catalogue", "product", "3", "price <script>", payload={"api_key": "s3cret", "sku": "X"}
            ),
        ],
        links=[Link("catalogue", "product", "3", {"id": 103}, "SKU-3", "fp3")],
        journal=[
            JournalEntry("catalogue", "product", "3", "create", reason="change", after_fingerprint="fp3"),
            JournalEntry("catalogue", "product", "3", "update", reason="change", before_fingerprint="fp3"),
        ],
    )
    started = datetime.now(UTC) - timedelta(minutes=5)
    await store.record_circuit(CircuitRecord("erp", "open", started, 5, "ERP down"), opened=True)
    await store.save_report(
        ReconcileReport(
            flow="catalogue",
            started_at=started,
            finished_at=started + timedelta(seconds=12),
            status="drift",
            counts={"compared": 10, "different": 1},
            items=[
                {
                    "entity": "product",
                    "kind": "different",
                    "key": "3",
                    "label": "SKU-3",
                    "fields": [{"field": "list_price", "expected": "9.90", "actual": "1.00"}],
                    "repaired": False,
                }
            ],
        )
    )
    alert = {"kind": "sync_lag", "subject": "catalogue", "flow": "catalogue", "severity": "warning"}
    await store.alert_fire(alert | {"key": "sync_lag:catalogue", "message": "behind by 400 s"}, 600)
    await store.alert_fire(alert | {"key": "circuit:shop", "kind": "circuit", "message": "open"}, 600)
    await store.alert_resolve("circuit:shop", "closed again")


@asynccontextmanager
async def logged_in(base_url: str, name: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client with the session of user `name`, and the session's CSRF token."""
    client, csrf = await login(base_url, name)
    try:
        yield client, csrf
    finally:
        await client.aclose()


async def page(client: httpx.AsyncClient, path: str) -> Hooks:
    """A page that must render (200, HTML), as its hooks."""
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return Hooks(response.text)


async def test_login_form_goes_on_to_local_pages_only(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        await add_user(server.store, "alice", "operator")
        form = await server.client.get("/login", params={"next": "/dead"})
        hooks = Hooks(form.text)
        assert form.status_code == 200 and hooks.all("login-submit") and not hooks.all("login-error")
        assert 'id="login"' in form.text and 'name="username"' in form.text and 'name="password"' in form.text
        assert 'name="next" value="/dead"' in form.text

        for target, landing in [
            ("/dead?status=all", "/dead?status=all"),
            ("//evil.example/x", "/"),
            ("https://evil.example/", "/"),
            ("/\\evil.example", "/"),
            ("", "/"),
        ]:
            async with httpx.AsyncClient(base_url=server.base_url) as browser:
                done = await browser.post(
                    "/login", data={"username": "alice", "password": PASSWORD, "next": target}
                )
                assert done.status_code == 303 and done.headers["location"] == landing, target
                assert "emporion_session" in browser.cookies
                assert "samesite=strict" in done.headers["set-cookie"].lower()
                whoami = Hooks((await browser.get(landing)).text).one("whoami")
                assert whoami is not None
        body = (await server.client.post("/login", json={"username": "alice", "password": PASSWORD})).json()
        assert body["actor"] == "user:alice" and body["csrf_token"]  # the JSON login still answers JSON
        outcomes = [entry.outcome for entry in await server.store.list_audit(action="login")]
        assert outcomes == ["ok"] * 6

        document = (await server.client.get("/api/v1/openapi.json")).json()
        body = document["paths"]["/login"]["post"]["requestBody"]["content"]
        assert set(body) == {"application/json", "application/x-www-form-urlencoded"}
        assert set(body["application/x-www-form-urlencoded"]["schema"]["properties"]) == {
            "username",
            "password",
            "next",
        }
        assert not [path for path in document["paths"] if path.startswith("/ui") or path in PAGES]


async def test_a_login_posted_from_another_site_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    """Login CSRF: a page elsewhere must not log the visitor in (as the attacker, say)."""
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        await add_user(server.store, "alice", "operator")
        here = server.base_url.rstrip("/")
        credentials = {"username": "alice", "password": PASSWORD}
        for headers in [
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site", "Origin": here},
            {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.evil.example"},
        ]:
            async with httpx.AsyncClient(base_url=server.base_url) as browser:
                form = await browser.post("/login", data=credentials, headers=headers)
                # a form with enctype text/plain can carry a JSON body across sites
                plain = await browser.post(
                    "/login",
                    content=f'{{"username": "alice", "password": "{PASSWORD}"}}',
                    headers=headers | {"Content-Type": "text/plain"},
                )
                for refused in (form, plain):
                    assert refused.status_code == 403, (headers, refused.status_code)
                    assert "emporion_session" not in refused.headers.get("set-cookie", "")
                assert not browser.cookies
        for headers in [{"Origin": here}, {"Sec-Fetch-Site": "same-origin", "Origin": here}, {}]:
            async with httpx.AsyncClient(base_url=server.base_url) as browser:
                done = await browser.post("/login", data=credentials | {"next": "/dead"}, headers=headers)
                assert done.status_code == 303 and done.headers["location"] == "/dead", headers
                assert "emporion_session" in browser.cookies
        outcomes = [entry.outcome for entry in await server.store.list_audit(action="login")]
        assert outcomes == ["ok"] * 3 + ["cross-site"] * 8


async def test_login_form_failures_show_the_error_and_are_limited(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(sqlite_url, login_attempts=2, login_window=600)
    async with running_console(settings, tmp_path / "secrets") as server:
        await add_user(server.store, "alice", "operator")
        for _ in range(2):
            wrong = await server.client.post(
                "/login", data={"username": "alice", "password": "not the password", "next": "/alerts"}
            )
            assert wrong.status_code == 401 and "emporion_session" not in wrong.headers.get("set-cookie", "")
            assert Hooks(wrong.text).all("login-error") and "wrong user name or password" in wrong.text
            assert 'name="next" value="/alerts"' in wrong.text and 'value="alice"' in wrong.text
        limited = await server.client.post("/login", data={"username": "alice", "password": PASSWORD})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert Hooks(limited.text).all("login-error") and "too many failed logins" in limited.text
        empty = await server.client.post("/login", data={"username": "", "password": ""})
        assert empty.status_code == 422 and Hooks(empty.text).all("login-error")
        bad_json = await server.client.post("/login", json={"username": "alice"})
        assert bad_json.status_code == 422 and bad_json.json()["detail"][0]["loc"] == ["body", "password"]
        outcomes = [entry.outcome for entry in await server.store.list_audit(action="login")]
        assert outcomes == ["limited", "failed", "failed"]


async def test_pages_send_the_logged_out_to_the_login_form(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        for path in [*PAGES, "/records/catalogue/product/3", "/dead?status=all&flow=orders"]:
            response = await server.client.get(path)
            assert response.status_code == 303, path
            location = urlsplit(response.headers["location"])
            assert location.path == "/login" and parse_qs(location.query)["next"] == [path]
        fragment = await server.client.get("/ui/overview", headers=HTMX)
        assert fragment.status_code == 401 and fragment.headers["hx-redirect"] == "/login"
        server.client.cookies.set("emporion_session", "forged.value")
        assert (await server.client.get("/")).status_code == 303


async def test_each_page_renders_its_hooks_with_the_data(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        store = server.store
        await add_user(store, "alice", "operator")
        await seed(store)
        await store.set_paused("orders", True, "test")
        async with logged_in(server.base_url, "alice") as (client, csrf):
            home = await page(client, "/")
            assert len(home.all("nav")) == 1 and home.one("whoami") and home.one("logout")
            assert home.one("flash") is not None and home.one("flows") and home.one("circuits")
            assert [row["data-flow"] for row in home.all("flow-row")] == ["catalogue", "orders"]
            assert len(home.all("pause")) == 1 and len(home.all("resume")) == 1  # orders is paused
            assert len(home.all("resync")) == 2 and len(home.all("reconcile")) == 2
            assert all("disabled" not in button for button in home.all("pause") + home.all("resync"))
            text = (await client.get("/")).text
            assert "user:alice (operator)" in text and "badge-paused" in text and csrf in text
            assert home.all("flow-errors") and home.one("events") and home.one("open-alerts")
            circuits = {row["data-connection"] for row in home.all("circuit-row")}
            assert circuits == {"erp", "shop"} and "badge-open" in text and "5 min ago" in text

            dead = await page(client, "/dead")
            rows = dead.all("dead-row")
            assert sorted(r["data-record"] for r in rows) == ["1007", "1008", "3"]
            assert {r["data-status"] for r in rows} == {"open"} and len(dead.all("dead-status")) == 3
            assert len(dead.all("retry")) == 3 and len(dead.all("discard")) == 3 and dead.one("retry-all")
            orders = await page(client, "/dead?flow=orders&status=all")
            assert sorted(r["data-record"] for r in orders.all("dead-row")) == ["1007", "1008"]
            escaped = (await client.get("/dead")).text
            assert "price &lt;script&gt;" in escaped and "price <script>" not in escaped
            letter = next(r["data-id"] for r in rows if r["data-record"] == "3")
            detail = (await client.get(f"/dead/{letter}")).text
            assert "api_key" in detail and "s3cret" not in detail  # the payload is masked
            assert (await client.get("/dead/999999")).status_code == 404

            reports = await page(client, "/reports")
            (row,) = reports.all("report-row")
            report = await page(client, f"/reports/{row['data-id']}")
            assert [item["data-key"] for item in report.all("drift-item")] == ["3"]
            assert "list_price" in (await client.get(f"/reports/{row['data-id']}")).text

            alerts = await page(client, "/alerts")
            assert [a["data-key"] for a in alerts.all("alert-row")] == ["sync_lag:catalogue"]
            resolved = await page(client, "/alerts?status=resolved")
            assert [a["data-key"] for a in resolved.all("alert-row")] == ["circuit:shop"]

            search = await page(client, "/records?q=SKU-3")
            assert search.one("search")["name"] == "q"
            (hit,) = search.all("record-hit")
            assert (hit["data-flow"], hit["data-entity"], hit["data-key"]) == ("catalogue", "product", "3")
            assert 'href="/records/catalogue/product/3"' in (await client.get("/records?q=SKU-3")).text

            record = await page(client, "/records/catalogue/product/3")
            assert record.one("source-side") and record.one("target-side") and record.one("link")
            assert record.one("link-state") and record.one("journal") and record.one("resync-record")
            assert [r["data-action"] for r in record.all("journal-row")] == ["update", "create"]

            events = await page(client, "/events")
            assert events.one("event-list")["data-source"] == "/api/v1/events?after=2"

            fragments = ["/ui/overview", "/ui/dead?status=all", "/ui/alerts?status=all", f"/ui/dead/{letter}"]
            for fragment in fragments:
                response = await client.get(fragment, headers=HTMX)
                assert response.status_code == 200 and "<html" not in response.text


async def test_a_viewer_sees_disabled_buttons_and_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        store = server.store
        await add_user(store, "vera", "viewer")
        await seed(store)
        async with logged_in(server.base_url, "vera") as (client, csrf):
            home = await page(client, "/")
            buttons = home.all("pause") + home.all("resync") + home.all("reconcile")
            assert len(buttons) == 6
            assert all("disabled" in b and b["title"] == "needs the operator role" for b in buttons)
            dead = await page(client, "/dead")
            assert all(
                "disabled" in b for b in dead.all("retry") + dead.all("discard") + dead.all("retry-all")
            )
            assert "user:vera (viewer)" in (await client.get("/")).text
            letter = dead.all("dead-row")[0]["data-id"]
            headers = HTMX | {"X-CSRF-Token": csrf}
            refused = await client.post(f"/ui/dead/{letter}/retry", headers=headers)
            assert refused.status_code == 403 and "operate" in refused.json()["detail"]
            paused = await client.post("/ui/flows/catalogue/pause", headers=headers)
            assert paused.status_code == 403
        assert await store.paused_flows() == set()
        assert {d.status for d in await store.list_dead(status=None)} == {"open"}
        denied = await store.list_audit(action="denied")
        assert [(d.actor, d.target) for d in denied] == [
            ("user:vera", "POST /ui/flows/catalogue/pause"),
            ("user:vera", f"POST /ui/dead/{letter}/retry"),
        ]


async def test_an_operator_acts_through_the_buttons(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        store = server.store
        await add_user(store, "otto", "operator")
        await seed(store)
        async with logged_in(server.base_url, "otto") as (client, csrf):
            headers = HTMX | {"X-CSRF-Token": csrf}
            ids = {d.record or d.key: d.id for d in await store.list_dead()}

            async def act(path: str, said: str) -> None:
                response = await client.post(path, headers=headers)
                assert response.status_code == 200, (path, response.text)
                assert response.headers["hx-trigger"] == "emporion-refresh"
                assert said in response.text, response.text

            await act(f"/ui/dead/{ids['1007']}/retry", "retried 1 dead letter")
            await act(f"/ui/dead/{ids['1008']}/discard", "discarded 1 dead letter")
            await act(f"/ui/dead/{ids['1008']}/retry", "nothing retried")  # not open any more
            await act("/ui/flows/catalogue/pause", "paused catalogue")
            assert await store.paused_flows() == {"catalogue"}
            home = await page(client, "/")
            assert len(home.all("resume")) == 1 and len(home.all("pause")) == 1
            await act("/ui/flows/catalogue/resume", "resumed catalogue")
            assert await store.paused_flows() == set()
            await act("/ui/flows/catalogue/resync", "queued 1 record of catalogue")
            await act("/ui/records/catalogue/product/3/resync", "queued catalogue/product/3")
            await act("/ui/flows/catalogue/reconcile", "reconciled catalogue: failed (cannot reach Tryton")
            (reconciled, _) = await store.list_reports("catalogue", 10, 0)  # and the seeded one
            assert reconciled.status == "failed"
            await act("/ui/dead/retry-all?flow=catalogue", "retried 1 dead letter")
            await act("/ui/dead/retry-all", "no open dead letters to retry")

            statuses = {d.record or d.key: d.status for d in await store.list_dead(status=None)}
            assert statuses == {"1007": "retried", "1008": "discarded", "3": "retried"}
            dead = await page(client, "/dead?status=all")
            assert {r["data-record"]: r["data-status"] for r in dead.all("dead-row")} == statuses
            assert (await client.post("/ui/flows/nosuch/pause", headers=headers)).status_code == 404

        lines = [a for a in await store.list_audit(actor="user:otto") if a.action != "login"][::-1]
        assert [(a.action, a.target or "") for a in lines] == [
            ("dead.retry", str(ids["1007"])),
            ("dead.discard", str(ids["1008"])),
            ("dead.retry", ""),
            ("flow.pause", "catalogue"),
            ("flow.resume", "catalogue"),
            ("flow.resync", "catalogue"),
            ("record.resync", "catalogue/product/3"),
            ("flow.reconcile", "catalogue"),
            ("dead.retry", str(ids["3"])),
            ("dead.retry", ""),
        ]


async def test_csrf_logout_security_headers_and_static_files(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        store = server.store
        await add_user(store, "otto", "operator")
        await seed(store)
        async with logged_in(server.base_url, "otto") as (client, csrf):
            (letter, *_) = await store.list_dead()
            no_token = await client.post(f"/ui/dead/{letter.id}/retry", headers=HTMX)
            assert no_token.status_code == 403 and (await store.get_dead(letter.id)).status == "open"
            (refused,) = await store.list_audit(action="csrf")
            assert refused.actor == "user:otto" and refused.target == f"/ui/dead/{letter.id}/retry"

            for path in ["/", "/dead", "/events", "/login"]:
                response = await client.get(path)
                assert (
                    response.headers["content-security-policy"]
                    == "default-src 'self'; frame-ancestors 'none'"
                )
                assert response.headers["x-frame-options"] == "DENY"
                assert response.headers["referrer-policy"] == "same-origin"
                assert response.headers["x-content-type-options"] == "nosniff"
            text = (await client.get("/")).text
            assert "<script>" not in text and " on" + "click=" not in text
            assert '"allowEval":false' in text and '"includeIndicatorStyles":false' in text

            htmx = await client.get("/static/htmx.min.js")
            assert htmx.status_code == 200 and 'version:"2.' in htmx.text
            assert "javascript" in htmx.headers["content-type"]
            for name, marker in [("console.css", ".badge-running"), ("console.js", "EventSource")]:
                static = await client.get(f"/static/{name}")
                assert static.status_code == 200 and marker in static.text
            assert (await client.get("/static/nothing.js")).status_code == 404

            out = await client.post("/logout", headers=HTMX | {"X-CSRF-Token": csrf})
            assert out.status_code == 200 and out.headers["hx-redirect"] == "/login"
            assert "emporion_session" not in client.cookies
            assert (await client.get("/")).status_code == 303
        assert [a.action for a in await store.list_audit(action="logout")] == ["logout"]


async def test_an_open_event_stream_ends_when_the_server_stops(sqlite_url: str, tmp_path: Path) -> None:
    chunks: list[str] = []
    started = anyio.Event()
    async with anyio.create_task_group() as group:
        async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
            await add_user(server.store, "vera", "viewer")
            client, _ = await login(server.base_url, "vera")

            async def listen() -> None:
                try:
                    async with client.stream("GET", "/api/v1/events") as response:
                        async for chunk in response.aiter_text():
                            chunks.append(chunk)
                            started.set()
                finally:
                    await client.aclose()

            group.start_soon(listen)
            await started.wait()
            stopping = time.monotonic()
        elapsed = time.monotonic() - stopping
    assert chunks == [": emporion events\n\n"]
    assert elapsed < GRACEFUL_SECONDS  # the stream ended by itself, it was not cut at the deadline
