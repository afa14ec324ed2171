"""The edge of every mapper: whatever a wire record holds, mapping fails only with Permanent.

A wire record is whatever the other system sent, so a mapper can meet a missing key, a list where a
mapping was expected, text where a number belongs or a number too large for a date. `typed_mapping`
turns each of these into `Permanent` naming the record (by its id) and, where it can tell, the field.
The reason never quotes the offending value: dead-letter reasons are logged, and values can be
personal data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from pydantic import ValidationError

from emporion.connectors.base import Permanent

P = ParamSpec("P")
T = TypeVar("T")
LABEL_LIMIT = 40
# what a mapper meets on a record of the wrong shape (KeyError and pydantic's errors are named apart)
UNTYPED = (TypeError, ValueError, AttributeError, ArithmeticError, IndexError, RecursionError)


def record_label(kind: str, data: Any) -> str:
    """`<kind> <id>` for a wire record whose id is a short number or string, else `<kind> (no id)`."""
    ident = data.get("id") if isinstance(data, Mapping) else None
    if isinstance(ident, bool) or not isinstance(ident, int | str) or not str(ident).strip():
        return f"{kind} (no id)"
    return f"{kind} {str(ident)[:LABEL_LIMIT]}"


def validation_field(error: ValidationError) -> tuple[str, str]:
    """The dotted location and the kind of the first problem pydantic found."""
    first = error.errors()[0]
    return ".".join(str(part) for part in first["loc"]), str(first["type"])


def typed_mapping(kind: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Wrap a mapper whose first argument is the wire record so that it raises only Permanent."""

    def decorate(mapper: Callable[P, T]) -> Callable[P, T]:
        """The guarded mapper."""

        @functools.wraps(mapper)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            """Call the mapper; translate what escapes it into Permanent naming record and field."""
            data = args[0] if args else None
            try:
                return mapper(*args, **kwargs)
            except Permanent as error:
                if error.record:
                    raise
                raise Permanent(error.reason, record_label(kind, data), error.field) from None
            except ValidationError as error:
                field, problem = validation_field(error)
                raise Permanent(f"invalid value ({problem})", record_label(kind, data), field) from None
            except KeyError as error:
                missing = str(error.args[0]) if error.args else None
                raise Permanent("required field is missing", record_label(kind, data), missing) from None
            except (
                TypeError,
                ValueError,
                AttributeError,
                ArithmeticError,
                IndexError,
                RecursionError,
            ) as error:
                reason = f"record cannot be read ({type(error).__name__})"
                raise Permanent(reason, record_label(kind, data)) from None

        return guarded

    return decorate
