"""What the Odoo order tests share: the configuration with both flows, draining the order flow, and
what Odoo must hold for each shop order (one confirmed sale.order with the shop's lines and total).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import anyio
import pytest

from emporion.config import Settings
from emporion.engine.sync import sync_flow
from emporion.engine.worker import Engine
from emporion_devkit.demo import odoo_config
from emporion_devkit.sandbox.woocommerce import SandboxShop
from tests.integration import odoo_erp_support as odoo_support
from tests.integration.odoo_erp_support import OdooErp

POLL = 1.0  # seconds between change-feed polls


def order_settings(
    erp: OdooErp, shop: SandboxShop, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Both flows: the catalogue into the shop and the shop's orders into Odoo."""
    flows = [
        odoo_config.catalogue_flow(poll_interval=POLL),
        odoo_config.order_flow(poll_interval=POLL, shortage="accept"),
    ]
    return odoo_support.settings(odoo_support.document(erp, shop, state_url, monkeypatch, flows))


async def start(engine: Engine) -> None:
    """Catalogue into the shop, then the order flow's feeds start."""
    await sync_flow(engine.runners[odoo_config.CATALOGUE_FLOW])
    await engine.ensure_initial_sync()


async def drain_orders(engine: Engine) -> None:
    """Work the order flow until its queue is empty (intake and feedback)."""
    await engine.drain(engine.order_flows[odoo_config.ORDER_FLOW].flow)


def assert_one_sale_each(erp: OdooErp, orders: list[dict[str, Any]]) -> None:
    """Each shop order is one sale.order, confirmed, to the shop's total, with the shop's lines."""
    for order in orders:
        sale = odoo_support.sale(erp, odoo_support.reference(order))
        assert sale["state"] == "sale", (order["number"], sale["state"])
        assert Decimal(str(sale["amount_total"])) == Decimal(order["total"]), order["number"]
        lines = erp.sandbox.search_read(
            "sale.order.line",
            [("order_id", "=", sale["id"])],
            ["product_id", "product_uom_qty", "is_delivery"],
        )
        ordered = sorted((item["sku"], Decimal(item["quantity"])) for item in order["line_items"])
        booked = sorted(
            (odoo_support.sku_of(erp, line["product_id"][0]), Decimal(str(line["product_uom_qty"])))
            for line in lines
            if not line["is_delivery"]
        )
        assert booked == ordered, order["number"]
        assert [line for line in lines if line["is_delivery"]], f"{order['number']}: no delivery line"


def sale_references(erp: OdooErp) -> Counter[str]:
    """How many sale.orders carry each customer reference."""
    rows = erp.sandbox.search_read(
        "sale.order", [("client_order_ref", "!=", False)], ["client_order_ref"], {"active_test": False}
    )
    return Counter(str(row["client_order_ref"]) for row in rows)


async def all_in_odoo(erp: OdooErp, placed: list[dict[str, Any]]) -> bool:
    """Whether every order placed has its sale in Odoo."""
    wanted = {odoo_support.reference(o) for o in placed}
    return set(await anyio.to_thread.run_sync(sale_references, erp)) >= wanted
