"""Rows to canonical records and back, for connectors whose system is tables or files (SQL, CSV, XML)."""
