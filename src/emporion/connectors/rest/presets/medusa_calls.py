"""The Medusa preset's own requests and the amounts it reads: Medusa sends exact, unrounded numbers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from emporion.connectors.rest.settings import Call

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

Json = Any
CENT = Decimal("0.01")


def cents(amount: Any) -> Decimal:
    """An amount Medusa sends unrounded (0.931) as cents, half up (0.93)."""
    return Decimal(str(amount or 0)).quantize(CENT, ROUND_HALF_UP)


def exact(value: Any) -> Decimal:
    """A JSON number as an exact Decimal (0 when absent)."""
    return Decimal(str(value or 0))


def amount_of(value: Any) -> Decimal | None:
    """A JSON number (int or Decimal) as Decimal, None when absent."""
    return None if value is None else Decimal(str(value))


async def send(
    connector: DeclarativeConnector, method: str, path: str, label: str, body: Json = None, **params: str
) -> Json:
    """One request of the preset's own (body and parameters sent as they are); the answer's JSON."""
    call = Call.model_validate(
        {
            "method": method,
            "path": "{path}",
            "params": {name: f"{{param_{name}}}" for name in params},
            "body": None if body is None else "{payload}",
        }
    )
    values = {"path": path, "payload": body} | {f"param_{name}": value for name, value in params.items()}
    answer = await connector.client.call(call, values, record=label, read=method == "GET")
    return answer.body
