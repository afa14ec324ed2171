"""Tax rates (`/taxes`) and WooCommerce's tax arithmetic: rate lookup, exclusive, inclusive, compound."""

from __future__ import annotations

from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from emporion_devkit.sandbox.woocommerce.errors import ApiError
from emporion_devkit.sandbox.woocommerce.resource import Filter, Resource
from emporion_devkit.sandbox.woocommerce.schema import FieldSpec
from emporion_devkit.sandbox.woocommerce.settings import option, tax_classes

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop

CENT = Decimal("0.01")
Taxes = dict[int, float]  # rate id -> amount, unrounded (6 decimals, like WC_Tax::round)


def round6(value: float) -> float:
    """WooCommerce's internal precision (`wc_get_rounding_precision()`: 6 decimals)."""
    return round(value + 0.0, 6)


def cents(value: float, half_down: bool = False) -> Decimal:
    """A 6-decimal amount rounded to cents, half away from zero (PHP's round) or half towards zero."""
    return Decimal(repr(round6(value))).quantize(CENT, ROUND_HALF_DOWN if half_down else ROUND_HALF_UP)


def money(value: float) -> str:
    """A money string with two decimals (`wc_format_decimal($x, 2)`)."""
    text = str(cents(value))
    return "0.00" if text == "-0.00" else text


def decimal_text(value: float) -> str:
    """A float as PHP prints a stored decimal: no trailing zeros ("25", "21.8")."""
    text = f"{round6(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tax_rounding_down(shop: Shop) -> bool:
    """`wc_get_tax_rounding_mode()`: half down when prices are entered with tax, else half up."""
    return option(shop, "woocommerce_prices_include_tax") == "yes"


def round_tax(shop: Shop, value: float) -> float:
    """`wc_round_tax_total`: one tax amount rounded to cents in the shop's tax rounding mode."""
    if option(shop, "woocommerce_tax_round_at_subtotal") == "yes":
        return round6(value)
    return float(cents(value, tax_rounding_down(shop)))


def class_slug(tax_class: str) -> str:
    """A rate's class as stored: the standard class is "standard", line items say ""."""
    return tax_class or "standard"


def find_rates(shop: Shop, location: dict[str, str], tax_class: str, shipping: bool = False) -> list[dict]:
    """`WC_Tax::find_rates`: the matching rates of a class, the first match of each priority."""
    rows, _ = shop.store.select("tax", ["code = ?"], [class_slug(tax_class)], "id", 10**6, 0)
    country = location.get("country", "").upper()
    state = location.get("state", "").upper()
    postcode = location.get("postcode", "").upper().replace(" ", "")
    city = location.get("city", "").upper()
    found: dict[int, dict] = {}
    for doc, _ in sorted(rows, key=lambda row: (row[0]["priority"], row[0]["order"], row[0]["id"])):
        if doc["country"] and doc["country"].upper() != country:
            continue
        if doc["state"] and doc["state"].upper() != state:
            continue
        codes = [code.upper().replace(" ", "") for code in doc["postcodes"]]
        if codes and not any(
            postcode == c or (c.endswith("*") and postcode.startswith(c[:-1])) for c in codes
        ):
            continue
        if doc["cities"] and city not in [c.upper() for c in doc["cities"]]:
            continue
        if shipping and not doc["shipping"]:
            continue
        found.setdefault(doc["priority"], doc)
    return [found[priority] for priority in sorted(found)]


def base_location(shop: Shop) -> dict[str, str]:
    """The shop's base address (`woocommerce_default_country`, "DE:BE")."""
    country, _, state = option(shop, "woocommerce_default_country").partition(":")
    return {"country": country, "state": state, "postcode": "", "city": ""}


def order_location(shop: Shop, doc: dict[str, Any]) -> dict[str, str]:
    """`get_tax_location`: the shipping or billing address (per setting), the base address without one."""
    based_on = option(shop, "woocommerce_tax_based_on")
    if based_on == "shipping" and not doc["shipping"].get("country"):
        based_on = "billing"
    address = doc.get(based_on) if based_on in ("shipping", "billing") else None
    if not address or not address.get("country"):
        return base_location(shop)
    return {key: str(address.get(key) or "") for key in ("country", "state", "postcode", "city")}


def calc_tax(price: float, rates: list[dict], inclusive: bool = False) -> Taxes:
    """`WC_Tax::calc_tax`: taxes per rate id of a price, compound rates on top, rounded to 6 decimals."""
    taxes: Taxes = {}
    regular = [r for r in rates if not r["compound"]]
    compound = [r for r in rates if r["compound"]]
    if inclusive:
        net = price
        for rate in reversed(compound):
            amount = net - net / (1 + float(rate["rate"]) / 100)
            taxes[rate["id"]] = taxes.get(rate["id"], 0.0) + amount
            net -= amount
        total_rate = 1 + sum(float(r["rate"]) for r in regular) / 100
        for rate in regular:
            share = float(rate["rate"]) / 100 / total_rate
            taxes[rate["id"]] = taxes.get(rate["id"], 0.0) + share * net
    else:
        for rate in regular:
            taxes[rate["id"]] = taxes.get(rate["id"], 0.0) + price * float(rate["rate"]) / 100
        pre_compound = sum(taxes.values())
        for rate in compound:
            amount = (price + pre_compound) * float(rate["rate"]) / 100
            taxes[rate["id"]] = taxes.get(rate["id"], 0.0) + amount
    return {rate_id: round6(amount) for rate_id, amount in taxes.items()}


def rate_code(doc: dict[str, Any]) -> str:
    """`WC_Tax::get_rate_code`: COUNTRY-STATE-NAME-PRIORITY, upper case, empty parts left out."""
    parts = [doc["country"], doc["state"], doc["name"] or "TAX", str(doc["priority"])]
    return "-".join(part for part in parts if part).upper()


def percent(doc: dict[str, Any]) -> int | float:
    """A rate as the tax lines' `rate_percent` number (19, 7.5)."""
    value = float(doc["rate"])
    return int(value) if value.is_integer() else value


class TaxResource(Resource):
    """`/taxes`: tax rates per country, state, postcode and city, in classes; compound and shipping flags."""

    kind = "tax"
    route = "taxes"
    label = "tax"
    id_code = "woocommerce_rest_invalid_id"
    id_message = "Invalid resource ID."
    has_dates = False
    fields: ClassVar[dict[str, FieldSpec]] = {
        "country": "string",
        "state": "string",
        "postcode": "string",
        "city": "string",
        "rate": "string",
        "name": "string",
        "priority": "integer",
        "compound": "boolean",
        "shipping": "boolean",
        "order": "integer",
        "class": "string",
        "postcodes": "array",
        "cities": "array",
    }
    orderby: ClassVar[dict[str, str]] = {"id": "id", "order": "id", "priority": "id", "include": "id"}
    default_orderby = "order"
    default_order = "asc"

    def new(self, shop: Shop, record_id: int, parent_id: int) -> dict[str, Any]:
        """A new standard-class rate of 0 %."""
        return {
            "id": record_id, "country": "", "state": "", "postcode": "", "city": "", "rate": "0.0000",
            "name": "", "priority": 1, "compound": False, "shipping": True, "order": 0, "class": "standard",
            "postcodes": [], "cities": [],
        }  # fmt: skip

    def apply(self, shop: Shop, doc: dict, extra: dict, data: dict, creating: bool) -> None:
        """Write a rate request: upper-case places, a 4-decimal rate, a known class."""
        for name in ("country", "state"):
            if name in data:
                doc[name] = data[name].strip().upper()
        if "rate" in data:
            try:
                doc["rate"] = f"{float(data['rate'] or 0):.4f}"
            except ValueError:
                raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): rate") from None
        for name in ("name", "priority", "compound", "shipping", "order"):
            if name in data:
                doc[name] = data[name]
        if "class" in data:
            slug = data["class"] or "standard"
            if slug not in ("standard", *(s for s, _ in tax_classes(shop))):
                raise ApiError(400, "woocommerce_rest_invalid_tax_class", "Invalid tax class.")
            doc["class"] = slug
        if "postcode" in data or "postcodes" in data:
            codes = data.get("postcodes") or [c for c in data.get("postcode", "").split(";") if c.strip()]
            doc["postcodes"] = [str(c).strip().upper() for c in codes]
            doc["postcode"] = ";".join(doc["postcodes"])
        if "city" in data or "cities" in data:
            cities = data.get("cities") or [c for c in data.get("city", "").split(";") if c.strip()]
            doc["cities"] = [str(c).strip().upper() for c in cities]
            doc["city"] = ";".join(doc["cities"])

    def columns(self, doc: dict, extra: dict) -> dict[str, Any]:
        """Index columns of a rate (its class in `code`)."""
        return {"name": doc["name"], "code": doc["class"], "slug": doc["country"]}

    def filters(self, shop: Shop, params: dict[str, list[str]]) -> list[Filter]:
        """Rates' own list argument: class."""
        wanted = (params.get("class") or [""])[0]
        return [("code = ?", [wanted])] if wanted else []
