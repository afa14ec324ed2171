"""`POST /webhooks/{connection}`: check a WooCommerce delivery, keep it in the inbox, answer at once.

The delivery is only a hint; the engine re-reads the record through the API later. Logs name the
connection, topic, delivery id and outcome, never the body, the signature or the secret.
"""

from __future__ import annotations

import hashlib
import json
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emporion.config import Settings, WooCommerceConnection
from emporion.connectors.woocommerce.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TOPIC_HEADER,
    verify_webhook,
)
from emporion.logs import get_logger
from emporion.server.secrets import WebhookSecrets
from emporion.state import StateStore

log = get_logger("emporion.server")
MAX_BODY_BYTES = 1024 * 1024
PING = re.compile(rb"webhook_id=\d+")
KEPT_HEADER_PREFIX = "x-wc-"


class BodyTooLarge(Exception):
    """The request body is larger than the ingress accepts."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing (without reading further) one that announces or reaches more than `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def kept_headers(request: Request) -> dict[str, str]:
    """The X-WC-* headers worth keeping with a delivery (the signature is checked, not stored)."""
    return {
        name: value
        for name, value in request.headers.items()
        if name.startswith(KEPT_HEADER_PREFIX) and name != SIGNATURE_HEADER.lower()
    }


def webhook_connection(settings: Settings, name: str) -> WooCommerceConnection | None:
    """The connection a delivery URL names, if it is a WooCommerce connection taking webhooks."""
    connection = settings.connections.get(name)
    if isinstance(connection, WooCommerceConnection) and connection.webhooks:
        return connection
    return None


def _answer(status: int, outcome: str, **fields: str) -> Response:
    log.info("webhook", outcome=outcome, status=status, **fields)
    return JSONResponse({"status": outcome}, status_code=status)


async def receive_webhook(request: Request) -> Response:
    """Take one delivery: 404 unknown connection, 413 too large, 401 bad signature, 400 bad JSON, else 200."""
    settings: Settings = request.app.state.settings
    store: StateStore = request.app.state.store
    secrets: WebhookSecrets = request.app.state.secrets
    name = request.path_params["connection"]
    if webhook_connection(settings, name) is None:
        return _answer(404, "unknown connection", connection=name[:64])
    topic = request.headers.get(TOPIC_HEADER, "")
    fields = {"connection": name, "topic": topic[:100]}
    try:
        body = await read_body(request, request.app.state.max_body_bytes)
    except BodyTooLarge:
        return _answer(413, "too large", **fields)
    if PING.fullmatch(body.strip()):  # sent when a webhook is created or activated; nothing to keep
        return _answer(200, "ping", **fields)
    if not verify_webhook(body, request.headers.get(SIGNATURE_HEADER), secrets.get(name)):
        return _answer(401, "bad signature", **fields)
    try:
        json.loads(body)
    except ValueError:
        return _answer(400, "malformed json", **fields)
    delivery_id = request.headers.get(DELIVERY_HEADER) or "sha256:" + hashlib.sha256(body).hexdigest()
    fields["delivery_id"] = delivery_id[:100]
    try:
        stored = await store.inbox_add(name, delivery_id, topic, kept_headers(request), body)
    except Exception as error:  # the state database is unreachable: say so, the poll catches up later
        log.error("webhook not stored", error=type(error).__name__, **fields)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return _answer(200, "stored" if stored else "duplicate", **fields)
