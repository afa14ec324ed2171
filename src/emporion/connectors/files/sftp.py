"""The drop on an SFTP server (asyncssh): one connection reused, opened again when lost.

The server's host key is always checked against a `known_hosts` file: a server whose key is not
listed is refused (`Permanent`), never trusted on first use. A key is preferred to a password.
"""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncssh

from emporion.connectors.base import AuthError, Permanent, Retryable
from emporion.connectors.circuit import CircuitBreaker
from emporion.connectors.files.store import FileInfo, SftpLocation, Store

T = TypeVar("T")
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"


class SftpStore(Store):
    """A drop under a folder of an SFTP server."""

    def __init__(
        self,
        location: SftpLocation,
        circuit: CircuitBreaker,
        *,
        password: str | None,
        private_key: str | None,
        known_hosts: str | None,
        timeout: float,
    ) -> None:
        super().__init__(circuit)
        self.location = location
        self.where = location.where
        self._password = password
        self._private_key = private_key
        self._known_hosts = str(Path(known_hosts or DEFAULT_KNOWN_HOSTS).expanduser())
        self._timeout = timeout
        self._connection: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._lock = asyncio.Lock()

    def _path(self, path: str) -> str:
        return posixpath.join(self.location.root, path) if path else self.location.root

    async def _client(self) -> asyncssh.SFTPClient:
        """The open SFTP session, connecting (again) when there is none."""
        async with self._lock:
            if self._sftp is not None:
                return self._sftp
            if not await asyncio.to_thread(Path(self._known_hosts).is_file):
                raise Permanent(f"{self.where}: known_hosts file missing", record=self._known_hosts)
            keys = [asyncssh.import_private_key(self._private_key)] if self._private_key else None
            try:
                self._connection = await asyncio.wait_for(
                    asyncssh.connect(
                        self.location.host,
                        port=self.location.port,
                        username=self.location.username,
                        password=self._password,
                        client_keys=keys,
                        known_hosts=self._known_hosts,
                        agent_path=None,
                        config=None,  # never ~/.ssh/config: the settings say where and who
                        preferred_auth="publickey,password" if keys else "password",
                    ),
                    self._timeout,
                )
                self._sftp = await self._connection.start_sftp_client()
            except asyncssh.HostKeyNotVerifiable:
                raise Permanent(
                    f"{self.where}: the server's host key is not the one in known_hosts (refused)",
                    record=self._known_hosts,
                ) from None
            except asyncssh.PermissionDenied:
                raise AuthError(
                    f"{self.where}: the server refused user {self.location.username}'s credentials"
                ) from None
            except (OSError, TimeoutError, asyncssh.Error) as error:
                await self._drop()
                raise Retryable(f"{self.where}: cannot connect ({type(error).__name__})") from None
            return self._sftp

    async def _drop(self) -> None:
        """Forget the connection (lost or closed); the next call connects again."""
        connection, self._connection, self._sftp = self._connection, None, None
        if connection is not None:
            connection.close()
            try:
                await asyncio.wait_for(connection.wait_closed(), 5)
            except (TimeoutError, OSError, asyncssh.Error):
                pass

    async def _do(self, path: str, work: Callable[[asyncssh.SFTPClient], Awaitable[T]]) -> T:
        """Run `work` on the session; a lost connection is dropped (reconnect next time) and retryable."""
        sftp = await self._client()
        try:
            return await asyncio.wait_for(work(sftp), self._timeout)
        except (asyncssh.SFTPNoConnection, asyncssh.SFTPConnectionLost) as error:
            await self._drop()
            raise Retryable(f"{self.where}: connection lost on {path} ({type(error).__name__})") from None
        except asyncssh.SFTPNoSuchFile:
            raise Permanent(f"no such file or folder on {self.where}", record=path) from None
        except asyncssh.SFTPPermissionDenied:
            raise Permanent(f"permission denied on {self.where}", record=path) from None
        except asyncssh.SFTPError as error:
            raise Permanent(f"{self.where} refused an operation ({error.code})", record=path) from None
        except (OSError, TimeoutError, asyncssh.Error) as error:
            await self._drop()
            raise Retryable(f"{self.where}: connection lost on {path} ({type(error).__name__})") from None

    async def _list(self, folder: str) -> list[FileInfo]:
        async def listing(sftp: asyncssh.SFTPClient) -> list[FileInfo]:
            full = self._path(folder)
            if not await sftp.isdir(full):
                return []
            found = []
            for entry in await sftp.readdir(full):
                attrs = entry.attrs
                name = str(entry.filename)
                if attrs.type == asyncssh.FILEXFER_TYPE_REGULAR:
                    found.append(
                        FileInfo(posixpath.join(folder, name), attrs.size or 0, float(attrs.mtime or 0))
                    )
            return found

        return await self._do(folder, listing)

    async def _read(self, path: str) -> bytes:
        async def read(sftp: asyncssh.SFTPClient) -> bytes:
            async with sftp.open(self._path(path), "rb") as file:
                data = await file.read()
            return data if isinstance(data, bytes) else data.encode()

        return await self._do(path, read)

    async def _write(self, path: str, data: bytes) -> None:
        async def write(sftp: asyncssh.SFTPClient) -> None:
            await sftp.makedirs(posixpath.dirname(self._path(path)), exist_ok=True)
            async with sftp.open(self._path(path), "wb") as file:
                await file.write(data)
                try:
                    await file.fsync()
                except asyncssh.SFTPOpUnsupported:
                    pass  # a server without fsync@openssh.com: the rename still makes it whole

        await self._do(path, write)

    async def _move(self, source: str, target: str) -> None:
        async def move(sftp: asyncssh.SFTPClient) -> None:
            await sftp.makedirs(posixpath.dirname(self._path(target)), exist_ok=True)
            try:
                await sftp.posix_rename(self._path(source), self._path(target))
            except asyncssh.SFTPOpUnsupported:  # plain SFTP rename refuses an existing target
                if await sftp.exists(self._path(target)):
                    await sftp.remove(self._path(target))
                await sftp.rename(self._path(source), self._path(target))

        await self._do(source, move)

    async def _exists(self, path: str) -> bool:
        return await self._do(path, lambda sftp: sftp.exists(self._path(path)))

    async def _mkdir(self, folder: str) -> None:
        await self._do(folder, lambda sftp: sftp.makedirs(self._path(folder), exist_ok=True))

    async def _remove(self, path: str) -> None:
        async def remove(sftp: asyncssh.SFTPClient) -> None:
            if await sftp.exists(self._path(path)):
                await sftp.remove(self._path(path))

        await self._do(path, remove)

    async def _set_mtime(self, path: str, mtime: float) -> None:
        await self._do(path, lambda sftp: sftp.utime(self._path(path), (mtime, mtime)))

    async def close(self) -> None:
        await self._drop()
