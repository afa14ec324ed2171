"""The Tryton connector: JSON-RPC client, mapping to canonical records and change feed."""

from emporion.connectors.tryton.client import TrytonClient
from emporion.connectors.tryton.connector import TrytonConnector

__all__ = ["TrytonClient", "TrytonConnector"]
