"""Console logins under attack: parallel guesses, /healthz during logins, a flood of user names (RSS).

Everything goes through the server's ASGI app in this process (httpx's ASGI transport), so the RSS
measured is the server's and the event loop that answers `/healthz` is the one that checks passwords.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx

from bench.support.measure import percentile, rss_mb, target
from bench.support.workdir import scratch
from emporion.config import Settings
from emporion.ops.auth import Accounts
from emporion.server import WebhookSecrets, create_app
from emporion.state import StateStore

DEFAULT_SIZE = 20_000  # login attempts with distinct user names from one address
GUESSES = 100  # parallel wrong guesses against one user from one fresh address
LOGINS = 40  # parallel good logins while /healthz is probed
PASSWORD = "correct horse battery"  # noqa: S105 - the bench user's password
RSS_GROWTH_TARGET_MB = 10.0  # the limiter itself stays under 1 MB; request handling makes the rest
AUDIT_TARGET = 25  # the per-address limit's failures (20 by default) and a few refusal lines
HEALTHZ_FLOOR_S = 0.05
PROBE_PAUSE_S = 0.005


def run(size: int, options: dict[str, Any]) -> dict[str, Any]:
    """The three measurements, each on a fresh state database."""
    with scratch("logins") as folder:
        result: dict[str, Any] = {"size": size}
        result["race"] = anyio.run(_race, folder / "race")
        result["healthz"] = anyio.run(_healthz, folder / "healthz")
        result["flood"] = anyio.run(_flood, folder / "flood", size)
    race, healthz, flood = result["race"], result["healthz"], result["flood"]
    healthz_bound = max(10 * healthz["idle_p99_ms"], HEALTHZ_FLOOR_S * 1000)
    result["targets"] = {
        "verified_guesses": target(race["verified"], race["limit"], race["verified"] <= race["limit"]),
        "healthz_p99_ms": target(
            healthz["loaded_p99_ms"], round(healthz_bound, 1), healthz["loaded_p99_ms"] < healthz_bound
        ),
        "flood_rss_growth_mb": target(
            flood["rss_growth_mb"], RSS_GROWTH_TARGET_MB, flood["rss_growth_mb"] <= RSS_GROWTH_TARGET_MB
        ),
        "flood_audit_rows": target(flood["audit_rows"], AUDIT_TARGET, flood["audit_rows"] <= AUDIT_TARGET),
    }
    return result


def _settings(folder: Path, **console: Any) -> Settings:
    """A console on a SQLite state database, without connections or flows."""
    folder.mkdir(parents=True)
    return Settings.model_validate(
        {
            "state": {"url": f"sqlite:///{folder / 'state.db'}"},
            "server": {"console": {"secure_cookies": False} | console},
            "connections": {},
            "flows": [],
        }
    )


class _Console:
    """The server app on a fresh store, with a user `ada`, and clients from any address."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings, self.folder = settings, folder

    async def __aenter__(self) -> _Console:
        self.store = await StateStore.connect(self.settings.state.url, migrate=True)
        secrets = WebhookSecrets(self.settings, self.folder / "secrets")
        self.app = create_app(self.settings, self.store, secrets)
        await Accounts(self.store).add_user("ada", "admin", PASSWORD, actor="bench")
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.store.close()

    def client(self, address: str) -> httpx.AsyncClient:
        """A client whose requests come from `address`."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=600)

    def limiter_entries(self) -> int:
        """How many keys the login limiter holds (older limiters kept them in `_failures`)."""
        console = next(route.app for route in self.app.routes if getattr(route, "path", None) == "")
        limiter = console.state.console.limiter
        return len(limiter) if hasattr(limiter, "__len__") else len(limiter._failures)


async def _login(client: httpx.AsyncClient, user: str, password: str) -> int:
    """The status of one JSON login."""
    return (await client.post("/login", json={"username": user, "password": password})).status_code


async def _race(folder: Path) -> dict[str, Any]:
    """GUESSES parallel wrong passwords for one user from one address: how many were verified (401)."""
    settings = _settings(folder)
    statuses: Counter[int] = Counter()
    async with _Console(settings, folder) as console, console.client("203.0.113.9") as client:

        async def guess() -> None:
            statuses[await _login(client, "ada", "a wrong password")] += 1

        async with anyio.create_task_group() as group:
            for _ in range(GUESSES):
                group.start_soon(guess)
    limit = settings.server.console.login_attempts
    return {"guesses": GUESSES, "limit": limit, "verified": statuses[401], "refused": statuses[429]}


async def _probe(client: httpx.AsyncClient, until: anyio.Event | None, count: int = 0) -> list[float]:
    """Seconds each `GET /healthz` was late, a pause apart: `count` of them, or until `until` is set.

    Late: its answer less the pause before it, so that a blocked event loop counts whether it blocks
    during the request or during the pause (in-process, a request itself rarely waits on the loop).
    """
    latencies: list[float] = []
    while (until is None and len(latencies) < count) or (until is not None and not until.is_set()):
        began = time.perf_counter()
        await anyio.sleep(PROBE_PAUSE_S)
        await client.get("/healthz")
        latencies.append(time.perf_counter() - began - PROBE_PAUSE_S)
    return latencies


async def _healthz(folder: Path) -> dict[str, Any]:
    """`/healthz` latency idle, then while LOGINS good logins run in parallel."""
    settings = _settings(folder, login_attempts=LOGINS * 10)
    async with _Console(settings, folder) as console, console.client("198.51.100.7") as client:
        await _probe(client, None, 10)
        idle = await _probe(client, None, 100)
        done, loaded, statuses = anyio.Event(), [], Counter[int]()

        async def log_in() -> None:
            statuses[await _login(client, "ada", PASSWORD)] += 1

        async def logins() -> None:
            async with anyio.create_task_group() as group:
                for _ in range(LOGINS):
                    group.start_soon(log_in)
            done.set()

        async def probe() -> None:
            loaded.extend(await _probe(client, done))

        began = time.perf_counter()
        async with anyio.create_task_group() as group:
            group.start_soon(logins)
            group.start_soon(probe)
        wall = time.perf_counter() - began

    def ms(values: list[float], share: float) -> float:
        return round((percentile(values, share) or 0.0) * 1000, 1)

    return {
        "logins": LOGINS,
        "logins_ok": statuses[200],
        "logins_wall_s": round(wall, 2),
        "idle_p50_ms": ms(idle, 0.5),
        "idle_p99_ms": ms(idle, 0.99),
        "loaded_p50_ms": ms(loaded, 0.5),
        "loaded_p99_ms": ms(loaded, 0.99),
        "loaded_max_ms": ms(loaded, 1.0),
        "loaded_samples": len(loaded),
    }


async def _flood(folder: Path, size: int) -> dict[str, Any]:
    """`size` wrong logins, each with a new user name, from one address: RSS, limiter keys, audit rows."""
    settings = _settings(folder)
    async with _Console(settings, folder) as console, console.client("192.0.2.66") as client:
        await _login(client, "ada", PASSWORD)  # warm up: the first argon2 hash and the app's imports
        before = rss_mb()
        statuses = Counter([await _login(client, f"user{index}", "a wrong guess") for index in range(size)])
        after = rss_mb()
        audit = await console.store.list_audit(size + 10, action="login")
        entries = console.limiter_entries()
    return {
        "attempts": size,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_growth_mb": round(after - before, 1),
        "limiter_entries": entries,
        "audit_rows": len(audit) - 1,  # without the warm-up login
    }
