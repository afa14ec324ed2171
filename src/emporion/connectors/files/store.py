"""The file drop's storage: one small interface over a local folder and an SFTP server.

Paths are relative to the drop's root and use `/`. Every operation passes the connection's circuit
breaker and is told to request observers (metrics), so a drop that is away fails fast like any
system. Errors are typed: `Retryable` for network trouble, `AuthError` for refused credentials,
`Permanent` for a missing folder or a refused permission; each names the host and the path, never a
password or key.
"""

from __future__ import annotations

import asyncio
import builtins
import errno
import os
import posixpath
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from emporion.connectors.base import Permanent, Retryable
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.roles import RequestObserver

T = TypeVar("T")
TEMPORARY_PREFIX = ".tmp-"  # a file being written; never matched by a pattern, never read


@dataclass(frozen=True)
class FileInfo:
    """A file in a folder: its path (relative to the root), size and modification time."""

    path: str
    size: int
    mtime: float

    @property
    def name(self) -> str:
        """The file name without its folder."""
        return posixpath.basename(self.path)


def temporary_path(path: str) -> str:
    """Where `path` is written before it is renamed into place (same folder, `.tmp-<name>`)."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, TEMPORARY_PREFIX + name)


class Store(ABC):
    """A drop's folder tree: list, read, write atomically, move; each operation guarded and observed."""

    where: str  # how errors name the drop: a folder, or sftp host:port

    def __init__(self, circuit: CircuitBreaker) -> None:
        self.circuit = circuit
        self.observers: list[RequestObserver] = []

    async def _call(self, method: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one operation through the circuit breaker, telling observers of it and its outcome."""
        for observer in self.observers:
            await observer.before({})
        status = 500
        try:
            async with self.circuit.guard():
                result = await operation()
            status = 200
            return result
        except Permanent:
            status = 400
            raise
        finally:
            for observer in self.observers:
                await observer.after(method, status)

    async def list(self, folder: str, pattern: str = "*") -> list[FileInfo]:
        """Files in `folder` whose names match `pattern`, oldest first; hidden files (the journal)
        and temporary ones (`.tmp-*`) never. A folder that does not exist holds no files.
        """
        found = await self._call("LIST", lambda: self._list(folder))
        chosen: builtins.list[FileInfo] = [
            info for info in found if not info.name.startswith(".") and fnmatchcase(info.name, pattern)
        ]
        return sorted(chosen, key=lambda info: (info.mtime, info.name))

    async def read(self, path: str) -> bytes:
        """The whole content of the file at `path`."""
        return await self._call("READ", lambda: self._read(path))

    async def write_temporary(self, path: str, data: bytes) -> str:
        """Write `data` under the temporary name of `path` (folder made if needed); that name."""
        temporary = temporary_path(path)
        await self._call("WRITE", lambda: self._write(temporary, data))
        return temporary

    async def write_atomic(self, path: str, data: bytes) -> None:
        """Write `data` to `path` so that no reader ever sees part of it: a temporary name, then rename."""
        temporary = await self.write_temporary(path, data)
        await self.move(temporary, path)

    async def move(self, source: str, target: str) -> None:
        """Rename `source` to `target` (replacing it), making the target's folder when needed."""
        await self._call("MOVE", lambda: self._move(source, target))

    async def exists(self, path: str) -> bool:
        """Whether a file or folder exists at `path`."""
        return await self._call("STAT", lambda: self._exists(path))

    async def mkdir(self, folder: str) -> None:
        """Make `folder` and its parents when missing."""
        await self._call("MKDIR", lambda: self._mkdir(folder))

    async def remove(self, path: str) -> None:
        """Delete the file at `path` when it exists."""
        await self._call("DELETE", lambda: self._remove(path))

    async def copy(self, data: bytes, target: str, mtime: float) -> None:
        """Write `data` (a file already read) to `target` atomically, with the original's `mtime`."""
        temporary = await self.write_temporary(target, data)
        await self._call("SETSTAT", lambda: self._set_mtime(temporary, mtime))
        await self.move(temporary, target)

    async def close(self) -> None:  # noqa: B027 - a local folder holds nothing to release
        """Release the connection, if any."""

    @abstractmethod
    async def _list(self, folder: str) -> builtins.list[FileInfo]: ...

    @abstractmethod
    async def _read(self, path: str) -> bytes: ...

    @abstractmethod
    async def _write(self, path: str, data: bytes) -> None: ...

    @abstractmethod
    async def _move(self, source: str, target: str) -> None: ...

    @abstractmethod
    async def _exists(self, path: str) -> bool: ...

    @abstractmethod
    async def _mkdir(self, folder: str) -> None: ...

    @abstractmethod
    async def _remove(self, path: str) -> None: ...

    @abstractmethod
    async def _set_mtime(self, path: str, mtime: float) -> None: ...


def translate_os_error(error: OSError, where: str, path: str) -> Exception:
    """A local file system error as the typed error that names the drop and the path."""
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return Permanent(f"no such file or folder in {where}", record=path)
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return Permanent(f"permission denied in {where}", record=path)
    return Retryable(f"{where}: {error.strerror or type(error).__name__} on {path}")


class LocalStore(Store):
    """A drop on a local (or mounted) folder; blocking calls run in threads."""

    def __init__(self, root: str, circuit: CircuitBreaker) -> None:
        super().__init__(circuit)
        self.root = Path(root)
        self.where = f"folder {root}"

    def _path(self, path: str) -> Path:
        return self.root / path

    async def _run(self, path: str, work: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(work)
        except OSError as error:
            raise translate_os_error(error, self.where, path) from None

    async def _list(self, folder: str) -> list[FileInfo]:
        def listing() -> list[FileInfo]:
            directory = self._path(folder)
            if not directory.is_dir():
                return []
            found = []
            for entry in os.scandir(directory):
                if entry.is_file():
                    stat = entry.stat()
                    found.append(FileInfo(posixpath.join(folder, entry.name), stat.st_size, stat.st_mtime))
            return found

        return await self._run(folder, listing)

    async def _read(self, path: str) -> bytes:
        return await self._run(path, self._path(path).read_bytes)

    async def _write(self, path: str, data: bytes) -> None:
        def write() -> None:
            target = self._path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())

        await self._run(path, write)

    async def _move(self, source: str, target: str) -> None:
        def move() -> None:
            destination = self._path(target)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._path(source), destination)

        await self._run(source, move)

    async def _exists(self, path: str) -> bool:
        return await self._run(path, self._path(path).exists)

    async def _mkdir(self, folder: str) -> None:
        await self._run(folder, lambda: self._path(folder).mkdir(parents=True, exist_ok=True))

    async def _remove(self, path: str) -> None:
        await self._run(path, lambda: self._path(path).unlink(missing_ok=True))

    async def _set_mtime(self, path: str, mtime: float) -> None:
        await self._run(path, lambda: os.utime(self._path(path), (mtime, mtime)))


@dataclass(frozen=True)
class SftpLocation:
    """Where an `sftp://user@host:port/path` location points."""

    host: str
    port: int
    username: str
    root: str

    @property
    def where(self) -> str:
        """How errors name the server (never with credentials)."""
        return f"sftp {self.host}:{self.port}"


def parse_sftp(location: str) -> SftpLocation:
    """The parts of an `sftp://` location; a password in it is refused (it belongs in `password`)."""
    parts = urlsplit(location)
    if parts.scheme != "sftp" or not parts.hostname:
        raise ValueError("an SFTP location reads sftp://user@host:port/path")
    if parts.password is not None:
        raise ValueError("put the SFTP password in `password` (env:/file:), not in the location")
    if not parts.username:
        raise ValueError("an SFTP location names its user: sftp://user@host/path")
    return SftpLocation(parts.hostname, parts.port or 22, unquote(parts.username), unquote(parts.path) or "/")
