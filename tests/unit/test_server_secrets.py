"""Webhook secrets: configured ones win; generated ones live in a 0600 file and survive a restart."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from emporion.config import Settings
from emporion.server.secrets import SECRETS_ENV, WebhookSecrets, read_or_create, secrets_dir


def make_settings(state_url: str, webhook_secret: str | None = None) -> Settings:
    shop = {"type": "woocommerce", "url": "https://shop.example", "consumer_key": "ck"}
    return Settings.model_validate(
        {
            "state": {"url": state_url},
            "connections": {
                "shop": shop | {"consumer_secret": "cs", "webhooks": True, "webhook_secret": webhook_secret}
            },
        }
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_secret_is_private_and_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'state' / 'emporion.db'}")
    first = WebhookSecrets(settings)
    secret = first.get("shop")
    path = tmp_path / "state" / "secrets" / "webhook-shop"
    assert first.path("shop") == path
    assert len(secret) >= 40 and path.read_text().strip() == secret
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert WebhookSecrets(make_settings(settings.state.url)).get("shop") == secret  # a new process
    assert sorted(p.name for p in path.parent.iterdir()) == ["webhook-shop"]  # no temporary files left


def test_configured_secret_wins_and_writes_no_file(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'emporion.db'}", webhook_secret="configured-1")
    assert WebhookSecrets(settings).get("shop") == "configured-1"
    assert not (tmp_path / "secrets").exists()
    with pytest.raises(KeyError):
        WebhookSecrets(settings).get("nobody")


def test_where_secrets_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRETS_ENV, raising=False)
    postgres = make_settings("postgresql://emporion@db.example/emporion")
    assert secrets_dir(postgres, tmp_path / "etc") == (tmp_path / "etc").resolve() / "secrets"
    assert secrets_dir(postgres) == Path("~/.local/state/emporion/secrets").expanduser()
    assert (
        secrets_dir(make_settings("sqlite:///:memory:"))
        == Path("~/.local/state/emporion/secrets").expanduser()
    )
    monkeypatch.setenv(SECRETS_ENV, str(tmp_path / "shared"))
    assert secrets_dir(postgres, tmp_path / "etc") == tmp_path / "shared"


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "webhook-shop"
    with ThreadPoolExecutor(8) as pool:
        found = set(pool.map(lambda _: read_or_create(path), range(32)))
    assert found == {path.read_text().strip()}
