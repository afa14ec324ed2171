"""Paging of a list call: page numbers, offsets, cursors and next links, to the last page and no further.

A shop that hands out the same cursor or link twice would be read forever: that is refused.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import Permanent
from emporion.connectors.rest.auth import first
from emporion.connectors.rest.budget import number_at
from emporion.connectors.rest.settings import Call
from emporion.connectors.rest.settings.paths import HEADER

if TYPE_CHECKING:
    from emporion.connectors.rest.client import Answer, Page, RestClient


def next_link(headers: Mapping[str, str]) -> str | None:
    """The `rel="next"` URL of an RFC 8288 Link header, if any."""
    for part in headers.get("link", "").split(","):
        match = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if match and re.search(r'rel="?([^"]*\s)?next(\s[^"]*)?"?', match.group(2)):
            return match.group(1)
    return None


async def follow(client: RestClient, call: Call, paging: Any, values: dict[str, Any]) -> AsyncIterator[Page]:
    """The first page always (its `server_time` counts even when empty), then until the paging ends.

    Stops on an empty page, a short page (page and offset paging), a null cursor or link, or when
    `total` records were read; a cursor or link seen before is refused (a shop looping forever).
    """
    from emporion.connectors.rest.client import Page  # here: the client imports this module

    size = getattr(paging, "size", None)
    number, offset, marker, seen, read = getattr(paging, "first", 1), 0, None, set(), 0
    while True:
        extra: dict[str, Any] = {}
        if paging is not None and paging.size_param and (marker is None or paging.kind != "next_link"):
            extra[paging.size_param] = size
        kind = paging.kind if paging is not None else None
        if kind == "page":
            extra[paging.param] = number
        elif kind == "offset":
            extra[paging.param] = offset
        elif kind == "cursor" and marker is not None:
            extra[paging.param] = marker
        if kind == "next_link" and marker is not None:
            answer = await client.read_url(call, marker)
        else:
            answer = await client.read_page(call, values, extra)
        items = client.items_of(call, answer)
        total = number_at(answer.body, paging.total) if paging is not None else None
        if read == 0 or items:
            yield Page(items, answer, int(total) if total is not None else None)
        read += len(items)
        if paging is None or not items or (total is not None and read >= total):
            return
        if kind in ("page", "offset"):
            if len(items) < paging.size:
                return
            number, offset = number + 1, offset + len(items)
            continue
        marker = marker_of(paging, answer)
        if marker is None:
            return
        if marker in seen:
            raise Permanent(f"{client.name}: the shop gave the same next page twice ({kind}); paging stopped")
        seen.add(marker)


def marker_of(paging: Any, answer: Answer) -> str | None:
    """The next page's cursor or URL in an answer, or None at the end."""
    if paging.next.startswith(HEADER):
        if paging.next.removeprefix(HEADER).lower() == "link":
            return next_link(answer.headers)
        return answer.headers.get(paging.next.removeprefix(HEADER)) or None
    found = first(answer.body, paging.next)
    return str(found) if found not in (None, "") else None
