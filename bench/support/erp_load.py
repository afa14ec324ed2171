"""Stock and price changes written to Tryton at a steady rate, as its users would; a log of them.

Runs as its own process (`python -m bench.support.erp_load ...`) so that it takes no CPU from emporion.
Every tick writes a share of the changes in two calls: list prices of some templates, and done stock
moves (goods received) for other products. Each change is logged with the wall-clock time its call
returned, i.e. when the change was committed and visible to emporion's change feed: one JSON array
`[template id, kind, epoch seconds]` a line in the `--out` file, written as it goes.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date
from decimal import Decimal
from itertools import cycle
from typing import Any

import anyio

from emporion.connectors.tryton.client import TrytonClient

TICKS_PER_SECOND = 5


async def products(client: TrytonClient) -> list[dict[str, Any]]:
    """Salable goods, one row per product.product with its template and unit."""
    return await client.search_read(
        "product.product",
        [("template.salable", "=", True), ("template.type", "=", "goods")],
        ["id", "template", "default_uom"],
        order=[("id", "ASC")],
    )


async def generate(
    url: str, database: str, password: str, rate: float, duration: float, out: Any
) -> dict[str, Any]:
    """Write changes for `duration` seconds at `rate` per second, logging each to `out`."""
    client = TrytonClient(url, database, "admin", password)
    try:
        await client.login()
        rows = await products(client)
        company = client.context["company"]
        (company_row,) = await client.model("company.company", "read", [company], ["currency"])
        (warehouse,) = await client.search_read("stock.location", [("code", "=", "WH")], ["storage_location"])
        (supplier,) = await client.search_read("stock.location", [("type", "=", "supplier")], ["id"], limit=1)
        pick = cycle(rows)
        events: list[tuple[str, str, float]] = []  # template key, kind, committed at (epoch seconds)
        per_tick = rate / TICKS_PER_SECOND
        owed = 0.0
        began = time.monotonic()
        tick = 0
        while time.monotonic() - began < duration:
            owed += per_tick
            count, owed = int(owed), owed - int(owed)
            prices = [next(pick) for _ in range(count // 2)]
            stock = [next(pick) for _ in range(count - len(prices))]
            if prices:
                pairs: list[Any] = []
                for row in prices:
                    cents = 500 + (row["id"] * 7 + tick) % 19000
                    pairs += [[row["template"]], {"list_price": Decimal(cents) / 100}]
                await client.model("product.template", "write", *pairs)
                done = time.time()
                events += [(str(row["template"]), "price", done) for row in prices]
                log(out, [(str(row["template"]), "price", done) for row in prices])
            if stock:
                values = [
                    {
                        "product": row["id"],
                        "unit": row["default_uom"],
                        "quantity": float(1 + tick % 5),
                        "from_location": supplier["id"],
                        "to_location": warehouse["storage_location"],
                        "unit_price": Decimal("1.00"),
                        "currency": company_row["currency"],
                        "company": company,
                        "effective_date": date.today(),
                    }
                    for row in stock
                ]
                moves = await client.model("stock.move", "create", values)
                await client.model("stock.move", "do", moves)
                done = time.time()
                events += [(str(row["template"]), "stock", done) for row in stock]
                log(out, [(str(row["template"]), "stock", done) for row in stock])
            tick += 1
            next_tick = began + tick / TICKS_PER_SECOND
            await anyio.sleep(max(0.0, next_tick - time.monotonic()))
        seconds = time.monotonic() - began
        return {
            "events": events,
            "seconds": seconds,
            "achieved_rate": len(events) / seconds if seconds else 0.0,
            "products": len(rows),
        }
    finally:
        await client.close()


def log(out: Any, events: list[tuple[str, str, float]]) -> None:
    """Append changes to the log as they are committed (one JSON array a line), so none is lost."""
    for event in events:
        out.write(json.dumps(event) + "\n")
    out.flush()


def main() -> None:
    """Parse the command line and run the load."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--url", required=True)
    cli.add_argument("--database", required=True)
    cli.add_argument("--rate", type=float, required=True)
    cli.add_argument("--duration", type=float, required=True)
    cli.add_argument("--out", required=True)
    args = cli.parse_args()
    password = os.environ["BENCH_TRYTON_ADMIN_PASSWORD"]
    with open(args.out, "w", encoding="utf-8") as out:
        anyio.run(generate, args.url, args.database, password, args.rate, args.duration, out)


if __name__ == "__main__":
    main()
