"""A demo-sized run with orders, logged at debug level as JSON and as text: no secret, no customer data.

Real parts only: a Tryton server with the demo's 500-product catalogue (from the template cache), the
sandbox shop whose simulated shoppers place orders, and emporion's own processes (`check`, `run
--once`, `serve` taking signed and forged webhook deliveries). Every line any of them wrote, and the
Tryton server's log, is searched for the Tryton passwords, the shop's consumer key and secret, the
webhook secret, and each customer's e-mail, name, phone and street.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest

from emporion.connectors.tryton.client import TrytonClient
from emporion_devkit.erp.tryton_server import TrytonServer, free_port
from emporion_devkit.erp.tryton_setup import CatalogueSpec, copy_database, create_database
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.fixtures.tryton import ADMIN_PASSWORD, CACHE_DIR, EMPORION_PASSWORD

pytestmark = pytest.mark.tryton

DEMO_CATALOGUE = CatalogueSpec(products=500)  # what `emporion demo` builds
ORDERS = 12
EMPORION = Path(sys.executable).with_name("emporion")
CONFIG = """
state: {{url: "sqlite:///{directory}/state.db"}}
logging: {{format: {format}, level: debug}}
server: {{host: 127.0.0.1, port: {port}}}
connections:
  erp:
    type: tryton
    url: {erp_url}
    database: {erp_database}
    username: {erp_user}
    password: file:{directory}/secrets/tryton-password
    price_lists: [Wholesale]
    sale_price_list: Promotions
  shop:
    type: woocommerce
    url: {shop_url}
    consumer_key: env:LOGSCAN_CONSUMER_KEY
    consumer_secret: file:{directory}/secrets/shop-consumer-secret
    webhooks: true
    webhook_secret: env:LOGSCAN_WEBHOOK_SECRET
flows:
  - name: catalogue
    source: erp
    target: shop
    warehouses: [WH]
    safety_stock: 1
  - name: orders
    source: shop
    target: erp
    entities: [order]
    orders:
      reference_prefix: WEB-
      warehouse: WH
      carriers: {{"*": DHL}}
      payment_methods: {{stripe: Card, paypal: Card, bacs: Bank transfer, cod: Bank transfer}}
      shortage: hold
"""


@pytest.fixture
def demo_tryton(tmp_path: Path) -> Iterator[TrytonServer]:
    """A Tryton server with the demo's catalogue (built once, then taken from var/tryton-cache)."""
    template = create_database(
        tmp_path / "template",
        name="demo",
        admin_password=ADMIN_PASSWORD,
        emporion_password=EMPORION_PASSWORD,
        catalogue=DEMO_CATALOGUE,
        cache_dir=CACHE_DIR,
    )
    with TrytonServer(copy_database(template, tmp_path / "tryton", name="emporion")) as server:
        yield server


class Run:
    """emporion's processes for one configuration directory, every line they write kept."""

    def __init__(self, directory: Path, values: dict[str, Any], env: dict[str, str]) -> None:
        self.directory = directory
        self.values = values
        self.env = env
        self.output: list[str] = []

    def configure(self, fmt: str) -> Path:
        config = self.directory / "emporion.yaml"
        config.write_text(CONFIG.format(format=fmt, directory=self.directory, **self.values))
        return config

    def __call__(self, fmt: str, *args: str) -> subprocess.CompletedProcess[str]:
        config = self.configure(fmt)
        done = subprocess.run(
            [str(EMPORION), *args, "-c", str(config)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        self.output += [done.stdout, done.stderr]
        return done

    def serve(self, fmt: str) -> subprocess.Popen[str]:
        config = self.configure(fmt)
        return subprocess.Popen(
            [str(EMPORION), "serve", "-c", str(config)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def signed(body: bytes, secret: str, delivery: str) -> dict[str, str]:
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Delivery-ID": delivery,
        "X-WC-Webhook-Signature": signature,
    }


async def shop_sales(tryton: TrytonServer) -> list[dict[str, Any]]:
    """The Tryton sales made from shop orders."""
    admin = TrytonClient(tryton.url, tryton.database, "admin", ADMIN_PASSWORD)
    try:
        return await admin.search_read("sale.sale", [("reference", "like", "WEB-%")], ["reference"])
    finally:
        await admin.close()


def personal_data(orders: list[dict[str, Any]]) -> set[str]:
    """E-mails, full names, phones and streets of the customers who ordered."""
    found: set[str] = set()
    for order in orders:
        for block in (order["billing"], order["shipping"]):
            found |= {block.get("email") or "", block.get("phone") or "", block.get("address_1") or ""}
            if block.get("first_name") and block.get("last_name"):
                found |= {
                    f"{block['first_name']} {block['last_name']}",
                    f"{block['last_name']}, {block['first_name']}",
                }
    return {value for value in found if len(value) >= 5}


def test_a_demo_sized_run_logs_no_secret_and_no_customer_data(
    demo_tryton: TrytonServer, tmp_path: Path
) -> None:
    directory = tmp_path / "emporion"
    (directory / "secrets").mkdir(parents=True, mode=0o700)
    consumer_key, consumer_secret = "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)
    webhook_secret = "whsec_" + secrets.token_urlsafe(24)
    (directory / "secrets" / "tryton-password").write_text(demo_tryton.password)
    (directory / "secrets" / "shop-consumer-secret").write_text(consumer_secret)
    env = os.environ | {
        "LOGSCAN_CONSUMER_KEY": consumer_key,
        "LOGSCAN_WEBHOOK_SECRET": webhook_secret,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    port = free_port()
    with SandboxShop.serve(consumer_key=consumer_key, consumer_secret=consumer_secret, seed=11) as shop:
        values = {
            "port": port,
            "erp_url": demo_tryton.url,
            "erp_database": demo_tryton.database,
            "erp_user": demo_tryton.user,
            "shop_url": shop.base_url,
        }
        run = Run(directory, values, env)
        assert run("json", "check").returncode == 0, run.output
        first = run("json", "run", "--once")
        assert first.returncode == 0, run.output

        placed = shop.place_orders(ORDERS)
        api = httpx.Client(base_url=shop.api_url, auth=(consumer_key, consumer_secret), timeout=10)
        api.headers["X-Forwarded-Proto"] = "https"
        product_id = placed[0]["line_items"][0]["product_id"]
        odd = api.post(  # a tax class the flow cannot map: a dead letter, logged
            "/orders",
            json={
                "billing": placed[0]["billing"],
                "line_items": [{"product_id": product_id, "quantity": 1, "tax_class": "zero-rate"}],
                "set_paid": True,
                "payment_method": "stripe",
            },
        ).json()
        orders = [api.get(f"/orders/{order['id']}").json() for order in [*placed, odd]]

        server = run.serve("pretty")
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, "emporion serve did not start"
                time.sleep(0.2)
            answers = []
            for number, order in enumerate(orders):
                body = orjson.dumps(order)
                headers = signed(body, webhook_secret, f"delivery-{number}")
                answers.append(httpx.post(f"{base}/webhooks/shop", content=body, headers=headers).status_code)
            body = orjson.dumps(orders[0])
            forged = signed(body, "whsec_guessed_0000", "forged-1")
            answers.append(httpx.post(f"{base}/webhooks/shop", content=body, headers=forged).status_code)
            broken = body[: len(body) // 2]
            answers.append(
                httpx.post(
                    f"{base}/webhooks/shop", content=broken, headers=signed(broken, webhook_secret, "b")
                ).status_code
            )
            answers.append(httpx.post(f"{base}/webhooks/elsewhere", content=body, headers=forged).status_code)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                output, _ = server.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                output, _ = server.communicate()
            run.output.append(output)
        assert answers == [200] * len(orders) + [401, 400, 404]

        second = run("pretty", "run", "--once")
        assert second.returncode == 0, run.output
        trytond_log = demo_tryton.log_text()
        sales = anyio.run(shop_sales, demo_tryton)
    assert sales, "no order became a sale"

    lines = [line for text in [*run.output, trytond_log] for line in text.splitlines()]
    events = [orjson.loads(line) for line in first.stderr.splitlines() if line.startswith("{")]
    synced = [e for e in events if e.get("event") == "initial sync done" and e.get("entity") == "product"]
    assert synced and synced[0].get("created", 0) >= 400, "the JSON run did not sync the catalogue"
    assert any(e.get("log_level") == "debug" for e in events) or any("[debug" in line for line in run.output)
    assert any("dead letter" in line and "zero-rate" in line for line in lines), "no dead letter was logged"
    assert any("bad signature" in line for line in lines) and any("malformed json" in line for line in lines)
    needles = {
        "Tryton password": demo_tryton.password,
        "Tryton admin password": ADMIN_PASSWORD,
        "consumer key": consumer_key,
        "consumer secret": consumer_secret,
        "webhook secret": webhook_secret,
    } | {f"customer data {value!r}": value for value in personal_data(orders)}
    assert len(needles) > 5 + ORDERS, "the orders carry less customer data than expected"
    found = [
        (name, line[:300]) for line in lines for name, needle in needles.items() if needle and needle in line
    ]
    assert found == [], json.dumps(found[:20], indent=1, ensure_ascii=False)
    # the state database holds customer data (orders to repair), but never a credential
    state = b"".join(path.read_bytes() for path in directory.glob("state.db*"))
    assert len(state) > 100_000
    credentials = [n for n, v in needles.items() if not n.startswith("customer") and v.encode() in state]
    assert credentials == []
