"""`create_app` gives a Starlette app that any ASGI server can serve."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import uvicorn
from starlette.applications import Starlette

from emporion_devkit.sandbox.woocommerce import create_app


def test_create_app_served_by_uvicorn() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(
        db=":memory:", consumer_key="ck_app", consumer_secret="cs_app", base_url=f"http://127.0.0.1:{port}"
    )
    assert isinstance(app, Starlette) and app.state.consumer_key == "ck_app"
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        api = f"http://127.0.0.1:{port}/wp-json/wc/v3"
        created = httpx.post(
            api + "/products",
            json={"name": "Served"},
            auth=("ck_app", "cs_app"),
            headers={"X-Forwarded-Proto": "https"},
        )
        assert created.status_code == 201
        assert created.json()["_links"]["self"][0]["href"] == f"{api}/products/{created.json()['id']}"
        assert app.state.sandbox.shop.get("product", created.json()["id"])["name"] == "Served"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.sandbox.close()
