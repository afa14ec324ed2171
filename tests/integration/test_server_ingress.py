"""The webhook ingress over real HTTP: signatures, limits, duplicates, and what the logs may show."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.requests import Request
from structlog.testing import capture_logs

from emporion.config import Settings
from emporion.server import WebhookSecrets, create_app, serve_app
from emporion.server.ingress import BodyTooLarge, read_body
from emporion.server.replay import ReplayGuard
from emporion.state import StateStore
from tests.fixtures.offline import offline_erp, offline_shop

SECRET = "whsec-ingress-3f9a"
BODY = json.dumps({"id": 4711, "number": "4711", "billing": {"email": "jane@example.com"}}).encode()


def make_settings(state_url: str, webhook_secret: str | None = SECRET) -> Settings:
    """A shop taking webhooks, a shop that does not, and an order flow from the first one."""
    shop = offline_shop()
    return Settings.model_validate(
        {
            "state": {"url": state_url},
            "connections": {
                "shop": shop | {"webhooks": True, "webhook_secret": webhook_secret},
                "quiet": shop,
                "erp": offline_erp(),
            },
            "flows": [{"name": "shop-orders", "source": "shop", "target": "erp", "entities": ["order"]}],
        }
    )


def signed(body: bytes, secret: str = SECRET, **extra: str) -> dict[str, str]:
    """Headers as WooCommerce sends them with a delivery."""
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "created",
        "X-WC-Webhook-ID": "3",
        "X-WC-Webhook-Signature": signature,
    } | extra


@asynccontextmanager
async def running(
    settings: Settings, store: StateStore, secrets_dir: Path, max_body_bytes: int = 1024 * 1024
) -> AsyncIterator[httpx.AsyncClient]:
    """The server on a free port of 127.0.0.1, and a client for it."""
    app = create_app(settings, store, WebhookSecrets(settings, secrets_dir), max_body_bytes=max_body_bytes)
    stop = anyio.Event()
    async with anyio.create_task_group() as group:
        port = await group.start(serve_app, app, "127.0.0.1", 0, stop)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
        stop.set()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(f"sqlite:///{tmp_path / 'state.db'}")


async def pending(store: StateStore) -> list:
    return await store.inbox_claim(worker="test", limit=100)


async def test_a_delivery_sent_twice_is_stored_once(
    store: StateStore, settings: Settings, tmp_path: Path
) -> None:
    headers = signed(BODY, **{"X-WC-Webhook-Delivery-ID": "d-0001"})
    async with running(settings, store, tmp_path) as client:
        first = await client.post("/webhooks/shop", content=BODY, headers=headers)
        second = await client.post("/webhooks/shop", content=BODY, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json(), second.json()) == ({"status": "stored"}, {"status": "duplicate"})
    [delivery] = await pending(store)
    assert (delivery.source, delivery.topic) == ("shop", "order.created")
    assert delivery.delivery_id == "d-0001/" + hashlib.sha256(BODY).hexdigest()[:32]
    assert delivery.headers["x-wc-webhook-delivery-id"] == "d-0001"
    assert delivery.body == BODY
    assert delivery.headers["x-wc-webhook-topic"] == "order.created"
    assert "x-wc-webhook-signature" not in delivery.headers


async def test_without_delivery_id_the_body_hash_is_the_key(
    store: StateStore, settings: Settings, tmp_path: Path
) -> None:
    async with running(settings, store, tmp_path) as client:
        for _ in range(2):
            assert (
                await client.post("/webhooks/shop", content=BODY, headers=signed(BODY))
            ).status_code == 200
        other = BODY.replace(b"4711", b"4712")
        assert (await client.post("/webhooks/shop", content=other, headers=signed(other))).status_code == 200
    ids = sorted(d.delivery_id for d in await pending(store))
    assert ids == sorted("sha256:" + hashlib.sha256(body).hexdigest() for body in (BODY, other))


async def test_refusals(settings: Settings, tmp_path: Path) -> None:
    store = await StateStore.connect(settings.state.url)
    try:
        async with running(settings, store, tmp_path) as client:
            ping = await client.post(
                "/webhooks/shop",
                content=b"webhook_id=3",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            unsigned = signed(BODY)
            del unsigned["X-WC-Webhook-Signature"]
            no_signature = await client.post("/webhooks/shop", content=BODY, headers=unsigned)
            wrong = await client.post("/webhooks/shop", content=BODY, headers=signed(BODY, "guess"))
            tampered = await client.post("/webhooks/shop", content=BODY + b" ", headers=signed(BODY))
            bad_json = await client.post("/webhooks/shop", content=b"{nope", headers=signed(b"{nope"))
            unknown = await client.post("/webhooks/nobody", content=BODY, headers=signed(BODY))
            not_taking = await client.post("/webhooks/quiet", content=BODY, headers=signed(BODY))
            erp = await client.post("/webhooks/erp", content=BODY, headers=signed(BODY))
            get = await client.get("/webhooks/shop")
            health = await client.get("/healthz")
        assert ping.status_code == 200
        assert (no_signature.status_code, wrong.status_code, tampered.status_code) == (401, 401, 401)
        assert bad_json.status_code == 400
        assert (unknown.status_code, not_taking.status_code, erp.status_code) == (404, 404, 404)
        assert get.status_code == 405
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert await pending(store) == []
    finally:
        await store.close()


async def test_oversized_bodies_are_refused(settings: Settings, tmp_path: Path) -> None:
    store = await StateStore.connect(settings.state.url)
    big = b'{"id": 1, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 1024

    try:
        async with running(settings, store, tmp_path) as client:
            declared = await client.post("/webhooks/shop", content=big, headers=signed(big))
        async with running(settings, store, tmp_path, max_body_bytes=4096) as client:
            streamed = await client.post("/webhooks/shop", content=chunks(), headers=signed(b""))
        assert declared.status_code == 413
        assert streamed.status_code == 413
        assert await pending(store) == []
    finally:
        await store.close()


async def test_logs_name_the_delivery_but_never_its_body_or_secret(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = await StateStore.connect(settings.state.url)
    headers = signed(BODY, **{"X-WC-Webhook-Delivery-ID": "d-logged"})
    caplog.set_level(logging.DEBUG)
    try:
        with capture_logs() as logs:
            async with running(settings, store, tmp_path) as client:
                await client.post("/webhooks/shop", content=BODY, headers=headers)
                await client.post("/webhooks/shop", content=BODY, headers=signed(BODY, "guess"))
    finally:
        await store.close()
    outcomes = [(e.get("connection"), e.get("outcome"), e.get("delivery_id")) for e in logs]
    assert ("shop", "stored", "d-logged/" + hashlib.sha256(BODY).hexdigest()[:32]) in outcomes
    assert ("shop", "bad signature", None) in outcomes
    text = repr(logs) + caplog.text
    for secret_or_personal in (SECRET, headers["X-WC-Webhook-Signature"], "jane@example.com", "4711"):
        assert secret_or_personal not in text


async def test_every_bad_delivery_is_refused_with_its_status_and_logged_without_body_or_secret(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    store = await StateStore.connect(settings.state.url)
    unsigned = signed(BODY)
    del unsigned["X-WC-Webhook-Signature"]
    wrong = signed(BODY, "whsec-guessed")
    malformed = b'{"id": 4711, "billing": {"email": "jane@example.com"'
    big = b'{"id": 1, "email": "jane@example.com", "pad": "' + b"x" * 8192 + b'"}'
    as_text = signed(BODY) | {"Content-Type": "text/plain"}
    requests = {
        # name: (method, connection, body, headers, status, outcome)
        "malformed": ("POST", "shop", malformed, signed(malformed), 400, "malformed json"),
        "oversized": ("POST", "shop", big, signed(big), 413, "too large"),
        "unsigned": ("POST", "shop", BODY, unsigned, 401, "bad signature"),
        "wrongly signed": ("POST", "shop", BODY, wrong, 401, "bad signature"),
        "unknown connection": ("POST", "nobody", BODY, signed(BODY), 404, "unknown connection"),
        "wrong method": ("PUT", "shop", BODY, signed(BODY), 405, "wrong method"),
        "wrong content type": ("POST", "shop", BODY, as_text, 415, "unsupported content type"),
    }
    caplog.set_level(logging.DEBUG)
    answers = {}
    try:
        with capture_logs() as logs:
            async with running(settings, store, tmp_path, max_body_bytes=4096) as client:
                for name, (method, connection, body, headers, _, _) in requests.items():
                    response = await client.request(
                        method, f"/webhooks/{connection}", content=body, headers=headers
                    )
                    answers[name] = (response.status_code, response.json()["status"])
        assert await pending(store) == []
    finally:
        await store.close()
    assert answers == {name: (status, outcome) for name, (*_, status, outcome) in requests.items()}
    refusals = [entry for entry in logs if entry.get("event") == "webhook"]
    assert [(e["outcome"], e["status"]) for e in refusals] == [(o, s) for *_, s, o in requests.values()]
    for entry in refusals:
        assert entry["log_level"] == "warning" and entry["connection"] in ("shop", "nobody")
        if entry["outcome"] not in ("unknown connection", "wrong method"):
            assert entry["topic"] == "order.created"
    text = repr(logs) + caplog.text + "".join(capfd.readouterr())
    leaks = [SECRET, "whsec-guessed", "jane@example.com", "4711", "xxxxxxxx"]
    leaks += [
        h["X-WC-Webhook-Signature"] for *_, h, _, _ in requests.values() if "X-WC-Webhook-Signature" in h
    ]
    assert [leak for leak in leaks if leak in text] == []


async def test_a_captured_body_replayed_under_a_new_delivery_id_is_acknowledged_not_stored(
    store: StateStore, settings: Settings, tmp_path: Path
) -> None:
    other = BODY.replace(b"4711", b"4712")
    async with running(settings, store, tmp_path) as client:

        async def send(body: bytes, delivery: str) -> tuple[int, str]:
            headers = signed(body, **{"X-WC-Webhook-Delivery-ID": delivery})
            response = await client.post("/webhooks/shop", content=body, headers=headers)
            return response.status_code, response.json()["status"]

        answers = [
            await send(BODY, "d-1"),
            await send(BODY, "d-2"),  # the same signed body under a new id: a replay
            await send(BODY, "d-1"),  # the same delivery again: a re-delivery
            await send(other, "d-1"),  # another order in the same second: the shop's id again, new body
        ]
    assert answers == [(200, "stored"), (200, "replay"), (200, "duplicate"), (200, "stored")]
    kept = await pending(store)
    assert [d.body for d in kept] == [BODY, other]
    assert [d.delivery_id for d in kept] == [
        f"d-1/{hashlib.sha256(b).hexdigest()[:32]}" for b in (BODY, other)
    ]


RECORDED = Path(__file__).parents[1] / "data" / "woocommerce-10.0.2" / "webhooks-order-updated.json"


async def test_real_deliveries_of_two_orders_in_one_second_are_both_kept_and_a_resend_is_not(
    store: StateStore, tmp_path: Path
) -> None:
    recorded = json.loads(RECORDED.read_text())
    secret = recorded["webhook_secret_used"]
    deliveries = [
        (entry["headers"], entry["body_raw"].encode())
        for entry in recorded["deliveries_async"]
        if "X-WC-Webhook-Topic" in entry["headers"]
    ]
    settings = make_settings(f"sqlite:///{tmp_path / 'state.db'}", webhook_secret=secret)
    kept_headers = {
        "content-type",
        "x-wc-webhook-topic",
        "x-wc-webhook-delivery-id",
        "x-wc-webhook-signature",
    }
    async with running(settings, store, tmp_path) as client:
        answers = []
        for headers, body in [*deliveries, deliveries[0]]:
            sent = {name: value for name, value in headers.items() if name.lower() in kept_headers}
            response = await client.post("/webhooks/shop", content=body, headers=sent)
            answers.append(response.json()["status"])
    assert answers == ["stored", "stored", "duplicate"]
    kept = await pending(store)
    assert sorted(json.loads(d.body)["id"] for d in kept) == sorted(
        json.loads(b)["id"] for _, b in deliveries
    )
    assert len({d.headers["x-wc-webhook-delivery-id"] for d in kept}) == 1


def test_the_replay_window_forgets_old_bodies_and_stays_bounded() -> None:
    guard = ReplayGuard(window=60, max_entries=2)
    guard.remember("shop", b"a", "d-a", now=0)
    assert guard.seen("shop", b"a", now=59) == "d-a"
    assert guard.seen("other", b"a", now=59) is None
    assert guard.seen("shop", b"a", now=61) is None
    for name in (b"b", b"c", b"d"):
        guard.remember("shop", name, name.decode(), now=100)
    assert [guard.seen("shop", name, now=100) for name in (b"b", b"c", b"d")] == [None, "c", "d"]


async def test_an_oversized_stream_is_refused_before_it_is_read_in_full() -> None:
    limit, chunk, sent = 4096, b"x" * 1024, 0

    async def receive() -> dict[str, object]:
        nonlocal sent
        sent += 1
        return {"type": "http.request", "body": chunk, "more_body": sent < 10_000}

    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/webhooks/shop"}, receive)
    with pytest.raises(BodyTooLarge):
        await read_body(request, limit)
    assert sent <= limit // len(chunk) + 1  # 10 MB offered, 5 KB taken


async def test_an_aborted_upload_is_logged_in_one_line_without_a_traceback(
    store: StateStore, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    aborts = 20
    head = "".join(f"{k}: {v}\r\n" for k, v in signed(BODY).items())
    request = f"POST /webhooks/shop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n{head}\r\n"
    caplog.set_level(logging.DEBUG)
    with capture_logs() as logs:
        async with running(settings, store, tmp_path) as client:
            for _ in range(aborts):  # the sender goes away a thousand bytes into a 100 kB body
                async with await anyio.connect_tcp("127.0.0.1", client.base_url.port or 0) as stream:
                    await stream.send(request.encode() + b"x" * 1000)
            with anyio.move_on_after(10):
                while sum(entry.get("outcome") == "aborted" for entry in logs) < aborts:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            await anyio.sleep(0.2)
    assert [(e["event"], e["outcome"]) for e in logs if e["event"] != "server listening"] == [
        ("webhook", "aborted")
    ] * aborts
    assert [record.getMessage() for record in caplog.records if record.exc_info] == []
    assert "Traceback" not in caplog.text
    assert await pending(store) == []


async def test_a_signed_body_nested_beyond_the_parser_is_answered_400(
    store: StateStore, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nested = b"[" * 5000 + b"]" * 5000
    async with running(settings, store, tmp_path) as client:
        answer = await client.post("/webhooks/shop", content=nested, headers=signed(nested))
        still = await client.post("/webhooks/shop", content=BODY, headers=signed(BODY))
    assert (answer.status_code, answer.json()) == (400, {"status": "malformed json"})
    assert still.status_code == 200
    assert "Traceback" not in caplog.text
    assert [d.body for d in await pending(store)] == [BODY]
