"""Dead letters for people: list, show (secrets masked), retry and discard, by id or all of a flow.

The CLI (`emporion dead`) and the console call these; the state store keeps the letters and replays
them (a retry re-enqueues the key due now with its attempts reset, and the letter becomes `retried`).
A letter whose record syncs later (written, matched or created by another path) is closed as
`resolved` by the state store in the same transaction as the record's link, with a journal line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from emporion.state import DeadLetter, StateStore

STATUSES = ("open", "retried", "resolved", "discarded", "all")
SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|api[_-]?key|consumer[_-]?key|authori[sz]ation|cookie", re.I
)
MASK = "***"


@dataclass
class Outcome:
    """What a retry or discard did: the letters it moved, and the ids it left (unknown or not open)."""

    done: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def redact(value: Any) -> Any:
    """A payload with every value under a secret-looking key (password, token, secret...) masked."""
    if isinstance(value, dict):
        return {k: MASK if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def as_json(letter: DeadLetter, *, payload: bool = False) -> dict[str, Any]:
    """A dead letter as plain JSON (the payload, masked, only when asked for)."""
    data: dict[str, Any] = {
        "id": letter.id,
        "flow": letter.flow,
        "entity": letter.entity,
        "key": letter.key,
        "record": letter.record,
        "field": letter.field,
        "reason": letter.reason,
        "attempts": letter.attempts,
        "failed_at": letter.failed_at.isoformat() if letter.failed_at else None,
        "status": letter.status,
    }
    if payload:
        data["payload"] = redact(letter.payload)
    return data


async def list_letters(
    store: StateStore, *, flow: str | None = None, status: str = "open", limit: int = 100
) -> list[DeadLetter]:
    """Dead letters, newest first; status `all` lists every status."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    return await store.list_dead(flow=flow, status=None if status == "all" else status, limit=limit)


async def _targets(store: StateStore, ids: Sequence[int], every: bool, flow: str | None) -> Outcome:
    """Split the ids into open letters and the rest; `every` takes all open letters (of `flow`)."""
    if every:
        return Outcome(done=await store.open_dead_ids(flow))
    outcome = Outcome()
    for ident in dict.fromkeys(ids):
        letter = await store.get_dead(ident)
        if letter is not None and letter.status == "open" and (flow is None or letter.flow == flow):
            outcome.done.append(ident)
        else:
            outcome.skipped.append(ident)
    return outcome


async def retry(
    store: StateStore, ids: Sequence[int] = (), *, every: bool = False, flow: str | None = None
) -> Outcome:
    """Queue the records of these open letters again (after a fix of the configuration or the data)."""
    outcome = await _targets(store, ids, every, flow)
    if outcome.done:
        await store.retry_dead(outcome.done)
    return outcome


async def discard(
    store: StateStore, ids: Sequence[int] = (), *, every: bool = False, flow: str | None = None
) -> Outcome:
    """Close these open letters without a replay (a person decided they need none)."""
    outcome = await _targets(store, ids, every, flow)
    if outcome.done:
        await store.discard_dead(outcome.done)
    return outcome
