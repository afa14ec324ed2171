"""The Odoo sandbox against real Odoo: recorded requests to Odoo 18 and 19 (tests/data/odoo-*.0) are
replayed against the sandbox of the same version, and the answers must have the same shape: status,
keys, value types and error names (values differ: the data are the sandbox's own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from emporion_devkit.sandbox.odoo import OdooSandbox
from tests.devkit.test_odoo_sandbox_wire import KEY

DATA = Path(__file__).resolve().parents[1] / "data"
EXPIRED_KEY = "sandbox-expired-key-0123456789abcdef"
REPLAYED = [  # exchanges that do not depend on the real database's record ids
    "version_jsonrpc",
    "webclient_version_info",
    "web_version_get",
    "web_json2_get",
    "json2_search_read_redirect_followed",
    "authenticate_ok",
    "authenticate_bad_key",
    "authenticate_expired_key",
    "login_ok",
    "execute_kw_bad_key",
    "execute_kw_expired_key",
    "execute_kw_unknown_db",
    "unknown_model",
    "unknown_method",
    "private_method",
    "bad_domain",
    "invalid_field_create",
    "missing_record_read",
    "missing_record_write",
    "check_access_rights_account.move_create",
    "check_access_rights_sale.order_create",
    "check_access_rights_stock.quant_read",
    "check_access_rights_res.users.apikeys_read",
    "has_access_account.move_create",
    "has_access_sale.order_create",
    "has_access_stock.quant_read",
    "has_access_product.template_write",
    "has_access_res.users.apikeys_read",
    "apikeys_own_search_read",
    "server_time_context_get",
    "user_groups_read",
    "stock_warehouse_search_read",
    "currency_eur",
    "company_rounding",
    "country_by_code",
    "product_category_search_read",
    "product_template_search_read",
    "product_product_search_read",
    "ptav_read",
    "pricelist_item_search_read",
    "stock_quant_search_read",
    "stock_move_search_read",
    "product_template_image_search",
    "pricelist_get_product_price",
    "json2_bad_key",
    "json2_no_auth",
    "json2_expired_key",
    "json2_404_unknown_model",
    "json2_404_unknown_method",
    "json2_404_private_method",
    "json2_422_unknown_kwarg",
    "json2_422_missing_arg",
    "json2_422_ids_on_model_method",
    "json2_422_bad_argument",
    "json2_422_positional",
    "json2_get_method_not_allowed",
    "json2_context_get",
    "json2_has_access",
    "json2_check_access_rights",
    "json2_apikeys_own",
    "json2_bad_domain",
    "json2_missing_error",
    "json2_search_read_without_fields",
    "json2_read_ids",
]


def recordings(version: int) -> list[dict[str, Any]]:
    """The replayable recordings of a version (those present for it)."""
    folder = DATA / f"odoo-{version}.0"
    found = [
        json.loads((folder / f"{name}.json").read_text())
        for name in REPLAYED
        if (folder / f"{name}.json").exists()
    ]
    assert len(found) >= 30, f"recordings of Odoo {version} missing in {folder}"
    return found


def shape(value: Any) -> Any:
    """Keys and value types, with empty values (False, None, [], {}) left open as Odoo's empty fields are."""
    if value is False or value is None or value == [] or value == {}:
        return "empty"
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items() if key != "debug"}
    if isinstance(value, list):
        return ["list", shape(value[0])]
    return (
        "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__
    )


def same_shape(expected: Any, got: Any, where: str = "") -> list[str]:
    """The places where two shapes differ (an empty value on either side matches anything)."""
    if expected == "empty" or got == "empty":
        return []
    if isinstance(expected, dict) and isinstance(got, dict):
        differences = (
            [f"{where}: keys {sorted(set(expected) ^ set(got))}"] if set(expected) != set(got) else []
        )
        for key in set(expected) & set(got):
            differences += same_shape(expected[key], got[key], f"{where}.{key}")
        return differences
    if isinstance(expected, list) and isinstance(got, list):
        return same_shape(expected[1], got[1], f"{where}[]")
    return [] if expected == got else [f"{where}: {expected} != {got}"]


@pytest.fixture(params=[18, 19], scope="module")
def sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OdooSandbox]:
    """A sandbox per recorded version, with an expired key next to the valid one."""
    path = tmp_path_factory.mktemp("recorded") / f"odoo-{request.param}.sqlite"
    with OdooSandbox(path, version=request.param, api_key=KEY) as running:
        running.add_api_key(EXPIRED_KEY, datetime.now(UTC) - timedelta(days=1))
        yield running


def replay(sandbox: OdooSandbox, recording: dict[str, Any], real_uid: int) -> httpx.Response:
    """Send a recorded request to the sandbox, with its database, keys and integration user swapped in."""
    key = EXPIRED_KEY if "expired" in recording["name"] else KEY
    text = json.dumps(recording["request"].get("body")).replace('"<api key>"', json.dumps(key))
    text = text.replace(f'"odoo{sandbox.version}"', json.dumps(sandbox.database))
    body = json.loads(text)
    params = body.get("params", {}) if isinstance(body, dict) else {}
    if params.get("method") == "execute_kw" and params["args"][1] == real_uid:
        params["args"][1] = sandbox.ids["integration"]
        if params["args"][3] == "res.users" and params["args"][5] and params["args"][5][0] == [real_uid]:
            params["args"][5][0] = [sandbox.ids["integration"]]
    headers = {}
    for name, value in (recording["request"].get("headers") or {}).items():
        if name.lower() == "authorization":
            headers[name] = value.replace("<api key>", key)
        elif name.lower() == "x-odoo-database":
            headers[name] = sandbox.database
    follow = recording["name"].endswith("redirect_followed")
    return httpx.request(
        recording["request"]["method"],
        sandbox.base_url + recording["request"]["path"],
        json=body,
        headers=headers,
        follow_redirects=follow,
    )


def test_the_sandbox_answers_as_real_odoo_does(sandbox: OdooSandbox) -> None:
    folder = DATA / f"odoo-{sandbox.version}.0"
    real_uid = json.loads((folder / "authenticate_ok.json").read_text())["response"]["result"]
    failures = []
    for recording in recordings(sandbox.version):
        answer = replay(sandbox, recording, real_uid)
        if answer.status_code != recording["status"]:
            failures.append(f"{recording['name']}: status {answer.status_code}, real {recording['status']}")
            continue
        if recording.get("body_kind") != "json":
            if "text/html" not in answer.headers.get("content-type", ""):
                failures.append(f"{recording['name']}: not HTML")
            continue
        got, expected = answer.json(), recording["response"]
        failures += [f"{recording['name']}{where}" for where in same_shape(shape(expected), shape(got))]
        real_error = (expected.get("error") or {}).get("data", expected) if isinstance(expected, dict) else {}
        our_error = (got.get("error") or {}).get("data", got) if isinstance(got, dict) else {}
        if real_error.get("name") != our_error.get("name"):
            failures.append(
                f"{recording['name']}: error {our_error.get('name')}, real {real_error.get('name')}"
            )
    assert failures == [], "\n".join(failures)
