"""The ASGI app: JSON-RPC (`/jsonrpc`), JSON-2 (`/json/2/<model>/<method>`, 19 only) and version routes.

Answers are shaped as the real server's: JSON-RPC errors are `{"code", "message": "Odoo Server Error",
"data": {name, message, arguments, context, debug}}` with HTTP 200; JSON-2 answers the bare result or an
HTTP error with `{name, message, arguments, context, debug}`. On 18, `/json/...` is a web-client route
that redirects an unauthenticated caller to the HTML login page (which answers 200); on 17 it is a 404
HTML page.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from emporion_devkit.sandbox.odoo.errors import NotFound, OdooError, Unauthorized, ValueFault

if TYPE_CHECKING:
    from emporion_devkit.sandbox.odoo.server import OdooServer

NOT_FOUND_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>404 | Odoo</title></head>"
    "<body><h1>404: Page not found</h1></body></html>"
)
LOGIN_PAGE = (
    '<!DOCTYPE html>\n<html><head><title>Login | Odoo</title></head><body><form class="oe_login_form" '
    'method="post" action="/web/login"><input name="login"/><input name="password" '
    'type="password"/></form></body></html>'
)
REDIRECT_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
    '<p>You should be redirected automatically to the target URL: <a href="{target}">{target}</a>.'
    " If not, click the link.\n"
)
BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer serialised as Odoo's (application/json)."""
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def error_body(error: OdooError) -> dict[str, Any]:
    """Odoo's `serialize_exception` of an error (the debug text a short fake traceback)."""
    arguments: list[Any] = [error.message]
    if error.name.startswith("werkzeug."):
        arguments = [error.message, error.status]
    return {
        "name": error.name,
        "message": error.message,
        "arguments": arguments,
        "context": {},
        "debug": f"Traceback (most recent call last):\n  File odoo/http.py\n{error.name}: {error.message}\n",
    }


def build_app(server: OdooServer) -> Starlette:
    """The Starlette app serving one sandbox."""
    version = server.version

    async def jsonrpc(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return json_response(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
            )
        request_id, params = body.get("id"), body.get("params") or {}
        try:
            result = await run_in_threadpool(
                server.rpc, params.get("service"), params.get("method"), list(params.get("args") or [])
            )
        except OdooError as error:
            code = (
                404
                if isinstance(error, NotFound) and error.message.startswith("404")
                else version.jsonrpc_error_code
            )
            return json_response(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "error": {"code": code, "message": "Odoo Server Error", "data": error_body(error)},
                }
            )
        return json_response({"jsonrpc": "2.0", "id": request_id, "result": result})

    async def json2(request: Request) -> Response:
        if not version.json2:
            if version.major == 18:
                target = f"/web/login?redirect={quote(request.url.path + '?', safe='')}"
                page = REDIRECT_PAGE.format(target=target)
                return HTMLResponse(page, status_code=303, headers={"Location": target})
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        model, method = request.path_params["model"], request.path_params["method"]
        try:
            raw = await request.body()
            body = orjson.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueFault("the body must be a JSON object")
            result = await run_in_threadpool(
                server.json2,
                request.headers.get("authorization", ""),
                request.headers.get("x-odoo-database"),
                model,
                method,
                body,
            )
        except orjson.JSONDecodeError as error:
            return json_response(error_body(OdooError(f"could not parse the body as json: {error}")), 400)
        except OdooError as error:
            headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
            return json_response(error_body(error), error.status, headers)
        return json_response(result)

    async def json2_other(request: Request) -> Response:
        if not version.json2:
            return await json2(request)
        return json_response(error_body(NotFound("Did you mean POST /json/2/<model>/<method>?")), 404)

    async def web_version(request: Request) -> Response:
        if not version.web_version:
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        return json_response({"version_info": version.version_info, "version": version.serie})

    async def version_info(request: Request) -> Response:
        body = orjson.loads(await request.body() or b"{}")
        return json_response({"jsonrpc": "2.0", "id": body.get("id"), "result": server.version_dict()})

    async def login_page(request: Request) -> Response:
        return HTMLResponse(LOGIN_PAGE)

    async def image(request: Request) -> Response:
        data = await run_in_threadpool(
            server.image,
            request.path_params["model"],
            int(request.path_params["id"]),
            request.path_params["field"],
        )
        if data is None:
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        return Response(data, media_type="image/png")

    routes = [
        Route("/jsonrpc", jsonrpc, methods=["POST"]),
        Route("/json/2/{model}/{method}", json2, methods=["POST"]),
        Route("/json/{rest:path}", json2_other, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/web/version", web_version, methods=["GET", "POST"]),
        Route("/json/version", web_version, methods=["GET"]),
        Route("/web/webclient/version_info", version_info, methods=["POST"]),
        Route("/web/login", login_page, methods=["GET"]),
        Route("/web/image/{model}/{id:int}/{field}", image, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def bearer_key(header: str) -> str:
    """The key of an `Authorization: bearer <key>` header; Unauthorized without one."""
    match = BEARER.match(header or "")
    if match is None:
        raise Unauthorized("User not authenticated, use an API Key with a Bearer Authorization header.")
    return match.group(1).strip()


def decode_image(value: Any) -> bytes | None:
    """A stored base64 image as bytes."""
    return base64.b64decode(value) if isinstance(value, str) and value else None
