"""The emporion configuration of the demo's Odoo (the dev kit's Odoo sandbox) and the WooCommerce sandbox.

Shared by `emporion demo --erp odoo` and the end-to-end tests, so that both run the same connection and
flows: the catalogue from Odoo into the shop (both warehouses, the sample's pricelists and promotions),
and the shop's orders back into Odoo as sales.
"""

from __future__ import annotations

from typing import Any

import yaml

from emporion_devkit.erp.catalogue import PROMOTIONS, WHOLESALE

CATALOGUE_FLOW = "catalogue"
ORDER_FLOW = "orders"
WAREHOUSES = ["WH", "WH2"]
CARRIER = "Standard delivery"  # the sandbox's delivery.carrier
REFERENCE_PREFIX = "WEB-"
INTEGRATION_LOGIN = "emporion"


def odoo_connection(
    url: str, database: str, api_key: str, *, api: str = "auto", page_size: int = 500
) -> dict[str, Any]:
    """The `type: odoo` connection of the integration user; `api_key` is a secret reference (env:/file:)."""
    return {
        "type": "odoo",
        "url": url,
        "database": database,
        "username": INTEGRATION_LOGIN,
        "api_key": api_key,
        "api": api,
        "page_size": page_size,
        "overlap_seconds": 30,
        "warehouses": WAREHOUSES,
        "pricelists": [WHOLESALE],
        "sale_pricelist": PROMOTIONS,
    }


def shop_connection(url: str, key: str, secret: str, *, webhooks: bool = False) -> dict[str, Any]:
    """The WooCommerce (sandbox) connection; `key` and `secret` are secret references (env:/file:)."""
    return {
        "type": "woocommerce",
        "url": url,
        "consumer_key": key,
        "consumer_secret": secret,
        "webhooks": webhooks,
    }


def catalogue_flow(*, poll_interval: float = 2, price_list: str | None = WHOLESALE) -> dict[str, Any]:
    """Odoo's catalogue into the shop: stock of both warehouses, prices from the wholesale pricelist."""
    flow: dict[str, Any] = {
        "name": CATALOGUE_FLOW,
        "source": "erp",
        "target": "shop",
        "entities": ["category", "product"],
        "poll_interval": poll_interval,
        "warehouses": WAREHOUSES,
    }
    if price_list:
        flow["price_list"] = price_list
    return flow


def order_flow(*, poll_interval: float = 2, shortage: str = "hold") -> dict[str, Any]:
    """The shop's orders into Odoo as sales `WEB-<order number>`, shipped with the sandbox's carrier."""
    return {
        "name": ORDER_FLOW,
        "source": "shop",
        "target": "erp",
        "entities": ["order"],
        "poll_interval": poll_interval,
        "orders": {
            "reference_prefix": REFERENCE_PREFIX,
            "carriers": {"*": CARRIER},
            "shortage": shortage,
            "tracking_note": "customer",
        },
    }


def document(
    erp: dict[str, Any],
    shop: dict[str, Any],
    *,
    state_url: str = "sqlite:///state.db",
    server_port: int | None = None,
    flows: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A whole configuration as data: Odoo as `erp`, the shop as `shop`, both flows unless `flows`."""
    settings: dict[str, Any] = {
        "version": 1,
        "state": {"url": state_url},
        "logging": {"format": "pretty", "level": "info"},
    }
    if server_port is not None:
        settings["server"] = {
            "host": "127.0.0.1",
            "port": server_port,
            "public_url": f"http://127.0.0.1:{server_port}",
            "console": {"secure_cookies": False},
        }
    settings["connections"] = {"erp": erp, "shop": shop}
    settings["flows"] = flows if flows is not None else [catalogue_flow(), order_flow()]
    return settings


def as_yaml(settings: dict[str, Any], comment: str) -> str:
    """The configuration file's text, with a comment line on top."""
    body = yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, width=110)
    return f"# {comment}\n{body}"
