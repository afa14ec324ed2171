"""Authentication as WooCommerce does it: Basic only over HTTPS, OAuth 1.0a over plain HTTP, permissions."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from woocommerce import API

from emporion_devkit.sandbox.woocommerce import SandboxShop
from emporion_devkit.sandbox.woocommerce.auth import sign

HTTPS = {"X-Forwarded-Proto": "https"}


def oauth_params(shop: SandboxShop, method: str, url: str, extra: dict[str, str], **overrides: str) -> dict:
    params = {
        **extra,
        "oauth_consumer_key": shop.consumer_key,
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": uuid.uuid4().hex,
        "oauth_signature_method": "HMAC-SHA1",
    }
    params.update(overrides)
    params["oauth_signature"] = sign(
        method, url, params, shop.consumer_secret, params["oauth_signature_method"]
    )
    return params


def test_basic_auth_is_ignored_over_plain_http(sandbox_shop: SandboxShop) -> None:
    plain = httpx.get(
        sandbox_shop.api_url + "/products", auth=(sandbox_shop.consumer_key, sandbox_shop.consumer_secret)
    )
    assert plain.status_code == 401
    assert plain.json() == {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }
    proxied = httpx.get(
        sandbox_shop.api_url + "/products",
        auth=(sandbox_shop.consumer_key, sandbox_shop.consumer_secret),
        headers=HTTPS,
    )
    assert proxied.status_code == 200


def test_basic_auth_errors_and_query_credentials(sandbox_shop: SandboxShop) -> None:
    url = sandbox_shop.api_url + "/products"
    wrong_key = httpx.get(url, auth=("ck_nope", "cs_nope"), headers=HTTPS)
    assert wrong_key.status_code == 401 and wrong_key.json()["message"] == "Consumer key is invalid."
    wrong_secret = httpx.get(url, auth=(sandbox_shop.consumer_key, "cs_nope"), headers=HTTPS)
    assert wrong_secret.json()["code"] == "woocommerce_rest_authentication_error"
    assert wrong_secret.json()["message"] == "Consumer secret is invalid."
    query = {"consumer_key": sandbox_shop.consumer_key, "consumer_secret": sandbox_shop.consumer_secret}
    assert httpx.get(url, params=query, headers=HTTPS).status_code == 200
    assert httpx.get(url, params=query).status_code == 401


def test_oauth_signatures_over_plain_http(sandbox_shop: SandboxShop) -> None:
    url = sandbox_shop.api_url + "/products"
    for method in ("HMAC-SHA1", "HMAC-SHA256"):
        params = oauth_params(
            sandbox_shop, "GET", url, {"per_page": "5", "search": "a b/c"}, oauth_signature_method=method
        )
        assert httpx.get(url, params=params).status_code == 200
    replay = oauth_params(sandbox_shop, "GET", url, {}, oauth_nonce="fixed-nonce")
    assert httpx.get(url, params=replay).status_code == 200
    replayed = httpx.get(url, params=replay)
    assert replayed.status_code == 401
    assert replayed.json()["message"] == "Invalid nonce - nonce has already been used."
    stale = oauth_params(sandbox_shop, "GET", url, {}, oauth_timestamp=str(int(time.time()) - 16 * 60))
    assert httpx.get(url, params=stale).json()["message"] == "Invalid timestamp."
    tampered = oauth_params(sandbox_shop, "GET", url, {"per_page": "5"})
    tampered["per_page"] = "6"
    bad = httpx.get(url, params=tampered)
    assert bad.status_code == 401
    assert bad.json()["message"] == "Invalid signature - provided signature does not match."
    missing = httpx.get(url, params={"oauth_consumer_key": sandbox_shop.consumer_key})
    assert missing.json()["code"] == "woocommerce_rest_authentication_missing_parameter"


def test_oauth_in_the_authorization_header_for_a_write(sandbox_shop: SandboxShop) -> None:
    url = sandbox_shop.api_url + "/products"
    params = oauth_params(sandbox_shop, "POST", url, {})
    header = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in params.items())
    created = httpx.post(url, json={"name": "Signed"}, headers={"Authorization": header})
    assert created.status_code == 201 and created.json()["name"] == "Signed"


@pytest.mark.parametrize("version", ["wc/v3"])
def test_the_woocommerce_python_client_authenticates(sandbox_shop: SandboxShop, version: str) -> None:
    client = API(
        url=sandbox_shop.base_url,
        consumer_key=sandbox_shop.consumer_key,
        consumer_secret=sandbox_shop.consumer_secret,
        version=version,
        timeout=10,
    )
    created = client.post("products", {"name": "From the client", "regular_price": "5.00"})
    assert created.status_code == 201, created.text
    listed = client.get("products", params={"per_page": 10, "orderby": "id", "order": "asc"})
    assert listed.status_code == 200 and [p["name"] for p in listed.json()] == ["From the client"]
    updated = client.put(f"products/{created.json()['id']}", {"sale_price": "4.00"})
    assert updated.status_code == 200 and updated.json()["price"] == "4.00"
    assert client.delete(f"products/{created.json()['id']}", params={"force": True}).status_code == 200


def test_key_permissions(sandbox_shop: SandboxShop) -> None:
    url = sandbox_shop.api_url + "/products"
    read_key = sandbox_shop.add_key("read")
    write_key = sandbox_shop.add_key("write")
    assert httpx.get(url, auth=read_key, headers=HTTPS).status_code == 200
    denied = httpx.post(url, json={"name": "x"}, auth=read_key, headers=HTTPS)
    assert denied.status_code == 401
    assert denied.json()["message"] == "The API key provided does not have write permissions."
    assert httpx.post(url, json={"name": "x"}, auth=write_key, headers=HTTPS).status_code == 201
    no_read = httpx.get(url, auth=write_key, headers=HTTPS)
    assert no_read.json()["message"] == "The API key provided does not have read permissions."


def test_anonymous_writes_get_woocommerce_permission_errors(sandbox_shop: SandboxShop) -> None:
    url = sandbox_shop.api_url
    assert httpx.post(url + "/products", json={}).json()["code"] == "woocommerce_rest_cannot_create"
    assert httpx.put(url + "/products/1", json={}).json()["code"] == "woocommerce_rest_cannot_edit"
    assert httpx.delete(url + "/products/1").json()["code"] == "woocommerce_rest_cannot_delete"
    assert httpx.post(url + "/products/batch", json={}).json()["code"] == "woocommerce_rest_cannot_batch"
    assert httpx.get(url + "/system_status").status_code == 401


def test_system_status_reports_a_version(sandbox_client: httpx.Client) -> None:
    status = sandbox_client.get("/system_status").json()
    assert status["environment"]["version"].count(".") == 2
    assert status["settings"]["currency"] == "EUR"
