"""The console's HTTP side: the REST API under `/api/v1` (OpenAPI at `/api/v1/openapi.json`), login and
logout, `/metrics`, and the dashboard's pages (`pages.py`, `ui_actions.py`).

FastAPI builds the OpenAPI document from the typed endpoints and pydantic models; the app is mounted
inside the server's Starlette app after the webhook ingress and `/healthz`, which stay outside it.
This module holds the operators' endpoints (flows, records, dead letters, conflicts, reports, alerts,
circuits, events); `api_session.py` the logins and metrics, `api_admin.py` users, tokens and the audit log.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from emporion import __version__
from emporion.config import Settings
from emporion.engine.connections import ConnectorPool
from emporion.logs import new_correlation_id
from emporion.state import StateStore

from .access import (
    MAX_ID,
    Console,
    FlowQuery,
    Ident,
    Key,
    Limit,
    Name,
    Offset,
    Operator,
    Reader,
    audited,
    console,
)
from .api_admin import admin_api
from .api_docs import api_docs
from .api_session import pages, session_api
from .auth import AccessError
from .models import (
    ActionResult,
    AlertView,
    CircuitView,
    ConflictView,
    DeadLetterView,
    FlowStatus,
    RecordView,
    ReportView,
    SearchResult,
)
from .service import UnknownFlow
from .web import STATIC_DIR, LoginNeeded, is_htmx, login_redirect

api = APIRouter(prefix="/api/v1")


class DeadSelection(BaseModel):
    """Which dead letters an action takes: ids, or every open one (of a flow)."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list, max_length=1000)
    all: bool = False
    flow: str | None = Field(None, max_length=100)


@api.get("/flows", response_model=list[FlowStatus], tags=["flows"])
async def flows(request: Request, who: Reader) -> list[FlowStatus]:
    """Every flow: state, last poll and write, lag, queue depth, throughput and errors."""
    return await console(request).service.flows()


@api.post("/flows/{flow}/pause", response_model=ActionResult, tags=["flows"])
async def pause_flow(request: Request, flow: Name, who: Operator) -> ActionResult:
    """Pause a flow: its change feed and work stop in every process until it is resumed."""
    result = await console(request).service.pause(flow, who.actor)
    await audited(request, who, "flow.pause", flow)
    return result


@api.post("/flows/{flow}/resume", response_model=ActionResult, tags=["flows"])
async def resume_flow(request: Request, flow: Name, who: Operator) -> ActionResult:
    """Resume a paused flow."""
    result = await console(request).service.resume(flow, who.actor)
    await audited(request, who, "flow.resume", flow)
    return result


@api.post("/flows/{flow}/resync", response_model=ActionResult, tags=["flows"])
async def resync_flow(request: Request, flow: Name, who: Operator) -> ActionResult:
    """Queue every linked record of a flow again."""
    correlation = new_correlation_id()
    result = await console(request).service.resync_flow(flow, correlation)
    await audited(request, who, "flow.resync", flow, {"queued": result.queued, "correlation_id": correlation})
    return result


@api.post("/flows/{flow}/reconcile", response_model=ReportView, tags=["flows"])
async def reconcile_flow(
    request: Request, flow: Name, who: Operator, repair: Annotated[bool, Query()] = False
) -> ReportView:
    """Compare both sides of a flow now (queue the repairs with `repair=true`); returns the report."""
    report = await console(request).reconciles.run(flow, repair=repair)
    await audited(request, who, "flow.reconcile", flow, {"repair": repair, "report": report.id})
    return report


@api.get("/flows/{flow}/records/{entity}/{key}", response_model=RecordView, tags=["records"])
async def record(request: Request, flow: Name, entity: Name, key: Key, who: Reader) -> RecordView:
    """One record on both sides, its link and its journal."""
    return await console(request).service.record(flow, entity, key)


@api.post("/flows/{flow}/records/{entity}/{key}/resync", response_model=ActionResult, tags=["records"])
async def resync_record(request: Request, flow: Name, entity: Name, key: Key, who: Operator) -> ActionResult:
    """Queue one record now, ahead of the change feed's work."""
    correlation = new_correlation_id()
    result = await console(request).service.resync_record(flow, entity, key, correlation)
    await audited(request, who, "record.resync", f"{flow}/{entity}/{key}", {"correlation_id": correlation})
    return result


@api.get("/search", response_model=SearchResult, tags=["records"])
async def search(
    request: Request, who: Reader, q: Annotated[str, Query(min_length=1, max_length=255)]
) -> SearchResult:
    """The records behind a SKU, an order number or a customer e-mail."""
    return await console(request).service.search(q)


@api.get("/dead-letters", response_model=list[DeadLetterView], tags=["dead letters"])
async def dead_letters(
    request: Request,
    who: Reader,
    flow: FlowQuery = None,
    status: Literal["open", "retried", "resolved", "discarded", "all"] = "open",
    limit: Limit = 100,
) -> list[DeadLetterView]:
    """Dead letters, newest first."""
    return await console(request).service.dead_letters(flow, status, limit)


@api.get("/dead-letters/{ident}", response_model=DeadLetterView, tags=["dead letters"])
async def dead_letter(request: Request, ident: Ident, who: Reader) -> DeadLetterView:
    """One dead letter with its payload (secrets masked)."""
    found = await console(request).service.dead_letter(ident)
    if found is None:
        raise HTTPException(404, f"no dead letter {ident}")
    return found


@api.post("/dead-letters/retry", response_model=ActionResult, tags=["dead letters"])
async def retry_dead(request: Request, who: Operator, body: Annotated[DeadSelection, Body()]) -> ActionResult:
    """Queue the records of open dead letters again."""
    result = await console(request).service.retry_dead(body.ids, body.all, body.flow)
    await audited(
        request, who, "dead.retry", ",".join(map(str, result.done))[:400], {"skipped": result.skipped}
    )
    return result


@api.post("/dead-letters/discard", response_model=ActionResult, tags=["dead letters"])
async def discard_dead(
    request: Request, who: Operator, body: Annotated[DeadSelection, Body()]
) -> ActionResult:
    """Close open dead letters without a replay."""
    result = await console(request).service.discard_dead(body.ids, body.all, body.flow)
    await audited(
        request, who, "dead.discard", ",".join(map(str, result.done))[:400], {"skipped": result.skipped}
    )
    return result


@api.get("/conflicts", response_model=list[ConflictView], tags=["conflicts"])
async def conflicts(
    request: Request,
    who: Reader,
    flow: FlowQuery = None,
    state: Literal["open", "reverted", "resolved", "dismissed", "all"] = "open",
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ConflictView]:
    """Conflicts on fields both systems edit (of one flow's records), the most recently seen first."""
    return await console(request).service.conflicts(flow, state, limit, offset)


@api.post("/conflicts/{ident}/dismiss", response_model=ActionResult, tags=["conflicts"])
async def dismiss_conflict(request: Request, ident: Ident, who: Operator) -> ActionResult:
    """Let a conflict stand: it stays closed while both sides keep these values."""
    result = await console(request).service.dismiss_conflict(ident, who.actor)
    await audited(request, who, "conflict.dismiss", str(ident), {"dismissed": result.ok})
    return result


@api.get("/reports", response_model=list[ReportView], tags=["reconcile"])
async def reports(
    request: Request, who: Reader, flow: FlowQuery = None, limit: Limit = 20, offset: Offset = 0
) -> list[ReportView]:
    """Reconcile reports, newest first."""
    return await console(request).service.reports(flow, limit, offset)


@api.get("/reports/{ident}", response_model=ReportView, tags=["reconcile"])
async def report(request: Request, ident: Ident, who: Reader) -> ReportView:
    """One reconcile report with its drift items."""
    found = await console(request).service.report(ident)
    if found is None:
        raise HTTPException(404, f"no report {ident}")
    return found


@api.get("/alerts", response_model=list[AlertView], tags=["alerts"])
async def alerts(
    request: Request,
    who: Reader,
    status: Literal["open", "resolved"] | None = None,
    flow: FlowQuery = None,
    limit: Limit = 50,
) -> list[AlertView]:
    """Recent alerts, the most recently seen first."""
    return await console(request).service.alerts(status, flow, limit)


@api.get("/circuits", response_model=list[CircuitView], tags=["connections"])
async def circuits(request: Request, who: Reader) -> list[CircuitView]:
    """The circuit breaker's state of each connection."""
    return await console(request).service.circuits()


@api.get(
    "/events",
    tags=["events"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
async def events(
    request: Request,
    who: Reader,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="journal id to start after")] = None,
    max_seconds: Annotated[float | None, Query(gt=0, le=86400, description="end the stream after")] = None,
) -> StreamingResponse:
    """A live stream of journal lines and alerts as server-sent events (`event: journal|alert`)."""
    state = console(request)

    async def stream() -> AsyncIterator[str]:
        yield ": emporion events\n\n"
        with anyio.move_on_after(max_seconds if max_seconds is not None else float("inf")):
            async for event in state.service.events(after, closing=lambda: state.closing):
                if await request.is_disconnected():
                    return
                data = json.dumps(event.data, separators=(",", ":"))
                yield f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def add_dashboard(app: FastAPI) -> None:
    """The dashboard's pages, fragments, buttons and static files (htmx, CSS, JS) on the console app."""
    from .pages import page_routes
    from .ui_actions import ui_actions  # it acts through this module's endpoint functions

    app.include_router(page_routes)
    app.include_router(ui_actions)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(LoginNeeded)
    async def login_needed(request: Request, error: LoginNeeded) -> Response:
        """A page without a session: off to the login form."""
        return login_redirect(request)


def create_console(settings: Settings, store: StateStore, pool: ConnectorPool, session_key: str) -> FastAPI:
    """The console's FastAPI app (mount it at the root, after the webhook and health routes)."""
    app = FastAPI(
        title="emporion console API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served by api_docs: behind login, under the console's CSP, no CDN
        redoc_url=None,
    )
    app.include_router(pages)
    app.include_router(session_api)
    app.include_router(api)
    app.include_router(admin_api)
    app.include_router(api_docs)
    add_dashboard(app)
    app.state.console = Console(settings, store, pool, session_key)

    @app.exception_handler(AccessError)
    async def access_error(request: Request, error: AccessError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
        if error.status == 401 and is_htmx(request):
            headers["HX-Redirect"] = "/login"
        return JSONResponse({"detail": str(error)}, status_code=error.status, headers=headers)

    @app.exception_handler(UnknownFlow)
    async def unknown_flow(request: Request, error: UnknownFlow) -> JSONResponse:
        return _error(404, f"no flow {error}")

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, error: ValueError) -> JSONResponse:
        return _error(422, str(error))

    @app.exception_handler(LookupError)
    async def not_found(request: Request, error: LookupError) -> JSONResponse:
        return _error(404, str(error).strip("'\""))

    return app
