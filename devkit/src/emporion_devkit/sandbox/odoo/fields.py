"""Field declarations of the sandbox's models: kind, relation, inverse, default, computed or stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    """One field of a model: its kind, the model it points to, the inverse of a one2many, a default."""

    kind: str
    relation: str | None = None
    inverse: str | None = None
    default: Any = None
    computed: bool = False  # not stored: filled in when read

    @property
    def relational(self) -> bool:
        """Whether the field points to other records."""
        return self.kind in ("many2one", "one2many", "many2many")


def m2o(relation: str) -> Field:
    """A many2one field."""
    return Field("many2one", relation)


def o2m(relation: str, inverse: str) -> Field:
    """A one2many field (stored on the other side)."""
    return Field("one2many", relation, inverse)


def m2m(relation: str) -> Field:
    """A many2many field."""
    return Field("many2many", relation)


CHAR, TEXT, HTML, INT, FLOAT = Field("char"), Field("text"), Field("html"), Field("integer"), Field("float")
BOOL, DATE, DATETIME, BINARY = (
    Field("boolean", default=False),
    Field("date"),
    Field("datetime"),
    Field("binary"),
)
MONEY = Field("monetary", default=0.0)
ACTIVE = Field("boolean", default=True)


def sel(default: str | None = None) -> Field:
    """A selection field with a default."""
    return Field("selection", default=default)


def comp(kind: str, relation: str | None = None) -> Field:
    """A computed, non-stored field."""
    return Field(kind, relation, computed=True)
