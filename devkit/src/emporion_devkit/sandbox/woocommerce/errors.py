"""WooCommerce's REST error shape, `{"code", "message", "data": {"status"}}`, as one exception type."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered the way WordPress' REST server answers a `WP_Error`."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> dict[str, Any]:
        """The JSON body WooCommerce sends for this error."""
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}


def not_found(code: str, message: str) -> ApiError:
    """A 404 for a resource id that does not exist."""
    return ApiError(404, code, message)


def no_route() -> ApiError:
    """WordPress' answer for a path or method it has no route for."""
    return ApiError(404, "rest_no_route", "No route was found matching the URL and request method")


def invalid_param(name: str, reason: str, code: str = "rest_invalid_param") -> ApiError:
    """WordPress' 400 for a request argument that fails its schema."""
    return ApiError(
        400,
        "rest_invalid_param",
        f"Invalid parameter(s): {name}",
        params={name: reason},
        details={name: {"code": code, "message": reason, "data": None}},
    )


def missing_param(name: str) -> ApiError:
    """WordPress' 400 for a required argument that was not sent."""
    return ApiError(400, "rest_missing_callback_param", f"Missing parameter(s): {name}", params=[name])
