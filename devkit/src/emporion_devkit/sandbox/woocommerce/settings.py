"""Shop settings and tax classes: `/settings/<group>[/<id>]` and `/taxes/classes`, kept as shop options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emporion_devkit.sandbox.woocommerce.errors import ApiError, no_route
from emporion_devkit.sandbox.woocommerce.resource import slugify

if TYPE_CHECKING:
    from emporion_devkit.sandbox.woocommerce.shop import Shop

# id: (group, label, type, default, options or None)
SETTINGS: dict[str, tuple[str, str, str, str, dict[str, str] | None]] = {
    "woocommerce_default_country": ("general", "Country / State", "select", "US:CA", None),
    "woocommerce_calc_taxes": ("general", "Enable taxes", "checkbox", "no", None),
    "woocommerce_prices_include_tax": (
        "tax", "Prices entered with tax", "radio", "no",
        {"yes": "Yes, I will enter prices inclusive of tax",
         "no": "No, I will enter prices exclusive of tax"},
    ),
    "woocommerce_tax_based_on": (
        "tax", "Calculate tax based on", "select", "shipping",
        {"shipping": "Customer shipping address", "billing": "Customer billing address",
         "base": "Shop base address"},
    ),
    "woocommerce_shipping_tax_class": ("tax", "Shipping tax class", "select", "inherit", None),
    "woocommerce_tax_round_at_subtotal": ("tax", "Rounding", "checkbox", "no", None),
    "woocommerce_tax_display_shop": (
        "tax", "Display prices in the shop", "select", "excl",
        {"incl": "Including tax", "excl": "Excluding tax"},
    ),
    "woocommerce_tax_display_cart": (
        "tax", "Display prices during cart and checkout", "select", "excl",
        {"incl": "Including tax", "excl": "Excluding tax"},
    ),
}  # fmt: skip
DEFAULT_CLASSES = [("reduced-rate", "Reduced rate"), ("zero-rate", "Zero rate")]


def option(shop: Shop, name: str) -> str:
    """A setting's current value (its default until written)."""
    return str(shop.store.option(name, SETTINGS[name][3]))


def taxes_enabled(shop: Shop) -> bool:
    """`wc_tax_enabled()`: the calc-taxes switch."""
    return option(shop, "woocommerce_calc_taxes") == "yes"


def prices_include_tax(shop: Shop) -> bool:
    """`wc_prices_include_tax()`: prices entered gross (only while taxes are on)."""
    return taxes_enabled(shop) and option(shop, "woocommerce_prices_include_tax") == "yes"


def tax_classes(shop: Shop) -> list[tuple[str, str]]:
    """(slug, name) of the additional tax classes, in their order (the standard class is implied)."""
    return [(str(slug), str(name)) for slug, name in shop.store.option("tax_classes", DEFAULT_CLASSES)]


def _setting(shop: Shop, name: str, with_group: bool) -> dict[str, Any]:
    group, label, kind, default, options = SETTINGS[name]
    if name == "woocommerce_shipping_tax_class":
        options = {"inherit": "Shipping tax class based on cart items", "": "Standard"}
        options.update(dict(tax_classes(shop)))
    out: dict[str, Any] = {
        "id": name, "label": label, "description": "", "type": kind, "default": default, "tip": label,
    }  # fmt: skip
    if options is not None:
        out["options"] = options
    out["value"] = option(shop, name)
    if with_group:
        out["group_id"] = group
    base = f"{shop.api_url}/settings/{group}"
    self_link = {"href": f"{base}/{name}", "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH"]}}
    out["_links"] = {"self": [self_link], "collection": [{"href": base}]}
    return out


def _write_setting(shop: Shop, name: str, body: dict[str, Any]) -> dict[str, Any]:
    kind = SETTINGS[name][2]
    value = body.get("value")
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    allowed = _setting(shop, name, False).get("options")
    if (kind == "checkbox" and value not in ("yes", "no")) or (allowed is not None and value not in allowed):
        raise ApiError(400, "rest_setting_value_invalid", "An invalid setting value was passed.")
    shop.store.set_option(name, value)
    return _setting(shop, name, True)


def _classes(shop: Shop) -> list[dict[str, Any]]:
    base = f"{shop.api_url}/taxes/classes"
    listed = [("standard", "Standard"), *tax_classes(shop)]
    return [{"slug": slug, "name": name, "_links": {"collection": [{"href": base}]}} for slug, name in listed]


def route(shop: Shop, method: str, route_path: str, body: dict[str, Any]) -> Any:
    """Answer a settings or tax-class request; None when the path is not one of these."""
    parts = route_path.strip("/").split("/")
    if parts[0] == "settings" and len(parts) in (2, 3):
        group = parts[1]
        names = [name for name, spec in SETTINGS.items() if spec[0] == group]
        if not names:
            raise ApiError(404, "rest_setting_setting_group_invalid", "Invalid setting group.")
        if len(parts) == 2 and method == "GET":
            return [_setting(shop, name, False) for name in names]
        if len(parts) == 3:
            if parts[2] not in names:
                raise ApiError(404, "rest_setting_setting_invalid", "Invalid setting.")
            if method == "GET":
                return _setting(shop, parts[2], True)
            if method in ("POST", "PUT", "PATCH"):
                return _write_setting(shop, parts[2], body)
        raise no_route()
    if parts[:2] == ["taxes", "classes"]:
        if len(parts) == 2 and method == "GET":
            return _classes(shop)
        if len(parts) == 2 and method == "POST":
            name = str(body.get("name") or "").strip()
            if not name:
                raise ApiError(
                    400, "rest_missing_callback_param", "Missing parameter(s): name", params=["name"]
                )
            slug = slugify(name)
            classes = tax_classes(shop)
            if slug in ("standard", *(s for s, _ in classes)):
                raise ApiError(400, "woocommerce_rest_tax_class_exists", "Tax class already exists")
            shop.store.set_option("tax_classes", [*classes, (slug, name)])
            return {"slug": slug, "name": name}
        if len(parts) == 3 and method == "DELETE":
            classes = tax_classes(shop)
            found = [pair for pair in classes if pair[0] == parts[2]]
            if not found:
                raise ApiError(404, "woocommerce_rest_invalid_id", "Invalid ID.")
            shop.store.set_option("tax_classes", [pair for pair in classes if pair[0] != parts[2]])
            return {"slug": found[0][0], "name": found[0][1]}
        raise no_route()
    return None
