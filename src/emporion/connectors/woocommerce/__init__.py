"""WooCommerce (REST API v3) connector: client, auth, mapping, change feed, webhooks.

Names are loaded on first use, so that reading the configuration (which imports `plugin` and
`settings`) does not load the client.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "WooCommerceClient": "emporion.connectors.woocommerce.client",
    "WooCommerceConnector": "emporion.connectors.woocommerce.connector",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
