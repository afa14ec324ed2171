"""Change detection by full-result hash diff: the change mode every table, query and file supports.

Each poll reads the whole source (in pages), hashes every row (`row_hash`) and compares the hashes
with those of the last poll, kept in a `Snapshot`. `diff` reports:

- **changed or new**: a key whose hash differs from the snapshot's, or that the snapshot lacks;
- **deleted**: a key the snapshot has and this poll did not read;
- and the new snapshot, the cursor for the next poll.

A key with several rows (all stock rows of one SKU) gets one hash for all of them: `group_hash`,
which does not depend on their order. `diff` combines repeated keys the same way, so a connector may
hand it rows ungrouped.

Why nothing is lost between polls. The snapshot *is* the change feed's cursor: the connector returns
it inside the cursor string with the keys it reported, and the engine stores that cursor in the same
transaction that queues the keys. So either both are stored (the keys are queued, and the next poll
compares with the state they were reported from) or neither (the next poll compares with the older
snapshot and reports them again). A change made while a poll reads is either seen by this poll
(its page was read after the change) or differs from the snapshot this poll stores, so the next poll
reports it: a row's hash in the snapshot is always the hash of a state that was read, and any later
state with a different hash is reported once it is read. A change that is undone before the next
poll is not reported, and need not be: the source then holds what the snapshot says was synced.
A row that moves between pages while the poll reads (keyset paging over a changing table) is read at
most once per key and at least once if it exists throughout; one inserted and deleted between two
polls never existed for the shop. Rows are consumed once and never held: memory is two snapshots
(key -> 8 bytes), about 150 bytes per key in Python, and the stored cursor about 11 bytes per key.

Hashes are the same across drivers: column names sorted, numbers (int, Decimal, float, bool) as their
normalised decimal text (`Decimal('1.50')`, `Decimal('1.5')`, `1.5` and a MariaDB `TINYINT` 1 against
a PostgreSQL `true` agree), times as ISO text in UTC (naive times taken as UTC), text as UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from hashlib import blake2b
from typing import Any

HASH_BYTES = 8
_VERSION = "fd1:"
_MASK = (1 << 64) - 1


def row_hash(values: Mapping[str, Any]) -> bytes:
    """8 bytes of blake2b over the row's canonical encoding (names sorted, values normalised)."""
    parts: list[str] = []
    for name in sorted(values):
        text = _canonical(values[name])
        parts.append(f"{len(name)}:{name}{len(text)}:{text}")
    return blake2b("".join(parts).encode("utf-8", "surrogatepass"), digest_size=HASH_BYTES).digest()


def _canonical(value: Any) -> str:
    """A value's type tag and normalised text: the same for every driver's spelling of it."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return "s" + value
    if isinstance(value, bool):
        return "n1" if value else "n0"
    if isinstance(value, int):
        return f"n{value}"
    if isinstance(value, (Decimal, float)):
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        if not number.is_finite():
            return "x" + str(number)
        if number == number.to_integral_value():
            return f"n{int(number)}"
        return "n" + format(number.normalize(), "f")
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return "t" + moment.isoformat()
    if isinstance(value, date):
        return "d" + value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b" + bytes(value).hex()
    return "o" + str(value)


def group_hash(hashes: Iterable[bytes]) -> bytes:
    """One hash for a key's several rows, whatever their order (their sum modulo 2**64; one row: its own)."""
    total = 0
    for item in hashes:
        total = (total + int.from_bytes(item, "big")) & _MASK
    return total.to_bytes(HASH_BYTES, "big")


class Snapshot:
    """The hashes of the last poll: key -> 8-byte hash; stored compressed inside the feed's cursor."""

    __slots__ = ("_hashes",)

    def __init__(self, hashes: Mapping[str, bytes] | None = None) -> None:
        self._hashes: dict[str, bytes] = dict(hashes or {})

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, key: object) -> bool:
        return key in self._hashes

    def __iter__(self) -> Iterator[str]:
        return iter(self._hashes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self._hashes == other._hashes

    def get(self, key: str) -> bytes | None:
        """The hash stored for `key`, None when the snapshot does not have it."""
        return self._hashes.get(key)

    def items(self) -> Iterable[tuple[str, bytes]]:
        """(key, hash) pairs, in the order they were added."""
        return self._hashes.items()

    def dumps(self) -> str:
        """Compact text: a version prefix, then base64 of zlib over the sorted keys and their hashes.

        Keys are front-coded (the bytes shared with the previous key, then the rest), which makes a
        run of article numbers a few bytes each before compression.
        """
        keys = sorted(self._hashes)
        names = bytearray(_varint(len(keys)))
        last = b""
        for key in keys:
            encoded = key.encode("utf-8", "surrogatepass")
            shared = _shared(last, encoded)
            names += _varint(shared) + _varint(len(encoded) - shared) + encoded[shared:]
            last = encoded
        hashes = b"".join(self._hashes[key] for key in keys)
        return _VERSION + base64.b64encode(zlib.compress(bytes(names) + hashes, 9)).decode("ascii")

    @classmethod
    def loads(cls, text: str) -> Snapshot:
        """A snapshot from `dumps`; a text of another version, or damaged, is refused with ValueError."""
        if not isinstance(text, str) or not text.startswith(_VERSION):
            raise ValueError("not a full-diff snapshot (unknown version)")
        try:
            raw = zlib.decompress(base64.b64decode(text[len(_VERSION) :], validate=True))
        except (binascii.Error, zlib.error, ValueError):
            raise ValueError("full-diff snapshot is damaged") from None
        return cls(_decoded(raw))


def _decoded(raw: bytes) -> dict[str, bytes]:
    """The keys and hashes of a snapshot's payload, checked: sorted, unique, and nothing left over."""
    count, offset = _read_varint(raw, 0)
    keys: list[str] = []
    last = b""
    for _ in range(count):
        shared, offset = _read_varint(raw, offset)
        size, offset = _read_varint(raw, offset)
        if shared > len(last) or offset + size > len(raw):
            raise ValueError("full-diff snapshot is damaged")
        last = last[:shared] + raw[offset : offset + size]
        try:
            keys.append(last.decode("utf-8", "surrogatepass"))
        except UnicodeDecodeError:
            raise ValueError("full-diff snapshot is damaged") from None
        offset += size
    if len(raw) - offset != count * HASH_BYTES or any(a >= b for a, b in itertools.pairwise(keys)):
        raise ValueError("full-diff snapshot is damaged")
    return {key: raw[offset + i * HASH_BYTES : offset + (i + 1) * HASH_BYTES] for i, key in enumerate(keys)}


def _shared(previous: bytes, current: bytes) -> int:
    """How many leading bytes `current` shares with `previous`."""
    limit = min(len(previous), len(current))
    index = 0
    while index < limit and previous[index] == current[index]:
        index += 1
    return index


def _varint(number: int) -> bytes:
    """`number` as an unsigned LEB128 varint."""
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(raw: bytes, offset: int) -> tuple[int, int]:
    """The varint at `offset` and the offset after it; ValueError past the end or absurdly long."""
    number = shift = 0
    while True:
        if offset >= len(raw) or shift > 63:
            raise ValueError("full-diff snapshot is damaged")
        byte = raw[offset]
        offset += 1
        number |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return number, offset


class Differ:
    """`diff` fed page by page: `add` each page's (key, hash) pairs as it arrives, then `finish`.

    For a connector that reads its pages on the event loop's threads (`asyncio.to_thread` per page)
    and so cannot hand `diff` one iterator; it holds the new snapshot only, never the rows.
    """

    def __init__(self, previous: Snapshot | None) -> None:
        self._before = previous._hashes if previous is not None else {}
        self._hashes: dict[str, bytes] = {}
        self._repeated: dict[str, int] = {}

    def add(self, pairs: Iterable[tuple[str, bytes]]) -> None:
        """Take the next rows' keys and hashes (a repeated key is combined as by `group_hash`)."""
        hashes, repeated = self._hashes, self._repeated
        for key, value in pairs:
            seen = hashes.get(key)
            if seen is None:
                hashes[key] = value
            else:
                total = repeated.get(key, int.from_bytes(seen, "big"))
                repeated[key] = (total + int.from_bytes(value, "big")) & _MASK

    def finish(self) -> tuple[list[str], list[str], Snapshot]:
        """(changed or new keys in the order first read, deleted keys sorted, the new snapshot)."""
        hashes = self._hashes
        for key, total in self._repeated.items():
            hashes[key] = total.to_bytes(HASH_BYTES, "big")
        before = self._before
        changed = [key for key, value in hashes.items() if before.get(key) != value]
        deleted = sorted(key for key in before if key not in hashes)
        snapshot = Snapshot()
        snapshot._hashes = hashes
        self._hashes, self._repeated = {}, {}
        return changed, deleted, snapshot


def diff(
    previous: Snapshot | None, current: Iterable[tuple[str, bytes]]
) -> tuple[list[str], list[str], Snapshot]:
    """(changed or new keys, deleted keys, the new snapshot): `current` is consumed once.

    Without a previous snapshot every key is new. Repeated keys in `current` are combined by
    `group_hash`. Changed keys come in the order first read, deleted keys sorted.
    """
    differ = Differ(previous)
    differ.add(current)
    return differ.finish()
