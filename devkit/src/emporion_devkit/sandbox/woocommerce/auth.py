"""WooCommerce REST authentication: Basic over HTTPS, OAuth 1.0a one-legged over plain HTTP.

Mirrors `WC_REST_Authentication`: over HTTPS (or behind a TLS proxy) the consumer key and secret come
as HTTP Basic credentials or `consumer_key`/`consumer_secret` query arguments; otherwise only an OAuth
1.0a signature (HMAC-SHA1 or HMAC-SHA256, 15-minute timestamp window, single-use nonce) is accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.store import Store

OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
TIMESTAMP_WINDOW = 15 * 60
PERMISSIONS = ("read", "write", "read_write")


@dataclass(frozen=True)
class ApiKey:
    """One REST API key with its permission (read, write or read_write)."""

    consumer_key: str
    consumer_secret: str
    permissions: str

    def can(self, method: str) -> bool:
        """Whether the key may use an HTTP method."""
        if method in ("GET", "HEAD"):
            return self.permissions in ("read", "read_write")
        return method == "OPTIONS" or self.permissions in ("write", "read_write")


def auth_error(message: str, code: str = "woocommerce_rest_authentication_error") -> ApiError:
    """WooCommerce's 401 for failed authentication."""
    return ApiError(401, code, message)


def rfc3986(value: str) -> str:
    """PHP's `rawurlencode` (what `wc_rest_urlencode_rfc3986` applies)."""
    return quote(value, safe="~")


def _php_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Query pairs parsed the way PHP fills `$_GET`: `a[b]=1` nests, later keys win."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if "[" in key and key.endswith("]") and not key.startswith("["):
            base, rest = key.split("[", 1)
            parts = [base, *rest[:-1].split("][")]
            node = out.setdefault(parts[0], {})
            if not isinstance(node, dict):
                node = out[parts[0]] = {}
            for part in parts[1:-1]:
                node = node.setdefault(part or str(len(node)), {})
            node[parts[-1] or str(len(node))] = value
        else:
            out[key] = value
    return out


def _join(params: dict[str, Any], prefix: str = "") -> list[str]:
    """`join_with_equals_sign`: `key=value` pairs, each encoded once more."""
    joined: list[str] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            joined += _join(value, name)
        else:
            joined.append(rfc3986(f"{name}={value}"))
    return joined


def _normalize(value: Any) -> Any:
    return (
        {key: _normalize(item) for key, item in value.items()}
        if isinstance(value, dict)
        else rfc3986(str(value))
    )


def signature_base(method: str, url: str, params: dict[str, Any]) -> str:
    """The OAuth base string exactly as WooCommerce builds it (sorted by strcmp, double-encoded pairs)."""
    ordered = {rfc3986(key): _normalize(params[key]) for key in sorted(params, key=lambda k: k.encode())}
    return f"{method}&{rfc3986(url)}&{'%26'.join(_join(ordered))}"


def sign(method: str, url: str, params: dict[str, Any], secret: str, algorithm: str = "HMAC-SHA256") -> str:
    """An OAuth 1.0a signature for a request (used by tests and by clients of the sandbox)."""
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    base = signature_base(method, url, {k: v for k, v in params.items() if k != "oauth_signature"})
    return base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()).decode()


def _parse_oauth_header(header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if not header.lower().startswith("oauth "):
        return out
    for part in header[6:].split(","):
        if "=" in part:
            key, value = part.strip().split("=", 1)
            if key.startswith("oauth_"):
                out[key] = unquote(value.strip().strip('"'))
    return out


class KeyRing:
    """The shop's API keys and used OAuth nonces; checks a request's credentials."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_hash: dict[bytes, ApiKey] = {}
        self._nonces: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()
        for consumer_key, consumer_secret, permissions in store.keys():
            self._remember(ApiKey(consumer_key, consumer_secret, permissions))

    def _remember(self, key: ApiKey) -> None:
        self._by_hash[hashlib.sha256(key.consumer_key.encode()).digest()] = key

    def add(
        self,
        permission: str = "read_write",
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
    ) -> ApiKey:
        """Create (or re-register) a key; generated keys look like WooCommerce's ck_/cs_ pairs."""
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {PERMISSIONS}")
        key = ApiKey(
            consumer_key or "ck_" + secrets.token_hex(20),
            consumer_secret or "cs_" + secrets.token_hex(20),
            permission,
        )
        self.store.add_key(key.consumer_key, key.consumer_secret, key.permissions)
        with self._lock:
            self._remember(key)
        return key

    def find(self, consumer_key: str) -> ApiKey | None:
        """The key with this consumer key (looked up by hash, as WooCommerce does)."""
        return self._by_hash.get(hashlib.sha256(consumer_key.encode()).digest())

    def basic(self, consumer_key: str, consumer_secret: str) -> ApiKey:
        """Check Basic (or query-argument) credentials."""
        key = self.find(consumer_key)
        if key is None:
            raise auth_error("Consumer key is invalid.")
        if not hmac.compare_digest(key.consumer_secret.encode(), consumer_secret.encode()):
            raise auth_error("Consumer secret is invalid.")
        return key

    def oauth(self, method: str, url: str, pairs: list[tuple[str, str]], header: str) -> ApiKey | None:
        """Check an OAuth 1.0a signature; None when the request carries no OAuth parameters at all."""
        params = _php_params(pairs)
        params.update(_parse_oauth_header(header))
        if not any(name in params for name in OAUTH_PARAMS):
            return None
        missing = [name for name in OAUTH_PARAMS if not params.get(name)]
        if missing:
            plural = "parameters" if len(missing) > 1 else "parameter"
            raise auth_error(
                f"Missing OAuth {plural} {', '.join(missing)}",
                "woocommerce_rest_authentication_missing_parameter",
            )
        key = self.find(str(params["oauth_consumer_key"]))
        if key is None:
            raise auth_error("Consumer key is invalid.")
        given = unquote(str(params.pop("oauth_signature")).replace(" ", "+"))
        algorithm = str(params["oauth_signature_method"])
        if algorithm not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise auth_error("Invalid signature - signature method is invalid.")
        expected = sign(method, url, params, key.consumer_secret, algorithm)
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise auth_error("Invalid signature - provided signature does not match.")
        self._check_nonce(key, str(params["oauth_timestamp"]), str(params["oauth_nonce"]))
        return key

    def _check_nonce(self, key: ApiKey, timestamp: str, nonce: str) -> None:
        now = int(time.time())
        try:
            moment = int(timestamp)
        except ValueError:
            raise auth_error("Invalid timestamp.") from None
        if moment < now - TIMESTAMP_WINDOW or moment > now + TIMESTAMP_WINDOW:
            raise auth_error("Invalid timestamp.")
        with self._lock:
            used = self._nonces.setdefault(key.consumer_key, {})
            for old in [n for n, at in used.items() if at < now - TIMESTAMP_WINDOW]:
                del used[old]
            if nonce in used:
                raise auth_error("Invalid nonce - nonce has already been used.")
            used[nonce] = moment
