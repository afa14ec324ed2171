"""Shop time: WooCommerce's second-resolution dates, in the site's time zone and in GMT."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emporion_devkit.sandbox.woocommerce.errors import invalid_param

WC_FORMAT = "%Y-%m-%dT%H:%M:%S"


class Clock:
    """Formats and parses dates the way WooCommerce does: site-local without offset, GMT without `Z`.

    The site's zone is a fixed UTC offset or a named zone (`timezone_string`, e.g. "Europe/Berlin", with
    its daylight saving time). Local dates are derived from the GMT ones whenever a record is shown, so a
    zone change re-renders older records too, as WordPress does.
    """

    def __init__(self, utc_offset_minutes: int = 0, timezone: str | None = None) -> None:
        self.offset = timedelta(minutes=utc_offset_minutes)
        self.zone: ZoneInfo | None = None
        if timezone:
            self.set_zone(timezone)

    def set_zone(self, timezone: str | None, utc_offset_minutes: int = 0) -> None:
        """Switch the site's time zone (a name, or None for the fixed offset)."""
        try:
            self.zone = ZoneInfo(timezone) if timezone else None
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        self.offset = timedelta(minutes=utc_offset_minutes)

    def now(self) -> datetime:
        """The current time in UTC, truncated to seconds like WordPress' post dates."""
        return datetime.now(UTC).replace(microsecond=0, tzinfo=None)

    def local(self, gmt: datetime) -> datetime:
        """A naive-UTC moment in site-local time (naive)."""
        if self.zone is None:
            return gmt + self.offset
        return gmt.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)

    def pair(self, gmt: datetime | None = None) -> tuple[str, str]:
        """(local, gmt) strings for a naive-UTC moment (default: now)."""
        gmt = gmt or self.now()
        return self.local(gmt).strftime(WC_FORMAT), gmt.strftime(WC_FORMAT)

    def stamp(self, doc: dict, field: str, gmt: datetime | None = None) -> None:
        """Set `field` and `field_gmt` of a document."""
        doc[field], doc[field + "_gmt"] = self.pair(gmt)

    def localize(self, doc: dict[str, Any]) -> None:
        """Re-render every `<date>` of a shown document from its `<date>_gmt` in the current zone."""
        for key, value in list(doc.items()):
            if key.endswith("_gmt") and key[:-4] in doc:
                doc[key[:-4]] = (
                    None
                    if value is None
                    else self.local(datetime.strptime(value, WC_FORMAT)).strftime(WC_FORMAT)
                )

    def parse(self, value: str, name: str, is_gmt: bool = False) -> datetime:
        """Parse an ISO 8601 date from a request into naive UTC; local unless `is_gmt` or zoned."""
        try:
            moment = datetime.fromisoformat(value.strip().replace(" ", "T"))
        except (ValueError, AttributeError):
            raise invalid_param(name, "Invalid date.", "rest_invalid_date") from None
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        moment = moment.replace(microsecond=0)
        if is_gmt:
            return moment
        if self.zone is not None:
            return moment.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)
        return moment - self.offset

    def gmt_string(self, value: str, name: str, is_gmt: bool = False) -> str:
        """A request date turned into the GMT string stored in the index columns."""
        return self.parse(value, name, is_gmt).strftime(WC_FORMAT)
