"""Console sessions end at once (logout, password, role, removal); account edge cases are refused cleanly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
from typer.testing import CliRunner

from emporion.cli import app
from emporion.ops.auth import Accounts
from emporion.ops.sessions import Sessions
from emporion.state import StateStore
from emporion.state.retention import EXPIRING
from tests.fixtures.offline import write_state_config
from tests.integration.console_support import (
    PASSWORD,
    add_user,
    console_settings,
    login,
    running_console,
    token,
)

NEW_PASSWORD = "a different long one"


class Clock:
    """The real time, shifted by `offset`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def status(client: httpx.AsyncClient, cookie: str) -> int:
    """What `/api/v1/session` answers to a captured session cookie."""
    response = await client.get("/api/v1/session", headers={"Cookie": f"emporion_session={cookie}"})
    return response.status_code


async def session_cookie(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> tuple[str, str]:
    """Log `name` in; the session cookie's value and its CSRF token."""
    response = await client.post("/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return response.cookies["emporion_session"], response.json()["csrf_token"]


async def test_logout_ends_the_session_at_once(state_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(state_url), tmp_path / "secrets") as server:
        await add_user(server.store, "lou", "operator")
        captured, csrf = await session_cookie(server.client, "lou")
        other, _ = await session_cookie(server.client, "lou")  # the same user elsewhere
        assert await status(server.client, captured) == 200
        out = await server.client.post(
            "/logout", headers={"Cookie": f"emporion_session={captured}", "X-CSRF-Token": csrf}
        )
        assert out.status_code == 204
        assert await status(server.client, captured) == 401  # the captured cookie is dead
        assert await status(server.client, other) == 200  # the other login goes on


async def test_password_role_change_and_removal_end_every_session_of_the_user(
    state_url: str, tmp_path: Path
) -> None:
    async with running_console(console_settings(state_url), tmp_path / "secrets") as server:
        client, admin = server.client, await token(server.store, "admin")
        await add_user(server.store, "pat", "operator")
        await add_user(server.store, "sam", "viewer")
        first, second = (await session_cookie(client, "pat"))[0], (await session_cookie(client, "pat"))[0]
        bystander = (await session_cookie(client, "sam"))[0]

        changed = await client.put(
            "/api/v1/users/pat/password", json={"password": NEW_PASSWORD}, headers=admin
        )
        assert changed.status_code == 204
        assert [await status(client, first), await status(client, second)] == [401, 401]
        assert await status(client, bystander) == 200

        cookie = (await session_cookie(client, "pat", NEW_PASSWORD))[0]
        promoted = await client.put("/api/v1/users/pat/role", json={"role": "admin"}, headers=admin)
        assert promoted.status_code == 204, promoted.text
        assert await status(client, cookie) == 401
        assert (await server.store.get_user("pat")).role == "admin"  # type: ignore[union-attr]

        cookie = (await session_cookie(client, "pat", NEW_PASSWORD))[0]
        assert (await client.delete("/api/v1/users/pat", headers=admin)).status_code == 204
        assert await status(client, cookie) == 401
        assert await status(client, bystander) == 200
        actions = [entry.action for entry in await server.store.list_audit(actor="token:admin-token")]
        assert actions == ["user.remove", "user.role", "user.passwd"]


async def test_a_new_user_of_a_removed_name_does_not_revive_old_cookies(
    state_url: str, tmp_path: Path
) -> None:
    async with running_console(console_settings(state_url), tmp_path / "secrets") as server:
        accounts = Accounts(server.store)
        await add_user(server.store, "vic", "viewer")
        old, _ = await session_cookie(server.client, "vic")
        await accounts.remove_user("vic", actor="test")
        await add_user(server.store, "vic", "admin")
        assert await status(server.client, old) == 401  # never an admin session
        assert (
            await server.client.get("/api/v1/users", headers={"Cookie": f"emporion_session={old}"})
        ).status_code == 401


async def test_admins_list_and_revoke_sessions(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        client, admin = server.client, await token(server.store, "admin")
        await add_user(server.store, "kim", "viewer")
        cookie, _ = await session_cookie(client, "kim")
        listed = (await client.get("/api/v1/sessions", headers=admin)).json()
        assert [(s["user"], s["client"]) for s in listed] == [("kim", "127.0.0.1")]
        assert cookie not in str(listed) and "csrf" not in str(listed)
        assert (await client.delete(f"/api/v1/sessions/{listed[0]['id']}", headers=admin)).status_code == 204
        assert await status(client, cookie) == 401
        assert (await client.delete(f"/api/v1/sessions/{listed[0]['id']}", headers=admin)).status_code == 404
        assert (await client.get("/api/v1/sessions", headers=admin)).json() == []


async def test_expired_sessions_are_refused_and_pruned(state_url: str) -> None:
    clock = Clock()
    store = await StateStore.connect(state_url, migrate=True, clock=clock)
    try:
        await add_user(store, "eli", "viewer")
        sessions = Sessions("a signing key", max_age=3600, store=store)
        issued = await sessions.issue(await store.get_user("eli"), "192.0.2.7")  # type: ignore[arg-type]
        assert issued is not None
        cookie, session = issued
        assert await sessions.read(cookie) == session
        (listed,) = await store.list_sessions()
        assert (listed.client, listed.expires_at - listed.created_at) == ("192.0.2.7", timedelta(hours=1))
        assert await store.prune(EXPIRING) == {"sessions": 0}  # still live
        clock.offset = timedelta(hours=1, seconds=1)
        assert await sessions.read(cookie) is None  # the cookie's signature is still young: the row decides
        assert await store.prune(EXPIRING) == {"sessions": 1}
        clock.offset = timedelta()
        assert await sessions.read(cookie) is None and await store.list_sessions() == []
        await sessions.issue(await store.get_user("eli"))  # type: ignore[arg-type]
        clock.offset = timedelta(hours=2)
        assert await store.prune(EXPIRING, dry_run=True) == {"sessions": 1}
        await sessions.issue(await store.get_user("eli"))  # type: ignore[arg-type]
        assert await store.prune(EXPIRING, dry_run=True) == {"sessions": 0}  # a login clears its user's
    finally:
        await store.close()


async def test_a_login_racing_a_password_change_leaves_no_session(sqlite_url: str) -> None:
    store = await StateStore.connect(sqlite_url, migrate=True)
    try:
        await add_user(store, "ray", "operator")
        checked = await store.get_user("ray")  # the password was verified against this version
        await Accounts(store).set_password("ray", NEW_PASSWORD, actor="test")
        assert await Sessions("key", 3600, store).issue(checked) is None  # type: ignore[arg-type]
        await Accounts(store).remove_user("ray", actor="test")
        await add_user(store, "ray", "admin")
        assert await Sessions("key", 3600, store).issue(checked) is None  # type: ignore[arg-type]
        assert await store.list_sessions() == []
    finally:
        await store.close()


async def test_an_absurd_token_expiry_is_refused_cleanly(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        admin = await token(server.store, "admin")
        for expires in ("999999999999h", "99999999d", "9999-12-31T23:59:59", "2001-01-01"):
            answer = await server.client.post(
                "/api/v1/tokens", json={"name": "x", "scope": "read", "expires": expires}, headers=admin
            )
            assert answer.status_code == 422, (expires, answer.text)
            assert "expires" in answer.json()["detail"]
    (tmp_path / "cli").mkdir()
    config = write_state_config(tmp_path / "cli")
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(app, ["token", "create", "x", "--expires", "99999999d", "-c", str(config)])
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "--expires" in result.output


async def test_user_names_follow_one_pattern_everywhere(sqlite_url: str, tmp_path: Path) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        client, admin = server.client, await token(server.store, "admin")
        created = await client.post(
            "/api/v1/users",
            json={"name": "ann@example.com", "role": "viewer", "password": PASSWORD},
            headers=admin,
        )
        assert created.status_code == 201
        assert (await login(server.base_url, "ann@example.com"))[0] is not None
        changed = await client.put(
            "/api/v1/users/ann@example.com/password", json={"password": NEW_PASSWORD}, headers=admin
        )
        assert changed.status_code == 204, changed.text
        assert (await client.delete("/api/v1/users/ann@example.com", headers=admin)).status_code == 204
        for bad in ("with space", "-dash-first", ".hidden", "é", "x" * 101, "a/b", "a\n"):
            refused = await client.post(
                "/api/v1/users", json={"name": bad, "role": "viewer", "password": PASSWORD}, headers=admin
            )
            assert refused.status_code == 422, (bad, refused.text)
        accounts = Accounts(server.store)
        for bad in ("with space", "-dash-first", "é", "a\n"):
            try:
                await accounts.add_user(bad, "viewer", PASSWORD, actor="test")
            except ValueError as error:
                assert "user name" in str(error)
            else:
                raise AssertionError(f"{bad!r} was accepted")
        assert [user.name for user in await server.store.list_users()] == []
    (tmp_path / "cli").mkdir()
    config = write_state_config(tmp_path / "cli")
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    result = await anyio.to_thread.run_sync(
        lambda: CliRunner().invoke(
            app, ["user", "add", "bad name", "--password-file", str(secret), "-c", str(config)]
        )
    )
    assert result.exit_code == 2 and "user name" in result.output and "Traceback" not in result.output


async def test_the_cli_lists_and_ends_sessions_and_changes_roles(tmp_path: Path) -> None:
    config = write_state_config(tmp_path)
    settings = console_settings(f"sqlite:///{tmp_path / 'state.db'}")

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, [*args, "-c", str(config)])
        return result.exit_code, result.output

    async with running_console(settings, tmp_path / "secrets") as server:
        await add_user(server.store, "ida", "viewer")
        first, _ = await session_cookie(server.client, "ida")
        second, _ = await session_cookie(server.client, "ida")
        code, output = await anyio.to_thread.run_sync(cli, "user", "sessions", "ida", "--json")
        assert code == 0, output
        listed = json.loads(output)
        assert [(s["user"], s["role"]) for s in listed] == [("ida", "viewer")] * 2
        code, output = await anyio.to_thread.run_sync(cli, "user", "revoke", listed[0]["id"])
        assert code == 0, output
        assert [await status(server.client, first), await status(server.client, second)] == [401, 200]
        code, output = await anyio.to_thread.run_sync(cli, "user", "revoke", listed[0]["id"])
        assert code == 2 and "no live session" in output
        code, output = await anyio.to_thread.run_sync(cli, "user", "role", "ida", "operator")
        assert code == 0, output
        assert await status(server.client, second) == 401
        assert (await server.store.get_user("ida")).role == "operator"  # type: ignore[union-attr]
        code, output = await anyio.to_thread.run_sync(cli, "user", "role", "ida", "boss")
        assert code == 2 and "role must be one of" in output
        cookie, _ = await session_cookie(server.client, "ida")
        secret = tmp_path / "password"
        secret.write_text(NEW_PASSWORD + "\n")
        code, output = await anyio.to_thread.run_sync(
            cli, "user", "passwd", "ida", "--password-file", str(secret)
        )
        assert code == 0, output
        assert await status(server.client, cookie) == 401
        code, output = await anyio.to_thread.run_sync(cli, "user", "sessions", "--json")
        assert json.loads(output) == []
