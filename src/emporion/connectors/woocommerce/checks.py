"""`emporion check` for a WooCommerce store: reachable, authenticated, allowed to read and write, recent.

Each probe is harmless: a one-item product list, an empty batch (WooCommerce checks the key's
write permission before it looks at the body), and the system status for the version. A first answer
that is maintenance mode, a 5xx or a web page stops the checks there: nothing after it would be true.
"""

from __future__ import annotations

import httpx

from emporion.connectors.base import CheckResult, ConnectorError, Retryable
from emporion.connectors.woocommerce.client import WooCommerceClient
from emporion.connectors.woocommerce.errors import WooError
from emporion.connectors.woocommerce.lookup import PRODUCTS
from emporion.connectors.woocommerce.pages import describe_page

MIN_VERSION = (5, 8)  # `modified_after` / `dates_are_gmt`, which the product change feed uses


def _error(response: httpx.Response) -> WooError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return WooError.from_body(body, response.status_code)


def _version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def _unusable(response: httpx.Response, base_url: str) -> str | None:
    """Why the shop's first answer shows it cannot be used now (maintenance, 5xx, a web page), else None."""
    page = describe_page(response)
    if response.status_code >= 500:
        why = page or f"HTTP {response.status_code} ({_error(response).label})"
        return f"{base_url} is unavailable: {why}"
    if page is not None or not _is_json(response):
        why = page or f"HTTP {response.status_code} without JSON"
        return (
            f"{base_url} does not answer as the WooCommerce REST API: {why} (is the url the shop's address?)"
        )
    return None


def _is_json(response: httpx.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


async def run_checks(client: WooCommerceClient, url: str) -> list[CheckResult]:
    """Run the checks in order; a check that cannot run because an earlier one failed is reported too."""
    results: list[CheckResult] = []
    try:
        read = await client.request("GET", PRODUCTS, params={"per_page": 1, "_fields": "id"}, check=False)
    except Retryable as exc:
        results.append(CheckResult("reachable", False, f"cannot reach {url}: {exc}"))
        return results
    if read.status_code == 404:
        detail = f"no WooCommerce REST API at {client.base_url} (is WooCommerce active, are permalinks on?)"
        results.append(CheckResult("reachable", False, detail))
        return results
    if (unusable := _unusable(read, client.base_url)) is not None:
        results.append(CheckResult("reachable", False, unusable))
        return results
    results.append(CheckResult("reachable", True, f"{client.base_url} answered HTTP {read.status_code}"))

    read_error = _error(read)
    read_denied = "read permission" in read_error.message.lower()
    if read.status_code in (401, 403) and not read_denied:
        results.append(CheckResult("authentication", False, f"credentials refused: {read_error.label}"))
        return results
    if read.status_code >= 400 and not read_denied:  # refused for another reason: the key is not known good
        results.append(CheckResult("read permission", False, f"reading products failed: {read_error.label}"))
        return results
    results.append(CheckResult("authentication", True, "consumer key and secret accepted"))
    if read_denied:
        detail = "consumer key has no read permission; emporion needs read_write"
        results.append(CheckResult("read permission", False, detail))
    else:
        results.append(CheckResult("read permission", True, "products can be read"))

    results.append(await _check_write(client))
    results.append(await _check_version(client))
    return results


async def _check_write(client: WooCommerceClient) -> CheckResult:
    try:
        probe = await client.request("POST", f"{PRODUCTS}/batch", json={}, check=False)
    except ConnectorError as exc:
        return CheckResult("write permission", False, f"write probe failed: {exc}")
    if probe.status_code < 400:
        return CheckResult("write permission", True, "consumer key may write products")
    error = _error(probe)
    if "write permission" in error.message.lower():
        detail = "consumer key has read permission only; emporion needs read_write to write products"
    elif probe.status_code == 403:
        detail = f"the key's WordPress user may not edit products (needs shop manager): {error.label}"
    else:
        detail = f"write probe refused: {error.label}"
    return CheckResult("write permission", False, detail)


async def _check_version(client: WooCommerceClient) -> CheckResult:
    try:
        status = await client.get("system_status")
    except ConnectorError as exc:
        return CheckResult(
            "woocommerce version", False, f"version unknown, system_status not readable: {exc}"
        )
    version = str(((status or {}).get("environment") or {}).get("version") or "")
    if not version:
        return CheckResult("woocommerce version", False, "version unknown: system_status names none")
    if _version_tuple(version) < MIN_VERSION:
        wanted = ".".join(map(str, MIN_VERSION))
        return CheckResult(
            "woocommerce version", False, f"WooCommerce {version}; emporion needs {wanted} or newer"
        )
    return CheckResult("woocommerce version", True, f"WooCommerce {version}")
