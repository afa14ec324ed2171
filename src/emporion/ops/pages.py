"""The dashboard's pages and their live fragments, rendered from the console's service layer.

Every page needs a session (`page_viewer`); the fragments under `/ui/` are what htmx polls to keep the
live parts fresh. None of these routes is in the OpenAPI document: the REST API documents the data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .access import MAX_ID, console
from .auth import SESSION_COOKIE
from .service import ConsoleService
from .web import PageViewer, Viewer, local_path, render, secured

page_routes = APIRouter(include_in_schema=False)

DEAD_STATUSES = ("open", "retried", "resolved", "discarded", "all")
ALERT_STATUSES = ("open", "resolved", "all")
CONFLICT_STATES = ("open", "reverted", "resolved", "dismissed", "all")
FlowFilter = Annotated[str | None, Query(max_length=100)]
TextQuery = Annotated[str | None, Query(max_length=255)]


def _service(request: Request) -> ConsoleService:
    """The console's service layer (the same the API calls)."""
    return console(request).service


def _choice(value: str | None, allowed: tuple[str, ...]) -> str:
    """`value` when it is one of `allowed`, else the first (pages forgive odd query strings)."""
    return value if value in allowed else allowed[0]


def _flow_choice(service: ConsoleService, flow: str | None) -> tuple[str | None, list[str]]:
    """`flow` when it is a configured flow, else None (all flows); and the configured flows' names."""
    flows = [f.name for f in service.settings.flows]
    return (flow if flow in flows else None), flows


def _known(ident: int) -> bool:
    """Whether an id can exist (ids beyond the databases' range are not looked up)."""
    return 1 <= ident <= MAX_ID


def _not_found(request: Request, viewer: Viewer, what: str) -> HTMLResponse:
    """The 404 page naming what is missing."""
    return render(request, "not_found.html", {"what": what}, viewer=viewer, status=404)


@page_routes.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: TextQuery = None) -> Response:
    """The login form (a logged-in user goes straight on)."""
    target = local_path(next)
    if await console(request).sessions.read(request.cookies.get(SESSION_COOKIE)) is not None and next:
        return secured(RedirectResponse(target, status_code=303))
    return render(request, "login.html", {"next": target, "error": None, "username": ""})


# -- overview -------------------------------------------------------------------------------------------


async def _overview(request: Request) -> dict[str, Any]:
    """What the overview shows: flows, circuits, open alerts and conflicts, the newest journal lines."""
    service = _service(request)
    alerts = await service.alerts("open", None, 200)
    return {
        "flows": await service.flows(),
        "circuits": await service.circuits(),
        "open_alerts": len(alerts),
        "conflict_pairs": await service.conflict_pairs(),
        "tail": await service.recent_journal(10),
    }


@page_routes.get("/", response_class=HTMLResponse)
async def overview(request: Request, viewer: PageViewer) -> Response:
    """The flows at a glance: state, lag, queue, throughput, errors; circuits, alerts and a live tail."""
    return render(request, "overview.html", await _overview(request), viewer=viewer)


@page_routes.get("/ui/overview", response_class=HTMLResponse)
async def overview_fragment(request: Request, viewer: PageViewer) -> Response:
    """The overview's live part (polled)."""
    return render(request, "_overview.html", await _overview(request), viewer=viewer)


# -- dead letters ---------------------------------------------------------------------------------------


async def _dead(request: Request, flow: str | None, status: str | None) -> dict[str, Any]:
    """The dead letters of the chosen flow (a configured one, or all) and status."""
    service = _service(request)
    chosen = _choice(status, DEAD_STATUSES)
    flow, flows = _flow_choice(service, flow)
    letters = await service.dead_letters(flow, chosen, 200)
    return {"letters": letters, "flow": flow, "status": chosen, "flows": flows, "statuses": DEAD_STATUSES}


@page_routes.get("/dead", response_class=HTMLResponse)
async def dead(
    request: Request, viewer: PageViewer, flow: FlowFilter = None, status: FlowFilter = None
) -> Response:
    """Dead letters, filtered by flow and status, with retry and discard."""
    return render(request, "dead.html", await _dead(request, flow, status), viewer=viewer)


@page_routes.get("/ui/dead", response_class=HTMLResponse)
async def dead_fragment(
    request: Request, viewer: PageViewer, flow: FlowFilter = None, status: FlowFilter = None
) -> Response:
    """The dead letters table (polled)."""
    return render(request, "_dead.html", await _dead(request, flow, status), viewer=viewer)


async def _dead_letter(request: Request, ident: int, viewer: Viewer, template: str) -> Response:
    """One dead letter rendered with `template`, or the 404 page."""
    found = await _service(request).dead_letter(ident) if _known(ident) else None
    if found is None:
        return _not_found(request, viewer, f"dead letter {ident}")
    return render(request, template, {"letter": found}, viewer=viewer)


@page_routes.get("/dead/{ident}", response_class=HTMLResponse)
async def dead_letter(request: Request, ident: int, viewer: PageViewer) -> Response:
    """One dead letter: reason, field, attempts and its payload (secrets masked)."""
    return await _dead_letter(request, ident, viewer, "dead_detail.html")


@page_routes.get("/ui/dead/{ident}", response_class=HTMLResponse)
async def dead_letter_fragment(request: Request, ident: int, viewer: PageViewer) -> Response:
    """One dead letter's facts and buttons (reloaded after an action)."""
    return await _dead_letter(request, ident, viewer, "_dead_letter.html")


# -- conflicts ------------------------------------------------------------------------------------------


async def _conflicts(request: Request, flow: str | None, state: str | None) -> dict[str, Any]:
    """The conflicts of the chosen flow's records (a configured flow, or all) in the chosen state."""
    service = _service(request)
    chosen = _choice(state, CONFLICT_STATES)
    flow, flows = _flow_choice(service, flow)
    found = await service.conflicts(flow, chosen, 200)
    return {"conflicts": found, "flow": flow, "state": chosen, "flows": flows, "states": CONFLICT_STATES}


@page_routes.get("/conflicts", response_class=HTMLResponse)
async def conflicts(
    request: Request, viewer: PageViewer, flow: FlowFilter = None, state: FlowFilter = None
) -> Response:
    """Conflicts on fields both systems edit, filtered by flow and state, with dismiss."""
    return render(request, "conflicts.html", await _conflicts(request, flow, state), viewer=viewer)


@page_routes.get("/ui/conflicts", response_class=HTMLResponse)
async def conflicts_fragment(
    request: Request, viewer: PageViewer, flow: FlowFilter = None, state: FlowFilter = None
) -> Response:
    """The conflicts table (polled)."""
    return render(request, "_conflicts.html", await _conflicts(request, flow, state), viewer=viewer)


# -- reports, alerts ------------------------------------------------------------------------------------


@page_routes.get("/reports", response_class=HTMLResponse)
async def reports(request: Request, viewer: PageViewer, flow: FlowFilter = None) -> Response:
    """Reconcile reports, newest first, with their counts."""
    service = _service(request)
    flow, flows = _flow_choice(service, flow)
    found = await service.reports(flow, 100, 0)
    return render(request, "reports.html", {"reports": found, "flow": flow, "flows": flows}, viewer=viewer)


@page_routes.get("/reports/{ident}", response_class=HTMLResponse)
async def report(request: Request, ident: int, viewer: PageViewer) -> Response:
    """One reconcile report and its drift items (kind, key, fields expected and found)."""
    found = await _service(request).report(ident) if _known(ident) else None
    if found is None:
        return _not_found(request, viewer, f"report {ident}")
    return render(request, "report.html", {"report": found}, viewer=viewer)


async def _alerts(request: Request, status: str | None) -> dict[str, Any]:
    """The alerts of the chosen status."""
    chosen = _choice(status, ALERT_STATUSES)
    found = await _service(request).alerts(None if chosen == "all" else chosen, None, 200)
    return {"alerts": found, "status": chosen, "statuses": ALERT_STATUSES}


@page_routes.get("/alerts", response_class=HTMLResponse)
async def alerts(request: Request, viewer: PageViewer, status: FlowFilter = None) -> Response:
    """Alerts, open or resolved."""
    return render(request, "alerts.html", await _alerts(request, status), viewer=viewer)


@page_routes.get("/ui/alerts", response_class=HTMLResponse)
async def alerts_fragment(request: Request, viewer: PageViewer, status: FlowFilter = None) -> Response:
    """The alerts table (polled)."""
    return render(request, "_alerts.html", await _alerts(request, status), viewer=viewer)


# -- records, events ------------------------------------------------------------------------------------


@page_routes.get("/records", response_class=HTMLResponse)
async def records(request: Request, viewer: PageViewer, q: TextQuery = None) -> Response:
    """Search records by SKU, order number or customer e-mail."""
    term = (q or "").strip()
    result = await _service(request).search(term) if term else None
    return render(request, "records.html", {"q": term, "result": result}, viewer=viewer)


@page_routes.get("/records/{flow}/{entity}/{key}", response_class=HTMLResponse)
async def record(request: Request, flow: str, entity: str, key: str, viewer: PageViewer) -> Response:
    """One record on both sides (read now), its link and its journal, with a resync button."""
    service = _service(request)
    try:
        found = await service.record(flow, entity, key)
    except LookupError:
        return _not_found(request, viewer, f"flow {flow}")
    settings = service.flow(flow)
    context = {"record": found, "source": settings.source, "target": settings.target}
    return render(request, "record.html", context, viewer=viewer)


@page_routes.get("/events", response_class=HTMLResponse)
async def events(request: Request, viewer: PageViewer) -> Response:
    """The live event stream (journal lines and alerts, read by EventSource from the API)."""
    after = await _service(request).last_event()
    return render(request, "events.html", {"after": after}, viewer=viewer)
