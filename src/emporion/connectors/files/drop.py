"""Incoming files processed exactly once: the change feed of a file drop.

The ERP drops export files into the incoming folder. Each poll of an entity's feed takes the files of
that entity's sources (oldest first: modification time, then name; at most `poll_files`), reads them
and reports keys:

- a **full export** (`full: true`) is the truth: its rows are hashed and diffed (`rows.fulldiff`)
  against the snapshot of the previous export, which travels in the cursor; changed, new and deleted
  keys are reported. Of several exports taken in one poll only the newest is diffed (it is the truth;
  the older ones are handled without being read).
- a **delta** (`full: false`) reports every key it holds; a `change.soft_delete` column marks
  deletions, which the connector's reads then leave out. A delta is copied into `processed/` as
  soon as it is read (`keep`), before its keys are reported: its rows stay part of the truth even
  when the ERP overwrites a fixed-name delta before the next poll could move it.
- a row that cannot be read is written to `rejects/<file>.rejects.csv` (row, column, reason) and its
  key, when it has one, is reported (reads give an `Unmappable` for it: a dead letter naming file,
  row and column). A file that cannot be read at all is reported as the key `file:<name>` (a dead
  letter naming the file and the line) and its reason is written to `rejects/<file>.reason.txt`.

Correctness: the cursor names the files whose keys it reports (`pending`), with their destination
and checksum. A file is moved out of the incoming folder (to `processed/`, or to `rejects/` when it
could not be read) only by the *next* poll, which is handed that cursor back: the engine stores a
cursor in the same transaction as the keys it came with, so a cursor handed back proves those keys
are queued. Hence:

- a crash before the engine stored the cursor: the old cursor comes back, which does not name the
  files, they are still in the incoming folder, so they are read and reported again (at least once);
- a crash after: the cursor comes back naming them; they are moved and journalled, never reported
  again (at most once for a stored cursor);
- a crash while moving: moving is idempotent (a file already gone from the incoming folder is done);
- a file of the same name dropped again meanwhile (an ERP exporting to a fixed name) is not the
  file the cursor names: only a file whose size and modification time are those the cursor
  recorded is moved; the new one stays and is read by this poll.

The journal (`processed/.journal-<month>.jsonl`, `journal.py`: name, sha256, size, modification
time, rows, rejects, time) lists what was handled. A file whose name, checksum and modification
time are journalled is the same delivery again (an upload repeated by the ERP's transfer tool):
it goes to `processed/duplicates/` unread, where neither the feed nor reads see it, so both agree
that it never came. The time is part of the key, not the checksum alone as one might first do: an
ERP exporting deltas to a fixed name may write the same content twice with a change in between
("stock 5", "stock 3", "stock 5"), and taking the third for a repeat of the first would leave the
shop at 3.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import posixpath
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from emporion.connectors.base import ChangeBatch
from emporion.connectors.files.formats import Reject, Rows, RowStream, UnreadableFile, stream_file
from emporion.connectors.files.journal import DropCursor, Handled, Identity, append, journalled
from emporion.connectors.files.settings import FilesConnection, FileSource
from emporion.connectors.files.store import FileInfo, Store
from emporion.connectors.rows.fulldiff import Snapshot, diff

FILE_KEY_PREFIX = "file:"
DUPLICATES = "duplicates"  # under processed/: repeated deliveries, read by nobody
_STORED_PREFIX = re.compile(r"^[0-9a-f]{12}~")

Entries = tuple[list[tuple[str, bytes]], list[Reject]]


def original_name(name: str) -> str:
    """The name a processed file had in the incoming folder (a clash adds `<sha12>~` before it)."""
    return _STORED_PREFIX.sub("", name)


def kept_name(sha256: str, name: str, mtime: float) -> str:
    """A handled file's name in the processed folder when its own name is taken, or a delta's copy:
    one per delivery (content and time), so that equal deltas at two times are both kept."""
    tag = hashlib.sha256(f"{sha256}@{mtime!r}".encode()).hexdigest()[:12]
    return f"{tag}~{name}"


def checksum(data: bytes) -> str:
    """A file's SHA-256, as the journal keeps it."""
    return hashlib.sha256(data).hexdigest()


def file_key(name: str) -> str:
    """The key that reports a file that could not be read at all."""
    return FILE_KEY_PREFIX + name


@dataclass(frozen=True)
class FeedSource:
    """One source an entity's feed follows: its files, how its rows hash, how its keys become records'.

    `entries` gives each row's snapshot key and hash (and the rows it could not key); `to_keys` turns
    snapshot keys (a product's key, or the SKU of a stock row) into the entity's record keys.
    """

    name: str
    source: FileSource
    entries: Callable[[Rows], Entries]
    to_keys: Callable[[list[str]], Awaitable[list[str]]]
    keyed: bool = True  # its rows' keys are the entity's record keys (a stock row's are not)


def hash_rows(
    feed: FeedSource, name: str, data: bytes
) -> tuple[RowStream, list[tuple[str, bytes]], list[Reject]]:
    """A file's rows hashed as they are read (never held as rows): the stream (its parse rejects),
    the hashes and the rows the feed refused. Raises UnreadableFile for a file that cannot be read."""
    stream = stream_file(name, data, feed.source, feed.source.key)
    hashed, refused = feed.entries(stream)
    return stream, hashed, refused


class Drop:
    """The incoming, processed and rejects folders of one drop, and the journal of handled files."""

    def __init__(self, store: Store, settings: FilesConnection) -> None:
        self.store = store
        self.incoming = settings.incoming
        self.processed = settings.processed
        self.rejects = settings.rejects
        self.poll_files = settings.poll_files
        self.settle_seconds = settings.settle_seconds

    async def settle(self, cursor: DropCursor) -> None:
        """Move the files a stored cursor reports out of the incoming folder, journalled first.

        Only a file still as the cursor recorded it (size and modification time) is moved: one of the
        same name dropped since is another export, left for this poll to read. A delta overwritten
        meanwhile was kept when it was read, and is journalled all the same.
        """
        present = {info.path: info for info in await self.store.list(self.incoming)}
        known = await journalled(self.store, self.processed)
        done: list[Handled] = []
        moves: list[tuple[Handled, bool]] = []
        for item in cursor.pending:
            info = present.get(item.path)
            unchanged = info is not None and (info.size, info.mtime) == (item.size, item.mtime)
            kept = await self.store.exists(
                posixpath.join(item.destination, kept_name(item.sha256, item.name, item.mtime))
            )
            if unchanged or kept:
                done.append(item)
            if unchanged:
                moves.append((item, kept))
        await append(self.store, self.processed, [item for item in done if item.identity not in known])
        for item, kept in moves:
            if kept:  # a delta kept when it was read: the original can go
                await self.store.remove(item.path)
                continue
            target = posixpath.join(item.destination, item.name)
            if await self.store.exists(target):
                target = posixpath.join(item.destination, kept_name(item.sha256, item.name, item.mtime))
            await self.store.move(item.path, target)

    async def keep(self, info: FileInfo, data: bytes, sha: str) -> None:
        """Copy a delta into the processed folder as soon as it is read (same modification time).

        A delta's rows stay part of the truth after it is gone from the incoming folder; an ERP that
        writes its deltas to one name may overwrite a file before the next poll moves it, so the copy
        is made before its keys are reported.
        """
        await self.store.copy(
            data, posixpath.join(self.processed, kept_name(sha, info.name, info.mtime)), info.mtime
        )

    async def incoming_files(self, source: FileSource, *, settled: bool = True) -> list[FileInfo]:
        """The source's files waiting in the incoming folder, oldest first.

        A file modified less than `settle_seconds` ago is left for a later poll (`settled`): an ERP
        that writes its export in place (no temporary name) may not have finished it.
        """
        found = await self.store.list(self.incoming, source.pattern)
        if not self.settle_seconds or not settled:
            return found
        now = time.time()
        return [info for info in found if now - info.mtime >= self.settle_seconds]

    async def processed_files(self, source: FileSource) -> list[FileInfo]:
        """The source's files already handled, oldest first."""
        found = await self.store.list(self.processed, "*")
        return [info for info in found if fnmatchcase(original_name(info.name), source.pattern)]

    async def start(self, sources: Sequence[FeedSource]) -> ChangeBatch:
        """A feed from now: what is there now counts as seen (the initial sync reads it).

        A file that cannot be read at all is not seen: it stays in the incoming folder for the first
        poll, which sends it to the rejects folder with its reason and reports its `file:<name>` key
        (a dead letter), as for any later file. The rows the readable files refuse are written to
        their rejects files now (the initial sync reads them as dead letters).
        """
        cursor = DropCursor()
        for feed in sources:
            files = await self.incoming_files(feed.source)
            unreadable: set[str] = set()
            if feed.source.full:
                found = [*await self.processed_files(feed.source), *files]
                for info in sorted(found, key=lambda i: (i.mtime, original_name(i.name)), reverse=True):
                    try:  # the newest readable export is the truth the snapshot starts from
                        hashed = await self._entries(feed, info.name, await self.store.read(info.path))
                    except UnreadableFile:
                        unreadable.add(info.path)
                        continue
                    cursor.snapshots[feed.name] = (await asyncio.to_thread(diff, None, hashed))[2].dumps()
                    break
            for info in files:
                if info.path in unreadable:
                    continue
                data = await self.store.read(info.path)
                if not feed.source.full:
                    try:
                        await self._entries(feed, info.name, data)
                    except UnreadableFile:
                        continue  # left for the first poll to reject and report
                sha = await asyncio.to_thread(checksum, data)
                cursor.pending.append(Handled(info.path, self.processed, sha, info.size, info.mtime))
                if not feed.source.full:
                    await self.keep(info, data, sha)
        return ChangeBatch([], cursor.dumps())

    async def _entries(self, feed: FeedSource, name: str, data: bytes) -> list[tuple[str, bytes]]:
        """A file's row hashes (read as a stream); the rows it refuses written to its rejects file."""
        stream, hashed, refused = await asyncio.to_thread(hash_rows, feed, name, data)
        if stream.rejects or refused:
            await self._write_rejects(name, [*stream.rejects, *refused])
        return hashed

    async def poll(self, sources: Sequence[FeedSource], text: str) -> ChangeBatch:
        """Keys changed since the cursor `text`: settle its files, then read the next incoming ones."""
        cursor = DropCursor.loads(text)
        await self.settle(cursor)
        journal = await journalled(self.store, self.processed)
        waiting = [(info, feed) for feed in sources for info in await self.incoming_files(feed.source)]
        waiting.sort(key=lambda pair: (pair[0].mtime, pair[0].name))
        taken, more = waiting[: self.poll_files], len(waiting) > self.poll_files
        after = DropCursor(snapshots=dict(cursor.snapshots))
        keys: list[str] = []
        for feed in sources:
            files = [info for info, of in taken if of is feed]
            keys += await self._take(feed, files, journal, after)
        return ChangeBatch(list(dict.fromkeys(keys)), after.dumps(), more)

    async def _take(
        self, feed: FeedSource, files: list[FileInfo], journal: set[Identity], after: DropCursor
    ) -> list[str]:
        """Handle one source's taken files (oldest first); the record keys they report."""
        contents: list[tuple[FileInfo, bytes, str]] = []
        for info in files:
            data = await self.store.read(info.path)
            sha = await asyncio.to_thread(checksum, data)
            if (info.name, sha, info.mtime) in journal:
                duplicates = posixpath.join(self.processed, DUPLICATES)
                after.pending.append(Handled(info.path, duplicates, sha, info.size, info.mtime))
            else:
                contents.append((info, data, sha))
        keys: list[str] = []
        diffed = False
        for info, data, sha in reversed(contents):  # newest first: a full export's newest is the truth
            handled = Handled(info.path, self.processed, sha, info.size, info.mtime)
            after.pending.append(handled)
            if feed.source.full and diffed:
                continue
            try:
                stream, hashed, refused = await asyncio.to_thread(hash_rows, feed, info.name, data)
            except UnreadableFile as error:
                handled.destination = self.rejects
                await self._write_reason(info.name, error)
                keys.append(file_key(info.name))
                continue
            rejects = [*stream.rejects, *refused]
            handled.rows, handled.rejects = len(hashed) + len(refused), len(rejects)
            if rejects:
                await self._write_rejects(info.name, rejects)
            if feed.keyed:
                keys += [reject.key for reject in rejects if reject.key]
            else:  # a refused sub-entity row names its owner (a parse reject only its own row)
                keys += await feed.to_keys([reject.key for reject in refused if reject.key])
            if feed.source.full:
                previous = after.snapshots.get(feed.name)
                before = Snapshot.loads(previous) if previous else None
                changed, deleted, snapshot = await asyncio.to_thread(diff, before, hashed)
                after.snapshots[feed.name] = snapshot.dumps()
                keys += await feed.to_keys([*changed, *deleted])
                diffed = True
            else:
                await self.keep(info, data, sha)
                keys += await feed.to_keys(list(dict.fromkeys(key for key, _ in hashed)))
        return keys

    async def _write_rejects(self, name: str, rejects: Iterable[Reject]) -> None:
        """`rejects/<file>.rejects.csv`: row, column, reason of each refused row."""
        lines = ["row;column;reason"]
        lines += [f"{r.row};{_cell(r.column)};{_cell(r.reason)}" for r in rejects]
        path = posixpath.join(self.rejects, f"{name}.rejects.csv")
        await self.store.write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))

    async def _write_reason(self, name: str, error: UnreadableFile) -> None:
        """`rejects/<file>.reason.txt`: why a whole file could not be read, and where."""
        path = posixpath.join(self.rejects, f"{name}.reason.txt")
        text = json.dumps({"reason": error.reason, "where": error.where})
        await self.store.write_atomic(path, text.encode("utf-8") + b"\n")

    async def reason(self, name: str) -> tuple[str, str | None] | None:
        """Why file `name` could not be read (reason, where), if it was refused."""
        path = posixpath.join(self.rejects, f"{name}.reason.txt")
        if not await self.store.exists(path):
            return None
        data: Any = json.loads(await self.store.read(path))
        return str(data["reason"]), data.get("where")


def _cell(text: str) -> str:
    """A value fit for the rejects file's `;`-separated cells."""
    return '"' + text.replace('"', '""') + '"' if ";" in text or '"' in text or "\n" in text else text
