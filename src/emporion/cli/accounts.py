"""`emporion user` and `emporion token`: console users (argon2id passwords), their sessions, API tokens."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from emporion.cli.common import USAGE, ConfigOption, JsonOption, console, err, print_rows, when, with_store
from emporion.ops.auth import ROLES, SCOPES, Accounts, check_user_name, parse_expiry
from emporion.state import StateStore

user_app = typer.Typer(help="Console users (dashboard logins) and their roles.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens with scopes (read, operate, admin).", no_args_is_help=True)
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file", help="Read the password from this file (first line) instead of a prompt."
    ),
]


def _actor() -> str:
    """Who acts from the command line, for the audit log."""
    return f"cli:{getpass.getuser()}"


def _accounts(config: Path, work: Callable[[Accounts], Awaitable[Any]]) -> Any:
    """Run `work` with the accounts of this configuration's state database; bad input exits 2."""

    async def with_accounts(store: StateStore) -> Any:
        return await work(Accounts(store))

    try:
        return with_store(config, with_accounts)
    except (ValueError, LookupError) as error:
        err.print(f"[red]{str(error).strip(chr(39))}[/]")
        raise typer.Exit(USAGE) from error


def _password(path: Path | None) -> str:
    """The password from a file, or asked twice at the terminal (never echoed)."""
    if path is not None:
        lines = path.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    role: Annotated[str, typer.Option("--role", help="viewer, operator or admin.")] = "viewer",
    password_file: PasswordFile = None,
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Create a console user (the password is asked for, or read from --password-file)."""
    if role not in ROLES:
        err.print(f"[red]--role must be one of {', '.join(ROLES)}[/]")
        raise typer.Exit(USAGE)
    try:
        check_user_name(name)
    except ValueError as error:
        err.print(str(error), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(USAGE) from error
    password = _password(password_file)
    _accounts(config, lambda accounts: accounts.add_user(name, role, password, actor=_actor()))
    console.print(f"user [green]{name}[/] added ({role})")


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    password_file: PasswordFile = None,
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Set a user's password (their sessions end)."""
    password = _password(password_file)
    _accounts(config, lambda accounts: accounts.set_password(name, password, actor=_actor()))
    console.print(f"password of [green]{name}[/] changed")


@user_app.command("role")
def user_role(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    role: Annotated[str, typer.Argument(help="viewer, operator or admin.")],
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Change a user's role (their sessions end: they log in again with the new role)."""
    _accounts(config, lambda accounts: accounts.set_role(name, role, actor=_actor()))
    console.print(f"role of [green]{name}[/] is now {role}")


@user_app.command("remove")
def user_remove(
    name: Annotated[str, typer.Argument(help="The user's login name.")],
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Delete a console user (their sessions end at once)."""
    _accounts(config, lambda accounts: accounts.remove_user(name, actor=_actor()))
    console.print(f"user [green]{name}[/] removed")


@user_app.command("list")
def user_list(config: ConfigOption = Path("emporion.yaml"), as_json: JsonOption = False) -> None:
    """List the console users and their roles."""
    users = _accounts(config, lambda accounts: accounts.users())
    columns = ("name", "role", "created", "changed")
    print_rows(
        users,
        as_json,
        "console users",
        columns,
        lambda u: (u.name, u.role, when(u.created_at), when(u.updated_at)),
    )


@user_app.command("sessions")
def user_sessions(
    name: Annotated[str | None, typer.Argument(help="Only this user's sessions.")] = None,
    config: ConfigOption = Path("emporion.yaml"),
    as_json: JsonOption = False,
) -> None:
    """List the live dashboard sessions (who, from where, since and until when)."""
    found = _accounts(config, lambda accounts: accounts.sessions(name))
    columns = ("id", "user", "role", "client", "since", "last seen", "expires")

    def row(session: Any) -> tuple[str, ...]:
        return (
            session.id,
            session.user,
            session.role,
            session.client or "",
            when(session.created_at),
            when(session.last_seen_at),
            when(session.expires_at),
        )

    print_rows(found, as_json, "console sessions", columns, row)


@user_app.command("revoke")
def user_revoke(
    ident: Annotated[str, typer.Argument(help="The session's id (see `emporion user sessions`).")],
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """End a dashboard session at once."""
    _accounts(config, lambda accounts: accounts.revoke_session(ident, actor=_actor()))
    console.print(f"session {ident} ended")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="What the token is for (e.g. prometheus, deploy-bot).")],
    scope: Annotated[str, typer.Option("--scope", help="read, operate or admin.")] = "read",
    expires: Annotated[
        str | None, typer.Option("--expires", help="30d, 12h, 90m or an ISO date; default: never.")
    ] = None,
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Create an API token and print it once (only its hash is kept)."""
    if scope not in SCOPES:
        err.print(f"[red]--scope must be one of {', '.join(SCOPES)}[/]")
        raise typer.Exit(USAGE)
    try:
        expires_at = parse_expiry(expires)
    except ValueError as error:
        err.print(f"[red]--expires: {error}[/]")
        raise typer.Exit(USAGE) from error
    token = _accounts(config, lambda accounts: accounts.create_token(name, scope, expires_at, actor=_actor()))
    err.print(f"token {token.id} ({name}, {scope}) created; it is shown this once:")
    print(token.token)


@token_app.command("list")
def token_list(config: ConfigOption = Path("emporion.yaml"), as_json: JsonOption = False) -> None:
    """List API tokens (never their secrets)."""
    tokens = _accounts(config, lambda accounts: accounts.tokens())
    columns = ("id", "name", "scope", "prefix", "expires", "revoked", "last used")

    def row(token: Any) -> tuple[str, ...]:
        return (
            str(token.id),
            token.name,
            token.scope,
            token.prefix + "…",
            when(token.expires_at, "never"),
            when(token.revoked_at),
            when(token.last_used_at),
        )

    print_rows(tokens, as_json, "API tokens", columns, row)


@token_app.command("revoke")
def token_revoke(
    ident: Annotated[str, typer.Argument(help="The token's id or name (every live token of that name).")],
    config: ConfigOption = Path("emporion.yaml"),
) -> None:
    """Revoke API tokens: they are refused from the next request on."""
    count = _accounts(config, lambda accounts: accounts.revoke_token(ident, actor=_actor()))
    console.print(f"{count} token(s) revoked")
