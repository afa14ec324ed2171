"""What the file feed remembers: the files its cursor reports, and the journal of files handled.

The cursor (`DropCursor`) travels through the engine, which stores it with the keys it came with; the
journal (`processed/.journal-<year>-<month>.jsonl`, one file a month so that each poll reads and
rewrites a bounded file) stays in the drop. Repeated deliveries are recognised over the current and
the previous month; an older file delivered again is read again, which reports its keys once more
(at least once) and loses nothing. A file is known by its name, checksum and
modification time (`Handled.identity`): the same bytes under the same name and time are the same
delivery again; the same bytes at another time are a new export that happens to say the same.
"""

from __future__ import annotations

import base64
import json
import posixpath
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from emporion.connectors.files.store import Store

JOURNAL = ".journal-{month}.jsonl"  # {month}: 2026-12
_VERSION = "fc2:"

Identity = tuple[str, str, float]  # name, sha256, modification time


@dataclass
class Handled:
    """A file the cursor reports: where it goes on the next poll, and what the journal says of it."""

    path: str
    destination: str
    sha256: str
    size: int
    mtime: float
    rows: int = 0
    rejects: int = 0

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def identity(self) -> Identity:
        """What tells this delivery from another."""
        return (self.name, self.sha256, self.mtime)


@dataclass
class DropCursor:
    """What the feed's cursor holds: files to move on the next poll and the full exports' snapshots."""

    pending: list[Handled] = field(default_factory=list)
    snapshots: dict[str, str] = field(default_factory=dict)  # source name -> Snapshot.dumps()

    def dumps(self) -> str:
        """The cursor as the compact text the engine stores."""
        data = {
            "pending": [
                [h.path, h.destination, h.sha256, h.size, h.mtime, h.rows, h.rejects] for h in self.pending
            ],
            "snapshots": self.snapshots,
        }
        packed = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)
        return _VERSION + base64.b64encode(packed).decode()

    @classmethod
    def loads(cls, text: str) -> DropCursor:
        """A cursor from its text; a damaged or foreign text is a ValueError."""
        if not text.startswith(_VERSION):
            raise ValueError("not a file-drop cursor")
        try:
            data = json.loads(zlib.decompress(base64.b64decode(text[len(_VERSION) :], validate=True)))
            pending = [
                Handled(str(p), str(d), str(s), int(n), float(m), int(r), int(j))
                for p, d, s, n, m, r, j in data["pending"]
            ]
            return cls(pending, {str(k): str(v) for k, v in data["snapshots"].items()})
        except (ValueError, KeyError, TypeError, zlib.error) as error:
            raise ValueError(f"damaged file-drop cursor ({type(error).__name__})") from None


def journal_path(folder: str, moment: datetime) -> str:
    """The journal file of the month of `moment`."""
    return posixpath.join(folder, JOURNAL.format(month=moment.strftime("%Y-%m")))


async def journalled(store: Store, folder: str) -> set[Identity]:
    """The identities of the files handled this month and the last."""
    now = datetime.now(UTC)
    last_month = now.replace(day=1) - timedelta(days=1)
    found: set[Identity] = set()
    for path in (journal_path(folder, last_month), journal_path(folder, now)):
        if not await store.exists(path):
            continue
        for line in (await store.read(path)).decode("utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
                found.add((str(entry["name"]), str(entry["sha256"]), float(entry["mtime"])))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash: its file is handled again, never lost
    return found


async def append(store: Store, folder: str, handled: Sequence[Handled]) -> None:
    """Add `handled` to this month's journal (rewritten atomically: SFTP has no reliable append)."""
    if not handled:
        return
    now = datetime.now(UTC)
    path = journal_path(folder, now)
    before = await store.read(path) if await store.exists(path) else b""
    if before and not before.endswith(b"\n"):
        before += b"\n"
    stamp = now.isoformat(timespec="seconds")
    lines = [
        json.dumps(
            {
                "name": item.name,
                "sha256": item.sha256,
                "size": item.size,
                "mtime": item.mtime,
                "rows": item.rows,
                "rejects": item.rejects,
                "destination": item.destination,
                "time": stamp,
            }
        )
        for item in handled
    ]
    await store.write_atomic(path, before + "\n".join(lines).encode() + b"\n")
