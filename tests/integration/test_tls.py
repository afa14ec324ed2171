"""TLS verification is on by default, and a custom CA bundle is trusted when configured (real TLS server)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
import uvicorn

from emporion.config import Settings, TLSSettings, parse_settings
from emporion.connectors.base import ConnectorError, Permanent, Retryable
from emporion.engine.connections import ConnectorPool
from emporion_devkit.sandbox.woocommerce import create_app

KEY, SECRET = "ck_tls_0123456789abcdef", "cs_tls_0123456789abcdef"


@dataclass
class TlsShop:
    """The sandbox shop behind real TLS, with a certificate from a CA the system does not know."""

    url: str
    ca_bundle: Path


@pytest.fixture
def tls_shop(tmp_path: Path) -> Iterator[TlsShop]:
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    pem = tmp_path / "server.pem"
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(consumer_key=KEY, consumer_secret=SECRET, base_url=f"https://127.0.0.1:{port}")
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ssl_keyfile=str(pem), ssl_certfile=str(pem)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the TLS server did not start"
        time.sleep(0.01)
    try:
        yield TlsShop(f"https://127.0.0.1:{port}", bundle)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def settings_for(shop: TlsShop, tls: str = "") -> Settings:
    """A WooCommerce and a Tryton connection to the TLS server, with the given `tls:` block."""
    return parse_settings(
        f"""
state: {{url: "sqlite:///:memory:"}}
connections:
  shop: {{type: woocommerce, url: "{shop.url}", consumer_key: {KEY}, consumer_secret: {SECRET} {tls}}}
  erp: {{type: tryton, url: "{shop.url}", database: d, username: u, password: pw-tls-test {tls}}}
flows: []
"""
    )


def cause_chain(error: BaseException) -> list[BaseException]:
    chain, seen = [], error
    while seen is not None:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def test_verification_is_on_unless_turned_off() -> None:
    assert TLSSettings().verify is True and TLSSettings().ca_bundle is None


async def test_an_unknown_ca_is_refused_and_the_configured_bundle_is_trusted(tls_shop: TlsShop) -> None:
    refused = ConnectorPool(settings_for(tls_shop))
    trusted = ConnectorPool(settings_for(tls_shop, f', tls: {{ca_bundle: "{tls_shop.ca_bundle}"}}'))
    try:
        with pytest.raises(Retryable) as shop_refused:
            await refused.get("shop").count("product")  # type: ignore[attr-defined]
        with pytest.raises(Retryable) as erp_refused:
            await refused.get("erp").client.login()  # type: ignore[attr-defined]
        assert await trusted.get("shop").count("product") == 0  # type: ignore[attr-defined]
        with pytest.raises(ConnectorError) as erp_trusted:
            await trusted.get("erp").client.login()  # type: ignore[attr-defined]
    finally:
        await refused.close()
        await trusted.close()
    for refusal in (shop_refused.value, erp_refused.value):
        assert any(isinstance(e, ssl.SSLCertVerificationError) for e in cause_chain(refusal)), refusal
        assert KEY not in str(refusal) and SECRET not in str(refusal)
    # through TLS now: the sandbox is no Tryton server, so the answer is an HTTP refusal, not TLS
    assert isinstance(erp_trusted.value, Permanent)
    assert not any(isinstance(e, ssl.SSLError) for e in cause_chain(erp_trusted.value))
