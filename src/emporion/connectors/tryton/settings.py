"""The settings of a Tryton connection (`type: tryton` in the configuration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from emporion.connectors.settings import ConnectionSettings, Secret


class TrytonConnection(ConnectionSettings):
    """A Tryton server reached over its JSON-RPC HTTP API."""

    type: Literal["tryton"]
    url: str = Field(description="server URL, e.g. https://erp.example.com:8000")
    database: str
    username: str
    password: Secret
    timeout: float = 60.0
    max_concurrency: int = Field(
        8,
        ge=1,
        le=64,
        description="requests in flight at once (keep it small for a Tryton on SQLite: one writer at a time)",
    )
    overlap_seconds: float = Field(30.0, description="how far each change-feed poll looks back")
    page_size: int = Field(500, ge=1, le=5000)
    custom_fields: dict[str, str] = Field(default_factory=dict, description="custom name -> Tryton field")
    price_lists: list[str] = Field(default_factory=list, description="price lists to read prices from")
    sale_price_list: str | None = Field(None, description="price list whose dated lines are sale prices")
    customer_groups: list[str] = Field(
        default_factory=list,
        description="party categories that are customer groups (e.g. [Wholesale, Retail]): a customer's"
        " group is the first of them the party is in; writing a group adds its category (made if missing)",
    )
    customer_category: str | None = Field(
        None,
        description="customers are parties with an e-mail contact, not the company's own party, and, when"
        " this names a party category, only the parties in it",
    )
    customer_addresses: Literal["add", "update"] = Field(
        "add",
        description="a customer's changed address: add a new one and move the invoice/delivery role to it"
        " (past sales and invoices keep showing the old one), or update the party's address in place",
    )
