"""What an answer that is not the REST API's JSON says: WordPress maintenance mode, or another web page.

WordPress in maintenance mode (an update running, or a `.maintenance` file left behind) answers
every request with HTTP 503, `Retry-After: 600` and "Briefly unavailable for scheduled maintenance":
as an HTML page, or as a `wp_die` JSON error when it takes the request for a JSON one. A wrong url,
a security plugin or a proxy answer with a web page too, sometimes with HTTP 200.
"""

from __future__ import annotations

import html
import re

import httpx

MAINTENANCE_TEXT = "briefly unavailable for scheduled maintenance"
SAMPLE = 20_000  # characters of a body looked at
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _text(response: httpx.Response) -> str:
    try:
        return response.text[:SAMPLE]
    except (UnicodeDecodeError, LookupError, httpx.ResponseNotRead):
        return ""


def is_web_page(response: httpx.Response) -> bool:
    """Whether the answer is an HTML page (by its type, or by how its body begins)."""
    if "html" in response.headers.get("content-type", "").lower():
        return True
    start = _text(response).lstrip()[:15].lower()
    return start.startswith(("<!doctype html", "<html"))


def in_maintenance(response: httpx.Response) -> bool:
    """Whether the answer is WordPress's maintenance mode (HTML page or `wp_die` JSON)."""
    return response.status_code == 503 and MAINTENANCE_TEXT in _text(response).lower()


def describe_page(response: httpx.Response) -> str | None:
    """A few words on an answer that is maintenance mode or a web page, else None (an API answer)."""
    if in_maintenance(response):
        after = response.headers.get("Retry-After")
        when = f" (it asks to retry after {after} s)" if after and after.strip().isdigit() else ""
        return f"the site is in WordPress maintenance mode{when}: try again when the update has finished"
    if not is_web_page(response):
        return None
    found = _TITLE.search(_text(response))
    title = " ".join(html.unescape(found.group(1)).split())[:80] if found else ""
    named = f" titled {title!r}" if title else ""
    return f"a web page{named} came back instead of the REST API's JSON"
