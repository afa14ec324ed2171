"""Schemathesis against the OpenAPI document of a running `emporion serve`: no request gets a 5xx."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from emporion.ops.auth import Accounts
from emporion.state import DeadLetter, StateStore
from tests.fixtures.offline import CATALOGUE_FLOW, ORDER_FLOW, offline_erp, offline_shop
from tests.integration.test_server_engine import free_port

# the event stream is endless without max_seconds; deleting users and tokens could remove the test's own admin
EXCLUDED = r"/events$|/tokens/\{ident\}$|/users/\{name\}$"


async def prepare(state_url: str) -> str:
    """Migrate the state database, add some data to read and act on, and return an admin token."""
    store = await StateStore.connect(state_url, migrate=True)
    try:
        await store.record(dead=[DeadLetter("orders", "order", "1", "bad SKU", field="lines[0].sku")])
        await store.enqueue("catalogue", "product", ["1", "2"])
        return (await Accounts(store).create_token("fuzz", "admin", actor="test")).token
    finally:
        await store.close()


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """`emporion serve` in its own process on a free port, and the headers of an admin token."""
    directory = tmp_path_factory.mktemp("schemathesis")
    port = free_port()
    state_url = f"sqlite:///{directory / 'state.db'}"
    config = {
        "state": {"url": state_url},
        "server": {"host": "127.0.0.1", "port": port, "console": {"secure_cookies": False}},
        "connections": {
            "shop": offline_shop(webhooks=True, webhook_secret="whsec-fuzz"),
            "erp": offline_erp(),
        },
        "flows": [CATALOGUE_FLOW, ORDER_FLOW],
    }
    path = directory / "emporion.yaml"
    path.write_text(yaml.safe_dump(config))
    token = asyncio.run(prepare(state_url))
    process = subprocess.Popen(
        [sys.executable, "-m", "emporion", "serve", "-c", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ | {"EMPORION_SECRETS_DIR": str(directory / "secrets")},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"emporion serve did not start: {stderr[-2000:]}")
            time.sleep(0.2)
        yield base_url, {"Authorization": f"Bearer {token}"}
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_no_request_gets_a_server_error(console_server: tuple[str, dict[str, str]]) -> None:
    """Every operation of the document, with generated valid and invalid input, as an admin."""
    base_url, headers = console_server
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", headers=headers)
    operations = [result.ok() for result in schema.exclude(path_regex=EXCLUDED).get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: schemathesis.Case) -> None:
            checks = [not_a_server_error]
            response = case.call_and_validate(base_url=base_url, headers=headers, checks=checks, timeout=30)
            statuses.append(response.status_code)

        try:
            call()
        except (Exception, FailureGroup) as error:  # a FailureGroup is a BaseExceptionGroup
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:500]}")
    assert failures == []
    assert len(statuses) >= 3 * len(operations)
    assert sum(1 for status in statuses if status < 300) >= len(operations)  # the admin got through


def test_the_document_covers_the_console(console_server: tuple[str, dict[str, str]]) -> None:
    base_url, headers = console_server
    document = httpx.get(f"{base_url}/api/v1/openapi.json", headers=headers).json()
    assert len(document["paths"]) >= 20
    assert Path(document["openapi"]).name.startswith("3.")
