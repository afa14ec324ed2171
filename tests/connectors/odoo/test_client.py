"""The Odoo client on the wire: version and API choice, both protocols' request shapes, typed errors,
an HTML page never taken for a result, re-authentication, retried reads, bounded answers, the clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emporion.connectors.base import AuthError, Permanent, RateLimited, Retryable
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.odoo import errors, transport
from emporion.connectors.odoo.client import OdooClient, parse_version
from tests.connectors.odoo.conftest import SANDBOX_KEY, RunningSandbox, odoo_settings, running_sandbox, serve
from tests.connectors.odoo.scripted import UID, Scripted, ScriptedOdoo, exception


@pytest.fixture(params=[18, 19])
def scripted(request: pytest.FixtureRequest) -> Iterator[tuple[ScriptedOdoo, str]]:
    """A scripted Odoo 18 (JSON-RPC) or 19 (JSON-2) and its URL."""
    odoo = ScriptedOdoo(version=int(request.param), api_key=SANDBOX_KEY)
    with serve(odoo.app()) as url:
        yield odoo, url


@pytest.fixture
async def client(scripted: tuple[ScriptedOdoo, str]) -> AsyncIterator[OdooClient]:
    """A client of the scripted Odoo with `api: auto`."""
    _, url = scripted
    client = OdooClient(odoo_settings(url), CircuitBreaker("odoo-test", failure_threshold=50))
    yield client
    await client.close()


async def test_auto_picks_jsonrpc_before_19_and_json2_from_19(
    client: OdooClient, scripted: tuple[ScriptedOdoo, str]
) -> None:
    odoo, _ = scripted
    await client.connect()
    assert client.version.major == odoo.version
    assert client.version.edition == "community"
    assert client.api == ("json2" if odoo.version >= 19 else "jsonrpc")
    assert client.uid == UID
    assert client.profile.sale_line_taxes == ("tax_ids" if odoo.version >= 19 else "tax_id")


async def test_request_shapes(client: OdooClient, scripted: tuple[ScriptedOdoo, str]) -> None:
    odoo, _ = scripted
    await client.call("sale.order", "action_confirm", [3, 4], context={"lang": "de_DE"})
    await client.search_read("product.product", [("sale_ok", "=", True)], ["name"], limit=5, order="id")
    assert await client.create("res.partner", [{"name": "A"}]) == [100]
    await client.write("sale.order", [3], {"note": "B"})
    if odoo.version >= 19:
        confirm, search, create, write = odoo.seen[-4:]
        assert write["body"] == {"ids": [3], "vals": {"note": "B"}}
        assert confirm["body"] == {"ids": [3, 4], "context": {"lang": "de_DE"}}
        assert confirm["database"] == "sandbox"
        assert search["body"] == {
            "domain": [["sale_ok", "=", True]],
            "fields": ["name"],
            "offset": 0,
            "limit": 5,
            "order": "id",
        }
        assert "ids" not in search["body"]
        assert create["body"] == {"vals_list": [{"name": "A"}]}
    else:
        confirm, search, create, write = odoo.seen[-4:]
        assert confirm["args"] == [[3, 4]] and confirm["kwargs"] == {"context": {"lang": "de_DE"}}
        assert search["args"] == [] and search["kwargs"]["limit"] == 5
        # Odoo's call_kw reads create's vals_list from the positional arguments
        assert create["args"] == [[{"name": "A"}]] and create["kwargs"] == {}
        # and write's values too: on 18, sale.order.write (and other overrides) call them `values`
        assert write["args"] == [[3], {"note": "B"}] and write["kwargs"] == {}


async def test_numbers_with_a_fraction_arrive_as_decimal(
    client: OdooClient, scripted: tuple[ScriptedOdoo, str]
) -> None:
    odoo, _ = scripted
    odoo.script[("product.template", "search_read")] = Scripted(body=[{"id": 1, "list_price": 19.9}])
    rows = await client.search_read("product.template", [], ["list_price"])
    assert rows == [{"id": 1, "list_price": Decimal("19.9")}]


@pytest.mark.parametrize(
    ("name", "kind", "status"),
    [
        ("odoo.exceptions.AccessError", AuthError, 403),
        ("odoo.exceptions.ValidationError", Permanent, 422),
        ("odoo.exceptions.UserError", Permanent, 422),
        ("odoo.exceptions.MissingError", Permanent, 404),
        ("psycopg2.errors.SerializationFailure", Retryable, 500),
        ("psycopg2.errors.LockNotAvailable", Retryable, 500),
        ("psycopg2.OperationalError", Retryable, 500),
        ("builtins.TypeError", Permanent, 500),
    ],
)
async def test_odoo_exceptions_become_typed_errors(
    client: OdooClient, scripted: tuple[ScriptedOdoo, str], name: str, kind: type[Exception], status: int
) -> None:
    odoo, _ = scripted
    message = (
        "could not serialize access due to concurrent update" if "psycopg2" in name else "Not allowed here"
    )
    odoo.script[("sale.order", "write")] = Scripted(exception=exception(name, message), status=status)
    with pytest.raises(kind) as caught:
        await client.write("sale.order", [1], {"note": "x"})
    text = str(caught.value)
    assert "sale.order" in text
    assert "Traceback" not in text and "secret.py" not in text
    if kind is AuthError:
        assert "'emporion'" in text and SANDBOX_KEY not in text
    assert odoo.calls["sale.order.write"] == 1  # a write is never sent twice


async def test_transient_reads_are_retried_and_writes_are_not(
    client: OdooClient, scripted: tuple[ScriptedOdoo, str]
) -> None:
    odoo, _ = scripted
    failure = exception("psycopg2.errors.SerializationFailure", "could not serialize access")
    odoo.script[("product.product", "search_read")] = Scripted(exception=failure, status=500, times=2)
    await client.search_read("product.product", [], ["id"])
    assert odoo.calls["product.product.search_read"] == 3
    odoo.script[("res.partner", "create")] = Scripted(exception=failure, status=500, times=1)
    with pytest.raises(Retryable):
        await client.create("res.partner", [{"name": "B"}])
    assert odoo.calls["res.partner.create"] == 1


async def test_rate_limit_carries_retry_after(client: OdooClient, scripted: tuple[ScriptedOdoo, str]) -> None:
    odoo, _ = scripted
    odoo.script[("sale.order", "create")] = Scripted(status=429, headers={"Retry-After": "17"})
    with pytest.raises(RateLimited) as caught:
        await client.create("sale.order", [{"partner_id": 1}])
    assert caught.value.after == 17.0


async def test_an_html_page_is_never_a_result(client: OdooClient, scripted: tuple[ScriptedOdoo, str]) -> None:
    odoo, _ = scripted
    odoo.script[("product.product", "search_count")] = Scripted(html=True)
    with pytest.raises(Permanent, match=r"(with JSON|not JSON)"):
        await client.search_count("product.product", [])


async def test_json2_on_odoo_18_is_refused_not_taken_for_success(scripted: tuple[ScriptedOdoo, str]) -> None:
    odoo, url = scripted
    client = OdooClient(odoo_settings(url), CircuitBreaker("odoo-test"))
    try:
        await client.connect()
        wire = transport.Json2(client.wire, SANDBOX_KEY, "sandbox")
        call = errors.Call("res.partner", "search_count", "emporion", url)
        if odoo.version < 19:
            with pytest.raises(Permanent, match="no JSON-2 API"):
                await wire.call(call, {"domain": []})
            forced = OdooClient(odoo_settings(url, api="json2"), CircuitBreaker("odoo-test"))
            with pytest.raises(Permanent, match="set api: jsonrpc"):
                await forced.connect()
            await forced.close()
        else:
            assert await wire.call(call, {"domain": []}) == {"body": {"domain": []}}
    finally:
        await client.close()


async def test_a_refused_key_is_an_auth_error_naming_the_login_never_the_key(
    scripted: tuple[ScriptedOdoo, str],
) -> None:
    odoo, url = scripted
    client = OdooClient(odoo_settings(url, api_key="not-the-key-123"), CircuitBreaker("odoo-test"))
    try:
        with pytest.raises(AuthError) as caught:
            await client.connect() if odoo.version < 19 else await client.search("res.partner", [])
        assert "'emporion'" in str(caught.value)
        assert "not-the-key-123" not in str(caught.value)
    finally:
        await client.close()


async def test_jsonrpc_logs_in_again_once_when_the_key_is_refused_mid_session(
    client: OdooClient, scripted: tuple[ScriptedOdoo, str]
) -> None:
    odoo, _ = scripted
    await client.connect()
    if odoo.version >= 19:  # JSON-2 has no session: every request carries the key
        assert odoo.calls["common.authenticate"] == 0
        return
    assert odoo.calls["common.authenticate"] == 1
    odoo.refuse_key_once = True
    assert await client.call("res.partner", "search_count", None, domain=[]) is not None
    assert odoo.calls["common.authenticate"] == 2
    assert odoo.calls["res.partner.search_count"] == 2


async def test_an_answer_over_the_limit_is_refused(
    client: OdooClient, scripted: tuple[ScriptedOdoo, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    odoo, _ = scripted
    monkeypatch.setattr(transport, "MAX_RESPONSE_BYTES", 10_000)
    odoo.script[("product.product", "read")] = Scripted(body=["x" * 20_000])
    with pytest.raises(Permanent, match="exceeds 10000 bytes"):
        await client.call("product.product", "read", [1], fields=["name"])


async def test_now_is_the_servers_clock(client: OdooClient) -> None:
    moment = await client.now()
    assert moment.tzinfo is not None
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 5


async def test_version_without_a_route_falls_back_to_web_version() -> None:
    assert parse_version(
        {"server_version_info": ["saas~18", 2, 0, "final", 0, "e"], "server_serie": "saas~18.2"}
    ) == (parse_version({"server_version_info": [18, 2, 0, "final", 0, "e"], "server_serie": "saas~18.2"}))
    assert parse_version({"server_serie": "19.0"}).major == 19


def test_a_403_on_odoo_com_says_the_plan_needs_upgrading() -> None:
    call = errors.Call("sale.order", "create", "emporion", "https://acme.odoo.com")
    error = errors.from_status(call, 403, exception("odoo.exceptions.AccessError", "no"), {})
    assert isinstance(error, AuthError)
    assert "Custom plan" in str(error)
    here = errors.from_status(
        errors.Call("sale.order", "create", "emporion", "https://erp.acme.de"), 403, None, {}
    )
    assert "Custom plan" not in str(here) and "sale.order.create" in str(here)


async def test_against_the_sandbox_access_errors_name_model_and_login(odoo_sandbox: RunningSandbox) -> None:
    sandbox = odoo_sandbox.sandbox
    groups = sandbox.ids["groups"]
    sandbox.write(
        "res.users", [sandbox.ids["integration"]], {"group_ids": [(6, 0, [groups["base.group_user"]])]}
    )
    client = OdooClient(odoo_sandbox.settings(), CircuitBreaker("odoo-test"))
    try:
        with pytest.raises(AuthError) as caught:
            await client.search_read("account.move", [], ["name"], limit=1)
        assert "account.move" in str(caught.value) and "'emporion'" in str(caught.value)
        assert "Traceback" not in str(caught.value)
        with pytest.raises(Permanent, match=r"no\.such\.model"):
            await client.search_read("no.such.model", [], ["name"])
    finally:
        await client.close()


async def test_against_the_sandbox_odoo_18_answers_json2_with_a_page(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, 18, "jsonrpc") as running:
        client = OdooClient(running.settings(), CircuitBreaker("odoo-test"))
        try:
            await client.connect()
            wire = transport.Json2(client.wire, SANDBOX_KEY, running.sandbox.database)
            call = errors.Call("res.partner", "search_count", "emporion", running.url)
            with pytest.raises(Permanent, match="no JSON-2 API"):
                await wire.call(call, {"domain": []})
        finally:
            await client.close()


async def test_against_the_sandbox_an_expired_key_is_refused_on_19(tmp_path: Path) -> None:
    past = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    with running_sandbox(tmp_path, 19, "json2", key_expires=past) as running:
        client = OdooClient(running.settings(), CircuitBreaker("odoo-test"))
        try:
            with pytest.raises(AuthError) as caught:
                await client.connect()
            assert "'emporion'" in str(caught.value) and SANDBOX_KEY not in str(caught.value)
        finally:
            await client.close()


# -- answers recorded from a real Odoo 18 and 19, replayed to the client --------------------------------

DATA = Path(__file__).resolve().parents[2] / "data"


def replay(recording: dict[str, Any]) -> Starlette:
    """An app that answers every request with the recorded status, content type and body."""

    async def answer(request: Request) -> Response:
        headers = {k: v for k, v in recording["headers"].items() if k.lower() in ("content-type", "location")}
        body = recording["response"]
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        media = headers.pop("content-type", "application/json")
        return Response(content, status_code=recording["status"], media_type=media, headers=headers)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


REPLAYED = [
    ("odoo-18.0", "json2_search_read", Permanent, "no JSON-2 API"),  # 303 to the login page
    ("odoo-18.0", "json2_search_read_redirect_followed", Permanent, "no JSON-2 API"),  # 200 HTML
    ("odoo-19.0", "json2_expired_key", AuthError, "refused the login 'emporion'"),
    ("odoo-19.0", "json2_bad_key", AuthError, "refused the login 'emporion'"),
    ("odoo-19.0", "json2_403_missing_group", AuthError, "account.move"),
    ("odoo-19.0", "json2_missing_error", Permanent, "Record does not exist"),
    ("odoo-19.0", "json2_404_unknown_model", Permanent, "does not exist"),
    ("odoo-19.0", "json2_422_unknown_kwarg", Permanent, "Odoo refused"),
    ("odoo-19.0", "json2_validation_error_422", Permanent, "Odoo refused"),
    ("odoo-18.0", "partner_create_denied", AuthError, "res.partner"),
    ("odoo-18.0", "execute_kw_expired_key", AuthError, "refused the login 'emporion'"),
    ("odoo-18.0", "validation_error_recursion", Permanent, "Odoo refused"),
]


@pytest.mark.parametrize(
    ("folder", "name", "kind", "text"), REPLAYED, ids=[f"{f}-{n}" for f, n, _, _ in REPLAYED]
)
async def test_real_odoo_answers_become_typed_errors(
    folder: str, name: str, kind: type[Exception], text: str
) -> None:
    recording = json.loads((DATA / folder / f"{name}.json").read_text())
    request = recording["request"]
    with serve(replay(recording)) as url:
        wire = transport.Wire(
            url, timeout=10, verify=True, circuit=CircuitBreaker("odoo-test"), max_concurrency=2
        )
        try:
            if request["path"] == "/jsonrpc":
                params = request["body"]["params"]
                model, method = params["args"][3], params["args"][4]
                call = errors.Call(model, method, "emporion", url)
                with pytest.raises(kind) as caught:
                    await transport.JsonRpc(wire).rpc(
                        call, params["service"], params["method"], params["args"]
                    )
            else:
                _, _, _, model, method = request["path"].split("/")
                call = errors.Call(model, method, "emporion", url)
                with pytest.raises(kind) as caught:
                    await transport.Json2(wire, SANDBOX_KEY, "odoo").call(call, request["body"])
        finally:
            await wire.close()
    assert text in str(caught.value)
    assert "Traceback" not in str(caught.value) and SANDBOX_KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("folder", "name"), [("odoo-18.0", "version_jsonrpc"), ("odoo-19.0", "web_version_get")]
)
def test_real_version_answers_parse(folder: str, name: str) -> None:
    recording = json.loads((DATA / folder / f"{name}.json").read_text())
    body = recording["response"]
    version = parse_version(body.get("result", body))
    assert version.major == int(folder[5:7]) and version.serie == folder[5:]


async def test_a_server_that_is_not_there_is_retryable() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OdooClient(odoo_settings(f"http://127.0.0.1:{port}"), CircuitBreaker("odoo-test"))
    try:
        with pytest.raises(Retryable, match=r"cannot reach Odoo"):
            await client.connect()
    finally:
        await client.close()


async def test_a_wrong_database_is_named(odoo_sandbox: RunningSandbox) -> None:
    client = OdooClient(odoo_sandbox.settings(database="nope", api="jsonrpc"), CircuitBreaker("odoo-test"))
    try:
        with pytest.raises(Permanent, match="no such database") as caught:
            await client.connect()
        assert not isinstance(caught.value, Retryable)
    finally:
        await client.close()
