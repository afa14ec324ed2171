"""Request argument checks with WordPress' REST rules: strict for single requests, coercing in batches.

WordPress validates each argument against the endpoint schema (`rest_validate_value_from_schema`);
WooCommerce's batch handler builds inner requests that skip that step, so a batch coerces instead.
"""

from __future__ import annotations

from typing import Any

from emporion_devkit.sandbox.woocommerce.errors import invalid_param

FieldSpec = str | tuple[str, ...]


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _to_string(name: str, value: Any, strict: bool) -> str:
    if isinstance(value, str):
        return value
    if not strict and _is_number(value):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if not strict and value is None:
        return ""
    raise invalid_param(name, f"{name} is not of type string.", "rest_invalid_type")


def _to_integer(name: str, value: Any) -> int:
    if _is_number(value) and float(value).is_integer():
        return int(float(value))
    raise invalid_param(name, f"{name} is not of type integer.", "rest_invalid_type")


def _to_number(name: str, value: Any) -> float:
    if _is_number(value):
        return float(value)
    raise invalid_param(name, f"{name} is not of type number.", "rest_invalid_type")


def _to_boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and not isinstance(value, float):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise invalid_param(name, f"{name} is not of type boolean.", "rest_invalid_type")


def coerce(name: str, spec: FieldSpec, value: Any, strict: bool) -> Any:
    """One argument checked against its spec: a type name, ("enum", *options) or a nullable "type?"."""
    if isinstance(spec, tuple):
        options = spec[1:]
        text = _to_string(name, value, strict)
        if text not in options:
            listed = ", ".join(options[:-1]) + (", and " if len(options) > 2 else " and ") + options[-1]
            raise invalid_param(name, f"{name} is not one of {listed}.", "rest_not_in_enum")
        return text
    if spec.endswith("?"):
        if value is None:
            return None
        spec = spec[:-1]
    if spec in ("string", "money"):
        return _to_string(name, value, strict)
    if spec == "integer":
        return _to_integer(name, value)
    if spec == "number":
        return _to_number(name, value)
    if spec == "boolean":
        return _to_boolean(name, value)
    if spec == "stockflag":  # a variation's manage_stock: "parent" leaves the stock to the parent
        return False if value == "parent" else _to_boolean(name, value)
    if spec == "array":
        if isinstance(value, list):
            return value
        if not strict and isinstance(value, dict):
            return list(value.values())
        raise invalid_param(name, f"{name} is not of type array.", "rest_invalid_type")
    if spec == "object":
        if isinstance(value, dict):
            return value
        raise invalid_param(name, f"{name} is not of type object.", "rest_invalid_type")
    return value


def clean(fields: dict[str, FieldSpec], data: dict[str, Any], strict: bool) -> dict[str, Any]:
    """The writable arguments of a request body, each checked; unknown and read-only keys are dropped."""
    return {name: coerce(name, fields[name], value, strict) for name, value in data.items() if name in fields}
