"""The HTTP side of emporion: webhook ingress into the inbox, webhook registration, health."""

from emporion.server.app import create_app, run_server, serve_app
from emporion.server.registration import ensure_all, webhook_topics
from emporion.server.secrets import WebhookSecrets, secrets_dir

__all__ = [
    "WebhookSecrets",
    "create_app",
    "ensure_all",
    "run_server",
    "secrets_dir",
    "serve_app",
    "webhook_topics",
]
