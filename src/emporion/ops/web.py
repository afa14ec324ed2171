"""What the dashboard's pages share: templates, security headers, the page identity and redirects to login."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from .access import console, identify
from .auth import SESSION_COOKIE, AccessError, allows
from .models import Identity

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
REFRESH_EVENT = "emporion-refresh"  # the custom event an action's answer fires so live parts reload
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
templates = Jinja2Templates(directory=HERE / "templates")


def _utc(value: datetime) -> datetime:
    """A time as an aware one (the state database gives naive UTC times on SQLite)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ago(value: datetime | None) -> str:
    """A time as a short distance from now ('12 s ago', '3 min ago'); '-' for none."""
    if value is None:
        return "-"
    seconds = (datetime.now(UTC) - _utc(value)).total_seconds()
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"


def when_text(value: str | None) -> datetime | None:
    """An ISO time kept as text (e.g. a circuit's `since`) as a datetime; None when it is not one."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def stamp(value: datetime | None) -> str:
    """A time in UTC to the second, for titles and tables."""
    if value is None:
        return "-"
    return _utc(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """A lag as '0 s', '42 s', '3 min 5 s', '2 h 4 min'."""
    total = int(seconds or 0)
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60} s"
    return f"{total // 3600} h {total % 3600 // 60} min"


def pretty(value: Any) -> str:
    """JSON for people (indented, keys in order)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


templates.env.filters.update(ago=ago, stamp=stamp, duration=duration, pretty=pretty, parsetime=when_text)


class LoginNeeded(Exception):
    """A page asked for without a session: the answer sends the browser to the login form."""


@dataclass
class Viewer:
    """Who looks at a page: their identity, the session's CSRF token, and whether they may act."""

    identity: Identity
    csrf: str

    @property
    def can_operate(self) -> bool:
        """Whether the buttons that act are enabled for them."""
        return allows(self.identity.role, "operate")


async def page_viewer(request: Request) -> Viewer:
    """The logged-in user of a page (pages need a session; a bearer token is for the API)."""
    session = await console(request).sessions.read(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise LoginNeeded
    try:
        identity = await identify(request)
    except AccessError as error:
        if error.status == 401:
            raise LoginNeeded from error
        raise
    if identity.kind != "user":
        raise LoginNeeded
    return Viewer(identity, session.csrf)


PageViewer = Annotated[Viewer, Depends(page_viewer)]


def secured(response: Response) -> Response:
    """A page response with the security headers (CSP, no framing, no sniffing, same-origin referrer)."""
    response.headers.update(SECURITY_HEADERS)
    return response


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    viewer: Viewer | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A template rendered for the viewer, with the security headers."""
    values: dict[str, Any] = {"viewer": viewer, "path": request.url.path}
    values.update(context or {})
    response = templates.TemplateResponse(request, name, values, status_code=status, headers=headers)
    return secured(response)  # type: ignore[return-value]


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it then wants fragments and HX-* headers, not redirects)."""
    return request.headers.get("hx-request") == "true"


def login_redirect(request: Request) -> Response:
    """Off to the login form, coming back here after it (htmx: the whole page, through HX-Redirect)."""
    if is_htmx(request):
        return secured(Response(status_code=401, headers={"HX-Redirect": "/login"}))
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return secured(RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303))


def local_path(target: str | None) -> str:
    """`target` if it is a path of this site ('/...', not '//host' or '/\\host'), else '/'."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(char) < 32 for char in target) or "\\" in target:
        return "/"
    return target
