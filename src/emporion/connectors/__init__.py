"""Connectors: one folder per system; nothing outside a connector knows its wire format."""
