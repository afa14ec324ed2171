"""Odoo's values on the wire: the server version it reports and its UTC datetime text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emporion.connectors.base import Permanent

ODOO_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class ServerVersion:
    """What the server says it is."""

    major: int  # 17, 18, 19
    serie: str  # "18.0", "saas~18.2", "19.0"
    edition: str = ""  # "community"/"enterprise" when known


def odoo_datetime(text: str | None) -> datetime | None:
    """An Odoo datetime value ("YYYY-MM-DD HH:MM:SS", UTC) as an aware datetime; None for False/empty."""
    if not text:
        return None
    return datetime.strptime(str(text)[:19], ODOO_FORMAT).replace(tzinfo=UTC)


def odoo_text(moment: datetime) -> str:
    """A datetime as Odoo's UTC text, for domains and values."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(ODOO_FORMAT)


def parse_version(info: dict[str, Any]) -> ServerVersion:
    """The version from `common.version` (server_version_info, server_serie) or `GET /web/version`
    (version_info, version)."""
    version_info = (
        info.get("server_version_info") or info.get("version_info") or []
    )  # /web/version: version_info
    serie = str(info.get("server_serie") or info.get("server_version") or info.get("version") or "")
    major: int | None = None
    if version_info and isinstance(version_info[0], int):
        major = version_info[0]
    elif version_info and isinstance(version_info[0], str):  # "saas~18"
        digits = version_info[0].rsplit("~", 1)[-1]
        major = int(digits) if digits.isdigit() else None
    if major is None:
        head = serie.rsplit("~", 1)[-1].split(".", 1)[0]
        if not head.isdigit():
            raise Permanent(f"Odoo did not say which version it is (server_serie {serie[:40]!r})")
        major = int(head)
    flag = version_info[5] if len(version_info) > 5 else None
    edition = "enterprise" if flag == "e" else "community" if flag == "" else ""
    return ServerVersion(major=major, serie=serie or f"{major}.0", edition=edition)
