"""Translation of WooCommerce's HTTP answers and per-item batch errors into emporion's typed errors."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx

from emporion.connectors.base import AuthError, ConnectorError, Permanent, RateLimited, Retryable
from emporion.connectors.http import parse_retry_after
from emporion.connectors.woocommerce.pages import describe_page

# WooCommerce error codes whose cause is one known field of the record.
_CODE_FIELDS = {
    "product_invalid_sku": "sku",
    "woocommerce_rest_product_not_created": "sku",
    "product_variation_invalid_sku": "sku",
    "term_exists": "name",
    "duplicate_term_slug": "slug",
    "woocommerce_rest_invalid_product_id": "id",
    "woocommerce_rest_product_invalid_id": "id",
    "woocommerce_rest_term_invalid": "id",
    "woocommerce_rest_invalid_id": "id",
}

NO_ANSWER = "emporion_no_answer"  # the batch answer has no entry for an item
SKU_TAKEN = "product_invalid_sku"  # a create or update named a SKU another product holds
SKU_LOCK = "woocommerce_rest_product_not_created"  # "... already present in the lookup table"

_MISSING_ID_CODES = frozenset(
    {
        "woocommerce_rest_product_invalid_id",
        "woocommerce_rest_invalid_product_id",
        "woocommerce_rest_product_variation_invalid_id",
        "woocommerce_rest_term_invalid",
        "woocommerce_rest_invalid_id",
        "woocommerce_rest_shop_order_invalid_id",
    }
)


@dataclass(frozen=True)
class WooError:
    """WooCommerce's `{"code", "message", "data"}` error body."""

    code: str
    message: str
    status: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Any, status: int | None = None) -> WooError:
        """Read an error body; anything that is not WooCommerce's shape still gives a usable error."""
        if isinstance(body, dict) and ("code" in body or "message" in body):
            found = body.get("data")
            data: dict[str, Any] = found if isinstance(found, dict) else {}
            return cls(
                str(body.get("code") or ""), str(body.get("message") or ""), data.get("status", status), data
            )
        return cls("", "", status, {})

    @property
    def label(self) -> str:
        """`code: message`, or the HTTP status when the body said nothing useful."""
        if self.code or self.message:
            return f"{self.code}: {self.message}" if self.code else self.message
        return f"HTTP {self.status}" if self.status else "unknown error"

    @property
    def field(self) -> str | None:
        """The record field the error names, when WooCommerce says (invalid params) or the code implies."""
        params = self.data.get("params")
        if isinstance(params, dict) and params:
            return str(next(iter(params)))
        return _CODE_FIELDS.get(self.code)

    @property
    def missing_id(self) -> bool:
        """True when the error says the id we addressed does not exist (a stale link)."""
        return self.code in _MISSING_ID_CODES or (self.status == 404 and self.code.endswith("_invalid_id"))

    @property
    def sku_lock(self) -> bool:
        """WooCommerce's SKU lock: a concurrent create of the same SKU holds it (no resource_id is given)."""
        return self.code == SKU_LOCK and "lookup table" in self.message

    @property
    def sku_exists(self) -> bool:
        """The SKU is taken: by the product `resource_id` names, or (the lock) by one being created."""
        return self.code == SKU_TAKEN or self.sku_lock

    @property
    def resource_id(self) -> int | None:
        """The existing record WooCommerce names in a refusal (`data.resource_id`), if any."""
        ident = self.data.get("resource_id")
        try:
            return int(ident) if ident not in (None, "", 0, "0") else None
        except (TypeError, ValueError):
            return None

    @property
    def transient(self) -> bool:
        """True when the item failed for a passing reason (the shop was busy, no answer for it, or
        another request holds the SKU lock: the record exists, or will in a moment)."""
        return (
            self.code == NO_ANSWER
            or self.sku_lock
            or (self.status is not None and (self.status >= 500 or self.status == 429))
        )

    def permanent(self, record: str | None = None) -> Permanent:
        """This error as a Permanent for one record."""
        return Permanent(f"WooCommerce refused the item: {self.label}", record=record, field=self.field)

    def as_error(self, record: str | None = None) -> ConnectorError:
        """This per-item error as a Retryable when it is transient, else as a Permanent for the record."""
        if self.transient:
            return Retryable(f"WooCommerce could not write {record or 'the item'} now: {self.label}")
        return self.permanent(record)


def _auth_reason(method: str, error: WooError, status: int) -> str:
    text = error.message.lower()
    if "read permission" in text:
        return (
            f"consumer key has no read permission; emporion needs read (read_write to write) ({error.label})"
        )
    if "timestamp" in text:
        return f"the clocks of emporion and the shop differ by more than 15 minutes ({error.label})"
    if "write permission" in text:
        return f"consumer key has read permission only; emporion needs read_write to write ({error.label})"
    if status == 403 or error.code.startswith("woocommerce_rest_cannot_"):
        return (
            "the WordPress user of this consumer key lacks the capability for "
            f"{method} (give it the shop manager or administrator role) ({error.label})"
        )
    return f"WooCommerce refused the credentials ({error.label})"


def translate_response(method: str, path: str, response: httpx.Response) -> ConnectorError:
    """Turn an HTTP error answer into RateLimited, Retryable, AuthError or Permanent."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = WooError.from_body(body, status)
    after = parse_retry_after(response.headers.get("Retry-After"))
    where = f"{method} {path}"
    if status == 429:
        return RateLimited(f"WooCommerce rate limit on {where} ({error.label})", after=after)
    if status >= 500 or status in (408, 425):
        why = describe_page(response) or error.label  # maintenance mode, or a proxy's page
        return Retryable(f"WooCommerce {where} failed with HTTP {status} ({why})", after=after)
    if status in (401, 403):
        return AuthError(_auth_reason(method, error, status))
    return Permanent(f"WooCommerce refused {where}: HTTP {status} {error.label}", field=error.field)


def translate_transport(method: str, path: str, exc: httpx.TransportError) -> Retryable:
    """Timeouts and connection failures are transient; the message names no URL (it carries auth)."""
    if isinstance(exc, httpx.TimeoutException):
        kind = "timed out"
    elif _is_certificate_error(exc):
        kind = "failed: the TLS certificate could not be verified (set a CA bundle with `verify`)"
    else:
        kind = f"failed ({type(exc).__name__})"
    return Retryable(f"WooCommerce {method} {path} {kind}")


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
