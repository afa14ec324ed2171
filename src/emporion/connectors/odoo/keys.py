"""The API key's remaining lifetime: `res.users.apikeys.expiration_date` of the integration user's keys.

What the sources say (odoo/addons/base: models/res_users.py, security/ir.model.access.csv and
base_security.xml): internal users (base.group_user) may read `res.users.apikeys`, and the record rule
"Users can read and delete their own keys" limits them to `user_id = user.id`; the key itself is
stored hashed, and the 8-character index that would tell which key a request used is no field, so
the API cannot say which of the user's keys is the one in use. Both 18 and 19 have `expiration_date`
(empty: the key never expires; 19 requires one for non-administrators, at most the duration their
groups allow, three months by default; an expired key is refused as a wrong one).

So the lifetime reported is the one of the user's key that expires first among those still valid
(a dedicated integration user has one key); `KeyLifetime.keys` says how many there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from emporion.connectors.odoo.client import OdooClient, odoo_datetime

KEY_MODEL = "res.users.apikeys"


@dataclass(frozen=True)
class KeyLifetime:
    """The integration user's API keys: how many, and when the first of them expires (None: never)."""

    keys: int
    expires_at: datetime | None
    scope: str | None = None

    def days_left(self, now: datetime) -> float | None:
        """Days until `expires_at` (negative once expired); None when no key expires."""
        if self.expires_at is None:
            return None
        return (self.expires_at - now).total_seconds() / 86400

    def describe(self, now: datetime) -> str:
        """One line for `emporion check`: how long the key has left, and how many keys the user has."""
        more = f" ({self.keys} keys on the user; the first to expire is shown)" if self.keys > 1 else ""
        days = self.days_left(now)
        if days is None:
            return f"the API key has no expiry date{more}"
        when = self.expires_at.strftime("%Y-%m-%d %H:%M UTC") if self.expires_at else ""
        if days < 0:
            return f"the API key expired on {when}{more}"
        return f"the API key expires in {days:.0f} days, on {when}{more}"


async def key_lifetime(client: OdooClient) -> KeyLifetime:
    """The lifetime of the integration user's API keys, read as that user (its own keys only)."""
    await client.connect()
    rows = await client.search_read(
        KEY_MODEL,
        [("user_id", "=", client.uid)],
        ["name", "scope", "expiration_date"],
        order="id",
    )
    now = datetime.now(UTC)
    expiries = [odoo_datetime(row.get("expiration_date")) for row in rows]
    valid = [moment for moment in expiries if moment is None or moment > now]
    dated = sorted(moment for moment in valid if moment is not None)
    first = dated[0] if dated else None
    if not valid and expiries:  # all past their date by this machine's clock: the latest is the one in use
        first = max(moment for moment in expiries if moment is not None)
    scopes = {row.get("scope") or None for row in rows}
    return KeyLifetime(
        keys=len(rows), expires_at=first, scope=next(iter(scopes)) if len(scopes) == 1 else None
    )
