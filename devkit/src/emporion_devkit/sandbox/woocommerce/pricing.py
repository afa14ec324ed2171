"""Derived catalogue fields: price and on_sale from the sale window, stock status from quantity."""

from __future__ import annotations

from typing import Any

CURRENCY_SYMBOLS = {"USD": "&#36;", "EUR": "&euro;", "GBP": "&pound;", "CHF": "CHF", "JPY": "&yen;"}


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def on_sale(doc: dict[str, Any], now_gmt: str) -> bool:
    """WooCommerce's `is_on_sale`: a sale price below the regular price, inside the sale window."""
    sale, regular = _number(doc.get("sale_price", "")), _number(doc.get("regular_price", ""))
    if sale is None or regular is None or not regular > sale:
        return False
    start, end = doc.get("date_on_sale_from_gmt"), doc.get("date_on_sale_to_gmt")
    return not (start and start > now_gmt) and not (end and end < now_gmt)


def amount_html(value: str, currency: str) -> str:
    """WooCommerce's price markup for one amount."""
    number = _number(value) or 0.0
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    return (
        '<span class="woocommerce-Price-amount amount"><span class="woocommerce-Price-currencySymbol">'
        f"{symbol}</span>{number:,.2f}</span>"
    )


def derive_price(doc: dict[str, Any], now_gmt: str, currency: str) -> None:
    """Set price, on_sale, price_html (products only) and purchasable from the stored prices."""
    sale = on_sale(doc, now_gmt)
    doc["on_sale"] = sale
    doc["price"] = doc["sale_price"] if sale else doc["regular_price"]
    doc["purchasable"] = doc["price"] != ""
    if "price_html" in doc:
        if doc["price"] == "":
            doc["price_html"] = ""
        elif sale:
            doc["price_html"] = (
                f'<del aria-hidden="true">{amount_html(doc["regular_price"], currency)}</del> '
                f"<ins>{amount_html(doc['sale_price'], currency)}</ins>"
            )
        else:
            doc["price_html"] = amount_html(doc["price"], currency)


def derive_stock(doc: dict[str, Any]) -> None:
    """Stock quantity only with manage_stock; stock status follows the quantity and backorders."""
    if doc.get("manage_stock") is True:
        quantity = int(doc.get("stock_quantity") or 0)
        doc["stock_quantity"] = quantity
        if quantity > 0:
            doc["stock_status"] = "instock"
        else:
            doc["stock_status"] = "outofstock" if doc["backorders"] == "no" else "onbackorder"
    else:
        doc["stock_quantity"] = None
    doc["backorders_allowed"] = doc["backorders"] != "no"
    doc["backordered"] = doc["stock_status"] == "onbackorder"


def derive_variable(doc: dict[str, Any], children: list[dict[str, Any]], now_gmt: str, currency: str) -> None:
    """A variable product's price, sale flag and stock status from its variations."""
    for child in children:
        derive_price(child, now_gmt, currency)
    priced = [child for child in children if child["price"] != ""]
    priced.sort(key=lambda child: float(child["price"]) if _number(child["price"]) is not None else 0.0)
    prices = [_number(child["price"]) or 0.0 for child in priced]
    doc["variations"] = sorted(child["id"] for child in children)
    doc["on_sale"] = any(child["on_sale"] for child in priced)
    doc["purchasable"] = bool(priced)
    doc["price"] = priced[0]["price"] if priced else ""
    if not prices:
        doc["price_html"] = ""
    elif prices[0] == prices[-1]:
        doc["price_html"] = amount_html(str(prices[0]), currency)
    else:
        doc["price_html"] = (
            f"{amount_html(str(prices[0]), currency)} &ndash; {amount_html(str(prices[-1]), currency)}"
        )
    if not doc.get("manage_stock") and children:
        statuses = {child["stock_status"] for child in children}
        doc["stock_status"] = next(
            s for s in ("instock", "onbackorder", "outofstock") if s in statuses or s == "outofstock"
        )
        doc["backordered"] = doc["stock_status"] == "onbackorder"
