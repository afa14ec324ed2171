"""What the sandbox was asked, for tests and benchmarks: requests per second, and overlapping writes.

Every API request is counted in the second it arrived. A write to products or variations marks the
records it names (by SKU and by id) as being written from its arrival until its answer, fault
latency included; a second write naming one of them meanwhile is an overlap: two workers handling one
item at once. A well-behaved fleet of workers never causes one.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_WRITE_PATH = re.compile(r"^/products(?:/(?P<parent>\d+)/variations)?(?:/(?P<id>\d+)|/batch)?/?$")
MAX_OVERLAPS = 1000


def written_keys(method: str, path: str, body: bytes) -> set[str]:
    """The records a products/variations write names, as `products:sku:X` / `variations:id:N` keys."""
    path = "/" + path.lstrip("/")  # below the API prefix, with or without its slash
    match = _WRITE_PATH.match(path)
    if method not in ("POST", "PUT", "PATCH") or match is None:
        return set()
    kind = "variations" if match["parent"] else "products"
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return set()
    if not isinstance(data, dict):
        return set()
    batch = path.rstrip("/").endswith("/batch")
    items = [*data.get("create", []), *data.get("update", [])] if batch else [data]
    keys = {f"{kind}:id:{match['id']}"} if match["id"] else set()
    for item in items:
        if isinstance(item, dict):
            if item.get("sku"):
                keys.add(f"{kind}:sku:{item['sku']}")
            if item.get("id"):
                keys.add(f"{kind}:id:{item['id']}")
    return keys


class Traffic:
    """Counts requests per second and records product writes that overlapped on one record."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.per_second: Counter[int] = Counter()
        self.total = 0
        self.overlaps: list[str] = []
        self._writing: Counter[str] = Counter()

    @contextmanager
    def request(self, method: str, path: str, body: bytes) -> Iterator[None]:
        """Count one API request; while it runs, hold the records it writes."""
        keys = written_keys(method, path, body)
        with self._lock:
            self.total += 1
            self.per_second[int(time.time())] += 1
            for key in keys:
                if self._writing[key] and len(self.overlaps) < MAX_OVERLAPS:
                    self.overlaps.append(key)
                self._writing[key] += 1
        try:
            yield
        finally:
            with self._lock:
                for key in keys:
                    self._writing[key] -= 1
                    if not self._writing[key]:
                        del self._writing[key]

    def clear(self) -> None:
        """Forget what was counted."""
        with self._lock:
            self.per_second.clear()
            self.total = 0
            self.overlaps.clear()

    def describe(self) -> dict[str, Any]:
        """Totals, requests in each second (unix time), and the overlapping writes seen."""
        with self._lock:
            return {
                "requests": self.total,
                "per_second": {str(second): count for second, count in sorted(self.per_second.items())},
                "overlaps": list(self.overlaps),
            }
