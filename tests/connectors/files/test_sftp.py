"""The SFTP drop against a real OpenSSH server: host key checked, credentials refused, connection renewed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from emporion.connectors.base import AuthError, Permanent, Retryable
from emporion.connectors.files.connector import FilesConnector
from emporion.connectors.files.store import parse_sftp
from tests.connectors.files.erp import settings
from tests.fixtures.sftp import SftpServer


def keygen(path: Path) -> None:
    """A new ed25519 key pair at `path` (and `path`.pub)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def connector_for(server: SftpServer, folder: Path, **changes: object) -> FilesConnector:
    values = {"private_key": server.key_text(), "known_hosts": str(server.known_hosts), **changes}
    return FilesConnector("drop", settings(server.location(folder), **values))


async def test_files_are_listed_read_written_and_moved(sftp_server: SftpServer, sftp_folder: Path) -> None:
    connector = connector_for(sftp_server, sftp_folder)
    store = connector.store
    try:
        await store.write_atomic("export/a.csv", b"x;y\n1;2\n")
        assert (sftp_folder / "export" / "a.csv").read_bytes() == b"x;y\n1;2\n"
        assert not (sftp_folder / "export" / ".tmp-a.csv").exists()
        (info,) = await store.list("export", "*.csv")
        assert info.path == "export/a.csv" and info.size == 8
        assert await store.read("export/a.csv") == b"x;y\n1;2\n"
        await store.write_atomic("export/a.csv", b"replaced\n")  # a rename onto an existing name replaces it
        assert await store.read("export/a.csv") == b"replaced\n"
        await store.move("export/a.csv", "processed/a.csv")
        assert await store.list("export") == [] and await store.exists("processed/a.csv")
        assert await store.list("no-such-folder") == []
        results = await connector.check()
        assert all(result.ok for result in results) and "sftp 127.0.0.1" in results[0].name
    finally:
        await connector.close()


async def test_a_server_whose_host_key_is_not_known_is_refused(
    sftp_server: SftpServer, sftp_folder: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other_host"
    keygen(other)
    kind, key = (other.with_suffix(".pub")).read_text().split()[:2]
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sftp_server.port} {kind} {key}\n")
    connector = connector_for(sftp_server, sftp_folder, known_hosts=str(wrong))
    try:
        with pytest.raises(Permanent, match="host key") as raised:
            await connector.store.list("export")
        assert not isinstance(raised.value, AuthError)
        assert f"127.0.0.1:{sftp_server.port}" in str(raised.value)
        results = await connector.check()
        assert not results[0].ok and "host key" in results[0].detail
    finally:
        await connector.close()


async def test_a_key_the_server_does_not_accept_is_an_auth_error(
    sftp_server: SftpServer, sftp_folder: Path, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger"
    keygen(stranger)
    connector = connector_for(sftp_server, sftp_folder, private_key=stranger.read_text())
    try:
        with pytest.raises(AuthError) as raised:
            await connector.store.list("export")
        assert sftp_server.user in str(raised.value) and "PRIVATE KEY" not in str(raised.value)
    finally:
        await connector.close()


async def test_a_lost_connection_is_opened_again(sftp_server: SftpServer, sftp_folder: Path) -> None:
    connector = connector_for(sftp_server, sftp_folder)
    store = connector.store
    try:
        await store.write_atomic("export/a.csv", b"1\n")
        connection = store._connection  # type: ignore[attr-defined]
        assert connection is not None
        connection.abort()  # the network dropped it
        await connection.wait_closed()
        with pytest.raises(Retryable, match="connection lost"):  # the call in flight fails, then ...
            await store.read("export/a.csv")
        assert await store.read("export/a.csv") == b"1\n"  # ... the next one connects again
    finally:
        await connector.close()


def test_a_location_with_a_password_in_it_is_refused() -> None:
    with pytest.raises(ValueError, match="password"):
        parse_sftp("sftp://erp:geheim@host/export")
    location = parse_sftp("sftp://erp@sftp.example.com:2222/drop/wawi")
    assert (location.host, location.port, location.username, location.root) == (
        "sftp.example.com",
        2222,
        "erp",
        "/drop/wawi",
    )
