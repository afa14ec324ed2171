"""Shared fixtures of the Odoo tests: the dev kit's Odoo sandbox per API mode, and a server thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.types import ASGIApp

from emporion.connectors.odoo.settings import OdooConnection

SANDBOX_KEY = "sandbox-odoo-api-key-0001"
VERSION_OF_API = {"jsonrpc": 18, "json2": 19}


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 and a free port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def odoo_settings(url: str, **values: Any) -> OdooConnection:
    """The settings of a connection to `url` as the sandbox's integration user, with `values` on top."""
    base: dict[str, Any] = {
        "type": "odoo",
        "url": url,
        "database": "sandbox",
        "username": "emporion",
        "api_key": SANDBOX_KEY,
        "timeout": 10,
    }
    return OdooConnection.model_validate({**base, **values})


@dataclass
class RunningSandbox:
    """A running Odoo sandbox, the API the tests use and the settings that reach it."""

    sandbox: Any  # emporion_devkit.sandbox.odoo.OdooSandbox
    api: str
    version: int

    @property
    def url(self) -> str:
        """The sandbox's base URL."""
        return str(self.sandbox.base_url)

    def settings(self, **values: Any) -> OdooConnection:
        """Settings for the integration user over this API."""
        base = {"api": self.api, "database": self.sandbox.database, "username": self.sandbox.username}
        return odoo_settings(self.url, **{**base, **values})


@contextmanager
def running_sandbox(path: Path, version: int, api: str, **options: Any) -> Iterator[RunningSandbox]:
    """The dev kit's Odoo sandbox with `version`'s personality (and `options`), started and stopped."""
    from emporion_devkit.sandbox.odoo import OdooSandbox

    sandbox = OdooSandbox(path / f"odoo-{version}.sqlite", version=version, api_key=SANDBOX_KEY, **options)
    sandbox.start()
    try:
        yield RunningSandbox(sandbox, api, version)
    finally:
        sandbox.stop()


@pytest.fixture(params=["jsonrpc", "json2"])
def odoo_sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningSandbox]:
    """The Odoo sandbox per API mode: Odoo 18 over JSON-RPC, Odoo 19 over JSON-2."""
    api = str(request.param)
    with running_sandbox(tmp_path, VERSION_OF_API[api], api) as running:
        yield running


@pytest.fixture
def odoo_sandbox_17(tmp_path: Path) -> Iterator[RunningSandbox]:
    """The Odoo sandbox with Odoo 17's personality (JSON-RPC)."""
    with running_sandbox(tmp_path, 17, "jsonrpc") as running:
        yield running
