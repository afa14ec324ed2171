"""OAuth 1.0a signatures match WooCommerce's verifier and the official `woocommerce` Python package."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from woocommerce.oauth import OAuth as OfficialOAuth

from emporion.connectors.woocommerce.auth import WooCommerceOAuth1, build_auth

KEY = "ck_0123456789abcdef0123456789abcdef01234567"
SECRET = "cs_89abcdef0123456789abcdef0123456789abcdef"


def _php_rawurlencode(value: str) -> str:
    return quote(value, safe="-_.~")


def woocommerce_verifies(method: str, signed_url: str, secret: str = SECRET) -> bool:
    """WC_REST_Authentication::check_oauth_signature, step by step, for query-string OAuth."""
    parts = urlsplit(signed_url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))  # PHP's $_GET: decoded, last wins
    consumer_signature = params.pop("oauth_signature").replace(" ", "+")
    base_request_uri = _php_rawurlencode(f"{parts.scheme}://{parts.netloc}{parts.path}")
    ordered = sorted(params.items(), key=lambda item: item[0].encode())  # uksort(..., 'strcmp')
    normalized = [(_php_rawurlencode(k), _php_rawurlencode(v)) for k, v in ordered]
    query_string = "%26".join(_php_rawurlencode(f"{k}={v}") for k, v in normalized)
    string_to_sign = f"{method.upper()}&{base_request_uri}&{query_string}"
    algorithm = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}[params["oauth_signature_method"]]
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), algorithm).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), consumer_signature)


URLS = [
    "http://127.0.0.1:8080/wp-json/wc/v3/products",
    "http://127.0.0.1:8080/wp-json/wc/v3/products?sku=A-1,B%202,C~4&per_page=100&page=2",
    "http://shop.test/wp-json/wc/v3/products?modified_after=2026-11-22T10:00:00&dates_are_gmt=true",
    "http://shop.test/wp-json/wc/v3/products/categories?slug=t-shirts,hoodies&_fields=id,sku,type",
]
# The official package leaves "/" unencoded in values (Python's quote default), which WooCommerce's
# verifier does encode; such values are checked against the verifier only.
VERIFIER_ONLY = [
    "http://127.0.0.1:8080/wp-json/wc/v3/products?sku=C%2F3,D+5&search=a b",
]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("url", URLS + VERIFIER_ONLY)
@pytest.mark.parametrize("signature_method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_signature_is_what_woocommerce_verifies(method: str, url: str, signature_method: str) -> None:
    signed = WooCommerceOAuth1(KEY, SECRET, signature_method).signed_url(method, url)  # type: ignore[arg-type]
    assert woocommerce_verifies(method, signed)
    assert not woocommerce_verifies(method, signed, secret=SECRET + "x")
    assert not woocommerce_verifies(method, signed.replace("wc/v3", "wc/v2"))


@pytest.mark.parametrize("url", URLS)
def test_signature_equals_the_official_woocommerce_package(url: str) -> None:
    signed = WooCommerceOAuth1(KEY, SECRET).signed_url("GET", url, nonce="f00dfeed", timestamp="1790000000")
    params = OrderedDict(parse_qsl(urlsplit(signed).query, keep_blank_values=True))
    ours = params.pop("oauth_signature")
    official = OfficialOAuth(url, KEY, SECRET, method="GET").generate_oauth_signature(
        params, url.split("?", 1)[0]
    )
    assert ours == official


def test_signed_url_carries_the_oauth_parameters_and_keeps_the_query() -> None:
    signed = WooCommerceOAuth1(KEY, SECRET).signed_url("GET", URLS[1])
    params = dict(parse_qsl(urlsplit(signed).query))
    assert params["oauth_consumer_key"] == KEY
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["oauth_timestamp"].isdigit() and params["oauth_nonce"]
    assert params["sku"] == "A-1,B 2,C~4"
    assert SECRET not in signed


def test_each_request_gets_a_fresh_nonce() -> None:
    auth = WooCommerceOAuth1(KEY, SECRET)
    first = dict(parse_qsl(urlsplit(auth.signed_url("GET", URLS[0])).query))
    second = dict(parse_qsl(urlsplit(auth.signed_url("GET", URLS[0])).query))
    assert first["oauth_nonce"] != second["oauth_nonce"]


def test_httpx_flow_signs_the_request_url() -> None:
    request = httpx.Request("GET", URLS[2])
    signed = next(WooCommerceOAuth1(KEY, SECRET).auth_flow(request))
    assert woocommerce_verifies("GET", str(signed.url))


def test_scheme_decides_between_basic_and_oauth() -> None:
    assert isinstance(build_auth("https://shop.test/wp-json/wc/v3", KEY, SECRET), httpx.BasicAuth)
    assert isinstance(build_auth("http://shop.test/wp-json/wc/v3", KEY, SECRET), WooCommerceOAuth1)
    assert isinstance(build_auth("http://shop.test", KEY, SECRET, mode="basic"), httpx.BasicAuth)
    assert isinstance(build_auth("https://shop.test", KEY, SECRET, mode="oauth"), WooCommerceOAuth1)
    with pytest.raises(ValueError, match="signature method"):
        WooCommerceOAuth1(KEY, SECRET, "RSA-SHA1")  # type: ignore[arg-type]


def test_secret_does_not_show_in_repr() -> None:
    assert SECRET not in repr(WooCommerceOAuth1(KEY, SECRET))
