"""The change feed of a described shop: by a `changed_since` filter with an overlap, else by full diff.

With `changed_since`, a poll asks for the records stamped since the cursor's moment minus the
overlap (late commits, clock skew) and reports each (key, stamp) once (a whole-second stamp of the
poll's own second once more, see `settled`). The cursor is the moment the
poll began (this machine's clock, taken before the first request, so everything the shop committed
before it is in the answer or in the next poll's overlap) and the stamps already reported that lie
inside the next overlap window: a record re-read there with the same stamp is not reported again, one
with another stamp is. A record that changes while the listing is paged can shift the others between
pages so that one is skipped; a pass that saw a record stamped after the pass began is therefore
followed by another (at most `PASSES`), whose records are added to the first's. The preset's
`changed_since` hook adds keys changed by what the shop does not stamp on the record itself (a
MerchantPro return placed on an order), under the same once-only rules.

Without `changed_since`: every record is listed, what the mapping makes of each is hashed, and the
hashes are compared with the last poll's (`rows/fulldiff.py`, the snapshot inside the cursor): new,
changed and vanished records are reported. No cursor: from now on, nothing reported.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from emporion.connectors.base import ChangeBatch, Permanent, Unmappable
from emporion.connectors.rest import mapping
from emporion.connectors.rest.items import plural
from emporion.connectors.rest.settings import ChangedSince, EntitySettings
from emporion.connectors.rows.fulldiff import HASH_BYTES, Differ, Snapshot
from emporion.model import fingerprint

if TYPE_CHECKING:
    from emporion.connectors.rest.connector import DeclarativeConnector

PASSES = 3


def moment_text(moment: datetime, kind: str) -> Any:
    """A moment as the shop's `changed_since` filter takes it."""
    moment = moment.astimezone(UTC)
    if kind == "epoch":
        return int(moment.timestamp())
    if kind == "epoch_ms":
        return int(moment.timestamp() * 1000)
    text = moment.isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z") if kind == "iso_z" else text


def settled(moment: datetime, started: datetime) -> bool:
    """Whether a stamp can be remembered as reported: not a whole second that is still going on.

    A shop stamping whole seconds gives a change later in the second the poll ran the same stamp;
    such a stamp is not remembered, so the next poll reports the record again (at least once).
    """
    return moment.microsecond != 0 or moment < started.replace(microsecond=0)


def parse_stamp(value: Any, kind: str, record: str) -> datetime:
    """A record's stamp as an aware moment (naive ISO stamps are UTC); Permanent when unreadable."""
    try:
        if kind in ("epoch", "epoch_ms") or isinstance(value, (int, float)):
            seconds = float(value) / (1000 if kind == "epoch_ms" else 1)
            return datetime.fromtimestamp(seconds, UTC)
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise Permanent(
            f"unreadable change stamp {str(value)[:40]!r}", record=record, field="changed_since"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def changes(connector: DeclarativeConnector, entity: str, cursor: str | None) -> ChangeBatch:
    """Keys of `entity` changed since `cursor` (None: from now on), each change reported once."""
    settings = connector.entity(entity)
    if settings.changed_since is None:
        return await full_diff(connector, entity, settings, cursor)
    since_settings = settings.changed_since
    started = datetime.now(UTC)
    overlap = timedelta(seconds=since_settings.overlap_seconds)
    if cursor is None:  # from now on: what the next poll's overlap re-reads counts as seen
        at, seen = started, {}
    else:
        try:
            state = json.loads(cursor)
            at, seen = datetime.fromisoformat(state["at"]), dict(state["seen"])
        except (ValueError, KeyError, TypeError):
            raise Permanent(f"damaged change cursor of {plural(entity)}", field="cursor") from None
    stamps = await stamped(connector, entity, settings, since_settings, at - overlap)
    stamps = joined(stamps, await connector.hooks.changed_since(connector, entity, at - overlap))
    keys = [key for key, (text, _) in stamps.items() if seen.get(key) != text] if cursor else []
    window = started - overlap
    kept = {key: text for key, text in seen.items() if key not in stamps}
    kept = {
        key: text
        for key, text in kept.items()
        if parse_stamp(text, since_settings.format, f"{entity} {key}") >= window
    }
    kept |= {
        key: text for key, (text, moment) in stamps.items() if moment >= window and settled(moment, started)
    }
    return ChangeBatch(keys, json.dumps({"at": started.isoformat(), "seen": kept}))


def joined(
    stamps: dict[str, tuple[str, datetime]], more: dict[str, tuple[str, datetime]]
) -> dict[str, tuple[str, datetime]]:
    """The feed's stamps with the preset's (a change the shop does not stamp on the record itself):
    the later of the two stamps of a key (the feed's own on a tie)."""
    found = dict(stamps)
    for key, (text, moment) in more.items():
        if key not in found or moment > found[key][1]:
            found[key] = (text, moment)
    return found


async def stamped(
    connector: DeclarativeConnector,
    entity: str,
    settings: EntitySettings,
    since_settings: ChangedSince,
    since: datetime,
) -> dict[str, tuple[str, datetime]]:
    """Key -> (stamp text, moment) of the records stamped since `since`, over passes until none moved."""
    call = settings.list
    if call is None:
        raise Permanent(f"{plural(entity)} have no list call to feed changes", field="list")
    from emporion.connectors.rest.connector import with_filter

    filtered = with_filter(call, since_settings.param, "since")
    values = {"since": moment_text(since, since_settings.format)}
    found: dict[str, tuple[str, datetime]] = {}
    for _ in range(PASSES):
        began = datetime.now(UTC)
        moved = False
        async for items in connector.listing(entity, filtered, values):
            for data in items:
                key = connector.key_of(settings, data)
                raw = mapping.value_at(data, since_settings.stamp)
                if not key or raw is None:
                    continue
                moment = parse_stamp(raw, since_settings.format, f"{entity} {key}")
                moved = moved or moment >= began
                if key not in found or moment >= found[key][1]:
                    found[key] = (str(raw), moment)
        if not moved:
            break
    return found


async def full_diff(
    connector: DeclarativeConnector, entity: str, settings: EntitySettings, cursor: str | None
) -> ChangeBatch:
    """Records created, changed or gone since the snapshot in `cursor`, by a full listing's hashes."""
    previous: Snapshot | None = None
    if cursor is not None:
        try:
            previous = Snapshot.loads(str(json.loads(cursor)["snapshot"]))
        except (ValueError, KeyError, TypeError):
            raise Permanent(f"damaged change cursor of {plural(entity)}", field="cursor") from None
    differ = Differ(previous)
    async for items in connector.listing(entity):
        differ.add((connector.key_of(settings, data), digest(connector, entity, data)) for data in items)
    changed, deleted, snapshot = differ.finish()
    position = json.dumps({"snapshot": snapshot.dumps()})
    if previous is None:
        return ChangeBatch([], position)
    return ChangeBatch([*changed, *deleted], position)


def digest(connector: DeclarativeConnector, entity: str, data: Any) -> bytes:
    """8 bytes that change when what the mapping makes of a record changes (its raw JSON if unmappable)."""
    record = connector.record(entity, data)
    if not isinstance(record, Unmappable):
        return bytes.fromhex(fingerprint(record))[:HASH_BYTES]
    raw = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.blake2b(raw, digest_size=HASH_BYTES).digest()
