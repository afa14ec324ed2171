"""The dashboard's buttons: htmx POSTs that act through the API's own endpoint functions.

Each action needs the operator role and (for a session) the CSRF token, writes the same audit line as
the API (it runs the API's function), and answers with the flash message, firing the refresh event so
that the live parts of the page reload at once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from . import api
from .access import FlowQuery, Ident, Key, Name, Operator
from .web import REFRESH_EVENT, render

ui_actions = APIRouter(prefix="/ui", include_in_schema=False)


def flash(request: Request, message: str, kind: str = "ok", link: str | None = None) -> HTMLResponse:
    """The flash fragment saying what an action did, with the header that refreshes the live parts."""
    context = {"message": message, "kind": kind, "link": link}
    return render(request, "_flash.html", context, headers={"HX-Trigger": REFRESH_EVENT})


def letters(count: int) -> str:
    """'1 dead letter', '3 dead letters'."""
    return f"{count} dead letter{'' if count == 1 else 's'}"


@ui_actions.post("/flows/{flow}/pause", response_class=HTMLResponse)
async def pause(request: Request, flow: Name, who: Operator) -> HTMLResponse:
    """Pause a flow."""
    await api.pause_flow(request, flow, who)
    return flash(request, f"paused {flow}")


@ui_actions.post("/flows/{flow}/resume", response_class=HTMLResponse)
async def resume(request: Request, flow: Name, who: Operator) -> HTMLResponse:
    """Resume a flow."""
    await api.resume_flow(request, flow, who)
    return flash(request, f"resumed {flow}")


@ui_actions.post("/flows/{flow}/resync", response_class=HTMLResponse)
async def resync_flow(request: Request, flow: Name, who: Operator) -> HTMLResponse:
    """Queue every linked record of a flow again."""
    result = await api.resync_flow(request, flow, who)
    return flash(request, f"queued {result.queued} record{'' if result.queued == 1 else 's'} of {flow}")


@ui_actions.post("/flows/{flow}/reconcile", response_class=HTMLResponse)
async def reconcile(request: Request, flow: Name, who: Operator) -> HTMLResponse:
    """Reconcile a flow now (without repairs) and link its report."""
    report = await api.reconcile_flow(request, flow, who, repair=False)
    kind = "error" if report.status == "failed" else "ok"
    link = f"/reports/{report.id}" if report.id else None
    reason = f" ({report.error[:200]})" if report.error else ""
    return flash(request, f"reconciled {flow}: {report.status}{reason}", kind, link)


@ui_actions.post("/records/{flow}/{entity}/{key}/resync", response_class=HTMLResponse)
async def resync_record(request: Request, flow: Name, entity: Name, key: Key, who: Operator) -> HTMLResponse:
    """Queue one record ahead of the change feed."""
    await api.resync_record(request, flow, entity, key, who)
    return flash(request, f"queued {flow}/{entity}/{key} for a resync")


@ui_actions.post("/dead/{ident}/retry", response_class=HTMLResponse)
async def retry(request: Request, ident: Ident, who: Operator) -> HTMLResponse:
    """Retry one dead letter."""
    result = await api.retry_dead(request, who, api.DeadSelection(ids=[ident]))
    if not result.done:
        return flash(request, f"dead letter {ident} is not open: nothing retried", "warn")
    return flash(request, f"retried {letters(len(result.done))}")


@ui_actions.post("/dead/{ident}/discard", response_class=HTMLResponse)
async def discard(request: Request, ident: Ident, who: Operator) -> HTMLResponse:
    """Discard one dead letter."""
    result = await api.discard_dead(request, who, api.DeadSelection(ids=[ident]))
    if not result.done:
        return flash(request, f"dead letter {ident} is not open: nothing discarded", "warn")
    return flash(request, f"discarded {letters(len(result.done))}")


@ui_actions.post("/dead/retry-all", response_class=HTMLResponse)
async def retry_all(request: Request, who: Operator, flow: FlowQuery = None) -> HTMLResponse:
    """Retry every open dead letter (of one flow, when the page is filtered)."""
    result = await api.retry_dead(request, who, api.DeadSelection(all=True, flow=flow or None))
    if not result.done:
        return flash(request, "no open dead letters to retry", "warn")
    return flash(request, f"retried {letters(len(result.done))}")


@ui_actions.post("/conflicts/{ident}/dismiss", response_class=HTMLResponse)
async def dismiss_conflict(request: Request, ident: Ident, who: Operator) -> HTMLResponse:
    """Let one conflict stand."""
    try:
        result = await api.dismiss_conflict(request, ident, who)
    except LookupError:
        return flash(request, f"no conflict {ident}: nothing dismissed", "warn")
    return flash(request, result.message, "ok" if result.ok else "warn")
