"""The real Vendure 3 test server: login, catalogue, Shop API checkout, fulfilment, refund, cancellation.

These tests prove the `vendure` fixture and its helpers, and record how Vendure 3.7 behaves on the
wire (money in cents, ErrorResult unions, stock allocated on payment and taken on fulfilment).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.vendure import (
    GraphQLError,
    RunningVendure,
    VariantSpec,
    VendureSession,
    admin,
    create_product,
    expect,
    from_minor,
    place_order,
    stock_of,
    variant_by_sku,
    wait_until_up,
)
from tests.shops.server_support import dying_server

ORDER = """query($code: String!) { orders(options: {filter: {code: {eq: $code}}}) { totalItems items {
  id code state active orderPlacedAt currencyCode customer { emailAddress }
  lines { id quantity unitPrice unitPriceWithTax linePrice linePriceWithTax taxRate productVariant { sku } }
  subTotal subTotalWithTax shipping shippingWithTax total totalWithTax
  shippingLines { shippingMethod { id code } priceWithTax }
  taxSummary { description taxRate taxBase taxTotal }
  payments { id method amount state transactionId refunds { id total state reason transactionId } }
  fulfillments { id state method trackingCode lines { orderLineId quantity } } } } }"""

FULFIL = """mutation($input: FulfillOrderInput!) { addFulfillmentToOrder(input: $input) { __typename
  ... on Fulfillment { id state method trackingCode } ... on ErrorResult { errorCode message } } }"""


def unique(prefix: str) -> str:
    """A SKU or e-mail part no other test uses (the server lives for the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}".upper()


async def read_order(vendure: RunningVendure, code: str) -> dict[str, Any]:
    """The order with this code as the Admin API lists it."""
    found = (await admin(vendure).gql(ORDER, {"code": code}))["orders"]
    assert found["totalItems"] == 1
    order: dict[str, Any] = found["items"][0]
    return order


async def ordered(
    vendure: RunningVendure, price: Decimal, stock: int, quantity: int
) -> tuple[str, dict[str, Any]]:
    """A new product and a settled order of `quantity` of it: its SKU, the order as the Admin API reads it."""
    sku = unique("ord")
    product = await create_product(vendure, sku, f"Product {sku}", price, stock)
    placed = await place_order(
        vendure, f"{sku.lower()}@example.com", [(product["variants"][0]["id"], quantity)]
    )
    return sku, await read_order(vendure, placed["code"])


async def test_admin_api_lists_products_only_after_login(vendure: RunningVendure) -> None:
    sku = unique("list")
    await create_product(vendure, sku, "Listed product", Decimal("3.50"), 1)
    anonymous = VendureSession(vendure.admin_url, vendure.channel_token)
    with pytest.raises(GraphQLError, match="FORBIDDEN"):
        await anonymous.gql("{ products { totalItems } }")
    listed = await admin(vendure).gql(
        "query($o: ProductListOptions) { products(options: $o) { totalItems items { variants { sku } } } }",
        {
            "o": {
                "skip": 0,
                "take": 50,
                "sort": {"updatedAt": "DESC"},
                "filter": {"updatedAt": {"after": "2000-01-01T00:00:00Z"}},
            }
        },
    )
    skus = [variant["sku"] for item in listed["products"]["items"] for variant in item["variants"]]
    assert sku in skus
    assert listed["products"]["totalItems"] >= 1


async def test_created_product_reads_back_with_variant_prices_and_stock(vendure: RunningVendure) -> None:
    base = unique("shirt")
    variants = [
        VariantSpec(f"{base}-S", "S", Decimal("19.99"), 5),
        VariantSpec(f"{base}-M", "M", Decimal("21.50"), 7),
    ]
    product = await create_product(vendure, base, "Shirt", Decimal("0"), 0, variants)
    by_sku = {variant["sku"]: variant for variant in product["variants"]}
    assert [option["code"] for option in product["optionGroups"]] == [f"{base.lower()}-option"]
    assert by_sku[f"{base}-S"]["price"] == 1999 and by_sku[f"{base}-S"]["priceWithTax"] == 2379  # 19 % on top
    assert by_sku[f"{base}-M"]["currencyCode"] == "EUR"
    assert by_sku[f"{base}-M"]["stockLevels"] == [
        {"stockLocationId": vendure.stock_location_id, "stockOnHand": 7, "stockAllocated": 0}
    ]
    assert await stock_of(vendure, f"{base}-S") == Decimal(5)
    variant = await variant_by_sku(vendure, f"{base}-M")
    updated = await admin(vendure).gql(
        "mutation($input: [UpdateProductVariantInput!]!) {updateProductVariants(input: $input) {id price}}",
        {
            "input": [
                {
                    "id": variant["id"],
                    "price": 2250,
                    "stockLevels": [{"stockLocationId": vendure.stock_location_id, "stockOnHand": 12}],
                }
            ]
        },
    )
    assert updated["updateProductVariants"] == [{"id": variant["id"], "price": 2250}]
    assert await stock_of(vendure, f"{base}-M") == Decimal(12)


async def test_order_from_the_shop_api_appears_in_admin_orders(vendure: RunningVendure) -> None:
    sku, order = await ordered(vendure, Decimal("10.00"), 10, 2)
    assert order["state"] == "PaymentSettled" and order["active"] is False
    assert order["customer"]["emailAddress"] == f"{sku.lower()}@example.com"
    assert [
        (line["productVariant"]["sku"], line["quantity"], line["unitPrice"]) for line in order["lines"]
    ] == [(sku, 2, 1000)]
    lines = sum(from_minor(line["linePrice"]) for line in order["lines"])
    tax = sum(from_minor(row["taxTotal"]) for row in order["taxSummary"])
    shipping = from_minor(order["shippingWithTax"])
    assert (lines, tax, shipping) == (Decimal("20.00"), Decimal("3.80"), Decimal("4.90"))
    assert from_minor(order["totalWithTax"]) == lines + shipping + tax == Decimal("28.70")
    assert [(payment["method"], payment["state"], payment["amount"]) for payment in order["payments"]] == [
        ("dummy", "Settled", 2870)
    ]
    variant = await variant_by_sku(vendure, sku)
    assert variant["stockLevels"][0]["stockOnHand"] == 10 and variant["stockLevels"][0]["stockAllocated"] == 2


async def test_fulfilment_with_tracking_code_moves_to_shipped(vendure: RunningVendure) -> None:
    sku, order = await ordered(vendure, Decimal("5.00"), 4, 3)
    handler = {
        "code": "manual-fulfillment",
        "arguments": [{"name": "method", "value": "DHL"}, {"name": "trackingCode", "value": "JJD000123"}],
    }
    lines = [{"orderLineId": line["id"], "quantity": line["quantity"]} for line in order["lines"]]
    api = admin(vendure)
    created = expect(
        (await api.gql(FULFIL, {"input": {"lines": lines, "handler": handler}}))["addFulfillmentToOrder"],
        "Fulfillment",
    )
    assert (created["state"], created["method"], created["trackingCode"]) == ("Pending", "DHL", "JJD000123")
    again = (await api.gql(FULFIL, {"input": {"lines": lines, "handler": handler}}))["addFulfillmentToOrder"]
    assert again["__typename"] == "ItemsAlreadyFulfilledError"
    shipped = await api.gql(
        """mutation($id: ID!) { transitionFulfillmentToState(id: $id, state: "Shipped") {
          __typename ... on Fulfillment { state } ... on ErrorResult { errorCode message } } }""",
        {"id": created["id"]},
    )
    assert expect(shipped["transitionFulfillmentToState"], "Fulfillment")["state"] == "Shipped"
    after = await read_order(vendure, order["code"])
    assert after["state"] == "Shipped"
    assert [(f["trackingCode"], f["state"]) for f in after["fulfillments"]] == [("JJD000123", "Shipped")]
    assert await stock_of(vendure, sku) == Decimal(1)  # taken from stock on hand when fulfilled


async def test_refund_is_settled_and_reads_back(vendure: RunningVendure) -> None:
    _, order = await ordered(vendure, Decimal("12.00"), 5, 1)
    payment = order["payments"][0]
    api = admin(vendure)
    refund_mutation = """mutation($input: RefundOrderInput!) { refundOrder(input: $input) {
      __typename ... on Refund { id state total reason } ... on ErrorResult { errorCode message } } }"""
    too_much = await api.gql(
        refund_mutation, {"input": {"paymentId": payment["id"], "amount": payment["amount"] + 1}}
    )
    assert too_much["refundOrder"]["__typename"] == "RefundAmountError"
    # Vendure 3.7: `amount` alone leaves the deprecated NOT NULL column `refund.shipping` empty
    with pytest.raises(GraphQLError, match=r"refund\.shipping"):
        await api.gql(refund_mutation, {"input": {"paymentId": payment["id"], "amount": 500}})
    by_amount = {
        "paymentId": payment["id"],
        "amount": 500,
        "shipping": 0,
        "adjustment": 0,
        "reason": "damaged",
    }
    refund = await api.gql(refund_mutation, {"input": by_amount})
    pending = expect(refund["refundOrder"], "Refund")
    assert (pending["state"], pending["total"], pending["reason"]) == ("Pending", 500, "damaged")
    settled = await api.gql(
        """mutation($input: SettleRefundInput!) { settleRefund(input: $input) {
          __typename ... on Refund { state transactionId } ... on ErrorResult { errorCode message } } }""",
        {"input": {"id": pending["id"], "transactionId": "R-1"}},
    )
    assert expect(settled["settleRefund"], "Refund") == {
        "__typename": "Refund",
        "state": "Settled",
        "transactionId": "R-1",
    }
    after = await read_order(vendure, order["code"])
    refunds = after["payments"][0]["refunds"]
    assert [(r["total"], r["state"], r["reason"]) for r in refunds] == [(500, "Settled", "damaged")]
    assert after["state"] == "PaymentSettled"  # a refund by amount leaves the order's state alone


async def test_cancellation_releases_the_allocated_stock(vendure: RunningVendure) -> None:
    sku, order = await ordered(vendure, Decimal("7.00"), 6, 2)
    cancel = """mutation($input: CancelOrderInput!) { cancelOrder(input: $input) {
      __typename ... on Order { state } ... on ErrorResult { errorCode message } } }"""
    api = admin(vendure)
    done = await api.gql(
        cancel, {"input": {"orderId": order["id"], "reason": "customer asked", "cancelShipping": True}}
    )
    assert expect(done["cancelOrder"], "Order")["state"] == "Cancelled"
    twice = await api.gql(cancel, {"input": {"orderId": order["id"]}})
    assert twice["cancelOrder"]["__typename"] != "Order"
    variant = await variant_by_sku(vendure, sku)
    assert variant["stockLevels"][0]["stockAllocated"] == 0 and variant["stockLevels"][0]["stockOnHand"] == 6


def test_a_server_that_dies_fails_the_tests_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "vendure.log"
    process = dying_server(log, "console.error('no such table: channel'); process.exit(3)")
    with pytest.raises(pytest.fail.Exception, match=r"exited with 3:\nno such table: channel"):
        wait_until_up(process, "http://127.0.0.1:9/admin-api", log)
