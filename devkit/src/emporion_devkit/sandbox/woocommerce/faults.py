"""A fault injector for tests and benchmarks: latency, 429s, 5xx, timeouts, dropped connections, and
lost or duplicated webhook deliveries, for every request or for the routes matching a pattern."""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

API_PREFIX = "/wp-json/wc/v3"
PROXY_PAGES = {
    502: "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
    503: "<html><head><title>503 Service Unavailable</title></head><body><h1>Unavailable</h1></body></html>",
    504: "<html><head><title>504 Gateway Time-out</title></head><body><h1>Time-out</h1></body></html>",
}


class DroppedResponse(Response):
    """A response that starts, sends a fragment and then loses the connection."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start a response that promises more bytes than it will ever send."""
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"id":', "more_body": True})
        # Returning with the body incomplete makes the server close the connection mid-answer.


@dataclass
class FaultRule:
    """One fault setting; `route` is a glob on the API path (e.g. "/products*") or a webhook topic."""

    route: str | None = None
    methods: list[str] | None = None
    latency: float = 0.0
    latency_max: float | None = None
    rate_slow: float = 0.0  # share of requests answered `slow` seconds late (processed all the same)
    slow: float = 5.0
    rate_429: float = 0.0
    retry_after: float = 1.0
    rate_500: float = 0.0
    rate_502: float = 0.0
    rate_503: float = 0.0
    rate_timeout: float = 0.0
    timeout: float = 30.0
    rate_drop: float = 0.0
    rate_webhook_loss: float = 0.0
    rate_webhook_duplicate: float = 0.0
    count: int | None = None
    id: int = 0
    hits: int = field(default=0)

    def matches(self, path: str, method: str) -> bool:
        """Whether the rule applies to a request path (below the API root, or the full path)."""
        if self.methods and method.upper() not in {m.upper() for m in self.methods}:
            return False
        if self.route is None:
            return True
        short = path.removeprefix(API_PREFIX)
        return fnmatch.fnmatchcase(short, self.route) or fnmatch.fnmatchcase(path, self.route)


def _error(status: int, retry_after: float | None = None) -> Response:
    if status in PROXY_PAGES:
        return Response(PROXY_PAGES[status], status_code=status, media_type="text/html")
    if status == 429:
        body = {"code": "rest_too_many_requests", "message": "Too many requests.", "data": {"status": 429}}
        headers = {"Retry-After": f"{retry_after:g}"}
        return Response(orjson.dumps(body), 429, headers, media_type="application/json; charset=UTF-8")
    body = {
        "code": "internal_server_error",
        "message": "<p>There has been a critical error on this website.</p>",
        "data": {"status": 500},
        "additional_errors": [],
    }
    return Response(orjson.dumps(body), 500, media_type="application/json; charset=UTF-8")


class FaultInjector:
    """The active fault rules of one sandbox; controlled from Python or over `/__sandbox/faults`."""

    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[FaultRule] = []
        self.random = random.Random(seed)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.seen = 0  # API requests the injector looked at
        self.injected: Counter[str] = Counter()  # faults answered, by kind ("429", "503", "drop", ...)

    def set(self, **settings: Any) -> FaultRule:
        """Add a rule, e.g. `set(rate_429=0.3, retry_after=1, latency=0.05, route="/products*")`."""
        known = {f.name for f in fields(FaultRule)} - {"id", "hits"}
        unknown = set(settings) - known - {"seed"}
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        if "seed" in settings:
            self.random.seed(settings.pop("seed"))
        rule = FaultRule(**settings, id=next(self._ids))
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self, rule_id: int | None = None) -> None:
        """Remove one rule, or all of them."""
        with self._lock:
            self.rules = [] if rule_id is None else [r for r in self.rules if r.id != rule_id]

    def describe(self) -> list[dict[str, Any]]:
        """The active rules as JSON-ready dicts."""
        with self._lock:
            return [asdict(rule) for rule in self.rules]

    def _take(self, path: str, method: str) -> list[FaultRule]:
        with self._lock:
            matched = [rule for rule in self.rules if rule.matches(path, method)]
            for rule in matched:
                rule.hits += 1
                if rule.count is not None and rule.hits >= rule.count:
                    self.rules.remove(rule)
            return matched

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self.random.random() < rate

    async def before(self, request: Request) -> Response | None:
        """Delay the request, or answer it with a fault instead of the shop; None lets it through."""
        with self._lock:
            self.seen += 1
        for rule in self._take(request.url.path, request.method):
            delay = rule.latency
            if rule.latency_max is not None:
                delay = self.random.uniform(rule.latency, rule.latency_max)
            if self._chance(rule.rate_slow):
                delay += rule.slow
            if delay > 0:
                self._count("slow")
                await request.body()  # the shop has the request: it is the answer that is late
                await asyncio.sleep(delay)
            if self._chance(rule.rate_drop):
                self._count("drop")
                return DroppedResponse()
            if self._chance(rule.rate_timeout):
                self._count("timeout")
                await asyncio.sleep(rule.timeout)
                return _error(504)
            if self._chance(rule.rate_429):
                self._count("429")
                return _error(429, rule.retry_after)
            for status in (500, 502, 503):
                if self._chance(getattr(rule, f"rate_{status}")):
                    self._count(str(status))
                    return _error(status)
        return None

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    def webhook_copies(self, topic: str) -> int:
        """How many times to send one webhook delivery: 0 (lost), 1, or 2 (duplicated)."""
        with self._lock:
            rules = [r for r in self.rules if r.route is None or fnmatch.fnmatchcase(topic, r.route)]
        for rule in rules:
            if self._chance(rule.rate_webhook_loss):
                return 0
            if self._chance(rule.rate_webhook_duplicate):
                return 2
        return 1
