"""Stock reservations: units sold in a shop that the ERP does not know about yet.

While a shop order waits for the ERP (queued, on hold, ERP down), its quantities are reserved here so
that every catalogue flow sends `available - reserved`: two shops selling from one warehouse cannot
both sell the last unit. The reservation ends when the ERP has the sale (its own stock then counts it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from emporion.state.tables import reservation


async def reserve(
    conn: AsyncConnection, flow: str, order_key: str, quantities: Mapping[str, Decimal], now: datetime
) -> None:
    """Set the reservation of one order to exactly `quantities` (replacing what it had)."""
    await conn.execute(
        delete(reservation).where(and_(reservation.c.flow == flow, reservation.c.order_key == order_key))
    )
    rows = [
        {"flow": flow, "order_key": order_key, "sku": sku, "quantity": quantity, "created_at": now}
        for sku, quantity in sorted(quantities.items())
        if quantity > 0
    ]
    if rows:
        await conn.execute(reservation.insert(), rows)


async def release(conn: AsyncConnection, flow: str, order_keys: Iterable[str]) -> None:
    """End the reservations of these orders (the ERP has them, or they will never reach it)."""
    keys = list(order_keys)
    if keys:
        await conn.execute(
            delete(reservation).where(reservation.c.flow == flow, reservation.c.order_key.in_(keys))
        )


async def reserved(conn: AsyncConnection, skus: Iterable[str]) -> dict[str, Decimal]:
    """Units reserved per SKU, over every flow."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(reservation.c.sku, func.sum(reservation.c.quantity))
        .where(reservation.c.sku.in_(wanted))
        .group_by(reservation.c.sku)
    )
    return {sku: Decimal(total) for sku, total in rows}
