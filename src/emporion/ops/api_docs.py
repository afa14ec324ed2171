"""`/api/v1/docs`: the API's browsable page, for logged-in users, with Swagger UI served from the package.

Swagger UI's files come from the `fastapi-offline` package (Swagger UI 5, which reads OpenAPI 3.1),
never from a CDN, and the page runs under the console's Content-Security-Policy: no inline script
(`static/api_docs.js` starts Swagger UI), no other origin. Only Swagger UI's images, which it embeds as
`data:` URIs, are allowed besides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse

from .web import SECURITY_HEADERS, PageViewer, render

SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
SwaggerUiFile = Literal["swagger-ui-bundle.js", "swagger-ui.css"]
DOCS_CSP = SECURITY_HEADERS["Content-Security-Policy"] + "; img-src 'self' data:"

api_docs = APIRouter(include_in_schema=False)


@api_docs.get("/api/v1/docs", response_class=HTMLResponse)
async def docs_page(request: Request, viewer: PageViewer) -> HTMLResponse:
    """The page: Swagger UI over `/api/v1/openapi.json` (a session is needed; else the login form)."""
    response = render(request, "api_docs.html", {"openapi_url": "/api/v1/openapi.json"}, viewer=viewer)
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@api_docs.get("/api/v1/docs/assets/{name}")
async def docs_asset(viewer: PageViewer, name: Annotated[SwaggerUiFile, PathParam()]) -> FileResponse:
    """One of Swagger UI's two files, from the installed package (cached: they change with it only)."""
    headers = SECURITY_HEADERS | {"Cache-Control": "private, max-age=86400"}
    return FileResponse(SWAGGER_UI_DIR / name, headers=headers)
