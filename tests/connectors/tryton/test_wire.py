"""Tryton's JSON values and errors translate both ways without loss."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from emporion.connectors.base import AuthError, Permanent, RateLimited, Retryable
from emporion.connectors.tryton.client import decode, encode, error_from_rpc


@pytest.mark.parametrize(
    "value",
    [
        Decimal("12.3400"),
        dt.date(2026, 2, 28),
        dt.datetime(2026, 11, 22, 13, 5, 7, 123456),
        dt.timedelta(seconds=90.5),
        b"\x00\xffbinary",
        {"nested": [Decimal("1.5"), dt.date(2020, 1, 1)], "plain": "x"},
    ],
)
def test_values_survive_a_round_trip(value: object) -> None:
    assert decode(json.dumps(encode(value))) == value


def test_encoded_values_use_trytons_class_markers() -> None:
    assert encode(Decimal("2.50")) == {"__class__": "Decimal", "decimal": "2.50"}
    assert encode(dt.date(2026, 1, 2)) == {"__class__": "date", "year": 2026, "month": 1, "day": 2}
    assert encode((1, 2)) == [1, 2]


def test_decode_keeps_unknown_classes_and_plain_objects() -> None:
    assert decode('{"a": {"__class__": "Other", "x": 1}}') == {"a": {"__class__": "Other", "x": 1}}


def test_user_error_is_permanent_with_message_and_description() -> None:
    error = error_from_rpc("model.x.write", ["UserError", ["Price must be positive", "Line 3", None]])
    assert isinstance(error, Permanent) and not isinstance(error, AuthError)
    assert "Price must be positive Line 3" in str(error)


def test_concurrency_and_locks_are_retryable() -> None:
    assert isinstance(error_from_rpc("m", ["ConcurrencyException", "record changed"]), Retryable)
    assert isinstance(error_from_rpc("m", ["OperationalError: database is locked", "tb"]), Retryable)


def test_other_server_exceptions_are_permanent_without_traceback() -> None:
    error = error_from_rpc("m", ["KeyError: 'x'\nmore", "Traceback (most recent call last): ..."])
    assert isinstance(error, Permanent) and "Traceback" not in str(error) and "KeyError" in str(error)
    assert not isinstance(error, RateLimited)


def test_login_exception_is_an_auth_error() -> None:
    assert isinstance(
        error_from_rpc("common.db.login", ["LoginException", ["password", "Password", "password"]]), AuthError
    )
