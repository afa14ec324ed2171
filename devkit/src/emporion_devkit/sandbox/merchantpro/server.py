"""`MerchantProSandbox`: the sandbox served by uvicorn on 127.0.0.1 in a background thread, with the
helpers a test uses to act as the merchant (catalogue, statuses) and as a shopper (orders, returns)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from emporion_devkit.sandbox.merchantpro import catalog, sales
from emporion_devkit.sandbox.merchantpro.app import PREFIX, Gate, MerchantProApp
from emporion_devkit.sandbox.merchantpro.store import Store, render
from emporion_devkit.sandbox.serving import ThreadedServer


class MerchantProSandbox:
    """A MerchantPro-like shop: `with MerchantProSandbox().serve() as url:` answers at `url + "/api/v2"`."""

    def __init__(
        self,
        api_key: str | None = None,
        api_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        vat_percent: Decimal = Decimal(21),
        max_requests_per_second: float | None = None,
    ) -> None:
        self.api_key = api_key or "mp_" + secrets.token_hex(8)
        self.api_secret = api_secret or secrets.token_hex(16)
        self.host, self.port = host, port
        self.store = Store(vat_percent)
        self.gate = Gate(self.api_key, self.api_secret, max_requests_per_second)
        self._serving = ThreadedServer("the MerchantPro sandbox")

    @property
    def url(self) -> str:
        """The shop's URL (the API is under `/api/v2`)."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API's root, to which the resource paths are relative."""
        return self.url + PREFIX.rstrip("/")

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve on `host:port` (0: a free port) until the block ends; yields the shop's URL."""
        self.start()
        try:
            yield self.url
        finally:
            self.stop()

    def start(self) -> None:
        """Bind the socket and serve in a background thread."""
        self.port = self._serving.bind(self.host, self.port)
        self.store.base_url = self.url
        self._serving.run(MerchantProApp(self.store, self.gate))

    def stop(self) -> None:
        """Stop serving."""
        self._serving.stop()

    # -- the merchant ------------------------------------------------------------------------------

    def add_category(
        self, name: str, parent_id: int | None = None, stamp: datetime | None = None
    ) -> dict[str, Any]:
        """Make a category as the merchant would in the admin; `stamp` dates it earlier."""
        category = catalog.write_category(self.store, {}, {"name": name, "parent_id": parent_id}, True)
        if stamp is not None:
            category["created_at"] = stamp.replace(microsecond=0)
            self.store.touch("category", category, category["created_at"])
        return render(category)

    def change_category(
        self, category_id: int, stamp: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Change a category as the merchant would; `stamp` back-dates the change (a late commit)."""
        category = catalog.write_category(self.store, self.store.get("category", category_id), fields, False)
        if stamp is not None:
            self.store.touch("category", category, stamp)
        return render(category)

    def add_product(
        self,
        sku: str,
        name: str,
        price_gross: Decimal | str = "10",
        stock: int = 10,
        stamp: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Make a basic product (or, with `type="multi_variant"` and `variants`, one with variants);
        `stamp` dates it earlier (a product that was there before)."""
        body = {"sku": sku, "name": name, **fields}
        if fields.get("type") != "multi_variant":
            body = {"price_gross": str(price_gross), "stock": stock, **body}
        product = catalog.create_product(self.store, body)
        if stamp is not None:
            product["created_at"] = stamp.replace(microsecond=0)
            self.store.touch("product", product, product["created_at"])
        return render(catalog.product_view(self.store, product, with_variants=True))

    def change_product(self, product_id: int, stamp: datetime | None = None, **fields: Any) -> dict[str, Any]:
        """Change a product as the merchant would; `stamp` back-dates the change (a late commit)."""
        product = catalog.update_product(self.store, product_id, fields)
        if stamp is not None:
            self.store.touch("product", product, stamp)
        return render(catalog.product_view(self.store, product, with_variants=True))

    def add_customer(self, email: str, stamp: datetime | None = None, **fields: Any) -> dict[str, Any]:
        """Make a customer account as a shopper registering would; `stamp` dates it earlier."""
        customer = sales.write_customer(self.store, {}, {"email": email, **fields}, creating=True)
        if stamp is not None:
            customer["created_at"] = stamp.replace(microsecond=0)
            self.store.touch("customer", customer, customer["created_at"])
        return render(customer)

    def change_customer(self, customer_id: int, **fields: Any) -> dict[str, Any]:
        """Change a customer's account (its addresses, say) as the shopper or the merchant would."""
        customer = self.store.get("customer", customer_id)
        return render(sales.write_customer(self.store, customer, fields, creating=False))

    def set_order_status(self, order_id: int, **statuses: str) -> dict[str, Any]:
        """Set `status`, `payment_status` and/or `shipping_status` of an order as the merchant would."""
        return render(sales.update_order(self.store, order_id, statuses))

    def record(self, kind: str, record_id: int) -> dict[str, Any]:
        """A record as stored (`product`, `category`, `customer`, `order`), in its JSON form."""
        return render(self.store.get(kind, record_id))

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every record of `kind` in its JSON form."""
        return [render(record) for record in self.store.all(kind)]

    # -- shoppers ----------------------------------------------------------------------------------

    def place_order(
        self, email: str, lines: list[tuple[str, int]], register: bool = False, **fields: Any
    ) -> dict[str, Any]:
        """Check out as a shopper: `lines` of (sku, quantity); a guest unless `register` (or known)."""
        customer = sales.customer_by_email(self.store, email)
        if customer is None and register:
            customer = sales.write_customer(self.store, {}, {"email": email}, creating=True)
        billing = {
            "first_name": "Ana",
            "last_name": "Popescu",
            "address": "Str. Lipscani 1",
            "city": "Bucuresti",
            "county": "Bucuresti",
            "postal_code": "030031",
            "country_code": "RO",
            "phone": "+40700000000",
        }
        body = {
            "email": email,
            "billing_address": billing,
            "line_items": [{"sku": s, "quantity": q} for s, q in lines],
        }
        if customer is not None:
            body["customer_id"] = customer["id"]
        return render(sales.create_order(self.store, {**body, **fields}))

    def place_return(self, order_id: int, lines: list[tuple[str, int]]) -> dict[str, Any]:
        """A shopper returns part of an order: a separate order of type "return" naming it."""
        items = [{"sku": s, "quantity": q} for s, q in lines]
        return render(
            sales.create_order(
                self.store, {"type": "return", "source_order_id": order_id, "line_items": items}
            )
        )

    # -- faults ------------------------------------------------------------------------------------

    def fail_next(self, status: int = 503, count: int = 1) -> None:
        """Answer the next `count` API requests with `status` (a shop briefly unwell)."""
        self.gate.faults += [status] * count

    @property
    def requests(self) -> int:
        """How many API requests reached the sandbox."""
        return self.gate.requests
