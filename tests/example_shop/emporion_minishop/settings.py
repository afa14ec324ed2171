"""The settings of a minishop connection (`type: minishop` in the configuration)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field

from emporion.connectors.settings import ConnectionSettings, Secret


class MinishopConnection(ConnectionSettings):
    """A minishop reached over its REST API; the API key is a secret (`env:NAME` or `file:/path`)."""

    type: Literal["minishop"]
    url: str = Field(description="the shop's base URL; the API is URL/api")
    api_key: Secret
    timeout: float = Field(10.0, gt=0, description="seconds per request")
    page_size: int = Field(20, ge=1, le=100, description="records per page of a list")
    overlap_seconds: float = Field(
        5.0, ge=0, description="the change feed re-reads this much before its cursor (late commits, clocks)"
    )

    @property
    def overlap(self) -> timedelta:
        """The change feed's overlap window."""
        return timedelta(seconds=self.overlap_seconds)
