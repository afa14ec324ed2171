"""minishop's webhooks: subscriptions by topic, and signed deliveries sent from a background thread.

A change of a product, category, customer or order is announced to every URL subscribed to its topic
(`product.updated`, `order.created`, ...) with a JSON body `{"id", "topic", "modified"}` and headers
X-Minishop-Topic, X-Minishop-Delivery (unique), X-Minishop-Timestamp and X-Minishop-Signature: the
HMAC of "{timestamp}.{body}" (or of the body alone) with the subscription's secret, hex or base64.
Failed deliveries are not retried, only counted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx


@dataclass(frozen=True)
class HookSigning:
    """How deliveries are signed: the HMAC's algorithm, its encoding and what is signed."""

    algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    signed: Literal["timestamp.body", "body"] = "timestamp.body"

    def sign(self, secret: str, timestamp: str, body: bytes) -> str:
        """The signature header's value for one delivery."""
        message = body if self.signed == "body" else timestamp.encode() + b"." + body
        digest = hmac.new(secret.encode(), message, getattr(hashlib, self.algorithm)).digest()
        return digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode()


@dataclass
class Hooks:
    """The subscriptions of a shop and the thread that delivers its announcements."""

    signing: HookSigning = field(default_factory=HookSigning)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    delivered: int = 0
    failed: int = 0
    _queue: queue.Queue[tuple[str, bytes, str, str] | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, url: str, topic: str, secret: str) -> dict[str, Any]:
        """Deliver `topic` to `url`, signed with `secret`; the subscription (without its secret)."""
        with self._lock:
            ident = len(self.subscriptions) + 1
            self.subscriptions.append({"id": ident, "url": url, "topic": topic, "secret": secret})
            if self._thread is None:
                self._thread = threading.Thread(target=self._deliver_all, daemon=True)
                self._thread.start()
        return {"id": ident, "url": url, "topic": topic}

    def listed(self) -> list[dict[str, Any]]:
        """The subscriptions as the API lists them (never their secrets)."""
        with self._lock:
            return [{k: v for k, v in s.items() if k != "secret"} for s in self.subscriptions]

    def announce(self, kind: str, ident: int, event: str, modified: str) -> None:
        """Queue a delivery of `<kind>.<event>` to each subscriber of that topic."""
        topic = f"{kind}.{event}"
        with self._lock:
            targets = [s for s in self.subscriptions if s["topic"] == topic]
        body = json.dumps({"id": ident, "topic": topic, "modified": modified}).encode()
        for subscription in targets:
            self._queue.put((subscription["url"], body, topic, subscription["secret"]))

    def stop(self) -> None:
        """End the delivery thread (after the deliveries already queued)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None

    def _deliver_all(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while (job := self._queue.get()) is not None:
                url, body, topic, secret = job
                timestamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/json",
                    "X-Minishop-Topic": topic,
                    "X-Minishop-Delivery": str(uuid.uuid4()),
                    "X-Minishop-Timestamp": timestamp,
                    "X-Minishop-Signature": self.signing.sign(secret, timestamp, body),
                }
                try:
                    client.post(url, content=body, headers=headers).raise_for_status()
                    self.delivered += 1
                except httpx.HTTPError:
                    self.failed += 1
