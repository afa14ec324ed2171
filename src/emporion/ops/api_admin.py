"""The admin part of the API: users, their sessions, tokens and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from .access import Admin, Limit, Name, Offset, client_address, console
from .auth import parse_expiry
from .models import AuditView, ConsoleSessionView, NewToken, Role, Scope, TokenView, UserName, UserView

admin_api = APIRouter(prefix="/api/v1")


class UserCreate(BaseModel):
    """A new console user."""

    name: UserName
    role: Role
    password: str = Field(min_length=10, max_length=1024)


class PasswordChange(BaseModel):
    """A new password."""

    password: str = Field(min_length=10, max_length=1024)


class RoleChange(BaseModel):
    """A user's new role."""

    role: Role


class TokenCreate(BaseModel):
    """A new API token."""

    name: str = Field(min_length=1, max_length=100)
    scope: Scope
    expires: str | None = Field(None, max_length=40, description="30d, 12h, 90m or an ISO date; none = never")


@admin_api.get("/audit", response_model=list[AuditView], tags=["admin"])
async def audit(
    request: Request,
    who: Admin,
    limit: Limit = 100,
    offset: Offset = 0,
    actor: Annotated[str | None, Query(max_length=255)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
) -> list[AuditView]:
    """The audit log, newest first: who did what, when, from where."""
    found = await console(request).store.list_audit(limit, offset, actor=actor, action=action)
    return [AuditView.model_validate(entry, from_attributes=True) for entry in found]


@admin_api.get("/users", response_model=list[UserView], tags=["admin"])
async def users(request: Request, who: Admin) -> list[UserView]:
    """Every console user."""
    return await console(request).accounts.users()


@admin_api.post("/users", response_model=UserView, status_code=201, tags=["admin"])
async def add_user(request: Request, who: Admin, body: UserCreate) -> UserView:
    """Create a console user."""
    try:
        return await console(request).accounts.add_user(
            body.name, body.role, body.password, actor=who.actor, client=client_address(request)
        )
    except ValueError as error:
        raise HTTPException(409, str(error)) from error


@admin_api.put("/users/{name}/password", status_code=204, tags=["admin"])
async def set_password(request: Request, name: Name, who: Admin, body: PasswordChange) -> Response:
    """Set a user's password."""
    await console(request).accounts.set_password(
        name, body.password, actor=who.actor, client=client_address(request)
    )
    return Response(status_code=204)


@admin_api.put("/users/{name}/role", status_code=204, tags=["admin"])
async def set_role(request: Request, name: Name, who: Admin, body: RoleChange) -> Response:
    """Change a user's role; their sessions end (they log in again with the new role)."""
    await console(request).accounts.set_role(name, body.role, actor=who.actor, client=client_address(request))
    return Response(status_code=204)


@admin_api.delete("/users/{name}", status_code=204, tags=["admin"])
async def remove_user(request: Request, name: Name, who: Admin) -> Response:
    """Delete a console user; their sessions end."""
    await console(request).accounts.remove_user(name, actor=who.actor, client=client_address(request))
    return Response(status_code=204)


@admin_api.get("/sessions", response_model=list[ConsoleSessionView], tags=["admin"])
async def sessions(
    request: Request, who: Admin, user: Annotated[str | None, Query(max_length=100)] = None
) -> list[ConsoleSessionView]:
    """The live dashboard sessions (of one user), oldest first."""
    return await console(request).accounts.sessions(user)


@admin_api.delete("/sessions/{ident}", status_code=204, tags=["admin"])
async def revoke_session(
    request: Request, ident: Annotated[str, Path(min_length=1, max_length=32)], who: Admin
) -> Response:
    """End a dashboard session at once."""
    await console(request).accounts.revoke_session(ident, actor=who.actor, client=client_address(request))
    return Response(status_code=204)


@admin_api.get("/tokens", response_model=list[TokenView], tags=["admin"])
async def tokens(request: Request, who: Admin) -> list[TokenView]:
    """Every API token (never the secret)."""
    return await console(request).accounts.tokens()


@admin_api.post("/tokens", response_model=NewToken, status_code=201, tags=["admin"])
async def create_token(request: Request, who: Admin, body: TokenCreate) -> NewToken:
    """Create an API token: the response is the only time its secret is shown."""
    try:
        expires = parse_expiry(body.expires)
    except ValueError as error:
        raise HTTPException(422, f"expires: {error}") from error
    return await console(request).accounts.create_token(
        body.name, body.scope, expires, actor=who.actor, client=client_address(request)
    )


@admin_api.delete("/tokens/{ident}", status_code=204, tags=["admin"])
async def revoke_token(
    request: Request, ident: Annotated[str, Path(min_length=1, max_length=100)], who: Admin
) -> Response:
    """Revoke API tokens by id or name."""
    await console(request).accounts.revoke_token(ident, actor=who.actor, client=client_address(request))
    return Response(status_code=204)
