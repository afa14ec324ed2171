"""Login limits through the real app: parallel guesses, hashing off the event loop, floods, proxies."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
from starlette.applications import Starlette

from emporion.config import Settings
from emporion.server import WebhookSecrets, create_app
from emporion.state import StateStore
from tests.integration.console_support import PASSWORD, add_user, console_settings, running_console

WRONG = "not the password at all"


@asynccontextmanager
async def console_app(settings: Settings, secrets_dir: Path) -> AsyncIterator[tuple[Starlette, StateStore]]:
    """The server's ASGI app on a fresh state database (reached in-process, from any address)."""
    store = await StateStore.connect(settings.state.url, migrate=True)
    try:
        yield create_app(settings, store, WebhookSecrets(settings, secrets_dir)), store
    finally:
        await store.close()


def client_at(app: Starlette, address: str) -> httpx.AsyncClient:
    """A client whose connections come from `address` (the peer the app sees)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=60)


async def login(client: httpx.AsyncClient, user: str, password: str, **headers: str) -> int:
    """The status of one JSON login."""
    response = await client.post("/login", json={"username": user, "password": password}, headers=headers)
    return response.status_code


def limiter_of(app: Starlette) -> Any:
    """The login limiter of the app's console."""
    console = next(route.app for route in app.routes if getattr(route, "path", None) == "")
    return console.state.console.limiter


async def test_parallel_wrong_guesses_are_verified_at_most_the_limit(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(sqlite_url, login_attempts=5, login_window=600)
    async with running_console(settings, tmp_path / "secrets") as server:
        await add_user(server.store, "ada", "admin")
        statuses: Counter[int] = Counter()

        async def guess(client: httpx.AsyncClient) -> None:
            statuses[await login(client, "ada", WRONG)] += 1

        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120, limits=limits) as client:
            async with anyio.create_task_group() as group:
                for _ in range(100):
                    group.start_soon(guess, client)
        failed = [e for e in await server.store.list_audit(500, action="login") if e.outcome == "failed"]
        assert statuses == {401: 5, 429: 95}, statuses  # only the limit's worth reached verification
        assert len(failed) == 5


async def _healthz_latencies(client: httpx.AsyncClient, until: anyio.Event | None, count: int) -> list[float]:
    """Seconds each sequential `GET /healthz` took: `count` of them, or until `until` is set."""
    latencies: list[float] = []
    while (until is None and len(latencies) < count) or (until is not None and not until.is_set()):
        began = time.perf_counter()
        assert (await client.get("/healthz")).status_code == 200
        latencies.append(time.perf_counter() - began)
        await anyio.sleep(0.005)
    return latencies


def p99(values: list[float]) -> float:
    """The nearest-rank 99th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def test_healthz_stays_fast_during_parallel_logins(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(sqlite_url, login_attempts=100)
    async with running_console(settings, tmp_path / "secrets") as server:
        await add_user(server.store, "ada", "admin")
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=120, limits=limits) as logins,
            httpx.AsyncClient(base_url=server.base_url, timeout=120) as probe,
        ):
            await _healthz_latencies(probe, None, 10)  # warm up the connection
            idle = await _healthz_latencies(probe, None, 50)
            done = anyio.Event()
            statuses: list[int] = []

            async def log_in() -> None:
                statuses.append(await login(logins, "ada", PASSWORD))

            async def forty_logins() -> None:
                async with anyio.create_task_group() as group:
                    for _ in range(40):
                        group.start_soon(log_in)
                done.set()

            loaded: list[float] = []

            async def probe_while_busy() -> None:
                loaded.extend(await _healthz_latencies(probe, done, 0))

            async with anyio.create_task_group() as group:
                group.start_soon(forty_logins)
                group.start_soon(probe_while_busy)
        assert statuses == [200] * 40
        bound = max(10 * p99(idle), 0.1)
        print(f"/healthz p99: idle {p99(idle) * 1e3:.1f} ms, during 40 logins {p99(loaded) * 1e3:.1f} ms")
        assert len(loaded) >= 10
        assert p99(loaded) < bound, (p99(idle), p99(loaded), sorted(loaded)[-5:])


async def test_a_flood_of_user_names_from_one_address_stays_bounded(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(sqlite_url, login_attempts=2, login_window=600)  # 8 per address
    async with console_app(settings, tmp_path / "secrets") as (app, store):
        async with client_at(app, "203.0.113.9") as client:
            statuses = Counter([await login(client, f"user{index}", WRONG) for index in range(1000)])
        audit = await store.list_audit(5000, action="login")
        assert len(audit) <= 8 + 3, Counter(entry.outcome for entry in audit)  # failures + a few refusals
        assert len(limiter_of(app)) <= 8 + 1  # one entry per (user, address) tried and the address
        assert statuses == {401: 8, 429: 992}


async def test_another_address_cannot_lock_a_user_out(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(sqlite_url, login_attempts=3, login_window=600)
    async with console_app(settings, tmp_path / "secrets") as (app, store):
        await add_user(store, "ada", "admin")
        async with client_at(app, "203.0.113.9") as attacker, client_at(app, "198.51.100.7") as ada:
            assert [await login(attacker, "ada", WRONG) for _ in range(5)] == [401] * 3 + [429] * 2
            assert await login(attacker, "ada", PASSWORD) == 429  # the pair is locked
            assert await login(ada, "ada", PASSWORD) == 200  # from elsewhere the user still logs in


async def test_one_address_is_limited_across_user_names(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(sqlite_url, login_attempts=3, login_address_attempts=6, login_window=600)
    async with console_app(settings, tmp_path / "secrets") as (app, store):
        await add_user(store, "ada", "admin")
        async with client_at(app, "203.0.113.9") as sprayer, client_at(app, "198.51.100.7") as other:
            assert [await login(sprayer, f"name{index}", WRONG) for index in range(6)] == [401] * 6
            assert await login(sprayer, "ada", PASSWORD) == 429  # the address has used its looser limit
            assert await login(other, "ada", PASSWORD) == 200


async def test_behind_a_trusted_proxy_the_forwarded_client_counts(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(
        sqlite_url,
        login_attempts=3,
        login_address_attempts=4,
        login_window=600,
        trusted_proxies=["10.0.0.0/8"],
    )
    async with console_app(settings, tmp_path / "secrets") as (app, store):
        await add_user(store, "ada", "admin")
        async with client_at(app, "10.0.0.2") as proxy:
            # the client's own X-Forwarded-For (spoofed) is left of what the proxy appended: ignored
            attacker = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
            outcomes = [await login(proxy, f"name{index}", WRONG, **attacker) for index in range(5)]
            assert outcomes == [401] * 4 + [429]
            assert await login(proxy, "ada", PASSWORD, **{"X-Forwarded-For": "198.51.100.7"}) == 200
        clients = {entry.client for entry in await store.list_audit(100, action="login")}
        assert clients == {"203.0.113.9", "198.51.100.7"}


async def test_an_untrusted_peer_cannot_name_the_client(sqlite_url: str, tmp_path: Path) -> None:
    settings = console_settings(sqlite_url, login_attempts=2, login_window=600, trusted_proxies=["10.0.0.1"])
    async with console_app(settings, tmp_path / "secrets") as (app, store):
        await add_user(store, "ada", "admin")
        async with client_at(app, "192.0.2.50") as direct:
            for index in range(3):  # a fresh forged address each time does not reset the count
                forged = {"X-Forwarded-For": f"198.51.100.{index}"}
                assert await login(direct, "ada", WRONG, **forged) == (401 if index < 2 else 429)
        clients = {entry.client for entry in await store.list_audit(100, action="login")}
        assert clients == {"192.0.2.50"}
