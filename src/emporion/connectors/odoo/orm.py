"""The ORM calls every part of the connector uses (search_read, read, create, write, paging), built on
the client's one request path `call`: named arguments only, so that both APIs take them as they are."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from emporion.connectors.odoo.settings import OdooConnection

Domain = list[Any]


class OrmCalls:
    """Odoo's ORM methods over `call` (the client provides it)."""

    settings: OdooConnection

    async def call(self, model: str, method: str, ids: list[int] | None = None, /, **params: Any) -> Any:
        """`model.method` on records `ids` with named `params`: the client's one request path."""
        raise NotImplementedError

    async def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of `model` matching `domain` with `fields`."""
        params: dict[str, Any] = {"domain": domain, "fields": list(fields), "offset": offset}
        if limit is not None:
            params["limit"] = limit
        if order:
            params["order"] = order
        if context:
            params["context"] = context
        return list(await self.call(model, "search_read", None, **params) or [])

    async def search(
        self,
        model: str,
        domain: Domain,
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[int]:
        """Ids of `model` matching `domain`."""
        params: dict[str, Any] = {"domain": domain, "offset": offset}
        if limit is not None:
            params["limit"] = limit
        if order:
            params["order"] = order
        if context:
            params["context"] = context
        return [int(i) for i in await self.call(model, "search", None, **params) or []]

    async def search_count(self, model: str, domain: Domain, *, context: dict[str, Any] | None = None) -> int:
        """How many records of `model` match `domain`."""
        params: dict[str, Any] = {"domain": domain}
        if context:
            params["context"] = context
        return int(await self.call(model, "search_count", None, **params))

    async def read(
        self, model: str, ids: Sequence[int], fields: Sequence[str], *, context: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """`fields` of records `ids`, archived ones too (as Odoo's `read`); missing ids are left out."""
        rows: list[dict[str, Any]] = []
        wanted = list(dict.fromkeys(ids))
        size = self.settings.page_size
        every = {"active_test": False, **(context or {})}
        for start in range(0, len(wanted), size):
            chunk = wanted[start : start + size]
            rows.extend(await self.search_read(model, [("id", "in", chunk)], fields, context=every))
        return rows

    async def create(
        self, model: str, values: list[dict[str, Any]], *, context: dict[str, Any] | None = None
    ) -> list[int]:
        """Create one record per dict of `values`; their ids in the same order."""
        params: dict[str, Any] = {"vals_list": values}
        if context:
            params["context"] = context
        result = await self.call(model, "create", None, **params)
        return [int(result)] if isinstance(result, int) else [int(i) for i in result]

    async def write(
        self, model: str, ids: Sequence[int], values: dict[str, Any], *, context: dict[str, Any] | None = None
    ) -> None:
        """Write `values` on records `ids`."""
        params: dict[str, Any] = {"vals": values}
        if context:
            params["context"] = context
        await self.call(model, "write", list(ids), **params)

    async def unlink(self, model: str, ids: Sequence[int], *, context: dict[str, Any] | None = None) -> None:
        """Delete records `ids`."""
        params: dict[str, Any] = {"context": context} if context else {}
        await self.call(model, "unlink", list(ids), **params)

    async def pages(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        page_size: int,
        order: str = "id",
        context: dict[str, Any] | None = None,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every row matching `domain`, a page at a time: keyset paging on id (offset for another order)."""
        wanted = list(dict.fromkeys(["id", *fields]))
        if order.strip().lower() in ("id", "id asc"):
            last = 0
            while True:
                rows = await self.search_read(
                    model, [("id", ">", last), *domain], wanted, limit=page_size, order="id", context=context
                )
                if rows:
                    yield rows
                    last = rows[-1]["id"]
                if len(rows) < page_size:
                    return
        offset = 0
        while True:
            rows = await self.search_read(
                model, domain, wanted, offset=offset, limit=page_size, order=order, context=context
            )
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            offset += len(rows)
