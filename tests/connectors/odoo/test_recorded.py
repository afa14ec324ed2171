"""The Odoo connector's pure parts against what real Odoo 18.0 and 19.0 answered (tests/data/odoo-*/).

The recordings were made on real Odoo Community servers (see tests/data/odoo-18.0/README.md); these
tests hold the client's error translation, version parsing, version profiles, row mapping and
pricelist computation to Odoo's real answers rather than to the sandbox's idea of them.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from emporion.connectors.base import AuthError, ConnectorError, Permanent, Retryable
from emporion.connectors.odoo.client import odoo_datetime, parse_version
from emporion.connectors.odoo.errors import Call, OdooAccessDenied, from_rpc_error, from_status
from emporion.connectors.odoo.mapping import VariantFacts, product_from_rows, ref_id
from emporion.connectors.odoo.prices import PriceBook, PricedVariant, rule_from_row
from emporion.connectors.odoo.profiles import profile_for

DATA = Path(__file__).resolve().parents[2] / "data"
SERIES = ("18.0", "19.0")
SECRET_HINTS = ("Traceback", 'File "/', "<api key>")


def recording(serie: str, name: str) -> dict[str, Any]:
    """One recorded exchange (or the reference prices file) of a real Odoo."""
    return json.loads((DATA / f"odoo-{serie}" / f"{name}.json").read_text(encoding="utf-8"))


def result(serie: str, name: str) -> Any:
    """The JSON-RPC `result` of a recorded exchange (failing loudly when Odoo answered an error)."""
    response = recording(serie, name)["response"]
    assert "result" in response, f"{name} on {serie} is an error: {response.get('error')}"
    return response["result"]


def call_of(record: dict[str, Any]) -> Call:
    """The Call a recorded request was, as the client would describe it."""
    path = record["request"]["path"]
    if path.startswith("/json/2/"):
        model, method = path.removeprefix("/json/2/").split("/", 1)
    elif not record["request"]["body"]:
        model, method = "", path
    else:
        args = record["request"]["body"]["params"]["args"]
        model, method = (
            (args[3], args[4]) if len(args) > 4 else ("", record["request"]["body"]["params"]["method"])
        )
    return Call(model=model, method=method, login="emporion", url="http://127.0.0.1:8069")


def rpc_error(serie: str, name: str) -> ConnectorError:
    """The typed error the client makes of a recorded JSON-RPC error answer."""
    record = recording(serie, name)
    assert record["status"] == 200, "JSON-RPC errors come with HTTP 200"
    return from_rpc_error(call_of(record), record["response"]["error"])


RPC_ERRORS = [
    ("execute_kw_bad_key", OdooAccessDenied),
    ("execute_kw_expired_key", OdooAccessDenied),
    ("limited_sale_order_create", AuthError),
    ("limited_account_move_search_read", AuthError),
    ("partner_create_denied", AuthError),
    ("private_method", AuthError),
    ("missing_record_write", Permanent),
    ("validation_error_recursion", Permanent),
    ("invalid_field_create", Permanent),
    ("bad_domain", Permanent),
    ("unknown_method", Permanent),
    ("unknown_model", Permanent),
    ("confirm_cancelled_order", Permanent),
]


@pytest.mark.parametrize("serie", SERIES)
@pytest.mark.parametrize(("name", "expected"), RPC_ERRORS)
def test_json_rpc_errors_of_real_odoo_become_typed_errors(serie: str, name: str, expected: type) -> None:
    """Each real JSON-RPC error (code 200 on 18, 0 on 19) maps by its exception name to the right type."""
    error = rpc_error(serie, name)
    assert type(error) is expected or (expected is AuthError and isinstance(error, AuthError))
    if expected is not OdooAccessDenied:
        assert not isinstance(error, OdooAccessDenied), "an access error is not a refused login"
    assert not isinstance(error, Retryable), "a refusal must not be retried"
    assert not any(hint in str(error) for hint in SECRET_HINTS)


def test_json_rpc_error_codes_differ_between_18_and_19() -> None:
    """The error object's code is 200 on 18 and 0 on 19: the mapping must not depend on it."""
    assert recording("18.0", "execute_kw_bad_key")["response"]["error"]["code"] == 200
    assert recording("19.0", "execute_kw_bad_key")["response"]["error"]["code"] == 0


@pytest.mark.parametrize("serie", SERIES)
def test_access_error_names_the_model_and_the_login(serie: str) -> None:
    """An AccessError says which model and operation was refused to which login, not Odoo's traceback."""
    error = rpc_error(serie, "limited_sale_order_create")
    assert "sale.order.create" in str(error) and "'emporion'" in str(error)
    assert "Sales/Administrator" in str(error), "Odoo's list of granting groups is kept"


JSON2_ERRORS = [
    ("json2_bad_key", 401, OdooAccessDenied),
    ("json2_expired_key", 401, OdooAccessDenied),
    ("json2_no_auth", 401, OdooAccessDenied),
    ("json2_403_missing_group", 403, AuthError),
    ("json2_403_create_sale", 403, AuthError),
    ("json2_404_private_method", 403, AuthError),
    ("json2_404_unknown_model", 404, Permanent),
    ("json2_404_unknown_method", 404, Permanent),
    ("json2_missing_error", 404, Permanent),
    ("json2_422_unknown_kwarg", 422, Permanent),
    ("json2_422_missing_arg", 422, Permanent),
    ("json2_422_ids_on_model_method", 422, Permanent),
    ("json2_user_error_422", 422, Permanent),
    ("json2_validation_error_422", 422, Permanent),
    ("json2_bad_domain", 500, Permanent),
]


@pytest.mark.parametrize(("name", "status", "expected"), JSON2_ERRORS)
def test_json2_errors_of_real_odoo_19_become_typed_errors(name: str, status: int, expected: type) -> None:
    """Real JSON-2 HTTP errors (status and `{name, message, arguments, context, debug}`) map by type."""
    record = recording("19.0", name)
    assert record["status"] == status and record["body_kind"] == "json"
    assert set(record["response"]) >= {"name", "message", "arguments", "context", "debug"}
    error = from_status(call_of(record), record["status"], record["response"], record["headers"])
    assert isinstance(error, expected)
    if expected is not OdooAccessDenied:
        assert not isinstance(error, OdooAccessDenied)
    assert not isinstance(error, Retryable), "Odoo's ValueError for a bad domain (HTTP 500) is not transient"
    assert not any(hint in str(error) for hint in SECRET_HINTS)


@pytest.mark.parametrize("name", ["json2_search_read", "web_json2_get"])
def test_json2_on_odoo_18_is_a_redirect_to_the_login_page(name: str) -> None:
    """Odoo 18 has no JSON-2: a 303 to /web/login with HTML, which the client must never read as success."""
    record = recording("18.0", name)
    assert record["status"] == 303 and record["body_kind"] == "text"
    assert "/web/login" in record["headers"]["location"]
    error = from_status(call_of(record), record["status"], record["response"], record["headers"])
    assert isinstance(error, ConnectorError)
    followed = recording("18.0", "json2_search_read_redirect_followed")
    assert followed["status"] == 200 and followed["body_kind"] == "text", "followed, it is a 200 HTML page"


@pytest.mark.parametrize(("serie", "major"), [("18.0", 18), ("19.0", 19)])
def test_version_answers_of_real_odoo(serie: str, major: int) -> None:
    """common.version and /web/webclient/version_info parse to the major version and the edition."""
    for name in ("version_jsonrpc", "webclient_version_info"):
        version = parse_version(result(serie, name))
        assert (version.major, version.serie, version.edition) == (major, serie, "community")
    web = recording(serie, "web_version_get")
    if major >= 19:
        assert web["status"] == 200 and parse_version(web["response"]).major == 19
    else:
        assert web["status"] == 404 and web["body_kind"] == "text"


@pytest.mark.parametrize(("serie", "major"), [("18.0", 18), ("19.0", 19)])
def test_profiles_name_the_fields_real_odoo_has(serie: str, major: int) -> None:
    """The profile's sale line and user field names exist on that version, the other version's do not."""
    profile = profile_for(major)
    other = profile_for(19 if major == 18 else 18)
    line_fields = result(serie, "fields_get_sale_order_line")
    assert profile.sale_line_taxes in line_fields and profile.sale_line_uom in line_fields
    assert other.sale_line_taxes not in line_fields and other.sale_line_uom not in line_fields
    assert line_fields[profile.sale_line_taxes]["type"] == "many2many"
    assert profile.user_groups in result(serie, "user_groups_read")[0]
    assert profile.stock_warehouse_context == "warehouse_id"


@pytest.mark.parametrize("serie", SERIES)
def test_only_the_warehouse_id_context_key_scopes_stock(serie: str) -> None:
    """free_qty per warehouse: `warehouse_id` scopes it; the 17 key `warehouse` is ignored (all stock)."""
    scoped = {row["default_code"]: row["free_qty"] for row in result(serie, "stock_ctx_warehouse_id_WH2")}
    ignored = {row["default_code"]: row["free_qty"] for row in result(serie, "stock_ctx_warehouse_WH2")}
    total = {row["default_code"]: row["free_qty"] for row in result(serie, "stock_no_context")}
    assert scoped["TSHIRT-RED-S"] == 4.0 and total["TSHIRT-RED-S"] == 14.0
    assert ignored == total
    by_location = {row["default_code"]: row["free_qty"] for row in result(serie, "stock_ctx_location_WH2")}
    assert by_location == scoped


@pytest.mark.parametrize("serie", SERIES)
def test_a_no_op_write_moves_write_date(serie: str) -> None:
    """Odoo rewrites an unchanged value and bumps write_date: the feed cannot trust write_date alone."""
    before = result(serie, "noop_write_before")[0]
    after = result(serie, "noop_write_after")[0]
    assert before["list_price"] == after["list_price"]
    assert odoo_datetime(after["write_date"]) > odoo_datetime(before["write_date"])  # type: ignore[operator]


def shirt_rows(serie: str) -> tuple[dict[str, Any], list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The real T-Shirt template, its variants and their attribute values."""
    template = next(
        row for row in result(serie, "product_template_read_catalogue_fields") if row["name"] == "T-Shirt"
    )
    variants = result(serie, "product_product_search_read")
    values = {row["id"]: row for row in result(serie, "ptav_read")}
    return template, variants, values


@pytest.mark.parametrize("serie", SERIES)
def test_a_real_template_with_variants_maps_to_a_variable_product(serie: str) -> None:
    """The T-Shirt (template default_code false) gets its SKU from its variants and Odoo's own lst_price."""
    template, variants, values = shirt_rows(serie)
    assert template["default_code"] is False
    product = product_from_rows(template, variants, values, {}, currency="EUR", images=[])
    assert product.sku == "TSHIRT"
    assert product.attributes == {"Colour": ["Blue", "Red"], "Size": ["L", "M", "S"]}
    assert product.description == "Cotton shirt"
    odoo_prices = {row["default_code"]: Decimal(str(row["lst_price"])) for row in variants}
    assert {variant.sku: variant.list_price for variant in product.variants} == odoo_prices
    assert odoo_prices["TSHIRT-BLUE-L"] == Decimal("25.5")


@pytest.mark.parametrize("serie", SERIES)
def test_a_real_simple_product_maps_with_its_variant_code(serie: str) -> None:
    """A template with one variant is a simple product whose SKU is the variant's default_code."""
    template = next(
        row for row in result(serie, "product_template_read_catalogue_fields") if row["name"] == "Mug"
    )
    variants = [row for row in result(serie, "product_product_simple_read") if row["default_code"] == "MUG"]
    product = product_from_rows(
        template, variants, {}, {variants[0]["id"]: VariantFacts()}, currency="EUR", images=[]
    )
    assert (product.sku, product.list_price, product.variants) == ("MUG", Decimal("8.5"), [])


def price_book(serie: str) -> tuple[PriceBook, dict[str, PricedVariant], dict[str, int]]:
    """The recorded pricelist items, categories and products as a PriceBook and priced variants."""
    rules = [rule_from_row(row) for row in result(serie, "pricelist_item_search_read")]
    categories = result(serie, "product_category_search_read")
    children: dict[int, set[int]] = {}
    for row in categories:
        if row["parent_id"]:
            children.setdefault(row["parent_id"][0], set()).add(row["id"])

    def below(category: int) -> set[int]:
        found = {category}
        for child in children.get(category, set()):
            found |= below(child)
        return found

    book = PriceBook(rules, {row["id"]: below(row["id"]) for row in categories})
    templates = {row["id"]: row for row in result(serie, "product_template_read_catalogue_fields")}
    rows = result(serie, "product_product_search_read") + result(serie, "product_product_simple_read")
    priced = {
        row["default_code"]: PricedVariant(
            id=row["id"],
            template=row["product_tmpl_id"][0],
            category=ref_id(templates[row["product_tmpl_id"][0]]["categ_id"]),  # 19: may be false
            list_price=Decimal(str(row["lst_price"])),
        )
        for row in rows
    }
    pricelists = {
        row["pricelist_id"][1].split(" (")[0]: row["pricelist_id"][0]
        for row in result(serie, "pricelist_item_search_read")
    }
    return book, priced, pricelists


@pytest.mark.parametrize("serie", SERIES)
def test_pricelist_prices_equal_what_odoo_computes(serie: str) -> None:
    """Fixed, category percentage, dated and future formula items price each SKU as Odoo itself does."""
    book, priced, pricelists = price_book(serie)
    reference = recording(serie, "pricelist_reference_prices")["prices"]
    items = result(serie, "pricelist_item_search_read")
    recorded_at = max(odoo_datetime(row["write_date"]) for row in items)  # type: ignore[type-var]
    assert recorded_at is not None
    moments = {
        "today": recorded_at + dt.timedelta(hours=1),
        "in_40_days": recorded_at + dt.timedelta(days=40),
    }
    compared = 0
    for label, odoo_prices in reference.items():
        pricelist_name, when = label.split("@")
        for sku, odoo_price in odoo_prices.items():
            if sku not in priced:
                continue
            ours = book.price(pricelists[pricelist_name], priced[sku], moments[when])
            assert ours == Decimal(str(odoo_price)).quantize(Decimal("0.01")), (label, sku)
            compared += 1
    assert compared >= 30
    assert (
        reference["Promotions@today"]["BOOK"] == 19.99 and reference["Promotions@in_40_days"]["BOOK"] == 24.99
    )
