"""`emporion user` and `emporion token` on a real state database, and what the server then accepts."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from typer.testing import CliRunner

from emporion.cli import app
from emporion.config import parse_settings
from emporion.ops.auth import verify_password
from emporion.state import StateStore
from tests.fixtures.offline import write_state_config
from tests.integration.console_support import PASSWORD, running_console

cli = CliRunner()


async def run(*args: str, config: Path, input: str | None = None) -> tuple[int, str, str]:
    """Run a command in a thread (it runs its own event loop): exit code, stdout, everything printed."""

    def invoke() -> tuple[int, str, str]:
        result = cli.invoke(app, [*args, "-c", str(config)], input=input)
        return result.exit_code, result.stdout, result.output

    return await anyio.to_thread.run_sync(invoke)


async def test_users_are_added_changed_listed_and_removed(tmp_path: Path) -> None:
    config = write_state_config(tmp_path)
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    password_file = ("--password-file", str(secret))
    code, _, output = await run("user", "add", "mia", "--role", "operator", *password_file, config=config)
    assert code == 0, output
    code, _, output = await run("user", "add", "mia", "--password-file", str(secret), config=config)
    assert code == 2 and "exists already" in output
    code, _, output = await run("user", "add", "max", "--role", "boss", *password_file, config=config)
    assert code == 2 and "--role" in output
    secret.write_text("short\n")
    code, _, output = await run("user", "add", "max", "--password-file", str(secret), config=config)
    assert code == 2 and "at least" in output
    # prompted twice, never echoed
    code, _, output = await run("user", "passwd", "mia", config=config, input="another long one\n" * 2)
    assert code == 0 and "another long one" not in output, output
    code, stdout, _ = await run("user", "list", "--json", config=config)
    assert [(u["name"], u["role"]) for u in json.loads(stdout)] == [("mia", "operator")]
    assert "password" not in stdout

    store = await StateStore.connect(parse_settings(config.read_text()).state.url)
    try:
        user = await store.get_user("mia")
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, "another long one")
        assert not verify_password(user.password_hash, PASSWORD)
        assert [e.action for e in await store.list_audit()] == ["user.passwd", "user.add"]
    finally:
        await store.close()
    code, _, _ = await run("user", "remove", "mia", config=config)
    assert code == 0
    code, _, output = await run("user", "remove", "mia", config=config)
    assert code == 2 and "no user" in output


async def test_a_token_from_the_cli_works_until_revoked(tmp_path: Path) -> None:
    config = write_state_config(tmp_path)
    code, stdout, output = await run(
        "token", "create", "prometheus", "--scope", "read", "--expires", "30d", config=config
    )
    assert code == 0, output
    token = stdout.strip()
    assert token.startswith("emp_") and len(token) > 40
    code, _, output = await run("token", "create", "x", "--scope", "root", config=config)
    assert code == 2
    code, stdout, _ = await run("token", "list", "--json", config=config)
    (listed,) = json.loads(stdout)
    assert listed["scope"] == "read" and listed["expires_at"] and token not in stdout
    settings = parse_settings(config.read_text())
    headers = {"Authorization": f"Bearer {token}"}
    async with running_console(settings, tmp_path / "secrets") as server:
        assert (await server.client.get("/metrics", headers=headers)).status_code == 200
        code, _, _ = await run("token", "revoke", "prometheus", config=config)
        assert code == 0
        assert (await server.client.get("/metrics", headers=headers)).status_code == 401
