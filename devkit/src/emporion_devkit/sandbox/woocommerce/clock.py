"""Shop time: WooCommerce's second-resolution dates, in site-local time and in GMT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from emporion_devkit.sandbox.woocommerce.errors import invalid_param

WC_FORMAT = "%Y-%m-%dT%H:%M:%S"


class Clock:
    """Formats and parses dates the way WooCommerce does for a site with a fixed UTC offset."""

    def __init__(self, utc_offset_minutes: int = 0) -> None:
        self.offset = timedelta(minutes=utc_offset_minutes)

    def now(self) -> datetime:
        """The current time in UTC, truncated to seconds like WordPress' post dates."""
        return datetime.now(UTC).replace(microsecond=0, tzinfo=None)

    def pair(self, gmt: datetime | None = None) -> tuple[str, str]:
        """(local, gmt) strings for a naive-UTC moment (default: now)."""
        gmt = gmt or self.now()
        return (gmt + self.offset).strftime(WC_FORMAT), gmt.strftime(WC_FORMAT)

    def stamp(self, doc: dict, field: str, gmt: datetime | None = None) -> None:
        """Set `field` and `field_gmt` of a document."""
        doc[field], doc[field + "_gmt"] = self.pair(gmt)

    def parse(self, value: str, name: str, is_gmt: bool = False) -> datetime:
        """Parse an ISO 8601 date from a request into naive UTC; local unless `is_gmt` or zoned."""
        try:
            moment = datetime.fromisoformat(value.strip().replace(" ", "T"))
        except (ValueError, AttributeError):
            raise invalid_param(name, "Invalid date.", "rest_invalid_date") from None
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        return moment.replace(microsecond=0) if is_gmt else moment.replace(microsecond=0) - self.offset

    def gmt_string(self, value: str, name: str, is_gmt: bool = False) -> str:
        """A request date turned into the GMT string stored in the index columns."""
        return self.parse(value, name, is_gmt).strftime(WC_FORMAT)
