"""Webhook secrets: the configured `webhook_secret`, else one generated per connection and kept in a file.

A generated secret lives in `<secrets dir>/webhook-<connection>` (file mode 0600, directory 0700), never in
the state database or the logs, so that a copy of the database or of the logs cannot forge deliveries.
The secrets directory is, in this order:

1. `EMPORION_SECRETS_DIR` when set;
2. for SQLite state: `secrets/` beside the state database file;
3. for PostgreSQL state: `secrets/` beside the configuration file;
4. otherwise `~/.local/state/emporion/secrets`.

Several `serve` processes on several machines must share one secret per connection: give them the same
`webhook_secret` (env: or file:) in the configuration, or a shared `EMPORION_SECRETS_DIR`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from emporion.config import Settings
from emporion.logs import add_secret

SECRETS_ENV = "EMPORION_SECRETS_DIR"
DEFAULT_STATE_DIR = Path("~/.local/state/emporion")


def secrets_dir(settings: Settings, config_dir: Path | None = None) -> Path:
    """Where generated secrets of this configuration are kept (see the module docstring)."""
    if os.environ.get(SECRETS_ENV):
        return Path(os.environ[SECRETS_ENV]).expanduser()
    url = make_url(settings.state.url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            return Path(url.database).expanduser().resolve().parent / "secrets"
    elif config_dir is not None:
        return config_dir.resolve() / "secrets"
    return DEFAULT_STATE_DIR.expanduser() / "secrets"


class WebhookSecrets:
    """The webhook secret of each connection taking webhooks, read or generated once and then cached."""

    def __init__(self, settings: Settings, directory: Path | None = None) -> None:
        self.settings = settings
        self.directory = directory or secrets_dir(settings)
        self._cache: dict[str, str] = {}

    def get(self, connection: str) -> str:
        """The secret shared with the system of `connection` (generated on first use when not configured)."""
        if connection not in self._cache:
            self._cache[connection] = self._load(connection)
            add_secret(self._cache[connection])  # never shown in a log line
        return self._cache[connection]

    def path(self, connection: str) -> Path:
        """The file a generated secret of `connection` is kept in."""
        return self.directory / f"webhook-{connection}"

    def _load(self, connection: str) -> str:
        settings = self.settings.connections.get(connection)
        if settings is None or not settings.takes_webhooks():
            raise KeyError(f"no connection named {connection!r} takes webhooks")
        return settings.configured_webhook_secret() or read_or_create(self.path(connection))


def read_or_create(path: Path) -> str:
    """The secret in `path`, creating it (mode 0600, atomically: concurrent starters agree) if missing."""
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # someone else won the race: theirs is the secret
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ValueError(f"the webhook secret file {path} is empty")
    return value
