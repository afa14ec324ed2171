"""Vendure's GraphQL calls of the preset's own, sent with their variables as they are, and cents."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.rest.settings import Call

if TYPE_CHECKING:
    from emporion.connectors.rest.client import Answer
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any
UNION = "__typename ... on ErrorResult { errorCode message }"


def gql(query: str, result: str | None = None) -> Call:
    """A call of the preset's own, its ErrorResult refused as Permanent."""
    error = f"$.data.{result}.message" if result else None
    return Call(query=query, result=f"$.data.{result}" if result else None, error=error)


FIND_BY_SLUG = gql(
    "query($slug: String!) { products(options: {filter: {slug: {eq: $slug}}}) { items { id } } }"
)
CREATE_PRODUCT = gql(
    "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }", "createProduct"
)
UPDATE_PRODUCT = gql(
    "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { id } }", "updateProduct"
)
CREATE_GROUP = gql(
    "mutation($input: CreateProductOptionGroupInput!) { createProductOptionGroup(input: $input) "
    "{ id code options { id code name } } }",
    "createProductOptionGroup",
)
ADD_GROUP = gql(
    "mutation($p: ID!, $g: ID!) { addOptionGroupToProduct(productId: $p, optionGroupId: $g) { id } }",
    "addOptionGroupToProduct",
)
CREATE_OPTION = gql(
    "mutation($input: CreateProductOptionInput!) { createProductOption(input: $input) { id } }",
    "createProductOption",
)
PRODUCT_GROUPS = gql(
    "query($id: ID!) { product(id: $id) { optionGroups { id code name options { id code name } } } }",
    "product",
)
CREATE_VARIANTS = gql(
    "mutation($input: [CreateProductVariantInput!]!) { createProductVariants(input: $input) { id } }"
)
UPDATE_VARIANTS = gql(
    "mutation($input: [UpdateProductVariantInput!]!) { updateProductVariants(input: $input) { id } }"
)
SHIP_FULFILMENT = gql(
    "mutation($id: ID!, $state: String!) { transitionFulfillmentToState(id: $id, state: $state) "
    f"{{ {UNION} ... on Fulfillment {{ id state }} }} }}",
    "transitionFulfillmentToState",
)
SETTLE_REFUND = gql(
    "mutation($input: SettleRefundInput!) { settleRefund(input: $input) "
    f"{{ {UNION} ... on Refund {{ id state }} }} }}",
    "settleRefund",
)
CANCEL_ORDER = gql(
    "mutation($input: CancelOrderInput!) { cancelOrder(input: $input) "
    f"{{ {UNION} ... on Order {{ id state }} }} }}",
    "cancelOrder",
)


async def send(connector: DeclarativeConnector, call: Call, variables: dict[str, Any], label: str) -> Answer:
    """Send one of the preset's calls with `variables` as they are (numbers stay numbers)."""
    templated = call.model_copy(update={"variables": {name: f"{{{name}}}" for name in variables}})
    return await connector.client.call(templated, variables, record=label)


def cents(amount: Decimal | None) -> int | None:
    """Decimal units as Vendure's integer cents."""
    return None if amount is None else int((amount * 100).to_integral_value())
