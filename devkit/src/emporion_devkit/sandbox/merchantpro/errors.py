"""MerchantPro's error answer, `{"error": {"name", "message"}}` with the HTTP status, as one exception."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the API answers with its status code and `{"error": {"name": ..., "message": ...}}`."""

    def __init__(self, status: int, name: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        return {"error": {"name": self.name, "message": self.message, **self.details}}


def not_found(kind: str, record_id: object) -> ApiError:
    """A 404 for a resource id that does not exist."""
    return ApiError(404, "NotFound", f"The {kind} with id {record_id} was not found")


def invalid(field: str, reason: str) -> ApiError:
    """A 400 for a request whose field `field` is refused (named in `field` and in the message)."""
    return ApiError(400, "InvalidParameter", f"{field}: {reason}", field=field)


def no_route() -> ApiError:
    """A 404 for a path the API does not have."""
    return ApiError(404, "NotFound", "The requested endpoint does not exist")


def not_allowed(method: str) -> ApiError:
    """A 405 for a method the endpoint does not take."""
    return ApiError(405, "MethodNotAllowed", f"Method {method} is not allowed on this endpoint")
