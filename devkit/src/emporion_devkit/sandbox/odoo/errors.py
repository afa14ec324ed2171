"""Odoo's exceptions as the sandbox raises them: the dotted name, the message and the JSON-2 status."""

from __future__ import annotations


class OdooError(Exception):
    """An Odoo exception: `name` as Odoo serialises it, a user-facing message, the JSON-2 HTTP status."""

    name = "odoo.exceptions.UserError"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UserError(OdooError):
    """odoo.exceptions.UserError."""


class ValidationError(OdooError):
    """odoo.exceptions.ValidationError."""

    name = "odoo.exceptions.ValidationError"


class MissingError(OdooError):
    """odoo.exceptions.MissingError: a record that does not exist (any more)."""

    name = "odoo.exceptions.MissingError"
    status = 404


class AccessError(OdooError):
    """odoo.exceptions.AccessError: the user lacks a group for the model and operation."""

    name = "odoo.exceptions.AccessError"
    status = 403


class AccessDenied(OdooError):
    """odoo.exceptions.AccessDenied: a wrong login or key."""

    name = "odoo.exceptions.AccessDenied"
    status = 403

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class AttributeFault(OdooError):
    """A Python AttributeError inside Odoo: an unknown method over JSON-RPC."""

    name = "builtins.AttributeError"
    status = 404


class TypeFault(OdooError):
    """A Python TypeError inside Odoo: arguments that do not fit a method, over JSON-RPC."""

    name = "builtins.TypeError"
    status = 500


class ValueFault(OdooError):
    """A Python ValueError inside Odoo (an unknown field, a malformed domain): a 500 on JSON-2."""

    name = "builtins.ValueError"
    status = 500


class NotFound(OdooError):
    """werkzeug's NotFound: an unknown model or method on JSON-2."""

    name = "werkzeug.exceptions.NotFound"
    status = 404


class Unprocessable(OdooError):
    """werkzeug's UnprocessableEntity: arguments that do not fit the method's signature."""

    name = "werkzeug.exceptions.UnprocessableEntity"
    status = 422


class Unauthorized(OdooError):
    """werkzeug's Unauthorized: no or an invalid bearer key on JSON-2."""

    name = "werkzeug.exceptions.Unauthorized"
    status = 401
