"""The example connector of docs/connectors.md: the minishop (server.py) and its connector package."""
