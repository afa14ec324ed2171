"""Dashboard sessions (`POST /login`, `POST /logout`, `GET /api/v1/session`) and `/metrics`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, ValidationError

from emporion.state.console import ConsoleUser

from .access import Reader, audited, client_address, console, cross_site, identify
from .auth import SESSION_COOKIE, verify_password_threaded
from .metrics_view import metrics_response
from .models import Role
from .web import is_htmx, local_path, render, secured

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

pages = APIRouter()
session_api = APIRouter(prefix="/api/v1")


class LoginRequest(BaseModel):
    """A dashboard login."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class LoginForm(LoginRequest):
    """The dashboard's login form: the credentials and the page to go on to."""

    next: str = Field("/", max_length=2000)


class SessionView(BaseModel):
    """The logged-in identity and the CSRF token to send back in `X-CSRF-Token`."""

    actor: str
    role: Role
    csrf_token: str | None = None


LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": LoginRequest.model_json_schema()},
        "application/x-www-form-urlencoded": {"schema": LoginForm.model_json_schema()},
    },
}
LOGIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "form login done: off to `next` (a local path) or `/`"},
    401: {"description": "wrong user name or password (a form login gets the form again)"},
    403: {"description": "a login posted from another site's page (login CSRF) is refused"},
    429: {"description": "too many failed logins; see Retry-After"},
}


class LoginFailed(Exception):
    """A refused login: `status` 401 (wrong credentials) or 429 (limited, `retry_after` seconds)."""

    def __init__(self, status: int, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


async def check_login(request: Request, username: str, password: str) -> ConsoleUser:
    """The user these credentials name, or LoginFailed (limited, counted and audited either way).

    The attempt is counted before the password is checked (in one step with the limit check), so
    parallel guesses get no more checks than the limit allows; a refused client gets a few audit lines
    per window, not one per try.
    """
    state, client = console(request), client_address(request)
    verdict = state.limiter.reserve(username, client)
    if not verdict.allowed:
        if verdict.audit:
            await state.store.audit(f"user:{username}", "login", outcome="limited", client=client)
        raise LoginFailed(429, "too many failed logins", int(verdict.wait) + 1)
    user = await state.store.get_user(username)
    if not await verify_password_threaded(user.password_hash if user else None, password) or user is None:
        await state.store.audit(f"user:{username}", "login", outcome="failed", client=client)
        raise LoginFailed(401, "wrong user name or password")
    state.limiter.succeeded(verdict)
    await state.store.audit(f"user:{user.name}", "login", client=client)
    return user


async def set_session(request: Request, response: Response, user: ConsoleUser) -> str:
    """Start a session of `user` and set its cookie on `response`; returns the session's CSRF token.

    LoginFailed (401) when the user was changed or removed since their password was checked.
    """
    state = console(request)
    issued = await state.sessions.issue(user, client_address(request))
    if issued is None:
        raise LoginFailed(401, "the account changed during the login: log in again")
    cookie, session = issued
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(state.sessions.max_age),
        httponly=True,
        secure=state.secure_cookies,
        samesite="strict",
        path="/",
    )
    return session.csrf


@pages.post(
    "/login",
    response_model=SessionView,
    tags=["session"],
    openapi_extra={"requestBody": LOGIN_BODY},
    responses=LOGIN_RESPONSES,
)
async def login(request: Request, response: Response) -> Any:
    """Log in: JSON (answers the session and its CSRF token) or the login form (303 to the page).

    Either sets the session cookie; 429 after too many failures; 403 when a browser posts it from
    another site (so that no page elsewhere can log a visitor in as somebody else).
    """
    if cross_site(request):
        state = console(request)
        await state.store.audit("anonymous", "login", outcome="cross-site", client=client_address(request))
        raise HTTPException(403, "a login from another site's page is refused")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in FORM_TYPES:
        return await form_login(request)
    try:
        body = LoginRequest.model_validate_json(await request.body())
    except ValidationError as error:
        problems = error.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([p | {"loc": ("body", *p["loc"])} for p in problems]) from error
    try:
        user = await check_login(request, body.username, body.password)
        csrf = await set_session(request, response, user)
    except LoginFailed as failed:
        headers = {"Retry-After": str(failed.retry_after)} if failed.status == 429 else None
        raise HTTPException(failed.status, str(failed), headers=headers) from failed
    return SessionView(actor=f"user:{user.name}", role=user.role, csrf_token=csrf)  # type: ignore[arg-type]


async def form_login(request: Request) -> Response:
    """The login form posted: 303 to `next` (a local path) or `/`; else the form again with why."""
    form = await request.form()
    fields = {name: form.get(name) for name in ("username", "password", "next")}
    values = {name: value if isinstance(value, str) else "" for name, value in fields.items()}
    target = local_path(values["next"])
    context = {"next": target, "username": values["username"][:100]}
    try:
        data = LoginRequest.model_validate(values)  # `next` is taken as a local path or `/` above
    except ValidationError:
        context["error"] = "enter your user name and password"
        return render(request, "login.html", context, status=422)
    response = secured(RedirectResponse(target, status_code=303))
    try:
        user = await check_login(request, data.username, data.password)
        await set_session(request, response, user)
    except LoginFailed as failed:
        context["error"] = str(failed)
        headers = {"Retry-After": str(failed.retry_after)} if failed.status == 429 else None
        return render(request, "login.html", context, status=failed.status, headers=headers)
    return response


@pages.post("/logout", status_code=204, tags=["session"])
async def logout(request: Request, who: Reader) -> Response:
    """End the dashboard session at once (its row goes, the cookie is cleared); htmx: to the login form."""
    if who.kind == "user":
        await console(request).sessions.end(request.cookies.get(SESSION_COOKIE))
    if is_htmx(request):
        response = Response(status_code=200, headers={"HX-Redirect": "/login"})
    else:
        response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=console(request).secure_cookies, httponly=True, samesite="strict"
    )
    await audited(request, who, "logout", who.actor)
    return response


@pages.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus metrics (open, or read scope, or not served: `server.console.metrics`)."""
    state = console(request)
    mode = state.settings.server.console.metrics
    if mode == "off":
        raise HTTPException(404, "metrics are not served")
    if mode == "read":
        await identify(request)
    return await metrics_response(state.service)


@session_api.get("/session", response_model=SessionView, tags=["session"])
async def session_info(request: Request, who: Reader) -> SessionView:
    """Who is calling, and (for a dashboard session) its CSRF token."""
    session = await console(request).sessions.read(request.cookies.get(SESSION_COOKIE))
    csrf = session.csrf if session and who.kind == "user" else None
    return SessionView(actor=who.actor, role=who.role, csrf_token=csrf)
