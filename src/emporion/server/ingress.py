"""`POST /webhooks/{connection}`: check a delivery, keep it in the inbox, answer at once.

The delivery is only a hint; the engine re-reads the record through the API later. Logs name the
connection, topic, delivery id, outcome and status, never the body, the signature or the secret.
What is particular to a system (its ping, signature, topic, delivery id and the headers worth
keeping) is asked of the connection's connector through the `WebhookSource` role.

Answers, in the order they are checked: 404 unknown connection (or one not taking webhooks), 405
wrong method, 415 neither JSON nor a form (the body type of activation pings), 413 too large
(refused before it is read in full), 408 a body not sent within `server.body_timeout`, 200 ping, 415
a form that is not the ping, 401 missing or wrong signature, 400 malformed JSON (or nested beyond the
parser's depth), 200 `duplicate` for a delivery already kept, 200 `replay` for a
body kept within the replay window under another delivery id, 200 `stored`, 503 when the state
database cannot take it. Known deliveries are acknowledged with 200 because senders disable a
webhook after repeated failed deliveries. A sender that disconnects mid-body is logged in one line.

A delivery is known by the id its connector's `delivery()` gives, never by the sender's delivery id
alone: a shop may give every delivery of one webhook within a second the same id, so the connector
adds what the delivery carries (topic, record, a hash of the body) and two orders changed in one
second are two deliveries, while the same delivery sent again is a duplicate.
"""

from __future__ import annotations

import json

from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from emporion.config import Settings
from emporion.connectors.roles import WebhookSource
from emporion.engine.connections import ConnectorPool
from emporion.logs import CORRELATION_HEADER, bind_correlation, get_logger, new_correlation_id
from emporion.server.limits import BodyTimeout
from emporion.server.replay import ReplayGuard
from emporion.server.secrets import WebhookSecrets
from emporion.server.signatures import SignatureWatch
from emporion.state import StateStore

log = get_logger("emporion.server")
MAX_BODY_BYTES = 1024 * 1024
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"  # activation pings only
LOGGED_LIMIT = 100
KEPT_LIMIT = 255  # the inbox's column size for delivery ids and topics


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


def takes_webhooks(settings: Settings, name: str) -> bool:
    """Whether a connection named `name` is configured and takes webhook deliveries."""
    connection = settings.connections.get(name)
    return connection is not None and connection.takes_webhooks()


def webhook_source(settings: Settings, pool: ConnectorPool, name: str) -> WebhookSource | None:
    """The connector behind a delivery URL, if its connection takes webhooks and it can receive them."""
    if not takes_webhooks(settings, name):
        return None
    connector = pool.get(name)
    return connector if isinstance(connector, WebhookSource) else None


def loggable(value: str) -> str:
    """A value a sender chose (connection in the URL, topic header) made safe to log: short, printable."""
    return "".join(char if char.isascii() and char.isprintable() else "?" for char in value[:LOGGED_LIMIT])


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower case."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _answer(status: int, outcome: str, headers: dict[str, str] | None = None, **fields: str) -> Response:
    """Log the outcome (a warning for refusals) and answer it as JSON."""
    log_at = log.info if status < 400 else log.warning
    log_at("webhook", outcome=outcome, status=status, **fields)
    return JSONResponse({"status": outcome}, status_code=status, headers=headers)


def bad_signature(request: Request, name: str, fields: dict[str, str]) -> Response:
    """401, counted: deliveries that keep failing the check (a secret changed in the shop) are alerted."""
    response = _answer(401, "bad signature", None, **fields)
    watch: SignatureWatch = request.app.state.signatures
    alert = watch.refused(name)
    if alert is not None:  # sent after the answer: a slow alert channel never holds the sender
        response.background = BackgroundTask(watch.alerts.notify, alert)
    return response


async def wrong_method(request: Request) -> Response:
    """Anything but POST on a webhook URL: 405, logged like every other refusal."""
    fields = {"connection": loggable(request.path_params["connection"]), "method": loggable(request.method)}
    return _answer(405, "wrong method", {"Allow": "POST"}, **fields)


async def receive_webhook(request: Request) -> Response:
    """Take one delivery: 404 unknown connection, 413 too large, 401 bad signature, 400 bad JSON, else 200."""
    settings: Settings = request.app.state.settings
    store: StateStore = request.app.state.store
    secrets: WebhookSecrets = request.app.state.secrets
    replays: ReplayGuard = request.app.state.replays
    name = request.path_params["connection"]
    source = webhook_source(settings, request.app.state.pool, name)
    if source is None:
        return _answer(404, "unknown connection", connection=loggable(name))
    fields = {"connection": name, "topic": loggable(source.webhook_topic(request.headers))}
    kind = media_type(request)
    if kind not in (JSON_TYPE, FORM_TYPE):
        return _answer(415, "unsupported content type", content_type=loggable(kind), **fields)
    try:
        body = await read_body(request, request.app.state.max_body_bytes)
    except BodyTooLarge:
        return _answer(413, "too large", **fields)
    except BodyTimeout:
        return _answer(408, "body timeout", **fields)
    except ClientDisconnect:  # the sender went away: nobody reads the answer, one line says so
        return _answer(400, "aborted", **fields)
    if source.is_ping(request.headers, body):  # sent when a webhook is created or activated
        return _answer(200, "ping", **fields)
    if kind != JSON_TYPE:
        return _answer(415, "unsupported content type", content_type=kind, **fields)
    if not source.verify_webhook(request.headers, body, secrets.get(name)):
        return bad_signature(request, name, fields)
    request.app.state.signatures.accepted(name)
    try:
        json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return _answer(400, "malformed json", **fields)
    delivery = source.delivery(request.headers, body)
    fields |= {"topic": loggable(delivery.topic), "delivery_id": loggable(delivery.delivery_id)}
    kept_as = replays.seen(name, body)
    if kept_as is not None:
        return _answer(200, "duplicate" if kept_as == delivery.delivery_id else "replay", **fields)
    correlation = new_correlation_id()
    bind_correlation(correlation)  # every log line of this delivery, here and in the worker, carries it
    headers = delivery.headers | {CORRELATION_HEADER: correlation}
    delivery_id, topic = delivery.delivery_id[:KEPT_LIMIT], delivery.topic[:KEPT_LIMIT]
    try:
        stored = await store.inbox_add(name, delivery_id, topic, headers, body)
    except Exception as error:  # the state database is unreachable: say so, the poll catches up later
        log.error("webhook not stored", error=type(error).__name__, status=503, **fields)
        return JSONResponse({"status": "unavailable"}, status_code=503)
    replays.remember(name, body, delivery.delivery_id)
    return _answer(200, "stored" if stored else "duplicate", **fields)
