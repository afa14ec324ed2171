"""WooCommerce REST authentication: OAuth 1.0a one-legged over plain HTTP, HTTP Basic over HTTPS.

WooCommerce verifies OAuth signatures in `WC_REST_Authentication::check_oauth_signature`: the
parameters come from the query string (and form bodies), are sorted, RFC 3986 encoded, and signed
with the consumer secret plus "&" (no token). oauthlib's RFC 5849 signer produces exactly that
string for the query-string form, so this module only adapts it to httpx.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Literal

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY, Client

SignatureMethod = Literal["HMAC-SHA256", "HMAC-SHA1"]
AuthMode = Literal["auto", "oauth", "basic"]

_SIGNERS: dict[str, str] = {"HMAC-SHA256": SIGNATURE_HMAC_SHA256, "HMAC-SHA1": SIGNATURE_HMAC_SHA1}


class WooCommerceOAuth1(httpx.Auth):
    """Signs each request with one-legged OAuth 1.0a in the query string, as WooCommerce expects."""

    def __init__(
        self, consumer_key: str, consumer_secret: str, signature_method: SignatureMethod = "HMAC-SHA256"
    ) -> None:
        if signature_method not in _SIGNERS:
            raise ValueError(
                f"unsupported signature method {signature_method!r}; use HMAC-SHA256 or HMAC-SHA1"
            )
        self._consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self._signature_method = _SIGNERS[signature_method]

    def __repr__(self) -> str:
        return f"WooCommerceOAuth1(signature_method={self._signature_method!r})"

    def signed_url(
        self, method: str, url: str, *, nonce: str | None = None, timestamp: str | None = None
    ) -> str:
        """Return `url` with the oauth_* parameters and the signature appended to its query."""
        client = Client(
            self._consumer_key,
            client_secret=self._consumer_secret,
            signature_method=self._signature_method,
            signature_type=SIGNATURE_TYPE_QUERY,
            nonce=nonce,
            timestamp=timestamp,
        )
        # The JSON body is not part of WooCommerce's signature base string, so it is not passed on.
        # httpx.URL percent-encodes what oauthlib refuses to parse (spaces and the like).
        uri, _headers, _body = client.sign(str(httpx.URL(url)), http_method=method.upper())
        return uri

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign the request in place (httpx calls this once per request)."""
        request.url = httpx.URL(self.signed_url(request.method, str(request.url)))
        yield request


def build_auth(
    base_url: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    mode: AuthMode = "auto",
    signature_method: SignatureMethod = "HMAC-SHA256",
) -> httpx.Auth:
    """Choose WooCommerce's scheme: Basic when the store is reached over HTTPS, OAuth 1.0a otherwise."""
    use_basic = mode == "basic" or (mode == "auto" and httpx.URL(base_url).scheme == "https")
    if use_basic:
        return httpx.BasicAuth(consumer_key, consumer_secret)
    return WooCommerceOAuth1(consumer_key, consumer_secret, signature_method)
