"""WooCommerce (REST API v3) connector: client, auth, mapping, change feed, webhooks."""

from emporion.connectors.woocommerce.client import WooCommerceClient
from emporion.connectors.woocommerce.connector import WooCommerceConnector

__all__ = ["WooCommerceClient", "WooCommerceConnector"]
