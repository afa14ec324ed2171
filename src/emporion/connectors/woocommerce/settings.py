"""The settings of a WooCommerce connection (`type: woocommerce` in the configuration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from emporion.connectors.settings import ConnectionSettings, Secret


class WooCommerceConnection(ConnectionSettings):
    """A WooCommerce shop (or the sandbox) reached over its REST API v3."""

    type: Literal["woocommerce"]
    url: str = Field(description="the store URL; the API is URL/wp-json/wc/v3")
    consumer_key: Secret
    consumer_secret: Secret
    timeout: float = Field(
        30.0,
        gt=0,
        description="seconds to wait for an answer; for a batch write the least it is given (it gets "
        "five times the time its size should take at the measured pace when that is longer)",
    )
    max_requests_per_second: float | None = Field(None, gt=0)
    max_concurrency: int = Field(
        4,
        ge=1,
        le=64,
        description="requests in flight at most; batch writes start at `start_concurrency` and grow up "
        "to this while the shop's time per item holds, and fall back on timeouts, 429 and 5xx",
    )
    start_concurrency: int = Field(
        1, ge=1, le=64, description="batch writes in flight at first (never above max_concurrency)"
    )
    batch_size: int = Field(
        100,
        ge=1,
        le=100,
        description="items per batch write at most; fewer when the measured pace says a batch of this "
        "size would take longer than `batch_seconds`",
    )
    batch_seconds: float = Field(
        4.0, gt=0, le=60, description="seconds of the shop's time a batch write aims at, to size batches"
    )
    page_size: int = Field(100, ge=1, le=100, description="records per page when listing (≤ 100)")
    retries: int = Field(
        2,
        ge=0,
        le=10,
        description="quick retries of a GET that failed transiently, or of a request refused by 429",
    )
    signature_method: Literal["HMAC-SHA256", "HMAC-SHA1"] = "HMAC-SHA256"
    webhooks: bool = Field(False, description="register webhooks in the shop and take deliveries")
    webhook_secret: Secret | None = Field(
        None, description="none: generated and kept beside the state database"
    )

    customer_number_meta: str = Field(
        "customer_number",
        min_length=1,
        description="the customer meta key that holds the ERP's customer number",
    )
    customer_group_meta: str = Field(
        "customer_group",
        min_length=1,
        description="the customer meta key of the customer group (a B2B plugin's: b2bking_customergroup)",
    )
    customer_price_list_meta: str = Field(
        "price_list", min_length=1, description="the customer meta key naming the price list that applies"
    )
    customer_roles: list[str] = Field(
        default_factory=lambda: ["customer"],
        min_length=1,
        description="the WordPress roles whose users are customers (e.g. add wholesale_customer)",
    )

    @field_validator("customer_number_meta", "customer_group_meta", "customer_price_list_meta")
    @classmethod
    def _public_meta_key(cls, key: str) -> str:
        """WooCommerce neither shows nor writes protected meta (a key starting with "_") over its API."""
        if key.startswith("_"):
            raise ValueError(f"{key!r} is protected meta (leading underscore): WooCommerce's API skips it")
        return key

    def takes_webhooks(self) -> bool:
        """Whether the shop's webhooks are registered and their deliveries taken."""
        return self.webhooks

    def configured_webhook_secret(self) -> str | None:
        """The configured webhook secret, or None when one is generated."""
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            return None
        return self.webhook_secret.get_secret_value()
