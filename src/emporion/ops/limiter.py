"""Login limits per (user, client address) and per address, and the client address behind trusted proxies.

An attempt is reserved in the same step as the limit is checked (no `await` between), so parallel
guesses cannot all pass the check while the first ones are still being verified. Counting per user
*and address* means that nobody elsewhere can lock a user out; the looser per-address limit stops one
client from trying many user names (IPv6 clients count per /64, as one host usually holds a whole /64).
The counts live in this process's memory, bounded: entries older than the window are dropped, and past
`max_entries` the least recently used go first. A restart forgets them; each process counts its own.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ADDRESS_ATTEMPTS_FACTOR = 4  # the per-address limit, unless configured: this many times the per-user one
MAX_ENTRIES = 10_000  # about 3 MB at most
REFUSALS_AUDITED = 3  # refused attempts per address and window that get an audit line
UNKNOWN = "unknown"


@dataclass(slots=True)
class _Attempts:
    """The reserved attempts of one key within the window (oldest first) and its audited refusals."""

    stamps: list[float] = field(default_factory=list)
    refusals: int = 0
    refusals_since: float = 0.0

    def prune(self, horizon: float) -> None:
        """Forget the attempts at or before `horizon`."""
        while self.stamps and self.stamps[0] <= horizon:
            del self.stamps[0]


@dataclass(frozen=True, slots=True)
class Verdict:
    """A login attempt reserved (`wait` 0) or refused for `wait` seconds; `audit`: note the refusal."""

    wait: float
    audit: bool = False
    keys: tuple[tuple[str, ...], ...] = ()
    stamp: float = 0.0

    @property
    def allowed(self) -> bool:
        """Whether the attempt may go on to the password check."""
        return self.wait <= 0


def address_group(address: str) -> str:
    """The key an address is counted under: itself, an IPv6 address's /64, or "unknown"."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


class LoginLimiter:
    """Login attempts per (user, address) over a sliding window, and a looser limit per address."""

    def __init__(
        self, attempts: int, window: float, address_attempts: int, max_entries: int = MAX_ENTRIES
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.address_attempts = address_attempts
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, ...], _Attempts] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def reserve(self, user: str, client: str) -> Verdict:
        """Check the limits and, when they allow it, count this attempt at once (before verifying it)."""
        now = time.monotonic()
        self._drop_expired(now)
        address_key, pair_key = ("address", address_group(client)), ("pair", user, client)
        waits = [
            stamps[-limit] + self.window - now
            for key, limit in ((address_key, self.address_attempts), (pair_key, self.attempts))
            if len(stamps := self._recent(key, now)) >= limit
        ]
        if waits:
            noted = self._entries.get(address_key) or self._entries[pair_key]
            return Verdict(max(waits), audit=self._note_refusal(noted, now))
        for key in (address_key, pair_key):
            entry = self._entries.setdefault(key, _Attempts())
            entry.stamps.append(now)
            self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return Verdict(0.0, keys=(address_key, pair_key), stamp=now)

    def succeeded(self, verdict: Verdict) -> None:
        """A good login: the pair's count is cleared and the address gets its attempt back."""
        address_key, pair_key = verdict.keys
        self._entries.pop(pair_key, None)
        entry = self._entries.get(address_key)
        if entry is not None and verdict.stamp in entry.stamps:
            entry.stamps.remove(verdict.stamp)

    def _recent(self, key: tuple[str, ...], now: float) -> list[float]:
        """The attempts of `key` still within the window (without adding an entry)."""
        entry = self._entries.get(key)
        if entry is None:
            return []
        entry.prune(now - self.window)
        return entry.stamps

    def _note_refusal(self, entry: _Attempts, now: float) -> bool:
        """Whether this refusal gets an audit line (a few per address and window, not one per try)."""
        if entry.refusals_since <= now - self.window:
            entry.refusals, entry.refusals_since = 0, now
        entry.refusals += 1
        return entry.refusals <= REFUSALS_AUDITED

    def _drop_expired(self, now: float) -> None:
        """Drop the least recently used entries whose attempts have all left the window."""
        horizon = now - self.window
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            entry.prune(horizon)
            if entry.stamps:
                return
            del self._entries[key]


class TrustedProxies:
    """The peers allowed to name the client in `X-Forwarded-For` (`server.console.trusted_proxies`)."""

    def __init__(self, networks: Iterable[IPNetwork]) -> None:
        self.networks = tuple(networks)

    def trusts(self, address: str) -> bool:
        """Whether `address` is one of the trusted proxies."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        ip = getattr(ip, "ipv4_mapped", None) or ip
        return any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded: Iterable[str]) -> str:
        """The client: the peer, or behind trusted proxies the right-most untrusted forwarded hop.

        Hops left of it were written by the client itself and are ignored; a hop that is not an
        address counts as "unknown".
        """
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for header in forwarded for hop in header.split(",")]
        address = peer
        for hop in reversed(hops):
            if not self.trusts(hop):
                return _valid(hop)
            address = hop
        return address


def _valid(address: str) -> str:
    """`address` when it is an IP address, else "unknown" (a forged value is no key to count under)."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return UNKNOWN
