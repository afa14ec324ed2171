"""What every connection's settings share: secrets resolved from env or files, TLS and a circuit breaker.

A connector's own settings model subclasses `ConnectionSettings` and marks its secret fields with the
`Secret` type: the value `env:NAME`, `file:/path` (or `{env: NAME}`, `{file: PATH}`) is resolved while
the configuration is validated, and the resolved value is registered with the log redaction.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, WithJsonSchema, model_validator

from emporion.connectors.circuit import CircuitBreaker
from emporion.logs import add_secret


class Strict(BaseModel):
    """A settings model that refuses unknown keys (a typo is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def resolve_secret(value: Any) -> SecretStr:
    """Turn `env:NAME`, `file:/path`, {env: NAME}, {file: path} or a literal into a SecretStr.

    Every resolved value is also registered with the log redaction, so that it never shows in a log.
    """
    secret = _resolve_secret(value)
    add_secret(secret.get_secret_value())
    return secret


def _resolve_secret(value: Any) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if isinstance(value, dict):
        if set(value) == {"env"}:
            value = f"env:{value['env']}"
        elif set(value) == {"file"}:
            value = f"file:{value['file']}"
        else:
            raise ValueError("a secret is a string, {env: NAME} or {file: PATH}")
    if not isinstance(value, str):
        raise ValueError("a secret must be a string")
    if value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return SecretStr(os.environ[name])
    if value.startswith("file:"):
        secret_path = Path(value[5:]).expanduser()
        try:
            return SecretStr(secret_path.read_text(encoding="utf-8").strip())
        except OSError as error:
            raise ValueError(f"cannot read secret file {secret_path}: {error.strerror}") from None
    return SecretStr(value)


Secret = Annotated[
    SecretStr,
    BeforeValidator(resolve_secret),
    WithJsonSchema(
        {
            "description": "env:NAME, file:/path, {env: NAME}, {file: PATH}, or (not recommended) the value",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"env": {"type": "string"}},
                    "required": ["env"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {"file": {"type": "string"}},
                    "required": ["file"],
                    "additionalProperties": False,
                },
            ],
        }
    ),
]


class TLSSettings(Strict):
    verify: bool = True
    ca_bundle: str | None = Field(None, description="PEM file of CAs to trust instead of the system's")

    def httpx_verify(self) -> ssl.SSLContext | bool:
        """httpx's `verify`: a context trusting the configured CA bundle, else on (or explicitly off)."""
        if self.ca_bundle:
            return ssl.create_default_context(cafile=self.ca_bundle)
        return self.verify


class CircuitSettings(Strict):
    """The connection's circuit breaker: when to stop calling a system that is down, and when to probe."""

    failure_threshold: int = Field(
        5, ge=1, le=1000, description="transient failures in a row (timeouts, 5xx, 429) that open it"
    )
    cooldown: float = Field(10.0, gt=0, description="seconds it stays open before one probe call goes")
    max_cooldown: float = Field(300.0, gt=0, description="the cooldown doubles per failed probe up to this")

    @model_validator(mode="after")
    def _ordered(self) -> CircuitSettings:
        if self.max_cooldown < self.cooldown:
            raise ValueError("max_cooldown must be at least cooldown")
        return self

    def breaker(self, connection: str) -> CircuitBreaker:
        """The circuit breaker of the connection named `connection`."""
        return CircuitBreaker(
            connection,
            failure_threshold=self.failure_threshold,
            cooldown=self.cooldown,
            max_cooldown=self.max_cooldown,
        )


class ConnectionSettings(Strict):
    """Base of every connector's settings: `type` names the connector (a `Literal` in each subclass)."""

    type: str
    tls: TLSSettings = TLSSettings()
    circuit: CircuitSettings = CircuitSettings()

    def takes_webhooks(self) -> bool:
        """Whether this connection receives webhook deliveries (connectors that can override it)."""
        return False

    def configured_webhook_secret(self) -> str | None:
        """The webhook secret set in the configuration (None: generated and kept beside the state)."""
        return None
