"""WooCommerce (REST API v3) connector: client, auth, mapping, change feed, webhooks."""
