"""`/api/v1/docs`: behind login, under the console's CSP, with Swagger UI served from the package."""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.console_support import add_user, console_settings, login, running_console


async def test_the_api_docs_need_a_login_and_load_nothing_from_elsewhere(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with running_console(console_settings(sqlite_url), tmp_path / "secrets") as server:
        anonymous = await server.client.get("/api/v1/docs")
        asset_anonymous = await server.client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
        await add_user(server.store, "alice", "viewer")
        browser, _ = await login(server.base_url, "alice")
        try:
            page = await browser.get("/api/v1/docs")
            sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            loaded = {source: await browser.get(source) for source in sources}
            other = await browser.get("/api/v1/docs/assets/index.html")
            document = await browser.get("/api/v1/openapi.json")
        finally:
            await browser.aclose()

    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
    assert asset_anonymous.status_code == 303
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert "<script>" not in page.text.replace(" ", "")  # no inline script: the CSP would refuse it
    assert sources and all(source.startswith("/") and not source.startswith("//") for source in sources)
    assert all(response.status_code == 200 for response in loaded.values()), loaded
    bundle = loaded["/api/v1/docs/assets/swagger-ui-bundle.js"]
    assert "SwaggerUIBundle" in bundle.text and "isOAS31" in bundle.text  # Swagger UI 5: reads OpenAPI 3.1
    assert other.status_code == 422  # only Swagger UI's two files are served
    assert document.status_code == 200 and "/api/v1/docs" not in document.json()["paths"]
