"""The ASGI app: WordPress-style routing, authentication, paging headers and `_fields` over the shop."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emporion_devkit.sandbox.woocommerce import render, settings, timed
from emporion_devkit.sandbox.woocommerce.auth import ApiKey, auth_error
from emporion_devkit.sandbox.woocommerce.errors import ApiError, no_route
from emporion_devkit.sandbox.woocommerce.shop import WC_VERSION, WP_VERSION, first

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.sandbox import Sandbox

logger = logging.getLogger(__name__)
API_PREFIX = "/wp-json/wc/v3/"
CONTROL_PREFIX = "/__sandbox/"
COLLECTIONS = {
    "products/categories": "category",
    "products": "product",
    "orders": "order",
    "customers": "customer",
    "coupons": "coupon",
    "webhooks": "webhook",
    "variations": "variation",
    "notes": "note",
    "refunds": "refund",
    "taxes": "tax",
}
ROUTE = re.compile(
    r"^(?:(?P<collection>products/categories|products|orders|customers|coupons|webhooks|taxes)"
    r"|(?:products|orders)/(?P<parent>\d+)/(?P<nested>variations|notes|refunds))"
    r"(?:/(?P<tail>batch|\d+))?/?$"
)
READ, EDIT = ("GET", "HEAD"), ("POST", "PUT", "PATCH")
DENIED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "read": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": ("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."),
    "batch": (
        "woocommerce_rest_cannot_batch",
        "Sorry, you are not allowed to batch manipulate this resource.",
    ),
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson."""
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type="application/json; charset=UTF-8"
    )


def error_response(error: ApiError) -> Response:
    """An error in WooCommerce's body format (with WWW-Authenticate on 401, as WooCommerce sends)."""
    headers = {"WWW-Authenticate": 'Basic realm="WooCommerce REST API"'} if error.status == 401 else None
    return json_response(error.body(), error.status, headers)


def truthy(value: Any) -> bool:
    """WordPress' boolean argument rules."""
    return value is True or str(value).lower() in ("1", "true")


def pick_fields(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """WordPress' `_fields`: keep the named (possibly dotted) fields only."""
    out: dict[str, Any] = {}
    for field in fields:
        head, _, rest = field.partition(".")
        if head not in item:
            continue
        if rest and isinstance(item[head], dict):
            out[head] = {**out.get(head, {}), **pick_fields(item[head], [rest])}
        else:
            out[head] = item[head]
    return out


class RestRequest:
    """One parsed API request: method, path, query pairs, body and the authenticated key."""

    def __init__(self, request: Request, body: bytes) -> None:
        self.request = request
        self.method = request.method
        self.pairs = request.query_params.multi_items()
        self.params: dict[str, list[str]] = {}
        for key, value in self.pairs:
            self.params.setdefault(key.removesuffix("[]"), []).append(value)
        override = request.headers.get("x-http-method-override") or first(self.params, "_method")
        if self.method == "POST" and override:
            self.method = override.upper()
        self.raw_body = body
        self.form: list[tuple[str, str]] = []
        if body and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            self.form = parse_qsl(body.decode(), keep_blank_values=True)
        self.key: ApiKey | None = None

    def body_json(self) -> dict[str, Any]:
        """The JSON body alone (control routes)."""
        try:
            parsed = orjson.loads(self.raw_body) if self.raw_body else {}
        except orjson.JSONDecodeError:
            raise ApiError(400, "rest_invalid_json", "Invalid JSON body passed.") from None
        return parsed if isinstance(parsed, dict) else {}

    def body(self) -> dict[str, Any]:
        """The request's JSON (or form) body merged over its query arguments, as WordPress merges them."""
        data: dict[str, Any] = {key: values[0] for key, values in self.params.items()}
        data.update(dict(self.form))
        if self.raw_body and not self.form:
            try:
                parsed = orjson.loads(self.raw_body)
            except orjson.JSONDecodeError:
                raise ApiError(
                    400, "rest_invalid_json", "Invalid JSON body passed.", json_error_code=4
                ) from None
            if isinstance(parsed, dict):
                data.update(parsed)
        return data


class SandboxApp:
    """ASGI app of one sandbox: the WooCommerce REST API and the `/__sandbox/` control routes."""

    def __init__(self, sandbox: Sandbox, trust_forwarded_proto: bool = True) -> None:
        self.sandbox = sandbox
        self.shop = sandbox.shop
        self.trust_forwarded_proto = trust_forwarded_proto

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request (lifespan events are accepted and ignored)."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        """Authenticate, route and answer one request."""
        path = request.url.path
        try:
            if path.startswith(CONTROL_PREFIX):
                rest = RestRequest(request, await request.body())
                self.authenticate(rest)
                return await self.sandbox.control(rest, path.removeprefix(CONTROL_PREFIX).strip("/"))
            if path.rstrip("/") in ("/wp-json", "/wp-json/wc/v3"):
                return json_response({"namespace": "wc/v3", "routes": {}, "home": self.sandbox.shop.base_url})
            if not path.startswith(API_PREFIX):
                raise no_route()
            body = await request.body()
            with self.sandbox.traffic.request(request.method, path.removeprefix(API_PREFIX), body):
                fault = await self.sandbox.faults.before(request)
                if fault is not None:
                    return fault
                rest = RestRequest(request, body)
                self.authenticate(rest)
                runtime = self.sandbox.latency
                if runtime is not None:
                    return await timed.serve(self, runtime, rest, path.removeprefix(API_PREFIX))
                return self.dispatch(rest, path.removeprefix(API_PREFIX))
        except ApiError as error:
            return error_response(error)
        except Exception:
            logger.exception("sandbox request failed: %s %s", request.method, path)
            return json_response(
                {
                    "code": "internal_server_error",
                    "message": "There has been a critical error on this website.",
                    "data": {"status": 500},
                },
                500,
            )

    # -- authentication ----------------------------------------------------------------------------

    def is_ssl(self, request: Request) -> bool:
        """HTTPS, or a TLS proxy in front that says so."""
        if request.url.scheme == "https":
            return True
        return self.trust_forwarded_proto and request.headers.get("x-forwarded-proto", "").lower() == "https"

    def authenticate(self, rest: RestRequest) -> None:
        """Find the request's key (Basic only over HTTPS, OAuth 1.0a otherwise) and check its permission."""
        request, keys = rest.request, self.sandbox.keys
        ssl = self.is_ssl(request)
        header = request.headers.get("authorization", "")
        if ssl:
            if header[:6].lower() == "basic ":
                try:
                    user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    raise auth_error("Consumer key is invalid.") from None
                rest.key = keys.basic(user, password)
            elif first(rest.params, "consumer_key") is not None:
                rest.key = keys.basic(
                    first(rest.params, "consumer_key") or "", first(rest.params, "consumer_secret") or ""
                )
        if rest.key is None:
            host = request.headers.get("x-forwarded-host") if self.trust_forwarded_proto else None
            host = host or request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
            url = f"{'https' if ssl else 'http'}://{host}{request.url.path}"
            rest.key = keys.oauth(request.method, url, rest.pairs + rest.form, header)
        if rest.key is not None and not rest.key.can(rest.method):
            kind = "read" if rest.method in READ else "write"
            raise auth_error(f"The API key provided does not have {kind} permissions.")

    @staticmethod
    def require(rest: RestRequest, action: str) -> None:
        """The controllers' permission check: anonymous requests get WooCommerce's 401s."""
        if rest.key is None:
            code, message = DENIED[action]
            raise ApiError(401, code, message)

    # -- routing -----------------------------------------------------------------------------------

    def dispatch(self, rest: RestRequest, route: str) -> Response:
        """Route a REST request to the shop."""
        if route.rstrip("/") == "system_status":
            if rest.method not in READ:
                raise no_route()
            self.require(rest, "list")
            return json_response(self.system_status())
        if route.startswith(("settings/", "taxes/classes")):
            self.require(rest, "list" if rest.method in READ else "edit")
            return json_response(settings.route(self.shop, rest.method, route, rest.body()))
        match = ROUTE.match(route)
        if match is None:
            raise no_route()
        kind = COLLECTIONS[match["collection"] or match["nested"]]
        parent = int(match["parent"] or 0)
        tail = match["tail"]
        method = rest.method
        shop = self.shop
        if tail is None:
            if method in READ:
                self.require(rest, "list")
                return self.listing(rest, kind, route, parent)
            if method == "POST":
                self.require(rest, "create")
                item = self.sandbox.create(kind, rest.body(), parent, rest.key)
                location = f"{shop.api_url}/{shop.resources[kind].collection_path(parent)}/{item['id']}"
                return self.answer(rest, self.shaped(kind, item, "edit"), 201, {"Location": location})
        elif tail == "batch":
            if method in EDIT and shop.resources[kind].editable:
                self.require(rest, "batch")
                return json_response(self.sandbox.batch(kind, rest.body(), parent, rest.key))
        else:
            record_id = int(tail)
            parent_arg = parent if shop.resources[kind].parent_kind else None
            if method in READ:
                self.require(rest, "read")
                item = self.sandbox.get(kind, record_id, parent_arg)
                return self.answer(rest, self.shaped(kind, item, self.context(rest)))
            if method in EDIT and shop.resources[kind].editable:
                self.require(rest, "edit")
                item = shop.update(kind, record_id, rest.body(), parent_arg)
                return self.answer(rest, self.shaped(kind, item, "edit"))
            if method == "DELETE":
                self.require(rest, "delete")
                force = truthy(rest.body().get("force", False))
                item = shop.delete(kind, record_id, force, parent_arg)
                return self.answer(rest, self.shaped(kind, item, "edit"))
        raise no_route()

    @staticmethod
    def context(rest: RestRequest) -> str:
        """The request's `context`: `view` unless it asks for `edit`."""
        return "edit" if first(rest.params, "context") == "edit" else "view"

    @staticmethod
    def shaped(kind: str, item: dict[str, Any], context: str) -> dict[str, Any]:
        """A catalogue record in view or edit form (other kinds as they are)."""
        return render.in_context(item, context) if kind in render.KINDS else item

    def answer(
        self, rest: RestRequest, item: dict[str, Any], status: int = 200, headers: dict | None = None
    ) -> Response:
        """One record, trimmed by `_fields`."""
        fields = [f for value in rest.params.get("_fields", []) for f in value.split(",") if f]
        return json_response(pick_fields(item, fields) if fields else item, status, headers)

    def listing(self, rest: RestRequest, kind: str, route: str, parent: int) -> Response:
        """A collection page with X-WP-Total, X-WP-TotalPages and Link headers."""
        items, total, page, per_page = self.shop.list(kind, rest.params, parent)
        context = self.context(rest)
        items = [self.shaped(kind, item, context) for item in items]
        fields = [f for value in rest.params.get("_fields", []) for f in value.split(",") if f]
        if fields:
            items = [pick_fields(item, fields) for item in items]
        if not self.shop.resources[kind].paged:
            return json_response(items)
        pages = self.shop.total_pages(total, per_page)
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        kept = [(k, v) for k, v in rest.pairs if k != "page" and not k.startswith(("oauth_", "consumer_"))]
        base = f"{self.shop.api_url}/{route.rstrip('/')}"
        links = []
        if page > 1:
            links.append(
                f'<{base}?{urlencode([*kept, ("page", str(min(page - 1, max(pages, 1))))])}>; rel="prev"'
            )
        if page < pages:
            links.append(f'<{base}?{urlencode([*kept, ("page", str(page + 1))])}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return json_response(items, 200, headers)

    def system_status(self) -> dict[str, Any]:
        """A trimmed `/system_status` with the WooCommerce version and the settings a client reads."""
        shop = self.shop
        return {
            "environment": {
                "home_url": shop.base_url,
                "site_url": shop.base_url,
                "version": WC_VERSION,
                "wp_version": WP_VERSION,
                "wp_multisite": False,
                "language": "en_US",
                "default_timezone": "UTC",
            },
            "database": {"wc_database_version": WC_VERSION, "database_prefix": "wp_"},
            "active_plugins": [
                {"plugin": "woocommerce/woocommerce.php", "name": "WooCommerce", "version": WC_VERSION}
            ],
            "theme": {"name": "Storefront", "version": "4.6.0"},
            "settings": {
                "api_enabled": True,
                "force_ssl": False,
                "currency": shop.currency,
                "currency_symbol": "$" if shop.currency == "USD" else shop.currency,
                "currency_position": "left",
                "thousand_separator": ",",
                "decimal_separator": ".",
                "number_of_decimals": 2,
                "geolocation_enabled": False,
                "taxonomies": {
                    "external": "external",
                    "grouped": "grouped",
                    "simple": "simple",
                    "variable": "variable",
                },
            },
            "security": {"secure_connection": False, "hide_errors": True},
            "pages": [],
        }
