"""How alerts read in each format, how their keys are built, and the low-stock thresholds."""

from __future__ import annotations

from decimal import Decimal

from emporion.alerts import Alert, AlertKind, Severity
from emporion.alerts.monitors import stock_levels, threshold_for
from emporion.alerts.render import generic, slack, teams, text, title
from emporion.config import FlowSettings, LowStockSettings
from emporion.model import Product, Variant

LOW = Alert(
    AlertKind.LOW_STOCK,
    "SKU-1",
    "SKU-1: 2 available",
    flow="shop-de",
    details={"available": Decimal("2"), "threshold": 5, "skus": ["A", "B"]},
)


def test_a_flow_is_part_of_the_key_so_two_shops_low_on_one_sku_are_two_alerts() -> None:
    other = Alert(AlertKind.LOW_STOCK, "SKU-1", "SKU-1: 0 available", flow="shop-at")
    assert LOW.key == "low_stock:shop-de:SKU-1" and other.key == "low_stock:shop-at:SKU-1"
    assert Alert(AlertKind.CIRCUIT_OPEN, "erp", "down").key == "circuit_open:erp"


def test_each_format_carries_title_message_and_facts() -> None:
    assert title(LOW) == "[WARNING] Low stock: SKU-1 (flow shop-de)"
    assert (
        title(Alert(AlertKind.DRIFT, "shop", "ok", resolved=True))
        == "[RESOLVED] Reconciliation found drift: shop"
    )
    assert text(LOW).splitlines()[0] == "SKU-1: 2 available"
    assert "skus: A, B" in text(LOW) and "state: open" in text(LOW)
    assert slack(LOW) == {"text": f"*{title(LOW)}*\n{text(LOW)}"}
    card = teams(LOW)["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"] == title(LOW)
    assert card["body"][0]["color"] == "Warning"
    critical = teams(Alert(AlertKind.CIRCUIT_OPEN, "erp", "down", Severity.CRITICAL))
    assert critical["attachments"][0]["content"]["body"][0]["color"] == "Attention"
    body = generic(LOW)
    assert body["key"] == LOW.key and body["details"] == {
        "available": "2",
        "threshold": 5,
        "skus": ["A", "B"],
    }
    assert (body["kind"], body["severity"], body["flow"], body["resolved"]) == (
        "low_stock",
        "warning",
        "shop-de",
        False,
    )


def test_thresholds_come_from_the_sku_then_the_custom_field_then_the_default() -> None:
    rules = LowStockSettings(default=Decimal(3), skus={"SKU-1": Decimal(10)}, field="reorder_point")
    assert threshold_for(rules, "SKU-1", {"reorder_point": 7}) == 10
    assert threshold_for(rules, "SKU-2", {"reorder_point": "7.5"}) == Decimal("7.5")
    assert threshold_for(rules, "SKU-2", {}, {"reorder_point": 4}) == 4  # the product's, for a variant
    assert threshold_for(rules, "SKU-2", {"reorder_point": None}) == 3
    assert threshold_for(rules, "SKU-2", {"reorder_point": "lots"}) == 3  # not a number: logged, default
    assert threshold_for(LowStockSettings(), "SKU-2", {}) is None


def test_stock_levels_of_a_variable_product_are_per_variant() -> None:
    flow = FlowSettings(
        name="shop", source="erp", target="shop", low_stock=LowStockSettings(default=Decimal(5), field="min")
    )
    source = Product(
        key="1",
        sku="TEE",
        name="Tee",
        custom={"min": 2},
        variants=[Variant(key="11", sku="TEE-S", custom={"min": 8}), Variant(key="12", sku="TEE-M")],
    )
    mapped = source.model_copy(
        update={
            "variants": [
                v.model_copy(update={"available": Decimal(q)})
                for v, q in zip(source.variants, (4, 1), strict=True)
            ]
        }
    )
    assert stock_levels(flow, source, mapped) == {"TEE-S": (4, 8), "TEE-M": (1, 2)}
    simple = Product(key="2", sku="MUG", name="Mug", available=Decimal(9))
    assert stock_levels(flow, simple, simple) == {"MUG": (9, 5)}
    assert stock_levels(flow.model_copy(update={"low_stock": None}), simple, simple) == {}
