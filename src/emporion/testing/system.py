"""The in-memory system behind memory connectors: records in dicts, a change log and test levers.

One `MemorySystem` stands for one running system (a shop, an ERP). Connectors configured with the
same `system` name in one process share it, so a test seeds records here and then runs the engine
from a configuration. Tests also pull its levers: hold a change in flight, make a record fail, take
the whole system down.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from emporion.connectors.base import ConnectorError, Retryable
from emporion.model import Record
from emporion.testing.feed import Change

ENTITIES = ("category", "product", "customer", "order", "return")


@dataclass
class Failure:
    """A typed error a record's writes raise, `times` more times (None: until cleared)."""

    error: ConnectorError
    times: int | None = None


@dataclass
class Webhook:
    """A webhook registered in the system: where deliveries go and a tag of the secret that signs them."""

    id: str
    topic: str
    url: str
    secret_tag: str
    status: str = "active"


class Transaction:
    """One change from the moment its sequence number is taken until it commits (or is dropped)."""

    def __init__(self, system: MemorySystem, entity: str, key: str, apply: Callable[[], None]) -> None:
        self.system = system
        self.entity = entity
        self.key = key
        self.sequence = system.take_sequence()
        self._apply = apply
        system.in_flight.add(self.sequence)

    def commit(self) -> None:
        """Make the change visible: apply it and log it under the number it took when it began."""
        self.system.in_flight.discard(self.sequence)
        self._apply()
        self.system.log.append(Change(self.sequence, self.entity, self.key))
        self.system.committed = max(self.system.committed, self.sequence)

    def abort(self) -> None:
        """Drop the change; its number is never used (a gap, as a rolled back database sequence leaves)."""
        self.system.in_flight.discard(self.sequence)


@dataclass
class MemorySystem:
    """Records by entity and key, one sequence for every change, and the faults a test sets."""

    name: str
    records: dict[str, dict[str, Record]] = field(default_factory=lambda: defaultdict(dict))
    log: list[Change] = field(default_factory=list)
    in_flight: set[int] = field(default_factory=set)
    committed: int = 0
    failures: dict[str, Failure] = field(default_factory=dict)  # by record key or natural key
    outage: Retryable | None = None  # set: every request fails with it (the system is down)
    webhooks: dict[tuple[str, str], Webhook] = field(default_factory=dict)  # by installation and topic
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # method, headers sent
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def take_sequence(self) -> int:
        """The next change number."""
        return next(self._sequence)

    def new_key(self) -> str:
        """A fresh record id, as the system would hand out on create."""
        return str(next(self._ids))

    # -- records ------------------------------------------------------------------------------------

    def get(self, entity: str, key: str) -> Record | None:
        """The record `key` of `entity`, or None."""
        return self.records[entity].get(key)

    def all(self, entity: str) -> list[Record]:
        """Every record of `entity`, by id (numbers in numeric order)."""
        return sorted(self.records[entity].values(), key=lambda r: (len(r.key), r.key))

    def begin(self, entity: str, record: Record) -> Transaction:
        """Start storing `record` (a fresh id when its key is empty); visible once committed."""
        if not record.key:
            record = record.model_copy(update={"key": self.new_key()})
        stored = record

        def apply() -> None:
            self.records[entity][stored.key] = stored

        return Transaction(self, entity, stored.key, apply)

    def put(self, entity: str, record: Record) -> Record:
        """Store `record` now (a fresh id when its key is empty) and log the change; the stored record."""
        transaction = self.begin(entity, record)
        transaction.commit()
        stored = self.records[entity][transaction.key]
        return stored

    def remove(self, entity: str, key: str) -> None:
        """Delete a record and log the change (a deletion is a change too)."""

        def apply() -> None:
            self.records[entity].pop(key, None)

        Transaction(self, entity, key, apply).commit()

    # -- faults -------------------------------------------------------------------------------------

    def fail(self, key: str, error: ConnectorError, times: int | None = None) -> None:
        """Make writes of the record known by `key` (its key or natural key) fail with `error`."""
        self.failures[key] = Failure(error, times)

    def failure_for(self, *names: str) -> ConnectorError | None:
        """The error a write of the record known by any of `names` must fail with now, if any."""
        for name in names:
            failure = self.failures.get(name)
            if failure is None:
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    del self.failures[name]
            return failure.error
        return None


SYSTEMS: dict[str, MemorySystem] = {}


def system(name: str) -> MemorySystem:
    """The memory system called `name` in this process, made on first use."""
    if name not in SYSTEMS:
        SYSTEMS[name] = MemorySystem(name)
    return SYSTEMS[name]


def forget_systems() -> None:
    """Drop every memory system (between tests)."""
    SYSTEMS.clear()
