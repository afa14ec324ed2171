"""The settings of an Odoo connection (`type: odoo`): server, database, integration user and API key."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from emporion.connectors.settings import ConnectionSettings, Secret


class OdooConnection(ConnectionSettings):
    """An Odoo 17, 18 or 19 server reached over its external API with an integration user's API key."""

    type: Literal["odoo"]
    url: str = Field(description="server URL, e.g. https://erp.example.com")
    database: str | None = Field(
        None, description="database name (JSON-2: the X-Odoo-Database header; needed with several databases)"
    )
    username: str = Field(description="login of the integration user (JSON-RPC authenticates with it)")
    api_key: Secret = Field(description="the integration user's API key (used as the password on 17 and 18)")
    api: Literal["auto", "jsonrpc", "json2"] = Field(
        "auto", description="auto: JSON-2 on Odoo 19 and later, JSON-RPC (execute_kw) before"
    )
    version: Literal["auto", "17", "18", "19"] = Field(
        "auto", description="the version profile (field names); auto: asked from the server"
    )
    timeout: float = Field(60.0, gt=0)
    max_concurrency: int = Field(8, ge=1, le=64, description="requests in flight at once")
    page_size: int = Field(500, ge=1, le=5000)
    overlap_seconds: float = Field(60.0, ge=0, description="how far each change-feed poll looks back")
    warehouses: list[str] = Field(
        default_factory=list,
        description="codes of the warehouses whose free quantity is published; none: all",
    )
    pricelists: list[str] = Field(default_factory=list, description="pricelists to read prices from (names)")
    sale_pricelist: str | None = Field(None, description="pricelist whose dated items are sale prices")
    custom_fields: dict[str, str] = Field(
        default_factory=dict, description="custom name -> 'template.<field>' or 'product.<field>'"
    )
    key_expiry_warning_days: int = Field(
        14, ge=0, description="alert this many days before the API key expires (Odoo 19 keys expire)"
    )
    fee_product: str | None = Field(
        None,
        description="internal reference (default_code) of the service product that carries an order's fees"
        " and the cents a unit price cannot (a sale line needs a product); none: an order with fees fails",
    )
    customer_category: str | None = Field(
        None,
        description="tag (res.partner.category) a partner needs to be a customer; made and set on create",
    )
    customer_groups: list[str] = Field(
        default_factory=list,
        description="tags that are customer groups (the first one a partner has is its group)",
    )
    customer_addresses: Literal["add", "update"] = Field(
        "add",
        description="a changed address of a linked customer: add a new contact of its type (past sales keep"
        " theirs) or update the newest one in place",
    )
