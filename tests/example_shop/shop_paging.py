"""minishop's ways of paging a list: page number, offset, opaque cursor, or a link to the next page.

`paged` cuts one page from the records found and says where the next starts as the mode does:
`page`/`pages`, `offset`/`limit`, `next_cursor` (null at the end) or `links.next` plus an RFC 8288
`Link` header (null and absent at the end). Every answer keeps `total` and `server_time`.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

from starlette.datastructures import URL

PagingMode = Literal["page", "offset", "cursor", "next_link"]
Json = dict[str, Any]
MAX_SIZE = 100


def encode_cursor(offset: int) -> str:
    """The opaque cursor of the record at `offset`."""
    return base64.urlsafe_b64encode(f"after:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset a cursor stands for (ValueError for one this shop never gave)."""
    text = base64.urlsafe_b64decode(cursor.encode()).decode()
    if not text.startswith("after:"):
        raise ValueError(f"unknown cursor {cursor!r}")
    return int(text.removeprefix("after:"))


def paged(
    found: list[Json],
    params: dict[str, str],
    mode: PagingMode,
    url: URL,
    default_size: int,
    *,
    repeat_cursor: bool = False,
) -> tuple[Json, dict[str, str]]:
    """One page of `found` as the answer body and its extra headers, by the shop's paging mode."""
    if mode == "page":
        size = min(int(params.get("per_page", default_size)), MAX_SIZE)
        number = int(params.get("page", 1))
        pages = max(1, -(-len(found) // size))
        items = found[(number - 1) * size : number * size]
        return {"items": items, "page": number, "pages": pages, "total": len(found)}, {}
    size = min(int(params.get("limit", default_size)), MAX_SIZE)
    if mode == "cursor":
        start = decode_cursor(params["cursor"]) if params.get("cursor") else 0
    else:
        start = int(params.get("offset", 0))
    items = found[start : start + size]
    more = start + size < len(found)
    if mode == "offset":
        return {"items": items, "offset": start, "limit": size, "total": len(found)}, {}
    if mode == "cursor":
        following = encode_cursor(start if repeat_cursor else start + size) if more else None
        return {"items": items, "next_cursor": following, "total": len(found)}, {}
    link = str(url.include_query_params(offset=start + size, limit=size)) if more else None
    headers = {"Link": f'<{link}>; rel="next"'} if link else {}
    return {"items": items, "links": {"next": link}, "total": len(found)}, headers
