"""The SQLite state database holds customers' e-mails and password hashes: its files are private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from emporion.state import StateStore


def mode(path: Path) -> int:
    """The permission bits of `path`."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> object:
    """The usual umask (022), under which files would be world-readable by default."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.usefixtures("open_umask")
async def test_a_new_state_database_and_its_folder_are_private(tmp_path: Path) -> None:
    database = tmp_path / "state" / "emporion.db"
    store = await StateStore.connect(f"sqlite:///{database}")
    try:
        await store.enqueue("flow", "product", ["1", "2"])
        files = [database, database.with_name("emporion.db-wal"), database.with_name("emporion.db-shm")]
        assert all(path.exists() for path in files)
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
        assert mode(database.parent) == 0o700
    finally:
        await store.close()


@pytest.mark.usefixtures("open_umask")
async def test_an_existing_world_readable_database_loses_access_for_others(tmp_path: Path) -> None:
    database = tmp_path / "emporion.db"
    os.chmod(tmp_path, 0o755)  # noqa: S103 (an ordinary folder, as many installations have)
    store = await StateStore.connect(f"sqlite:///{database}")
    await store.close()
    database.chmod(0o644)
    store = await StateStore.connect(f"sqlite:///{database}")
    try:
        await store.enqueue("flow", "product", ["1"])
        assert mode(database) == 0o640
        assert mode(database.with_name("emporion.db-wal")) & 0o007 == 0
        assert mode(tmp_path) == 0o755  # an existing folder is left as the operator set it
    finally:
        await store.close()
