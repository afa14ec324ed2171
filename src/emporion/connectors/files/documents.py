"""What the ERP reads: order documents as CSV (or openTRANS, `opentrans.py`), and names fit for files."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from emporion.connectors.base import Permanent
from emporion.connectors.files.settings import CsvOptions
from emporion.connectors.rows.settings import RowTarget

DEFAULT_LINES = RowTarget(
    columns={
        "reference": "order.reference",
        "number": "order.number",
        "date": "order.created_at",
        "currency": "order.currency",
        "email": "order.customer.email",
        "position": "position",
        "sku": "line.sku",
        "name": "line.name",
        "quantity": "line.quantity",
        "unit_price": "line.unit_price",
        "total": "line.total",
        "tax": "line.tax",
        "payment_method": "order.payments.0.method",
        "carrier": "order.shipping_lines.0.method",
    }
)
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(text: str) -> str:
    """`text` fit for a file name: kept when it already is, else cleaned and made unique by a hash."""
    cleaned = _SAFE.sub("_", text)[:100]
    if cleaned == text and not text.startswith("."):
        return text
    return f"{cleaned.lstrip('.')}~{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def csv_value(value: Any, options: CsvOptions) -> str:
    """A value as CSV text in the file's conventions (decimal comma, date formats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal | int | float):
        text = format(Decimal(str(value)), "f")
        return text.replace(".", ",") if options.decimal_comma else text
    if isinstance(value, datetime):
        return value.strftime(options.datetime_format)
    if isinstance(value, date):
        return value.strftime(options.date_format)
    return str(value)


def csv_document(rows: Sequence[dict[str, Any]], columns: Sequence[str], options: CsvOptions) -> bytes:
    """Rows as a CSV file with a header row, in the configured delimiter and encoding."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=options.delimiter, quotechar=options.quotechar, lineterminator="\r\n"
    )
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_value(row.get(column), options) for column in columns])
    try:
        return buffer.getvalue().encode(options.encoding)
    except UnicodeEncodeError:
        raise Permanent(f"a value cannot be written in {options.encoding}", record="order file") from None
