"""The Tryton connector: JSON-RPC client, mapping to canonical records and change feed."""
