"""A shopper simulator: random guests and registered customers from several countries buy what is in stock."""

from __future__ import annotations

import random
import threading
from typing import TYPE_CHECKING, Any

from emporion_devkit.sandbox.woocommerce.errors import ApiError

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop

# country, state, city, postcode, street, phone
PLACES = [
    ("US", "CA", "San Francisco", "94103", "969 Market", "(555) 555-5555"),
    ("US", "NY", "New York", "10001", "350 Fifth Avenue", "(212) 555-0100"),
    ("DE", "BE", "Berlin", "10115", "Invalidenstraße 117", "+49 30 1234567"),
    ("FR", "", "Paris", "75002", "12 Rue de la Paix", "+33 1 42 00 00 00"),
    ("GB", "", "London", "SW1A 1AA", "10 Downing Street", "+44 20 7946 0000"),
    ("NL", "", "Amsterdam", "1012 JS", "Dam 1", "+31 20 555 0000"),
    ("AT", "", "Wien", "1010", "Stephansplatz 1", "+43 1 5550000"),
    ("CH", "ZH", "Zürich", "8001", "Bahnhofstrasse 1", "+41 44 555 00 00"),
    ("IT", "RM", "Roma", "00184", "Via Nazionale 1", "+39 06 5550000"),
    ("ES", "M", "Madrid", "28013", "Gran Vía 1", "+34 91 555 0000"),
    ("CA", "ON", "Toronto", "M5H 2N2", "100 Queen St W", "(416) 555-0100"),
    ("JP", "JP13", "Tokyo", "100-0005", "1-1 Marunouchi", "+81 3-5555-0000"),
]
FIRST_NAMES = [
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Elif",
    "Finn",
    "Greta",
    "Hiro",
    "Inès",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Nora",
]
LAST_NAMES = [
    "Müller",
    "Smith",
    "Dubois",
    "Rossi",
    "García",
    "de Vries",
    "Tanaka",
    "Novak",
    "Brown",
    "Schmidt",
]
PAYMENTS = [
    ("stripe", "Credit Card (Stripe)", True),
    ("paypal", "PayPal", True),
    ("bacs", "Direct bank transfer", False),
    ("cod", "Cash on delivery", False),
]


class Shopper:
    """Places orders as shoppers would (through checkout, paid or on hold) for products in stock."""

    def __init__(self, shop: Shop, seed: int | None = None) -> None:
        self.shop = shop
        self.random = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.money_lines = False

    def _address(self) -> dict[str, str]:
        country, state, city, postcode, street, phone = self.random.choice(PLACES)
        first, last = self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)
        return {
            "first_name": first, "last_name": last, "company": "", "address_1": street, "address_2": "",
            "city": city, "state": state, "postcode": postcode, "country": country, "phone": phone,
        }  # fmt: skip

    def _email(self, address: dict[str, str]) -> str:
        local = f"{address['first_name']}.{address['last_name']}".lower().replace(" ", "")
        local = local.encode("ascii", "ignore").decode() or "shopper"
        return f"{local}.{self.random.randrange(10**6)}@example.com"

    def _customer(self) -> tuple[int, dict[str, str]]:
        """(customer id or 0 for a guest, billing address)."""
        roll = self.random.random()
        if roll < 0.4:
            address = self._address()
            return 0, {**address, "email": self._email(address)}
        existing = self.shop.store.ids("customer", "status = 'customer'", [])
        if existing and roll < 0.8:
            customer = self.shop.get("customer", self.random.choice(sorted(existing)))
            billing = customer["billing"]
            if not billing.get("address_1"):
                billing = {
                    **self._address(),
                    "first_name": customer["first_name"],
                    "last_name": customer["last_name"],
                }
            return customer["id"], {**billing, "email": customer["email"]}
        address = self._address()
        email = self._email(address)
        created = self.shop.create(
            "customer",
            {
                "email": email,
                "first_name": address["first_name"],
                "last_name": address["last_name"],
                "billing": {**address, "email": email},
                "shipping": {k: v for k, v in address.items() if k != "phone"},
            },
        )
        return created["id"], {**address, "email": email}

    def _in_stock(self) -> list[tuple[int, int, int | None]]:
        """(product id, variation id, stock or None) of everything that can be bought now."""
        store = self.shop.store
        buyable = (
            "t.status = 'publish' AND json_extract(t.doc, '$.price') != '' "
            "AND json_extract(t.doc, '$.stock_status') != 'outofstock'"
        )
        with store.lock:
            products = store.db.execute(
                "SELECT t.id, 0, json_extract(t.doc, '$.stock_quantity') FROM product t "
                f"WHERE t.code = 'simple' AND {buyable}"
            ).fetchall()
            variations = store.db.execute(
                "SELECT t.parent_id, t.id, json_extract(t.doc, '$.stock_quantity') FROM variation t "
                f"JOIN product p ON p.id = t.parent_id AND p.status = 'publish' WHERE {buyable}"
            ).fetchall()
        return sorted(products + variations)

    def _coupon(self, code: str, kind: str, amount: str) -> str:
        """The code of a shopper coupon, created on first use."""
        if not self.shop.store.ids("coupon", "code = ?", [code]):
            self.shop.create("coupon", {"code": code, "discount_type": kind, "amount": amount})
        return code

    def _money_lines(self, order: dict[str, Any]) -> None:
        """Coupons and fees as real checkouts carry them (taxes follow from the shop's tax settings)."""
        roll = self.random.random()
        if roll < 0.3:
            order["coupon_lines"] = [{"code": self._coupon("shopper-10", "percent", "10")}]
        elif roll < 0.5:
            order["coupon_lines"] = [{"code": self._coupon("shopper-5off", "fixed_cart", "5.00")}]
        fees = []
        if self.random.random() < 0.3:
            fees.append({"name": "Gift wrap", "total": "2.50", "tax_status": "taxable", "tax_class": ""})
        if self.random.random() < 0.2:
            fees.append(
                {"name": "Loyalty discount", "total": "-3.00", "tax_status": "taxable", "tax_class": ""}
            )
        if fees:
            order["fee_lines"] = fees

    def place_orders(self, count: int, money_lines: bool = False) -> list[dict[str, Any]]:
        """Place up to `count` orders (with coupons and fees if `money_lines`); fewer if stock runs out."""
        orders = []
        for _ in range(count):
            candidates = self._in_stock()
            if not candidates:
                break
            picks = self.random.sample(candidates, k=min(len(candidates), self.random.randint(1, 3)))
            lines = []
            for product_id, variation_id, stock in picks:
                most = 3 if stock is None else max(1, min(3, int(stock)))
                line: dict[str, Any] = {"product_id": product_id, "quantity": self.random.randint(1, most)}
                if variation_id:
                    line["variation_id"] = variation_id
                lines.append(line)
            customer_id, billing = self._customer()
            method, title, paid = self.random.choice(PAYMENTS)
            free = self.random.random() < 0.3
            order = {
                "customer_id": customer_id,
                "billing": billing,
                "shipping": {k: v for k, v in billing.items() if k not in ("email", "phone")},
                "payment_method": method,
                "payment_method_title": title,
                "line_items": lines,
                "shipping_lines": [
                    {
                        "method_id": "free_shipping" if free else "flat_rate",
                        "method_title": "Free shipping" if free else "Flat rate",
                        "total": "0.00" if free else "5.00",
                    }
                ],
                "created_via": "checkout",
                "customer_ip_address": f"203.0.113.{self.random.randint(1, 254)}",
                "customer_user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            }  # fmt: skip
            if money_lines:
                self._money_lines(order)
            if paid:
                order["set_paid"] = True
                order["transaction_id"] = f"txn_{self.random.getrandbits(48):012x}"
            else:
                order["status"] = "on-hold" if method == "bacs" else "processing"
            try:
                orders.append(self.shop.create("order", order))
            except ApiError:
                continue
        return orders

    def run(self, rate: float, money_lines: bool = False) -> None:
        """Place orders in the background at `rate` per second on average (0 stops)."""
        self.stop()
        self.money_lines = money_lines
        if rate <= 0:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(rate, self._stop), name="shopper", daemon=True
        )
        self._thread.start()

    def _loop(self, rate: float, stop: threading.Event) -> None:
        while not stop.wait(self.random.expovariate(rate)):
            self.place_orders(1, self.money_lines)

    def stop(self) -> None:
        """Stop the background shoppers."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
