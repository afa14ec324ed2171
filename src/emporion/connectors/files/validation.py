"""A row's values typed as soon as it is read, so that every row a record cannot be built from is a reject.

Records are assembled later (`rows.assemble`), and a value that is no number, date or yes/no fails
its record there: a dead letter. The drop's feed checks the same values while it hashes a file's
rows, so that such a row also lands in `rejects/<file>.rejects.csv` with its row, its column and the
reason, next to the rows that could not be decoded or keyed. The conversions are those assembly
uses (`rows.values`), with the file's parsing options, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.files.settings import FileSource
from emporion.connectors.rows.fields import required_text
from emporion.connectors.rows.values import Parsing, to_bool, to_datetime, to_decimal, to_text

Kind = Callable[[Any, Parsing], object]


def _number(value: Any, parsing: Parsing) -> object:
    return to_decimal(value, parsing)


def _moment(value: Any, parsing: Parsing) -> object:
    return to_datetime(value, parsing)


def _flag(value: Any, parsing: Parsing) -> object:
    return to_bool(value)


def _text(value: Any, parsing: Parsing) -> object:
    return to_text(value)


# per source: the canonical fields that must type, and how (text fields only need to be text)
TYPED: dict[str, dict[str, Kind]] = {
    "categories": {"name": _text, "parent": _text},
    "products": {
        "list_price": _number, "weight": _number, "active": _flag, "salable": _flag,
        "description": _text, "short_description": _text, "tax_class": _text,
    },
    "variants": {"list_price": _number, "weight": _number, "active": _flag, "sku": _text},
    "prices": {"price": _number, "price_list": _text},
    "sale_prices": {"price": _number, "start": _moment, "end": _moment},
    "stock": {"quantity": _number, "warehouse": _text},
    "images": {"position": _number, "url": _text},
    "customers": {"email": _text},
    "progress_shipments": {"shipped_at": _moment},
    "progress_invoices": {"total": _number, "credit_note": _flag},
}  # fmt: skip
# per source: text fields a record cannot be built without
REQUIRED: dict[str, tuple[str, ...]] = {"products": ("sku", "name"), "categories": ("name",)}


def check_fields(name: str, fields: Mapping[str, Any], parsing: Parsing, where: str) -> None:
    """Raise Permanent (the row, the canonical field, a reason without the value) for the first field
    of source `name` that does not type, or a required one that is empty."""
    for field in REQUIRED.get(name, ()):
        required_text(where, field, fields)
    for field, kind in TYPED.get(name, {}).items():
        value = fields.get(field)
        if value is None:
            continue
        try:
            kind(value, parsing)
        except ValueError as error:
            raise Permanent(str(error), record=where, field=field) from None


def column_of(source: FileSource, field: str) -> str:
    """The file's column behind canonical `field` (a column copied to it), else the field itself."""
    column = source.columns.get(field)
    return column if isinstance(column, str) else field
