"""The Odoo sandbox's wire protocols and version personalities, spoken to over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from emporion_devkit.sandbox.odoo import OdooSandbox
from tests.devkit.test_odoo_sandbox_wire import KEY, execute_kw, json2, jsonrpc


@pytest.fixture
def odoo18(tmp_path: Path) -> Iterator[OdooSandbox]:
    """An Odoo 18 sandbox."""
    with OdooSandbox(tmp_path / "o18.sqlite", version=18, api_key=KEY) as sandbox:
        yield sandbox


@pytest.fixture
def odoo19(tmp_path: Path) -> Iterator[OdooSandbox]:
    """An Odoo 19 sandbox."""
    with OdooSandbox(tmp_path / "o19.sqlite", version=19, api_key=KEY) as sandbox:
        yield sandbox


def login(sandbox: OdooSandbox) -> int:
    """The integration user's uid from common.authenticate."""
    uid = jsonrpc(sandbox.base_url, "common", "authenticate", "emporion", "emporion", KEY, {})["result"]
    assert isinstance(uid, int)
    return uid


@pytest.mark.parametrize("version", [17, 18, 19])
def test_common_version_and_version_info_name_the_series(tmp_path: Path, version: int) -> None:
    with OdooSandbox(tmp_path / "o.sqlite", version=version, api_key=KEY) as sandbox:
        answer = jsonrpc(sandbox.base_url, "common", "version")["result"]
        assert answer["server_serie"] == f"{version}.0"
        assert answer["server_version_info"][:2] == [version, 0]
        info = httpx.post(
            sandbox.base_url + "/web/webclient/version_info", json={"jsonrpc": "2.0", "id": 1, "params": {}}
        ).json()
        assert info["result"]["server_version_info"][0] == version


def test_web_version_exists_on_19_only(odoo18: OdooSandbox, odoo19: OdooSandbox) -> None:
    on18 = httpx.get(odoo18.base_url + "/web/version")
    assert on18.status_code == 404 and "text/html" in on18.headers["content-type"]
    on19 = httpx.get(odoo19.base_url + "/web/version")
    assert on19.status_code == 200 and on19.json()["version_info"][0] == 19


def test_json2_on_18_ends_on_an_html_page_with_200(odoo18: OdooSandbox) -> None:
    answer = httpx.post(
        odoo18.base_url + "/json/2/res.partner/search",
        json={"domain": []},
        headers={"Authorization": f"bearer {KEY}"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "text/html" in answer.headers["content-type"]
    assert answer.text.lstrip().startswith("<!DOCTYPE html>")


def test_jsonrpc_authenticates_with_the_api_key_and_refuses_a_wrong_one(odoo18: OdooSandbox) -> None:
    assert login(odoo18) == odoo18.ids["integration"]
    assert (
        jsonrpc(odoo18.base_url, "common", "authenticate", "emporion", "emporion", "wrong", {})["result"]
        is False
    )
    refused = execute_kw(odoo18.base_url, 3, "res.partner", "search", [[]], key="wrong")
    assert refused["error"]["code"] == 200
    assert refused["error"]["message"] == "Odoo Server Error"
    assert refused["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert set(refused["error"]["data"]) >= {"name", "message", "arguments", "debug", "context"}


def test_jsonrpc_error_code_is_zero_on_19(odoo19: OdooSandbox) -> None:
    refused = execute_kw(odoo19.base_url, 3, "res.partner", "search", [[]], key="wrong")
    assert refused["error"]["code"] == 0
    assert refused["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"


def test_json2_answers_the_bare_result_and_http_errors(odoo19: OdooSandbox) -> None:
    url = odoo19.base_url
    found = json2(
        url,
        "product.template",
        "search_read",
        {"domain": [["default_code", "=", "SKU-00001"]], "fields": ["name", "list_price"]},
    )
    assert found.status_code == 200
    assert isinstance(found.json(), list) and found.json()[0]["name"].endswith(" 1")
    unauthorized = json2(url, "res.partner", "search", {"domain": []}, key="nope")
    assert unauthorized.status_code == 401
    assert unauthorized.json()["name"] == "werkzeug.exceptions.Unauthorized"
    assert set(unauthorized.json()) == {"name", "message", "arguments", "context", "debug"}
    missing_model = json2(url, "no.such.model", "search", {"domain": []})
    assert missing_model.status_code == 404
    bad_argument = json2(url, "res.partner", "search", {"domain": [], "colour": "red"})
    assert bad_argument.status_code == 422
    assert "unexpected keyword argument" in bad_argument.json()["message"]
    with_ids = json2(url, "res.partner", "search", {"ids": [1], "domain": []})
    assert with_ids.status_code == 422
    forbidden = json2(url, "stock.warehouse", "write", {"ids": [1], "vals": {"name": "x"}})
    assert forbidden.status_code == 403
    assert forbidden.json()["name"] == "odoo.exceptions.AccessError"
    assert "Inventory/Administrator" in forbidden.json()["message"]


def test_json2_refuses_another_database(odoo19: OdooSandbox) -> None:
    answer = json2(odoo19.base_url, "res.partner", "search", {"domain": []}, database="other")
    assert answer.status_code == 404


@pytest.mark.parametrize(("version", "refused"), [(17, False), (18, True), (19, True)])
def test_an_expired_key_is_refused_as_a_wrong_one_from_18_on(
    tmp_path: Path, version: int, refused: bool
) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    with OdooSandbox(tmp_path / "a.sqlite", version=version, api_key=KEY, key_expires=past) as sandbox:
        uid = jsonrpc(sandbox.base_url, "common", "authenticate", "emporion", "emporion", KEY, {})["result"]
        assert (uid is False) is refused
        answer = execute_kw(sandbox.base_url, sandbox.ids["integration"], "res.partner", "search", [[]])
        assert ("error" in answer) is refused
        if refused:
            assert answer["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
        if version == 19:
            assert json2(sandbox.base_url, "res.partner", "search", {"domain": []}).status_code == 401


def test_the_key_expiry_is_readable_by_its_user(tmp_path: Path) -> None:
    expires = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
    with OdooSandbox(tmp_path / "k.sqlite", version=19, api_key=KEY, key_expires=expires) as sandbox:
        keys = json2(
            sandbox.base_url,
            "res.users.apikeys",
            "search_read",
            {"domain": [], "fields": ["expiration_date"]},
        )
        assert keys.json()[0]["expiration_date"] == "2030-01-31 12:00:00"


def test_field_names_follow_the_version(odoo18: OdooSandbox, odoo19: OdooSandbox, tmp_path: Path) -> None:
    uid = login(odoo18)
    on18 = execute_kw(odoo18.base_url, uid, "res.users", "read", [[uid], ["groups_id"]])
    assert isinstance(on18["result"][0]["groups_id"], list) and on18["result"][0]["groups_id"]
    renamed = execute_kw(odoo18.base_url, uid, "sale.order.line", "fields_get", [["tax_id", "product_uom"]])
    assert renamed["result"]["tax_id"]["relation"] == "account.tax"
    unknown = execute_kw(odoo18.base_url, uid, "sale.order.line", "fields_get", [["tax_ids"]])
    assert unknown["error"]["data"]["name"] == "builtins.ValueError"
    on19 = json2(
        odoo19.base_url, "res.users", "read", {"ids": [odoo19.ids["integration"]], "fields": ["group_ids"]}
    )
    assert on19.status_code == 200 and on19.json()[0]["group_ids"]
    assert (
        json2(odoo19.base_url, "res.users", "read", {"ids": [3], "fields": ["groups_id"]}).status_code == 500
    )
    with OdooSandbox(tmp_path / "o17.sqlite", version=17, api_key=KEY) as odoo17:
        uid17 = login(odoo17)
        storable = execute_kw(
            odoo17.base_url, uid17, "product.template", "search_count", [[["detailed_type", "=", "product"]]]
        )
        assert storable["result"] > 0
        assert (
            execute_kw(
                odoo17.base_url, uid17, "product.template", "search_count", [[["is_storable", "=", True]]]
            )["error"]["data"]["name"]
            == "builtins.ValueError"
        )


def test_access_rights_probes_per_version(odoo18: OdooSandbox, tmp_path: Path) -> None:
    uid = login(odoo18)
    assert execute_kw(odoo18.base_url, uid, "sale.order", "has_access", [[], "create"])["result"] is True
    assert execute_kw(odoo18.base_url, uid, "stock.warehouse", "has_access", [[], "write"])["result"] is False
    assert execute_kw(odoo18.base_url, uid, "account.move", "check_access_rights", ["create", False])[
        "result"
    ]
    with OdooSandbox(tmp_path / "o17.sqlite", version=17, api_key=KEY) as odoo17:
        missing = execute_kw(odoo17.base_url, login(odoo17), "sale.order", "has_access", [[], "create"])
        assert "error" in missing


def test_faults_on_demand(odoo18: OdooSandbox, odoo19: OdooSandbox) -> None:
    uid = login(odoo18)
    odoo18.faults.add("serialization", route="/jsonrpc")
    busy = execute_kw(odoo18.base_url, uid, "res.partner", "search", [[]])
    assert busy["error"]["data"]["name"] == "psycopg2.errors.SerializationFailure"
    assert "result" in execute_kw(odoo18.base_url, uid, "res.partner", "search", [[]])
    count = execute_kw(odoo18.base_url, uid, "res.partner", "search_count", [[]])["result"]
    odoo18.faults.add("lost", route="/jsonrpc")
    lost = httpx.post(
        odoo18.base_url + "/jsonrpc",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": ["emporion", uid, KEY, "res.partner", "create", [[{"name": "Lost"}]], {}],
            },
        },
    )
    assert lost.status_code == 502
    assert execute_kw(odoo18.base_url, uid, "res.partner", "search_count", [[]])["result"] == count + 1
    odoo19.faults.add("http429", route="/json/2/")
    limited = json2(odoo19.base_url, "res.partner", "search", {"domain": []})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    odoo19.faults.add("html200")
    page = json2(odoo19.base_url, "res.partner", "search", {"domain": []})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    odoo19.faults.add("serialization", route="/json/2/")
    assert json2(odoo19.base_url, "res.partner", "search", {"domain": []}).status_code == 500
    assert json2(odoo19.base_url, "res.partner", "search", {"domain": []}).status_code == 200


def test_the_cli_serves_a_sandbox_until_terminated(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    emporion = str(Path(sys.executable).parent / "emporion")
    command = [
        emporion,
        "sandbox",
        "odoo",
        "--port",
        "0",
        "--version",
        "19",
        "--db",
        str(tmp_path / "cli.sqlite"),
        "--api-key",
        KEY,
        "--products",
        "5",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Odoo 19 sandbox: http://127.0.0.1:")
        url = first.split(": ", 1)[1].strip()
        assert httpx.get(url + "/web/version").json()["version"] == "19.0"
        assert json2(url, "res.users", "context_get", {}).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
