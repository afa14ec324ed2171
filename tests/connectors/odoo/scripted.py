"""A scripted Odoo for the client's tests of answers the sandbox does not give on demand.

It answers like Odoo 18 or 19 on the wire (routes, JSON-RPC error objects, JSON-2 HTTP errors with
`{name, message, arguments, context, debug}`, HTML pages where Odoo has no route) and lets a test
script one model method's answer: a serialisation failure, a 429, an HTML page, a huge body.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

UID = 7
DEBUG = "Traceback (most recent call last):\n  File secret.py\npsycopg2 internals"


def exception(name: str, message: str) -> dict[str, Any]:
    """Odoo's serialised exception (odoo/http.py serialize_exception)."""
    return {"name": name, "message": message, "arguments": [message], "context": {}, "debug": DEBUG}


@dataclass
class Scripted:
    """What one call answers: an exception, an HTTP status with a body, an HTML page, or a result."""

    exception: dict[str, Any] | None = None
    status: int = 200
    body: Any = None
    html: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1_000_000  # how many calls get this answer before the default echo


@dataclass
class ScriptedOdoo:
    """A scripted Odoo server of one version with one valid API key."""

    version: int
    api_key: str
    script: dict[tuple[str, str], Scripted] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    refuse_key_once: bool = False
    seen: list[dict[str, Any]] = field(default_factory=list)

    def version_info(self) -> dict[str, Any]:
        """What common.version answers."""
        return {
            "server_version": f"{self.version}.0",
            "server_version_info": [self.version, 0, 0, "final", 0, ""],
            "server_serie": f"{self.version}.0",
            "protocol_version": 1,
        }

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(
            routes=[
                Route("/jsonrpc", self.jsonrpc, methods=["POST"]),
                Route("/json/2/{model}/{method}", self.json2, methods=["POST"]),
                Route("/web/version", self.web_version, methods=["GET"]),
            ]
        )

    def _scripted(self, model: str, method: str) -> Scripted | None:
        entry = self.script.get((model, method))
        if entry is None or entry.times <= 0:
            return None
        entry.times -= 1
        return entry

    async def web_version(self, request: Request) -> Response:
        """Odoo 19 answers GET /web/version; 18 has no such route (an HTML 404)."""
        if self.version < 19:
            return HTMLResponse("<html><body>404: Not Found</body></html>", status_code=404)
        return JSONResponse({"version_info": self.version_info()["server_version_info"], "version": "19.0"})

    async def jsonrpc(self, request: Request) -> Response:
        """POST /jsonrpc: common.version, common.authenticate, object.execute_kw."""
        payload = await request.json()
        params, rid = payload["params"], payload.get("id")
        service, method, args = params["service"], params["method"], params["args"]
        self.calls[f"{service}.{method}"] += 1
        if (service, method) == ("common", "version"):
            return self._rpc(rid, self.version_info())
        if (service, method) == ("common", "authenticate"):
            return self._rpc(rid, UID if args[2] == self.api_key else False)
        if (service, method) == ("object", "execute_kw"):
            _db, uid, key, model, name, call_args, kwargs = args
            self.calls[f"{model}.{name}"] += 1
            self.seen.append({"model": model, "method": name, "args": call_args, "kwargs": kwargs})
            if key != self.api_key or uid != UID or self.refuse_key_once:
                self.refuse_key_once = False
                return self._rpc_error(rid, exception("odoo.exceptions.AccessDenied", "Access Denied"))
            scripted = self._scripted(model, name)
            if scripted is not None:
                return self._answer_rpc(rid, scripted)
            if name == "create":
                return self._rpc(rid, list(range(100, 100 + len(call_args[0]))))
            return self._rpc(rid, {"args": call_args, "kwargs": kwargs})
        return self._rpc_error(rid, exception("builtins.KeyError", f"no {service}.{method}"))

    def _answer_rpc(self, rid: Any, scripted: Scripted) -> Response:
        if scripted.html:
            return HTMLResponse("<html>" + "x" * 10 + "</html>", status_code=scripted.status)
        if scripted.exception is not None:
            return self._rpc_error(rid, scripted.exception)
        if scripted.status != 200:
            return Response(status_code=scripted.status, headers=scripted.headers)
        return self._rpc(rid, scripted.body)

    def _rpc(self, rid: Any, result: Any) -> Response:
        return JSONResponse({"jsonrpc": "2.0", "id": rid, "result": result})

    def _rpc_error(self, rid: Any, data: dict[str, Any]) -> Response:
        error = {"code": 200, "message": "Odoo Server Error", "data": data}
        return JSONResponse({"jsonrpc": "2.0", "id": rid, "error": error})

    async def json2(self, request: Request) -> Response:
        """POST /json/2/<model>/<method>: 19 only; 18 ends on an HTML page with status 200."""
        model, method = request.path_params["model"], request.path_params["method"]
        self.calls[f"{model}.{method}"] += 1
        if self.version < 19:
            return HTMLResponse("<!DOCTYPE html><html><body>Odoo</body></html>")
        auth = request.headers.get("Authorization", "")
        if auth != f"bearer {self.api_key}":
            return JSONResponse(exception("odoo.exceptions.AccessDenied", "Access Denied"), status_code=401)
        body = json.loads(await request.body() or b"{}")
        database = request.headers.get("X-Odoo-Database")
        self.seen.append({"model": model, "method": method, "body": body, "database": database})
        if (model, method) == ("res.users", "context_get"):
            return JSONResponse({"lang": "en_US", "tz": "UTC", "uid": UID})
        scripted = self._scripted(model, method)
        if scripted is not None:
            if scripted.html:
                return HTMLResponse("<html></html>", status_code=scripted.status)
            payload = scripted.exception if scripted.exception is not None else scripted.body
            return JSONResponse(payload, status_code=scripted.status, headers=scripted.headers)
        if method == "create":
            return JSONResponse(list(range(100, 100 + len(body["vals_list"]))))
        return JSONResponse({"body": body})
