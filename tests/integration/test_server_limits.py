"""What a client may cost the server, over real HTTP on 127.0.0.1: body limits, deadlines, the cap, Host."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from emporion.config import ServerSettings, Settings
from emporion.server import WebhookSecrets, create_app, serve_app
from emporion.server.app import allowed_hosts
from emporion.state import StateStore
from tests.integration.console_support import PASSWORD, add_user, console_settings, token

HUGE = 300 * 1024 * 1024  # offered on every route, generated as it is sent
CHUNK = b"x" * (64 * 1024)
SENT_BOUND = 32 * 1024 * 1024  # what socket buffers can take before the server closes (far below HUGE)
RSS_BOUND_KB = 20 * 1024


def rss_kb() -> int:
    """This process's resident memory (server and client run in it)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


def open_descriptors() -> int:
    """How many file descriptors this process holds."""
    return len(list(Path("/proc/self/fd").iterdir()))


def limits_settings(sqlite_url: str, **server: Any) -> Settings:
    """The console test configuration with these `server:` settings."""
    base = console_settings(sqlite_url)
    return Settings.model_validate(
        base.model_dump(mode="json", by_alias=True, exclude_unset=True)
        | {"server": {"console": {"secure_cookies": False}} | server}
    )


@asynccontextmanager
async def serving(settings: Settings, secrets_dir: Path) -> AsyncIterator[tuple[int, StateStore]]:
    """The whole app under uvicorn on a free port of 127.0.0.1; its port and state store."""
    store = await StateStore.connect(settings.state.url, migrate=True)
    stop = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            app = create_app(settings, store, WebhookSecrets(settings, secrets_dir))
            yield await group.start(serve_app, app, "127.0.0.1", 0, stop), store
            stop.set()
    finally:
        await store.close()


async def offer_huge_body(port: int, path: str, headers: dict[str, str], declared: bool) -> tuple[int, int]:
    """POST 300 MB to `path`, made chunk by chunk as it is sent; the status (0: none) and the bytes taken.

    A declared body is announced in Content-Length with `Expect: 100-continue`, as curl does: the
    client waits for the server's go-ahead or its refusal. A chunked one is sent at once while the
    answer is read; the server may close before the client has read it (status 0).
    """
    fields = headers | {"Host": "127.0.0.1"}
    fields |= (
        {"Content-Length": str(HUGE), "Expect": "100-continue"}
        if declared
        else {"Transfer-Encoding": "chunked"}
    )
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    frame = CHUNK if declared else b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
    answer, sent = bytearray(), 0
    async with await anyio.connect_tcp("127.0.0.1", port) as stream, anyio.create_task_group() as group:

        async def read_answer() -> None:
            with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                while status_of(bytes(answer)) in (0, 100):
                    answer.extend(await stream.receive())
            group.cancel_scope.cancel()

        group.start_soon(read_answer)
        await stream.send(head.encode())
        if declared:
            await anyio.sleep(1)  # curl waits a second for "100 Continue" or an early refusal
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            for _ in range(HUGE // len(CHUNK)):
                await stream.send(frame)
                sent += len(CHUNK)
        await anyio.sleep(5)  # the answer to a whole body, if it was read
        group.cancel_scope.cancel()
    return status_of(bytes(answer)), sent


async def test_a_300_mb_body_is_refused_on_every_route_before_it_is_read(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = limits_settings(sqlite_url)
    async with serving(settings, tmp_path / "secrets") as (port, store):
        await add_user(store, "ada", "admin")
        admin = await token(store, "admin")
        as_json = {"Content-Type": "application/json"}
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        routes = {
            # name: (path, headers, expected status)
            "json login": ("/login", as_json, 413),
            "form login": ("/login", form, 413),
            "users, anonymous": ("/api/v1/users", as_json, 401),
            "users, admin token": ("/api/v1/users", as_json | admin, 413),
            "dashboard action, anonymous": ("/ui/flows/catalogue/pause", form, 401),
            "logout, anonymous": ("/logout", as_json, 401),
            "webhook": ("/webhooks/shop", as_json | {"X-WC-Webhook-Topic": "order.created"}, 413),
            "unknown path": ("/nowhere", as_json, 401),
        }
        peak, before = 0, rss_kb()

        async def watch_memory() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_kb())
                await anyio.sleep(0.01)

        answers, taken = {}, {}
        async with anyio.create_task_group() as group:
            group.start_soon(watch_memory)
            for name, (path, headers, _) in routes.items():
                for declared in (True, False):
                    answers[name, declared], taken[name, declared] = await offer_huge_body(
                        port, path, headers, declared
                    )
            group.cancel_scope.cancel()
    expected = {
        (name, declared): status for name, (*_, status) in routes.items() for declared in (True, False)
    }
    declared = {key: status for key, status in answers.items() if key[1]}
    assert declared == {key: status for key, status in expected.items() if key[1]}  # refused unread
    chunked = {key: status for key, status in answers.items() if not key[1] and status}
    assert chunked == {key: expected[key] for key in chunked}  # the ones read before the server closed
    assert max(taken.values()) < SENT_BOUND, taken
    assert peak - before < RSS_BOUND_KB, f"RSS grew by {(peak - before) // 1024} MB"


async def test_the_api_authenticates_before_it_reads_or_parses_a_body(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with serving(limits_settings(sqlite_url), tmp_path / "secrets") as (port, _):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            malformed = await client.post(
                "/api/v1/users", content=b"{not json", headers={"Content-Type": "application/json"}
            )
            too_big = await client.post("/api/v1/users", json={"name": "x" * 200_000})
    assert malformed.status_code == 401  # not 422: the body was never parsed
    assert too_big.status_code == 401


async def raw_request(port: int, head: bytes, body: bytes, wait: float) -> bytes:
    """Send a request's head and part of its body, then nothing; what the server answers before closing."""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(head + body)
        answer = b""
        with anyio.fail_after(wait):
            while True:
                try:
                    answer += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return answer


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer; 0 for none (closed without one)."""
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    return int(match.group(1)) if match else 0


async def test_slow_bodies_are_timed_out_and_counted_against_the_connection_cap(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = limits_settings(sqlite_url, body_timeout=3, header_timeout=3, max_connections=50)
    head = (
        b"POST /webhooks/shop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"X-WC-Webhook-Topic: order.created\r\nContent-Length: 1000\r\n\r\n"
    )
    statuses: Counter[int] = Counter()
    async with serving(settings, tmp_path / "secrets") as (port, _):
        descriptors = open_descriptors()

        async def slow_client() -> None:
            answer = await raw_request(port, head, b'{"id": 1', wait=20)
            statuses[status_of(answer)] += 1

        async with anyio.create_task_group() as group:
            for _ in range(40):  # inside the cap: they hold their connections until the body deadline
                group.start_soon(slow_client)
            await anyio.sleep(1)
            for _ in range(160):  # beyond it: refused at once
                group.start_soon(slow_client)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            assert (await client.get("/healthz")).status_code == 200
        left_open = open_descriptors() - descriptors
    assert set(statuses) <= {408, 503} and statuses.total() == 200, statuses
    assert 40 <= statuses[408] <= 50 and statuses[503] >= 150, statuses
    assert left_open <= 2


async def test_late_headers_close_the_connection(sqlite_url: str, tmp_path: Path) -> None:
    settings = limits_settings(sqlite_url, header_timeout=1)
    closed: Counter[str] = Counter()
    async with serving(settings, tmp_path / "secrets") as (port, _):

        async def idle_client(sent: bytes) -> None:
            answer = await raw_request(port, sent, b"", wait=15)
            closed[sent.decode()[:4] or "nothing"] += not answer  # closed without a word

        async with anyio.create_task_group() as group:
            for _ in range(100):
                group.start_soon(idle_client, b"")
                group.start_soon(idle_client, b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    assert closed == {"nothing": 100, "POST": 100}


def server(**fields: Any) -> ServerSettings:
    return ServerSettings.model_validate(fields)


def test_the_hosts_answered_follow_the_public_url_the_setting_and_the_bound_address() -> None:
    loopback = ["localhost", "127.0.0.1", "[::1]"]
    assert allowed_hosts(server()) == loopback
    assert allowed_hosts(server(host="0.0.0.0", public_url="https://Sync.Example.com/")) == [  # noqa: S104
        "sync.example.com",
        *loopback,
    ]
    assert allowed_hosts(server(host="10.0.0.5", allowed_hosts=["ops.internal"])) == [
        "ops.internal",
        "10.0.0.5",
    ]
    assert allowed_hosts(server(host="fd00::5", public_url="http://[fd00::1]:8800")) == [
        "[fd00::1]",
        "[fd00::5]",
    ]


async def test_a_forged_host_is_refused_and_the_configured_ones_answered(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings = limits_settings(
        sqlite_url, public_url="https://sync.example.com", allowed_hosts=["ops.internal"]
    )
    credentials = {"username": "ada", "password": PASSWORD}
    async with serving(settings, tmp_path / "secrets") as (port, store):
        await add_user(store, "ada", "admin")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:

            async def login_as(host: str) -> int:
                origin = {"Origin": f"http://{host}", "Host": host}
                return (await client.post("/login", json=credentials, headers=origin)).status_code

            forged = await login_as("rebound.attacker.example")
            forged_webhook = await client.post(
                "/webhooks/shop", content=b"{}", headers={"Host": "rebound.attacker.example"}
            )
            answered = [
                await login_as(host) for host in ("sync.example.com", "ops.internal", f"127.0.0.1:{port}")
            ]
    assert forged == 400 and forged_webhook.status_code == 400
    assert answered == [200, 200, 200]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"
