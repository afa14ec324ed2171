"""How often to poll a change feed: slowly while the connection's webhooks deliver, fast when they do not.

A feed whose connection takes webhooks for its entity (a shop's orders) is polled every
`webhook_poll_interval` seconds (60 by default) while its webhooks are known to work, else every
`poll_interval` (2 s): a day of two-second polls is 43,200 requests to the shop for what the webhooks
already said. The webhooks are known to work once a delivery from the connection has arrived since
the engine started, as long as

- every record a poll finds changed was also delivered within `webhook_poll_interval` seconds of
  the poll (a shop may deliver from a cron job, some seconds late), and
- the webhook check did not find them broken (disabled, deleted) since the last delivery.

A change the poll found but no webhook delivered makes the feed fast again until a delivery arrives
after it; so does a repair of the webhooks. The poll and the sliding reconcile still catch what the
webhooks missed, only sooner or later. What arrived is known per process (the inbox processor of
this engine tells): where several engines share an inbox, a delivery another process handled looks
missed here, and the feed stays fast, never slower than it should be.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

KEEP_SECONDS = 3600.0  # delivered keys remembered this long (and at most MAX_KEYS of them)
MAX_KEYS = 100_000
OVERLAP_SECONDS = 120.0  # a poll's window reaches back this far: a delivery may precede it by as much


class WebhookPulse:
    """What the webhooks of each connection delivered lately, and when they were last found broken."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._last: dict[str, float] = {}
        self._broken: dict[str, float] = {}
        self._keys: OrderedDict[tuple[str, str, str], float] = OrderedDict()

    def delivered(self, connection: str, entity: str, keys: Iterable[str], at: float | None = None) -> None:
        """A delivery from `connection` named these records of `entity`."""
        now = self.clock() if at is None else at
        self._last[connection] = max(now, self._last.get(connection, now))
        for key in keys:
            entry = (connection, entity, str(key))
            self._keys.pop(entry, None)
            self._keys[entry] = now
        while self._keys and (
            len(self._keys) > MAX_KEYS or now - next(iter(self._keys.values())) > KEEP_SECONDS
        ):
            self._keys.popitem(last=False)

    def broken(self, connection: str, at: float | None = None) -> None:
        """The connection's webhooks were found not delivering (disabled, paused, missing)."""
        self._broken[connection] = self.clock() if at is None else at

    def healthy(self, connection: str) -> bool:
        """A delivery arrived, and none of the webhooks was found broken since."""
        last = self._last.get(connection)
        return last is not None and last > self._broken.get(connection, float("-inf"))

    def last_delivery(self, connection: str) -> float | None:
        """When the last delivery from `connection` arrived (None: none since the start)."""
        return self._last.get(connection)

    def delivered_since(self, connection: str, entity: str, key: str, since: float) -> bool:
        """Whether a delivery named this record at `since` or later."""
        at = self._keys.get((connection, entity, str(key)))
        return at is not None and at >= since


class FeedPacer:
    """The wait before the next poll of one feed, from what its polls found and its webhooks delivered."""

    def __init__(
        self,
        fast: float,
        slow: float | None,
        pulse: WebhookPulse,
        connection: str | None,
        entity: str,
    ) -> None:
        """`connection` None: a feed no webhook covers, always polled every `fast` seconds."""
        self.fast = fast
        self.slow = max(slow, fast) if slow is not None and connection is not None else None
        self.pulse = pulse
        self.connection = connection or ""
        self.entity = entity
        self.awaiting: dict[str, float] = {}  # records a poll found changed, no delivery seen yet
        self.polls = 0  # how often the feed was polled (for logs and tests)

    @property
    def lookback(self) -> float:
        """How long before a poll a delivery may have named what the poll finds."""
        return 2 * (self.slow or self.fast) + OVERLAP_SECONDS

    def found(self, keys: Iterable[str], now: float) -> None:
        """A poll found these records changed: those no delivery named are awaited."""
        self.polls += 1
        if self.slow is None:
            return
        for key in keys:
            if not self.pulse.delivered_since(self.connection, self.entity, key, now - self.lookback):
                self.awaiting.setdefault(str(key), now)

    def interval(self, now: float) -> float:
        """Seconds until the next poll: slow while the webhooks keep up, fast when they do not."""
        if self.slow is None or not self.pulse.healthy(self.connection):
            return self.fast
        grace = self.slow
        last = self.pulse.last_delivery(self.connection) or float("-inf")
        for key, at in list(self.awaiting.items()):
            delivered = self.pulse.delivered_since(self.connection, self.entity, key, at - self.lookback)
            if delivered or last > at + grace:  # delivered, or deliveries flow again since it was missed
                del self.awaiting[key]
        if any(now - at >= grace for at in self.awaiting.values()):
            return self.fast  # a change no webhook told of: poll fast until a delivery arrives
        if self.awaiting:  # look again when the first awaited delivery is due
            return max(self.fast, min(self.slow, min(self.awaiting.values()) + grace - now))
        return self.slow

    @property
    def slowed(self) -> bool:
        """Whether the last answer could be the slow interval (for logs and tests)."""
        return self.slow is not None and self.pulse.healthy(self.connection) and not self.awaiting
