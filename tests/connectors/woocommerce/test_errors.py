"""WooCommerce answers become the right typed errors, with WooCommerce's code in the message."""

from __future__ import annotations

import email.utils
import json
import time
from pathlib import Path

import httpx
import pytest

from emporion.connectors.base import AuthError, Permanent, RateLimited, Retryable
from emporion.connectors.http import parse_retry_after
from emporion.connectors.woocommerce.client import has_next_page
from emporion.connectors.woocommerce.errors import (
    WooError,
    translate_response,
    translate_transport,
)

PAYLOADS = Path("/work/shared/payloads/woocommerce")


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_429_is_rate_limited_with_retry_after_seconds() -> None:
    error = translate_response("GET", "products", answer(429, {"code": "too_many"}, {"Retry-After": "7"}))
    assert isinstance(error, RateLimited)
    assert error.after == 7.0


def test_retry_after_as_http_date() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    after = parse_retry_after(later)
    assert after is not None and 25 <= after <= 31
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retryable_not_rate_limited(status: int) -> None:
    error = translate_response("POST", "products/batch", answer(status, {"code": "internal_server_error"}))
    assert isinstance(error, Retryable) and not isinstance(error, RateLimited)
    assert f"HTTP {status}" in str(error)


def test_read_only_key_names_the_missing_permission() -> None:
    body = {
        "code": "woocommerce_rest_authentication_error",
        "message": "The API key provided does not have write permissions.",
        "data": {"status": 401},
    }
    error = translate_response("POST", "products/batch", answer(401, body))
    assert isinstance(error, AuthError)
    assert "read permission only" in str(error) and "read_write" in str(error)


def test_refused_credentials_are_an_auth_error() -> None:
    body = {"code": "woocommerce_rest_authentication_error", "message": "Consumer key is invalid."}
    error = translate_response("GET", "products", answer(401, body))
    assert isinstance(error, AuthError)
    assert "Consumer key is invalid." in str(error)
    forbidden = translate_response(
        "POST", "products", answer(403, {"code": "woocommerce_rest_cannot_create"})
    )
    assert isinstance(forbidden, AuthError) and "capability" in str(forbidden)


@pytest.mark.parametrize("name", ["error-woocommerce-rest.json", "error-wp-rest-no-route.json"])
def test_real_error_bodies_become_permanent_with_the_code(name: str) -> None:
    body = json.loads((PAYLOADS / name).read_text())
    error = translate_response("GET", "products/categories/9", answer(404, body))
    assert isinstance(error, Permanent) and not isinstance(error, AuthError)
    assert body["code"] in str(error)


def test_batch_too_large_is_permanent() -> None:
    body = {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items",
    }
    error = translate_response("POST", "products/batch", answer(413, body))
    assert isinstance(error, Permanent)
    assert "woocommerce_rest_request_entity_too_large" in str(error)


def test_invalid_param_names_the_field() -> None:
    body = {
        "code": "rest_invalid_param",
        "message": "Invalid parameter(s): regular_price",
        "data": {"status": 400, "params": {"regular_price": "regular_price is not of type string."}},
    }
    error = translate_response("POST", "products", answer(400, body))
    assert isinstance(error, Permanent) and error.field == "regular_price"


def test_non_json_error_answer_still_translates() -> None:
    error = translate_response("GET", "products", httpx.Response(502, text="<html>Bad gateway</html>"))
    assert isinstance(error, Retryable) and "HTTP 502" in str(error)


def test_transport_errors_are_retryable_without_the_url() -> None:
    request = httpx.Request("GET", "http://shop.test/wp-json/wc/v3/products?oauth_consumer_key=ck_secret")
    timeout = translate_transport("GET", "products", httpx.ReadTimeout("slow", request=request))
    refused = translate_transport("GET", "products", httpx.ConnectError("refused", request=request))
    assert isinstance(timeout, Retryable) and "timed out" in str(timeout)
    assert isinstance(refused, Retryable) and "ConnectError" in str(refused)
    assert "ck_secret" not in str(timeout) + str(refused)


def test_per_item_error_names_record_and_field() -> None:
    item = WooError.from_body(
        {"code": "product_invalid_sku", "message": "Invalid or duplicated SKU.", "data": {}}
    )
    error = item.permanent(record="TSHIRT-1")
    assert error.record == "TSHIRT-1" and error.field == "sku"
    assert "product_invalid_sku" in str(error)
    assert WooError("woocommerce_rest_product_invalid_id", "Invalid ID.", 400).missing_id
    assert not item.missing_id


def test_paging_follows_total_pages_then_link_then_a_full_page() -> None:
    assert has_next_page(answer(200, [], {"X-WP-TotalPages": "3"}), 2, 100)
    assert not has_next_page(answer(200, [], {"X-WP-TotalPages": "3"}), 3, 100)
    with_next = {"Link": '<http://shop.test/wp-json/wc/v3/products?page=2>; rel="next"'}
    assert has_next_page(answer(200, [], with_next), 1, 10)
    only_prev = {"Link": '<http://shop.test/wp-json/wc/v3/products?page=1>; rel="prev"'}
    assert not has_next_page(answer(200, [], only_prev), 2, 100)
    assert has_next_page(answer(200, []), 1, 100)
    assert not has_next_page(answer(200, []), 1, 99)
