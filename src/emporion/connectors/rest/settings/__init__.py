"""The settings of a declarative shop connection (`type: rest` or `type: graphql` in the configuration).

A shop's API is described, not programmed: how to authenticate, how each entity is listed, paged,
filtered by change, looked up by natural key, mapped field by field from JSON paths, and written; how
its webhooks are signed and registered. `preset: <name>` starts from a description shipped with the
project (`presets/<name>.yaml`); what the configuration says besides goes on top of it, key by key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from emporion.connectors.rest.settings.entities import (
    CategoryEntity,
    ChangedSince,
    CustomerEntity,
    DiscountList,
    Entities,
    EntitySettings,
    LineList,
    Lookup,
    NamedValues,
    NestedList,
    OrderEntity,
    PaymentList,
    ProductEntity,
    RefundLineList,
    RefundList,
    ShipmentList,
    ShippingLineList,
    TaxLineList,
    VariantList,
    nested,
    sublists_of,
)
from emporion.connectors.rest.settings.paths import JsonPath
from emporion.connectors.rest.settings.presets import with_preset
from emporion.connectors.rest.settings.wire import (
    ApiKeyAuth,
    Auth,
    BasicAuth,
    BearerAuth,
    Call,
    CursorPaging,
    HttpMethod,
    LoginAuth,
    NextLinkPaging,
    OAuth2Auth,
    OffsetPaging,
    PagePaging,
    Paging,
)
from emporion.connectors.settings import ConnectionSettings, Secret, Strict

__all__ = [
    "ApiKeyAuth", "Auth", "BasicAuth", "BearerAuth", "Call", "CategoryEntity", "ChangedSince",
    "CursorPaging", "CustomerEntity", "DiscountList", "Entities", "EntitySettings", "GraphQLConnection",
    "HttpMethod", "LineList", "LoginAuth", "Lookup", "NamedValues", "NestedList", "NextLinkPaging",
    "OAuth2Auth", "OffsetPaging", "OrderEntity", "PagePaging", "Paging", "PaymentList", "ProductEntity",
    "RateSettings", "RefundLineList", "RefundList", "RestConnection", "ShipmentList", "ShippingLineList",
    "Signature", "TaxLineList", "VariantList", "WebhookSettings", "nested", "sublists_of",
]  # fmt: skip

# -- webhooks ----------------------------------------------------------------------------------------


class Signature(Strict):
    """How the shop signs a delivery: HMAC over `signed` with the secret, in a header, hex or base64."""

    algorithm: Literal["sha1", "sha256", "sha512"] = "sha256"
    header: str = "X-Signature"
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field("", description="text before the signature in the header (e.g. 'sha256=')")
    signed: str = Field(
        "{body}", description="what is signed: '{body}', or e.g. '{timestamp}.{body}' with the timestamp"
    )
    timestamp_header: str | None = Field(None, description="the header with the delivery's timestamp")
    tolerance_seconds: float = Field(300.0, gt=0, description="older timestamps are refused (replays)")


class WebhookSettings(Strict):
    """The shop's webhooks: signature, topics per entity, where the key is, and registration."""

    secret: Secret | None = Field(None, description="none: generated and kept beside the state database")
    signature: Signature = Signature()
    topic_header: str | None = Field(None, description="the header naming the topic")
    topic: JsonPath | None = Field(None, description="JSON path of the topic in the body, if not in a header")
    delivery_header: str | None = Field(None, description="the header with the delivery's own id")
    topics: dict[str, list[str]] = Field(
        default_factory=dict, description="entity -> the topics that announce its changes"
    )
    key: JsonPath = Field("$.id", description="JSON path of the changed record's id in a delivery")
    subscribe: Call | None = Field(None, description="registers one topic: `{url}`, `{topic}`, `{secret}`")
    subscriptions: Call | None = Field(None, description="lists registered webhooks (to not register twice)")
    subscription_url: JsonPath = Field("$.url", description="JSON path of a listed webhook's delivery URL")
    subscription_topic: JsonPath = Field("$.topic", description="JSON path of a listed webhook's topic")


# -- rate headers ------------------------------------------------------------------------------------


class RateSettings(Strict):
    """What the shop says about its limits: remaining requests or cost, and when the budget resets."""

    max_requests_per_second: float | None = Field(None, gt=0)
    max_concurrency: int = Field(4, ge=1, le=64)
    remaining_header: str | None = Field(None, description="e.g. X-RateLimit-Remaining")
    reset_header: str | None = Field(
        None, description="seconds until the budget resets, e.g. X-RateLimit-Reset"
    )
    cost: JsonPath | None = Field(
        None,
        description="JSON path of a GraphQL answer's query cost (e.g. $.extensions.cost.actualQueryCost)",
    )
    cost_remaining: JsonPath | None = Field(None, description="JSON path of the cost budget left")
    low_water: float = Field(
        0.1, ge=0, le=1, description="slow down when less than this share of the budget is left"
    )


# -- the connection ----------------------------------------------------------------------------------


class RestConnection(ConnectionSettings):
    """A shop reached over a REST API described in the configuration (or a shipped preset)."""

    type: Literal["rest"]
    preset: str | None = Field(None, description="start from a shipped description: medusa, merchantpro")
    url: str = Field(description="the API's base URL; paths are relative to it")
    auth: Auth
    timeout: float = Field(30.0, gt=0, description="seconds to wait for an answer")
    retries: int = Field(2, ge=0, le=10, description="quick retries of a read that failed transiently")
    rate: RateSettings = RateSettings()
    headers: dict[str, str] = Field(default_factory=dict, description="sent with every request")
    entities: Entities = Field(description="what the shop holds and how to read and write it")
    webhooks: WebhookSettings | None = Field(None, description="none: changes are polled")
    options: dict[str, Any] = Field(
        default_factory=dict, description="values the preset's calls name as {option.<name>} (a location id)"
    )

    _preset = model_validator(mode="before")(with_preset)

    def takes_webhooks(self) -> bool:
        """Whether the shop's webhooks are taken (and registered where the API allows)."""
        return self.webhooks is not None

    def configured_webhook_secret(self) -> str | None:
        """The configured webhook secret, or None when one is generated."""
        if self.webhooks is None or self.webhooks.secret is None:
            return None
        return self.webhooks.secret.get_secret_value() or None


class GraphQLConnection(RestConnection):
    """A shop reached over a GraphQL API: every call is a named query or mutation sent to `url`."""

    type: Literal["graphql"]  # type: ignore[assignment]
    preset: str | None = Field(None, description="start from a shipped description: vendure")
